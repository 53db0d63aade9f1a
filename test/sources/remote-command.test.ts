// The command lines a remote capture builds, checked word for word, and read
// back by real shells (dash and bash) to prove that hostile names arrive as
// plain data: the remote shell sees exactly one string, built only from
// validated, single-quoted parts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RemoteCapture, RemoteCaptureError } from '../../src/sources/remote-capture.js';
import {
  normalizeFilter,
  precisionProbe,
  remoteCaptureArgv,
  remoteCaptureText,
  remoteCommand,
  remoteScript,
  validateInterfaceName,
  validateNetnsName,
  type RemoteCommandInput,
} from '../../src/sources/remote-script.js';
import { sshArgv, validateHost } from '../../src/sources/ssh.js';
import { shellJoin, shellQuote } from '../../src/sources/shell-quote.js';

const BASE: RemoteCommandInput = {
  netns: null,
  iface: 'eth0',
  filter: null,
  snaplen: 262144,
  tcpdumpPath: 'tcpdump',
  immediate: false,
  nano: true,
};

const HOSTILE = [
  'x;rm -rf /',
  '$(touch /tmp/pwned)',
  '`touch /tmp/pwned`',
  "it's",
  "'; touch /tmp/pwned; '",
  '"$HOME" \\ \\\'',
  'line1\nline2',
  '${IFS}$((1+1))',
  '!!',
  '-oProxyCommand=touch /tmp/pwned',
  '*',
];

/**
 * The words a POSIX shell makes of `text` (printf prints each, NUL-terminated), with
 * the positional parameters ("$@") set to `args`.
 */
function wordsIn(shell: 'sh' | 'bash', text: string, args: readonly string[] = []): string[] {
  const out = execFileSync(shell, ['-c', `printf '%s\\0' ${text}`, shell, ...args]);
  return out.toString('utf8').split('\0').slice(0, -1);
}

function thrown(fn: () => unknown): RemoteCaptureError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RemoteCaptureError) return err;
    throw err;
  }
  throw new Error('expected a RemoteCaptureError');
}

describe('shellQuote', () => {
  it('wraps in single quotes and writes a quote as close-escape-reopen', () => {
    expect(shellQuote('eth0')).toBe("'eth0'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
    expect(shellJoin(['a b', '$x'])).toBe("'a b' '$x'");
  });

  it.each(['sh', 'bash'] as const)('%s reads every hostile string back unchanged, as one word', (shell) => {
    for (const value of HOSTILE) {
      expect(wordsIn(shell, shellQuote(value))).toEqual([value]);
    }
    expect(wordsIn(shell, shellJoin(HOSTILE))).toEqual(HOSTILE);
  });

  it('refuses NUL, which no exec argument can carry', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});

describe('validation: what never reaches a shell', () => {
  it('interface names follow the kernel: 1..15 bytes, no "/", no whitespace, not "." or ".."', () => {
    for (const ok of [
      'eth0',
      'tap7aa08012-d0',
      'qr-56c70d72-3b',
      'vxlan_sys_4789',
      'any',
      '`id`',
      "a'b",
      '$(id)',
    ]) {
      expect(() => validateInterfaceName(ok)).not.toThrow();
    }
    expect(thrown(() => validateInterfaceName('x;rm -rf /')).message).toBe(
      'interface name "x;rm -rf /" contains \'/\'',
    );
    expect(thrown(() => validateInterfaceName('x;rm -rf')).message).toBe(
      'interface name "x;rm -rf" contains whitespace or control characters',
    );
    expect(thrown(() => validateInterfaceName('$(touch /tmp/pwned)')).message).toMatch(
      /longer than 15 bytes/,
    );
    expect(thrown(() => validateInterfaceName('$(touch /tmp/p)')).message).toMatch(/contains '\/'/);
    expect(thrown(() => validateInterfaceName('eth0\nx')).kind).toBe('invalid_argument');
    expect(thrown(() => validateInterfaceName('a\0b')).message).toMatch(/control characters/);
    expect(thrown(() => validateInterfaceName('')).message).toBe('interface name is empty');
    expect(thrown(() => validateInterfaceName('..')).message).toMatch(/not valid/);
    expect(() => validateInterfaceName('a'.repeat(15))).not.toThrow();
    expect(thrown(() => validateInterfaceName('a'.repeat(16))).message).toMatch(/IFNAMSIZ/);
    // Bytes, not characters: 8 × 'é' is 16 bytes.
    expect(thrown(() => validateInterfaceName('é'.repeat(8))).message).toMatch(/longer than 15 bytes/);
  });

  it('namespace names: no "/", not "." or "..", printable, not an option; pid:N allowed', () => {
    for (const ok of [
      'qrouter-6f774e8e-1d2c-4f3a-9e8b-7c6d5e4f3a2b',
      'pid:1234',
      "it's",
      'x; cd; touch pwned',
      '$(id)',
    ]) {
      expect(() => validateNetnsName(ok)).not.toThrow();
    }
    expect(thrown(() => validateNetnsName('a/b')).message).toBe(
      'network namespace name "a/b" contains \'/\'',
    );
    expect(thrown(() => validateNetnsName('.')).message).toMatch(/not valid/);
    expect(thrown(() => validateNetnsName('..')).message).toMatch(/not valid/);
    expect(thrown(() => validateNetnsName('a\nb')).message).toMatch(/control characters/);
    expect(thrown(() => validateNetnsName('-x')).message).toMatch(/begins with '-'/);
    expect(thrown(() => validateNetnsName('')).message).toMatch(/empty/);
  });

  it('an ssh destination beginning with "-" is refused (it would be an ssh option)', () => {
    expect(thrown(() => validateHost('-oProxyCommand=touch /tmp/pwned')).message).toBe(
      'ssh destination "-oProxyCommand=touch /tmp/pwned" begins with \'-\'',
    );
    expect(thrown(() => validateHost('a b')).message).toMatch(/whitespace/);
    expect(thrown(() => validateHost('')).message).toMatch(/empty/);
    for (const ok of ['compute2', 'root@compute2', 'ssh://root@compute2:2222', 'user@[fe80::1%eth0]']) {
      expect(() => validateHost(ok)).not.toThrow();
    }
  });

  it('a filter stays one argument; line ends become spaces, other control characters are refused', () => {
    expect(normalizeFilter(undefined)).toBeNull();
    expect(normalizeFilter('  ')).toBeNull();
    expect(normalizeFilter('icmp\nand\thost 10.0.0.1')).toBe('icmp and host 10.0.0.1');
    expect(normalizeFilter("icmp $(touch /tmp/pwned) 'x' `y`")).toBe("icmp $(touch /tmp/pwned) 'x' `y`");
    expect(thrown(() => normalizeFilter('icmp\u0007')).message).toMatch(/control characters/);
  });

  it('the constructor checks everything before any process runs', () => {
    const make = (o: Partial<ConstructorParameters<typeof RemoteCapture>[0]>) => () =>
      new RemoteCapture(
        { host: 'h', netns: null, iface: 'eth0', interfaceId: 0, ...o },
        { onPacket: () => {} },
      );
    expect(thrown(make({ iface: 'x;rm -rf /' })).kind).toBe('invalid_argument');
    expect(thrown(make({ netns: '../x' })).kind).toBe('invalid_argument');
    expect(thrown(make({ host: '-F/etc/passwd' })).kind).toBe('invalid_argument');
    expect(thrown(make({ snaplen: 262145 })).message).toMatch(/snaplen 262145/);
    expect(thrown(make({ snaplen: 1.5 })).kind).toBe('invalid_argument');
    expect(thrown(make({ tcpdumpPath: 'a\nb' })).kind).toBe('invalid_argument');
    expect(thrown(make({ sshConfig: '' })).message).toMatch(/ssh config path is empty/);
    expect(make({ snaplen: 0 })).not.toThrow();
  });
});

describe('the command lines', () => {
  it('tcpdump argv: interface, stream to stdout unbuffered, snaplen, nanoseconds, no DNS, "--" and the filter', () => {
    // prettier-ignore
    expect(remoteCaptureArgv(BASE)).toEqual([
      'tcpdump', '-i', 'eth0', '-U', '-w', '-', '-s', '262144', '--time-stamp-precision=nano', '-n',
    ]);
    // prettier-ignore
    expect(remoteCaptureArgv({ ...BASE, netns: 'qrouter-1', filter: '-x or icmp', snaplen: 96, immediate: true })).toEqual([
      'ip', 'netns', 'exec', 'qrouter-1',
      'tcpdump', '-i', 'eth0', '-U', '-w', '-', '-s', '96', '--time-stamp-precision=nano', '--immediate-mode', '-n',
      '--', '-x or icmp',
    ]);
    // prettier-ignore
    expect(remoteCaptureArgv({ ...BASE, netns: 'pid:4242', nano: false, tcpdumpPath: '/usr/bin/tcpdump' })).toEqual([
      'nsenter', '-t', '4242', '-n',
      '/usr/bin/tcpdump', '-i', 'eth0', '-U', '-w', '-', '-s', '262144', '-n',
    ]);
  });

  it('the remote script, word for word', () => {
    const input = { ...BASE, netns: 'qrouter-1', iface: 'qr-1', filter: 'icmp and host 10.0.0.1' };
    expect(remoteScript(input)).toBe(
      'PATH="$PATH:/usr/sbin:/sbin"; LC_ALL=C; export LC_ALL; ' +
        'echo hopscope-remote-session >&2; ' +
        // nanosecond stamps where this tcpdump takes the option (see precisionProbe below)
        "if 'tcpdump' '--time-stamp-precision=nano' --version </dev/null >/dev/null 2>&1 || " +
        "! 'tcpdump' --version </dev/null >/dev/null 2>&1; " +
        "then set -- '--time-stamp-precision=nano'; else set --; fi; " +
        'exec 3<&0; ' +
        "'ip' 'netns' 'exec' 'qrouter-1' 'tcpdump' '-i' 'qr-1' '-U' '-w' '-' '-s' '262144' " +
        `"$@" '-n' '--' 'icmp and host 10.0.0.1' </dev/null 3<&- & pid=$!; ` +
        '(read _ <&3; sleep 1.5 2>/dev/null || sleep 2; kill -TERM $pid) </dev/null >/dev/null 2>&1 & w=$!; ' +
        'exec 3<&-; wait $pid; rc=$?; kill $w 2>/dev/null; exit $rc',
    );
    // In immediate mode nothing waits in the kernel: no flush wait.
    expect(remoteScript({ ...input, immediate: true })).toContain('(read _ <&3; kill -TERM $pid)');
    // Once a tcpdump has rejected the option: neither the probe nor "$@".
    const micro = remoteScript({ ...input, nano: false });
    expect(micro).not.toContain('--time-stamp-precision');
    expect(micro).not.toContain('"$@"');
    expect(micro).toContain("'-s' '262144' '-n' '--' 'icmp and host 10.0.0.1' </dev/null 3<&- &");
  });

  // The probe on the host, run here by real shells against three stand-ins for tcpdump.
  it.each(['sh', 'bash'] as const)(
    '%s: the probe asks for nanoseconds unless this tcpdump knows --version and rejects the option',
    (shell) => {
      const dir = mkdtempSync(join(tmpdir(), 'hopscope-probe-'));
      try {
        const fake = (name: string, body: string): string => {
          const path = join(dir, name);
          writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
          return path;
        };
        // tcpdump >= 4.6 with libpcap >= 1.5
        const modern = fake('modern', 'exit 0');
        // knows --version, not the option (built against an old libpcap)
        const noNano = fake(
          'no-nano',
          'for a; do case $a in --time-stamp-precision*) echo "tcpdump: unrecognized option \'$a\'" >&2; exit 1;; esac; done; exit 0',
        );
        // knows neither: it is asked, and its own error tells (the next session goes without)
        const old = fake('old', 'for a; do case $a in --*) exit 1;; esac; done; exit 0');
        // what "$@" holds after the probe (printf prints the count first, then each word)
        const probe = (tcpdump: string): string[] =>
          execFileSync(shell, ['-c', `${precisionProbe(tcpdump)}printf '%s\\0' "$#" "$@"`])
            .toString('utf8')
            .split('\0')
            .slice(1, -1);
        expect(probe(modern)).toEqual(['--time-stamp-precision=nano']);
        expect(probe(noNano)).toEqual([]);
        expect(probe(old)).toEqual(['--time-stamp-precision=nano']);
        expect(probe(join(dir, 'missing'))).toEqual(['--time-stamp-precision=nano']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('the ssh argv: options, "--", the destination, and the remote command as ONE argument', () => {
    const input: RemoteCommandInput = { ...BASE, netns: 'qrouter-1', iface: 'qr-1', filter: 'icmp' };
    const command = remoteCommand(input);
    expect(command).toBe(
      'exec sh -c \'PATH="$PATH:/usr/sbin:/sbin"; LC_ALL=C; export LC_ALL; echo hopscope-remote-session >&2; ' +
        "if '\\''tcpdump'\\'' '\\''--time-stamp-precision=nano'\\'' --version </dev/null >/dev/null 2>&1 || " +
        "! '\\''tcpdump'\\'' --version </dev/null >/dev/null 2>&1; " +
        "then set -- '\\''--time-stamp-precision=nano'\\''; else set --; fi; " +
        "exec 3<&0; '\\''ip'\\'' '\\''netns'\\'' '\\''exec'\\'' '\\''qrouter-1'\\'' '\\''tcpdump'\\'' '\\''-i'\\'' " +
        "'\\''qr-1'\\'' '\\''-U'\\'' '\\''-w'\\'' '\\''-'\\'' '\\''-s'\\'' '\\''262144'\\'' " +
        `"$@" '\\''-n'\\'' '\\''--'\\'' '\\''icmp'\\'' </dev/null 3<&- & pid=$!; ` +
        '(read _ <&3; sleep 1.5 2>/dev/null || sleep 2; kill -TERM $pid) </dev/null >/dev/null 2>&1 & w=$!; exec 3<&-; wait $pid; rc=$?; ' +
        "kill $w 2>/dev/null; exit $rc'",
    );
    // prettier-ignore
    expect(sshArgv({ host: 'root@compute2', sshConfig: '/run/hopscope/lab/x/ssh_config' }, command)).toEqual([
      'ssh', '-F', '/run/hopscope/lab/x/ssh_config', '-T',
      '-o', 'BatchMode=yes', '-o', 'ServerAliveInterval=2', '-o', 'ServerAliveCountMax=3',
      '-o', 'RemoteCommand=none', '-o', 'ClearAllForwardings=yes',
      '--', 'root@compute2', command,
    ]);
    // prettier-ignore
    expect(sshArgv({ host: 'compute', sshProgram: ['ip', 'netns', 'exec', 'n1', 'ssh'] }, 'x')).toEqual([
      'ip', 'netns', 'exec', 'n1', 'ssh', '-T',
      '-o', 'BatchMode=yes', '-o', 'ServerAliveInterval=2', '-o', 'ServerAliveCountMax=3',
      '-o', 'RemoteCommand=none', '-o', 'ClearAllForwardings=yes',
      '--', 'compute', 'x',
    ]);
  });

  it('RemoteCapture.argv() is the same line, and never lets a hostile host become an option', () => {
    const capture = new RemoteCapture(
      { host: 'compute', netns: "it's", iface: '`id`', filter: 'icmp', sshConfig: '/c', interfaceId: 7 },
      { onPacket: () => {} },
    );
    const argv = capture.argv();
    // prettier-ignore
    expect(argv.slice(0, 15)).toEqual([
      'ssh', '-F', '/c', '-T',
      '-o', 'BatchMode=yes', '-o', 'ServerAliveInterval=2', '-o', 'ServerAliveCountMax=3',
      '-o', 'RemoteCommand=none', '-o', 'ClearAllForwardings=yes', '--',
    ]);
    expect(argv[15]).toBe('compute');
    expect(argv).toHaveLength(17);
    expect(capture.label).toBe("compute:it's/`id`");
  });

  // What the remote side does with the string: the login shell parses `exec sh -c '<script>'`,
  // then sh parses the script. Both steps are replayed here with real shells, printf
  // standing in for the commands, so nothing runs.
  it.each(['sh', 'bash'] as const)(
    '%s: hostile names and filters arrive at tcpdump as single, literal arguments',
    (shell) => {
      const cases: RemoteCommandInput[] = [
        { ...BASE, iface: '`id`', netns: "x'; touch /tmp/pwned; '", filter: '$(touch /tmp/pwned) or `id`' },
        {
          ...BASE,
          iface: "a'b",
          netns: 'x; cd; cd ..; cd tmp; touch pwned',
          filter: "icmp and '\"' \\ !! ${IFS}",
        },
        { ...BASE, iface: '$(reboot)', netns: '*', filter: normalizeFilter('icmp\n; touch /tmp/pwned') },
      ];
      for (const input of cases) {
        const command = remoteCommand(input);
        expect(command.startsWith('exec sh -c ')).toBe(true);
        // Step 1, the login shell: `exec sh -c` followed by exactly one word, the script.
        const [script, ...rest] = wordsIn(shell, command.slice('exec sh -c '.length));
        expect(rest).toEqual([]);
        const argv = remoteCaptureArgv(input);
        expect(script).toBe(remoteScript(input));
        // Step 2, sh: the capture command's words are the argv, each intact, with the
        // precision option or without it, as the probe set "$@".
        const text = remoteCaptureText(input);
        expect(script).toContain(`; ${text} </dev/null 3<&- &`);
        expect(wordsIn(shell, text, ['--time-stamp-precision=nano'])).toEqual(argv);
        expect(wordsIn(shell, text, [])).toEqual(argv.filter((w) => w !== '--time-stamp-precision=nano'));
        expect(argv).toContain(input.iface);
        if (input.filter !== null) expect(argv[argv.length - 1]).toBe(input.filter);
      }
    },
  );
});
