import { DockerImage } from './docker-image';

describe('DockerImage.fromInspect: repository and tags from RepoTags', () => {
  it.each([
    [['localhost:5000/app:1', 'localhost:5000/app:latest'], 'localhost:5000/app', ['1', 'latest']],
    [['localhost:5000/app:1', 'other/app:2', 'localhost:5000/app:3'], 'localhost:5000/app', ['1', '3']],
    [['app:latest'], 'app', ['latest']],
    [['<none>:<none>', 'x/y:z'], 'x/y', ['z']],
  ])('%j → %s %j', (repoTags, repo, tags) => {
    const image = DockerImage.fromInspect({ Id: 'sha256:abc', RepoTags: repoTags });
    expect(image?.repo).toBe(repo);
    expect(image?.tags).toEqual(tags);
    expect(image?.id).toBe('sha256:abc');
  });

  it.each([
    ['other/app:2', 'other/app', ['2']],
    ['localhost:5000/app', 'localhost:5000/app', ['1', '3']],
    ['sha256:abc', 'localhost:5000/app', ['1', '3']],
  ])('prefers the repo of the reference it was looked up by (%s)', (ref, repo, tags) => {
    const image = DockerImage.fromInspect(
      { Id: 'sha256:abc', RepoTags: ['localhost:5000/app:1', 'other/app:2', 'localhost:5000/app:3'] },
      ref,
    );
    expect(image?.repo).toBe(repo);
    expect(image?.tags).toEqual(tags);
  });

  it('maps each tag to its URI', () => {
    const image = new DockerImage('sha256:abc', 'localhost:5000/app', ['1', 'latest']);
    expect(image.uri).toEqual({ '1': 'localhost:5000/app:1', latest: 'localhost:5000/app:latest' });
    expect(JSON.parse(JSON.stringify(image))).toEqual({
      id: 'sha256:abc',
      repo: 'localhost:5000/app',
      tags: ['1', 'latest'],
      uri: { '1': 'localhost:5000/app:1', latest: 'localhost:5000/app:latest' },
    });
  });

  it.each([[[]], [null], [undefined], [['<none>:<none>']]])('is undefined without RepoTags (%j)', (repoTags) => {
    expect(DockerImage.fromInspect({ Id: 'sha256:abc', RepoTags: repoTags })).toBeUndefined();
  });
});
