/** How the push engine reacts to a failed attempt. */
export type PushErrorKind = 'transient' | 'auth' | 'repository-missing' | 'image-missing' | 'permanent';

const RULES: Array<[RegExp, PushErrorKind]> = [
  [/does not exist locally|no such image|An image does not exist/i, 'image-missing'],
  [/name unknown|repository with name .* does not exist|RepositoryNotFoundException/i, 'repository-missing'],
  [
    /unauthorized|authentication required|no basic auth credentials|incorrect username or password|authorization token has expired|invalid username\/password|token.*expired/i,
    'auth',
  ],
  [/denied|manifest invalid|tag invalid|immutable|ImageTagAlreadyExistsException|forbidden|unsupported/i, 'permanent'],
  [
    /connection refused|deadline exceeded|Client\.Timeout exceeded|connection reset|ECONNREFUSED|ECONNRESET|EPIPE|broken pipe|\bEOF\b|i\/o timeout|timeout|timed out|ETIMEDOUT|socket hang up|blob upload unknown|blob upload invalid|\b5\d\d\b|Service Unavailable|Bad Gateway|Internal Server Error|TLS handshake|no route to host|temporary|too many requests|toomanyrequests|\b429\b|server error/i,
    'transient',
  ],
];

/** Classifies an engine or registry error message (architecture.md § The flow through core, engine). */
export function classifyPushError(message: string): PushErrorKind {
  return RULES.find(([re]) => re.test(message))?.[1] ?? 'permanent';
}
