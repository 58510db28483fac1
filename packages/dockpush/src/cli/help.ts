import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The version in dockpush's package.json (two folders up from both src/cli and dist/cli). */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** `dockpush --help`: a manual page. */
export function helpText(version: string): string {
  return `NAME
    dockpush - push local Docker images to any registry and to AWS ECR

SYNOPSIS
    dockpush push (--repo URI | --image REF | --ecr-repo-name NAME [ECR...])
        [--tag TAG]... [--tag-rule RULE]... [--flavor FLAVOR]...
        [--source REF] [--config FILE] [--dry-run] [--json]
        [--output-file FILE] [--retries N] [--concurrency N]
        [--timeout SECONDS] [--create-repository] [--keep-local-tags]
        [--engine docker|registry] [--compression gzip|zstd]
        [--compression-level N] [--username USER --password-stdin] [--quiet]
    dockpush --help | --version

DESCRIPTION
    Pushes each tag through the Docker engine with the credentials docker
    push would use, retries transient failures, and reports each digest.
    The arguments are those of Runway's docker.image.push hook: a hook entry's
    args block works unchanged with --config.

WHERE TO PUSH (exactly one)
    --repo URI
        Push URI:TAG for each tag: localhost:5000/app, ghcr.io/org/app, ...
    --image REF
        Push a local image (reference or ID) under its own repository and,
        without --tag, its own tags.
    --ecr-repo-name NAME
        Push to the AWS ECR repository NAME. With it (ECR...):
        --ecr-account-id ID     default: STS GetCallerIdentity's
        --ecr-region REGION     default: AWS_REGION, AWS_DEFAULT_REGION or
                                the profile's region
        --ecr-registry-alias A  ECR Public: push to public.ecr.aws/A/NAME

OPTIONS
    -t, --tag TAG
        A tag to push; repeat for more. Default: the image's own tags with
        --image, else latest (none with --tag-rule). A tag may hold
        {version} (package.json here), {sha}, {shortSha}, {branch}, {date}.
    --tag-rule RULE
        A tag rule in docker/metadata-action's syntax, rendered from the CI
        variables (GitHub Actions, GitLab CI) or the local git repository;
        repeat for more: type=semver,pattern={{version}}, type=sha,
        type=ref,event=branch, type=raw,value=edge,enable=false, ... A rule
        that does not apply renders nothing; --dry-run shows which rule
        made each tag.
    --flavor FLAVOR
        Defaults for every rule, repeatable: latest=auto|true|false,
        prefix=P, suffix=S (onlatest=true to put them on latest too).
    --source REF
        The image to push. A local image (reference or ID) is tagged as
        <repo>:<tag> for each tag before the Docker engine pushes it. An
        archive or layout, named like skopeo's transports, is pushed by the
        registry engine (chosen for it when --engine is not given):
        docker-archive:PATH (docker save), oci:PATH[:REF] (an OCI image
        layout folder), oci-archive:PATH[:REF] (the same as a tar).
    -c, --config FILE
        Read the arguments from a JSON or YAML file: the camelCase model
        ({ "repo": ..., "tags": [...] }), a Runway args block (ecr_repo,
        repo_name, aws_region, ...), a whole hook entry ({ path, args }), or a
        CFNgin config whose pre_deploy/post_deploy lists hold one
        docker.image.push hook. \${env NAME} lookups are resolved. Flags given
        on the command line override the file.
    --dry-run
        Resolve URIs, tags and the credential source; push nothing.
    --json
        Print only the result as JSON on stdout (the plan with --dry-run,
        {"error": ...} on failure).
    -o, --output-file FILE
        Also write the result (or plan) as JSON to FILE.
    --retries N
        Retries of a tag on transient failures (0-10, default 3).
    --concurrency N
        Tags pushed at once (1-32, default 4).
    --timeout SECONDS
        How long any single wait may go without an answer or progress: an
        engine request, the push stream, a credential helper, an AWS call
        (default 60). The engine must answer a ping within 10 s, or within
        SECONDS when that is lower.
    --create-repository
        ECR only: create the repository when it does not exist.
    --keep-local-tags
        Keep the REPO:TAG tags made locally for --source after the push
        (by default they are removed, pushed or not; tags that were
        there before are never removed). The registry engine makes
        them only for this.
    --engine docker|registry
        What uploads the image: docker (default) asks the Docker engine to
        push each tag; registry uploads the blobs once and a manifest per
        tag itself, over the registry API, from the engine's export of the
        local image or from an archive or layout (no engine needed then).
        Its layer and manifest digests differ from docker push's (another
        compressor); the image ID and the layers' content are the same.
    --compression gzip|zstd
        Registry engine: how layers are compressed (default gzip).
    --compression-level N
        Registry engine: gzip 0 (store) to 9 (smallest), default 1;
        zstd 1 (fastest) to 19 (smallest), default 3.
    -u, --username USER, --password-stdin
        Log in as USER with the password read from stdin, instead of the
        credentials found. There is no password flag: argv is visible to
        other users.
    -q, --quiet
        No progress; the result and errors only.
    -h, --help
        Show this page.
    -V, --version
        Show the version.

OUTPUT
    Progress goes to stderr: live on a terminal, one line per change
    otherwise (CI, pipes). stdout carries the result only: a URI@DIGEST
    line per pushed tag, the URIs a dry run would push, or --json's JSON.

CREDENTIALS
    First that answers: --username with --password-stdin; an ECR token for ECR
    hosts; DOCKER_AUTH_CONFIG; the Docker config's credHelpers, credsStore and
    auths; else anonymous. Secrets never reach the output.

EXIT STATUS
    0     every tag was pushed (or the dry run resolved)
    1     a push failed: engine unreachable, image missing, credentials
          refused, or a tag not pushed (the message lists each tag)
    2     bad arguments or configuration; nothing was pushed
    130   interrupted (SIGINT); the message lists the tags that completed
    143   terminated (SIGTERM), the same way

ENVIRONMENT
    DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH
        The engine; default unix:///var/run/docker.sock.
    DOCKER_CONFIG, DOCKER_AUTH_CONFIG
        Where registry credentials are looked up.
    AWS_REGION, AWS_DEFAULT_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, ...
        The AWS SDK's usual settings, for ECR.
    CI, GITHUB_ACTIONS
        CI turns live progress off; GITHUB_ACTIONS groups the log.
    DEBUG
        DEBUG=dockpush:* logs what dockpush does; any DEBUG shows stacks.
    DOCKPUSH_INSECURE_REGISTRIES
        Registry engine: registries (host[:port] or CIDR, comma-separated)
        it may reach over plain HTTP, besides loopback and the engine's
        insecure-registries in /etc/docker/daemon.json.
    DOCKPUSH_ENGINE_STORE=0
        Registry engine: read a local image from the engine's export only.

EXAMPLES
    Push two tags of a local build to a registry:
        dockpush push --repo localhost:5000/app --source app:dev \\
          --tag 1.2.0 --tag latest

    Push a local image under its own name and tags:
        dockpush push --image registry.example.com/team/app:1.2.0

    Push to ECR, account from STS, region from the environment:
        dockpush push --ecr-repo-name team/app --tag "$GIT_SHA"

    Run a Runway hook's args, with a different tag, and keep the result:
        dockpush push --config cfngin.yml --tag "$VERSION" --json >out.json

    Log in with a token from the environment:
        echo "$GHCR_TOKEN" | dockpush push --repo ghcr.io/org/app \\
          --username ci-bot --password-stdin

dockpush ${version}
`;
}
