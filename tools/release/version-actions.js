/**
 * Version actions for `nx release` in this workspace: each package's version lives in its
 * package.json, and the workspace packages depend on each other at exact versions, bumped
 * together (one fixed release group). The workspace has no @nx/js, whose actions do the same.
 */
const { join } = require('node:path');
const { VersionActions } = require('nx/release');

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];

class PackageJsonVersionActions extends VersionActions {
  validManifestFilenames = ['package.json'];

  manifestPath(root = this.projectGraphNode.data.root) {
    return join(root, 'package.json');
  }

  async readCurrentVersionFromSourceManifest(tree) {
    const manifestPath = this.manifestPath();
    return { currentVersion: readJson(tree, manifestPath).version, manifestPath };
  }

  async readCurrentVersionFromRegistry() {
    // The workspace releases from disk (currentVersionResolver "disk").
    return null;
  }

  async readCurrentVersionOfDependency(tree, projectGraph, dependencyProjectName) {
    const manifest = readJson(tree, this.manifestPath());
    const dependency = readJson(tree, this.manifestPath(projectGraph.nodes[dependencyProjectName].data.root));
    for (const field of DEPENDENCY_FIELDS) {
      const spec = manifest[field]?.[dependency.name];
      if (spec !== undefined) return { currentVersion: spec, dependencyCollection: field };
    }
    return { currentVersion: null, dependencyCollection: null };
  }

  async updateProjectVersion(tree, newVersion) {
    const manifestPath = this.manifestPath();
    const manifest = readJson(tree, manifestPath);
    writeJson(tree, manifestPath, { ...manifest, version: newVersion });
    return [`New version ${newVersion} written to ${manifestPath}`];
  }

  async updateProjectDependencies(tree, projectGraph, dependenciesToUpdate) {
    const manifestPath = this.manifestPath();
    const manifest = readJson(tree, manifestPath);
    const logs = [];
    for (const [projectName, version] of Object.entries(dependenciesToUpdate)) {
      const name = readJson(tree, this.manifestPath(projectGraph.nodes[projectName].data.root)).name;
      for (const field of DEPENDENCY_FIELDS) {
        if (manifest[field]?.[name] === undefined) continue;
        manifest[field][name] = version;
        logs.push(`${name} set to ${version} in ${field} of ${manifestPath}`);
      }
    }
    writeJson(tree, manifestPath, manifest);
    return logs;
  }
}

function readJson(tree, path) {
  return JSON.parse(tree.read(path, 'utf-8'));
}

function writeJson(tree, path, value) {
  tree.write(path, `${JSON.stringify(value, null, 2)}\n`);
}

module.exports = PackageJsonVersionActions;
module.exports.default = PackageJsonVersionActions;
