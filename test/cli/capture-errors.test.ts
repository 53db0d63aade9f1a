// `hopscope capture` refusing to start: each failure is one line on stderr naming
// what is wrong (and what exists instead), exit status 2, and nothing typed by the
// user ever runs as a command.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRoot } from '../lab/support/lab-env.js';
import { CLI, PROJECT_ROOT, runCli, type CliResult } from '../support/run-cli.js';

let work: string;

beforeAll(() => {
  requireRoot();
  work = mkdtempSync(join(tmpdir(), 'hopscope-capture-errors-'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function expectOneLineError(r: CliResult, message: RegExp): void {
  expect(r.status, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
  expect(r.stderr).toMatch(/^hopscope: capture: /);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).toBe('');
}

/**
 * The CLI without any capability (root's uid, nothing in its bounding set): what a
 * non-root user gets, while the project's files stay readable wherever CI cloned them.
 */
function runWithoutCaps(args: readonly string[]): CliResult {
  const r = spawnSync('setpriv', ['--bounding-set=-all', '--inh-caps=-all', process.execPath, CLI, ...args], {
    encoding: 'utf8',
    cwd: PROJECT_ROOT,
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('usage errors', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no interface', [], /no interface given \(use -i SPEC/],
    ['an empty spec', ['-i', ''], /empty interface spec/],
    ['a namespace without interface', ['-i', 'qrouter-1/'], /no interface name after the namespace/],
    ['pid without interface', ['-i', 'pid:1'], /a namespace needs an interface: pid:1\/IFACE/],
    ['a too long interface name', ['-i', 'tap7aa08012-d0-and-more'], /longer than 15 bytes/],
    ['a host beginning with -', ['-i', '-oProxyCommand=x:eth0'], /begins with '-'/],
    [
      '--max-files without --max-size',
      ['-i', 'lo', '-w', 'x.pcapng', '--max-files', '3'],
      /--max-files needs --max-size/,
    ],
    ['--max-size without a recording', ['-i', 'lo', '--max-size', '10'], /give -w FILE.pcapng or --record/],
    ['a stray argument', ['-i', 'lo', 'icmp'], /unexpected argument 'icmp'/],
    ['a bad duration', ['-i', 'lo', '--duration', 'soon'], /--duration must be a number/],
    ['an unknown option', ['-i', 'lo', '--bogus'], /unknown option --bogus/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: one line, exit 2`, () => {
      expectOneLineError(runCli(['capture', ...args]), message);
    });
  }
});

describe('environment errors', () => {
  it('an interface that does not exist: the message lists those that do', () => {
    expectOneLineError(
      runCli(['capture', '-i', 'nosuch0']),
      /-i "nosuch0": no interface 'nosuch0' in the root namespace on this host \(interfaces: .*\blo\b/,
    );
  });

  it('a namespace that does not exist: the message lists the namespaces', () => {
    expectOneLineError(
      runCli(['capture', '-i', 'hs-surely-not-a-namespace/eth0']),
      /no such namespace 'hs-surely-not-a-namespace' on this host \(namespaces: /,
    );
  });

  it('a glob that matches nothing says so', () => {
    expectOneLineError(
      runCli(['capture', '-i', 'zzq*']),
      /no interface matches 'zzq\*' in the root namespace/,
    );
  });

  it('the namespace of a process that does not exist', () => {
    expectOneLineError(
      runCli(['capture', '-i', 'pid:999999999/eth0']),
      /cannot enter the namespace of process 999999999/,
    );
  });

  it('a filter tcpdump would not compile names the interface and the error', () => {
    expectOneLineError(
      runCli(['capture', '-i', 'lo', '-f', 'tcp port']),
      /bad capture filter 'tcp port' on lo: .*syntax error/,
    );
  });

  it('a recording that cannot be created', () => {
    expectOneLineError(
      runCli(['capture', '-i', 'lo', '-w', join(work, 'no-such-dir', 'x.pcapng'), '--duration', '1']),
      /no-such-dir/,
    );
  });

  it('not root: capturing needs root or CAP_NET_RAW; namespaces need root', () => {
    const noCaps = (args: string[]): CliResult => runWithoutCaps(['capture', ...args]);
    expectOneLineError(
      noCaps(['-i', 'lo', '--duration', '1']),
      /capturing on local interfaces needs root or CAP_NET_RAW/,
    );
    expectOneLineError(
      noCaps(['-i', 'qrouter-1/qr-1']),
      /entering network namespaces needs root \(CAP_SYS_ADMIN\)/,
    );
  });
});

describe('hostile input is data, never a command', () => {
  // Would be created if any of these reached a shell.
  const marker = join(tmpdir(), `hopscope-pwned-${process.pid}`);
  const hostile: Array<[string, string[]]> = [
    ['an interface name with $(…)', ['-i', `$(touch\${IFS}${marker})`]],
    ['an interface name with ;', ['-i', `lo;touch\${IFS}${marker}`]],
    ['an interface name with backticks', ['-i', '`id`']],
    ['a namespace with $(…)', ['-i', `$(touch\${IFS}${marker})/eth0`]],
    ['a filter with shell syntax', ['-i', 'lo', '-f', `icmp; touch ${marker}`]],
  ];
  for (const [what, args] of hostile) {
    it(`${what}: a one-line error, nothing run`, () => {
      const r = runCli(['capture', ...args, '--duration', '1']);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(existsSync(marker)).toBe(false);
    });
  }
});
