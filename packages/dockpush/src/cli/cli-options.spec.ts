import { parseCommandLine, type PushFlags } from './cli-options';
import { UsageError } from './usage-error';
import { defaultPushFlags } from '../testing/push-flags';

const base: PushFlags = defaultPushFlags;

function usageIssues(argv: string[]): string[] {
  try {
    parseCommandLine(argv);
  } catch (error) {
    if (error instanceof UsageError) return error.issues.map((i) => (i.where ? `${i.where}: ${i.message}` : i.message));
    throw error;
  }
  throw new Error(`parsed without error: ${argv.join(' ')}`);
}

describe('parseCommandLine', () => {
  it.each<[string[], Partial<PushFlags>]>([
    [['push', '--repo', 'localhost:5000/app'], { repo: 'localhost:5000/app' }],
    [
      ['push', '--repo=localhost:5000/app', '-t', '1', '--tag', '2', '--tag=3'],
      { repo: 'localhost:5000/app', tags: ['1', '2', '3'] },
    ],
    [['--image', 'app:1', 'push'], { image: 'app:1' }],
    [
      ['push', '--repo', 'r', '--tag-rule', 'type=sha', '--tag-rule=type=ref,event=branch', '--flavor', 'latest=false'],
      { repo: 'r', tagRules: ['type=sha', 'type=ref,event=branch'], flavor: ['latest=false'] },
    ],
    [
      [
        'push',
        '--ecr-repo-name',
        'team/app',
        '--ecr-account-id',
        '123456789012',
        '--ecr-region',
        'eu-west-1',
        '--ecr-registry-alias',
        'x',
      ],
      { ecrRepoName: 'team/app', ecrAccountId: '123456789012', ecrRegion: 'eu-west-1', ecrRegistryAlias: 'x' },
    ],
    [
      [
        'push',
        '-c',
        'push.yml',
        '--dry-run',
        '--json',
        '-o',
        'out.json',
        '--retries',
        '0',
        '--concurrency',
        '8',
        '--timeout',
        '2.5',
      ],
      {
        config: 'push.yml',
        dryRun: true,
        json: true,
        outputFile: 'out.json',
        retries: 0,
        concurrency: 8,
        timeout: 2.5,
      },
    ],
    [
      [
        'push',
        '--repo',
        'r/app',
        '--source',
        'app:dev',
        '--create-repository',
        '--keep-local-tags',
        '-u',
        'bot',
        '--password-stdin',
        '-q',
      ],
      {
        repo: 'r/app',
        source: 'app:dev',
        createRepository: true,
        keepLocalTags: true,
        username: 'bot',
        passwordStdin: true,
        quiet: true,
      },
    ],
  ])('maps %j onto flags', (argv, expected) => {
    expect(parseCommandLine(argv)).toEqual({ kind: 'push', flags: { ...base, ...expected } });
  });

  it.each([[['--help']], [['-h']], [['help']], [['push', '--help']], [['push', '--rpo', 'x', '--help']]])(
    '%j asks for help',
    (argv) => expect(parseCommandLine(argv)).toEqual({ kind: 'help' }),
  );

  it.each([[['--version']], [['-V']]])('%j asks for the version', (argv) => {
    expect(parseCommandLine(argv)).toEqual({ kind: 'version' });
  });

  it.each<[string[], string[]]>([
    [['push', '--rpo', 'x'], ['--rpo: unknown option; did you mean --repo?']],
    [['push', '--tags', '1'], ['--tags: unknown option; did you mean --tag?']],
    [['push', '--ecr-repo', 'x'], ['--ecr-repo: unknown option; did you mean --ecr-repo-name?']],
    [['push', '--repo'], ['--repo: needs a value: --repo URI']],
    [['push', '--repo', '--tag', '1'], ['--repo: needs a value (got the flag --tag): --repo URI']],
    [['push', '--json=yes', '--repo', 'r/a'], ['--json: takes no value (got "yes"); give the flag alone']],
    [['push', '--repo', 'r/a', '--retries', 'three'], ['--retries: expected a whole number, got "three"']],
    [
      ['push', '--repo', 'r/a', '--timeout', '0'],
      ['--timeout: expected a number of seconds above 0, e.g. 60; got "0"'],
    ],
    [
      ['push', '--repo', 'r/a', '--timeout', '1m'],
      ['--timeout: expected a number of seconds above 0, e.g. 60; got "1m"'],
    ],
    [['push', '--repo', 'r/a', '--repo', 'r/b'], ['--repo: given 2 times; give it once']],
    [['pish'], ['unknown command "pish"; did you mean "push"?']],
    [
      ['push', 'app:1'],
      ['unexpected argument "app:1": dockpush push takes flags only; did you mean --image app:1 or --repo app:1?'],
    ],
  ])('%j is a usage error', (argv, expected) => {
    expect(usageIssues(argv)).toEqual(expected);
  });

  it('refuses a password in argv and says how to give it', () => {
    const [message] = usageIssues(['push', '--repo', 'r/a', '--password', 'hunter22']);
    expect(message).toMatch(/^--password: secrets are not taken as arguments/);
    expect(message).toContain('--password-stdin');
    expect(message).not.toContain('hunter22');
  });

  it('names a missing command', () => {
    expect(usageIssues([])[0]).toMatch(/^missing command: dockpush push/);
  });
});
