import { parseArgs } from 'node:util';
import { UsageError, type UsageIssue } from './usage-error';

/** The flags of `dockpush push`, as parsed; which of them land in the argument model is `buildPushArgs`'s call. */
export interface PushFlags {
  repo?: string;
  image?: string;
  ecrRepoName?: string;
  ecrAccountId?: string;
  ecrRegion?: string;
  ecrRegistryAlias?: string;
  tags: string[];
  /** `--tag-rule`, repeatable. */
  tagRules: string[];
  /** `--flavor`, repeatable. */
  flavor: string[];
  source?: string;
  config?: string;
  dryRun: boolean;
  json: boolean;
  outputFile?: string;
  retries?: number;
  concurrency?: number;
  /** Seconds. */
  timeout?: number;
  createRepository: boolean;
  keepLocalTags: boolean;
  /** `--engine docker|registry`. */
  engine?: string;
  /** `--compression gzip|zstd`. */
  compression?: string;
  compressionLevel?: number;
  username?: string;
  passwordStdin: boolean;
  quiet: boolean;
}

export type CliCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'push'; flags: PushFlags };

const OPTIONS = {
  repo: { type: 'string' },
  image: { type: 'string' },
  'ecr-repo-name': { type: 'string' },
  'ecr-account-id': { type: 'string' },
  'ecr-region': { type: 'string' },
  'ecr-registry-alias': { type: 'string' },
  tag: { type: 'string', short: 't', multiple: true },
  'tag-rule': { type: 'string', multiple: true },
  flavor: { type: 'string', multiple: true },
  source: { type: 'string' },
  config: { type: 'string', short: 'c' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  'output-file': { type: 'string', short: 'o' },
  retries: { type: 'string' },
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
  'create-repository': { type: 'boolean' },
  'keep-local-tags': { type: 'boolean' },
  engine: { type: 'string' },
  compression: { type: 'string' },
  'compression-level': { type: 'string' },
  username: { type: 'string', short: 'u' },
  'password-stdin': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

type OptionName = keyof typeof OPTIONS;

/** How a push flag's value is read: one string, every string given, present or not, a whole number, seconds above 0. */
type FlagReader = 'text' | 'list' | 'switch' | 'count' | 'seconds';

type ReaderFor<T> = [T] extends [string[]]
  ? 'list'
  : [T] extends [boolean]
    ? 'switch'
    : [T] extends [string]
      ? 'text'
      : 'count' | 'seconds';

/** Each `PushFlags` field: the option it comes from and how its value is read. */
const PUSH_FLAGS: { [K in keyof PushFlags]-?: [OptionName, ReaderFor<Exclude<PushFlags[K], undefined>>] } = {
  repo: ['repo', 'text'],
  image: ['image', 'text'],
  ecrRepoName: ['ecr-repo-name', 'text'],
  ecrAccountId: ['ecr-account-id', 'text'],
  ecrRegion: ['ecr-region', 'text'],
  ecrRegistryAlias: ['ecr-registry-alias', 'text'],
  tags: ['tag', 'list'],
  tagRules: ['tag-rule', 'list'],
  flavor: ['flavor', 'list'],
  source: ['source', 'text'],
  config: ['config', 'text'],
  dryRun: ['dry-run', 'switch'],
  json: ['json', 'switch'],
  outputFile: ['output-file', 'text'],
  retries: ['retries', 'count'],
  concurrency: ['concurrency', 'count'],
  timeout: ['timeout', 'seconds'],
  createRepository: ['create-repository', 'switch'],
  keepLocalTags: ['keep-local-tags', 'switch'],
  engine: ['engine', 'text'],
  compression: ['compression', 'text'],
  compressionLevel: ['compression-level', 'count'],
  username: ['username', 'text'],
  passwordStdin: ['password-stdin', 'switch'],
  quiet: ['quiet', 'switch'],
};

const COMMANDS = ['push', 'help'];

/** Flags that look like a way to pass a secret in argv: refused with the way that works. */
const SECRET_FLAGS = new Set(['password', 'p', 'identity-token', 'token']);

/**
 * Parses `dockpush` argv. Unknown flags, missing values and stray arguments are a
 * `UsageError` naming the flag, with the closest known flag when it looks like a typo.
 */
export function parseCommandLine(argv: string[]): CliCommand {
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const issues: UsageIssue[] = [];
  const strings = new Map<OptionName, string[]>();
  const booleans = new Set<OptionName>();
  const positionals: string[] = [];

  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const name = token.name as OptionName;
    const option = OPTIONS[name] as { type: 'string' | 'boolean' } | undefined;
    if (!option) {
      issues.push(unknownOption(token.rawName, token.name));
      continue;
    }
    const flag = `--${name}`;
    if (option.type === 'boolean') {
      if (token.value !== undefined) {
        issues.push({ where: flag, message: `takes no value (got "${token.value}"); give the flag alone` });
      }
      booleans.add(name);
      continue;
    }
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-') && token.value !== '-')) {
      issues.push({
        where: flag,
        message: `needs a value${token.value === undefined ? '' : ` (got the flag ${token.value})`}: ${flag} ${placeholder(name)}`,
      });
      continue;
    }
    strings.set(name, [...(strings.get(name) ?? []), token.value]);
  }
  // Asking for help wins over a mistyped flag next to it.
  if (booleans.has('help')) return { kind: 'help' };
  if (booleans.has('version')) return { kind: 'version' };
  if (issues.length > 0) throw new UsageError(issues);

  const [command, ...extra] = positionals;
  if (command === undefined) {
    throw new UsageError(
      'missing command: dockpush push (--repo URI | --image REF | --ecr-repo-name NAME) [--tag TAG]...',
    );
  }
  if (!COMMANDS.includes(command)) {
    const suggestion = suggest(command, COMMANDS);
    throw new UsageError(`unknown command "${command}"${suggestion ? `; did you mean "${suggestion}"?` : ''}`);
  }
  if (command === 'help') return { kind: 'help' };
  if (extra.length > 0) {
    throw new UsageError(
      `unexpected argument "${extra[0]}": dockpush push takes flags only; did you mean --image ${extra[0]} or --repo ${extra[0]}?`,
    );
  }

  const single = (name: OptionName): string | undefined => {
    const values = strings.get(name);
    if (values && values.length > 1) {
      issues.push({ where: `--${name}`, message: `given ${values.length} times; give it once` });
    }
    return values?.[values.length - 1];
  };
  const count = (name: OptionName): number | undefined => {
    const value = single(name);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) {
      issues.push({ where: `--${name}`, message: `expected a whole number, got "${value}"` });
      return undefined;
    }
    return Number(value);
  };
  const seconds = (name: OptionName): number | undefined => {
    const value = single(name);
    if (value === undefined) return undefined;
    if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0) {
      issues.push({ where: `--${name}`, message: `expected a number of seconds above 0, e.g. 60; got "${value}"` });
      return undefined;
    }
    return Number(value);
  };

  const read: { [R in FlagReader]: (name: OptionName) => unknown } = {
    text: single,
    list: (name) => strings.get(name) ?? [],
    switch: (name) => booleans.has(name),
    count,
    seconds,
  };
  // Read in table order, so that issues come in the same order on every run.
  const flags = Object.fromEntries(
    Object.entries(PUSH_FLAGS).flatMap(([key, [name, reader]]) => {
      const value = read[reader](name);
      return value === undefined ? [] : [[key, value]];
    }),
  ) as unknown as PushFlags;
  if (issues.length > 0) throw new UsageError(issues);
  return { kind: 'push', flags };
}

function unknownOption(rawName: string, name: string): UsageIssue {
  if (SECRET_FLAGS.has(name)) {
    return {
      where: rawName,
      message:
        'secrets are not taken as arguments (they would show in ps and shell history); pipe the password in: echo "$PASSWORD" | dockpush push --username USER --password-stdin ...',
    };
  }
  const known = Object.keys(OPTIONS).map((o) => `--${o}`);
  const suggestion = suggest(`--${name}`, known);
  return {
    where: rawName,
    message: `unknown option${suggestion ? `; did you mean ${suggestion}?` : '; dockpush push --help lists the options'}`,
  };
}

/** Core's did-you-mean, loaded only on this error path so that start-up stays light. */
function suggest(name: string, known: string[]): string | undefined {
  const { closest } = require('@dockpush/core') as typeof import('@dockpush/core');
  return closest(name, known);
}

function placeholder(name: OptionName): string {
  switch (name) {
    case 'repo':
      return 'URI';
    case 'image':
    case 'source':
      return 'REF';
    case 'config':
    case 'output-file':
      return 'FILE';
    case 'retries':
    case 'concurrency':
    case 'compression-level':
      return 'N';
    case 'engine':
      return 'docker|registry';
    case 'compression':
      return 'gzip|zstd';
    case 'timeout':
      return 'SECONDS';
    default:
      return name.replace(/^ecr-/, '').replace(/-/g, '_').toUpperCase();
  }
}
