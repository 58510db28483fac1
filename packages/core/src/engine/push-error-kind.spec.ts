import { classifyPushError } from './push-error-kind';

describe('classifyPushError', () => {
  it.each([
    [
      'Put "http://127.0.0.1:5000/v2/app/blobs/uploads/x": dial tcp 127.0.0.1:5000: connect: connection refused',
      'transient',
    ],
    ['read tcp 127.0.0.1:4444->127.0.0.1:5000: read: connection reset by peer', 'transient'],
    ['received unexpected HTTP status: 503 Service Unavailable', 'transient'],
    ['received unexpected HTTP status: 502 Bad Gateway', 'transient'],
    ['blob upload unknown: blob upload unknown to registry', 'transient'],
    ['net/http: TLS handshake timeout', 'transient'],
    ['Patch "http://x/v2/a/blobs/uploads/1": EOF', 'transient'],
    ['toomanyrequests: rate limit', 'transient'],
    ['Put "https://r.example.com/v2/app/manifests/1": context deadline exceeded', 'transient'],
    [
      'Patch "https://r.example.com/v2/app/blobs/uploads/x": net/http: request canceled (Client.Timeout exceeded while awaiting headers)',
      'transient',
    ],
    ['unauthorized: authentication required', 'auth'],
    ['no basic auth credentials', 'auth'],
    ['unauthorized: incorrect username or password', 'auth'],
    ['denied: requested access to the resource is denied', 'permanent'],
    ['manifest invalid: manifest invalid', 'permanent'],
    [
      "tag invalid: The image tag '1' already exists in the 'app' repository and cannot be overwritten because the repository is immutable.",
      'permanent',
    ],
    ['An image does not exist locally with the tag: localhost:5000/app', 'image-missing'],
    ['No such image: localhost:5000/app:1', 'image-missing'],
    [
      "name unknown: The repository with name 'app' does not exist in the registry with id '123456789012'",
      'repository-missing',
    ],
    ['something odd happened', 'permanent'],
  ])('%s → %s', (message, kind) => expect(classifyPushError(message)).toBe(kind));
});
