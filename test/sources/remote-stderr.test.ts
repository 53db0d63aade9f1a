// What ssh, the remote shells and tcpdump print, read into states, counts and
// one-line errors. The lines are the ones these tools really print (Debian 12:
// OpenSSH 9.2, tcpdump 4.99, iproute2, dash, bash).
import { describe, expect, it } from 'vitest';
import {
  classifyFailure,
  LineSplitter,
  meansGone,
  parseStderrLine,
  SESSION_MARKER,
  type FailureContext,
  type SessionOutcome,
} from '../../src/sources/tcpdump-stderr.js';

const CTX: FailureContext = { host: 'compute', where: 'eth9', netns: null, tcpdumpPath: 'tcpdump' };

function outcome(o: Partial<SessionOutcome>): SessionOutcome {
  return {
    exitCode: 1,
    signal: null,
    sshLines: [],
    remoteLines: [],
    markerSeen: true,
    listeningSeen: false,
    ...o,
  };
}

describe('parseStderrLine', () => {
  it('reads the listening line, with link type and snapshot length', () => {
    expect(
      parseStderrLine(
        'tcpdump: listening on vxlan_sys_4789, link-type EN10MB (Ethernet), snapshot length 262144 bytes',
      ),
    ).toEqual({ kind: 'listening', iface: 'vxlan_sys_4789', linktypeName: 'EN10MB', snaplen: 262144 });
    expect(
      parseStderrLine('listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 96 bytes'),
    ).toEqual({ kind: 'listening', iface: 'any', linktypeName: 'LINUX_SLL2', snaplen: 96 });
  });

  it('a tcpdump by another name (--remote-tcpdump /opt/bin/tcpdump-4.99) prefixes its messages with it', () => {
    expect(
      parseStderrLine(
        'tcpdump-4.99: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes',
      ),
    ).toEqual({
      kind: 'listening',
      iface: 'eth0',
      linktypeName: 'EN10MB',
      snaplen: 262144,
    });
    expect(parseStderrLine('tcpdump-4.99: WARNING: eth0: no IPv4 address assigned').kind).toBe('warning');
    expect(
      classifyFailure(outcome({ remoteLines: ['tcpdump-4.99: eth9: No such device exists'] }), {
        ...CTX,
        tcpdumpPath: '/opt/bin/tcpdump-4.99',
      }),
    ).toEqual({
      kind: 'interface_not_found',
      message: 'interface not found on compute: eth9 (tcpdump-4.99: eth9: No such device exists)',
    });
  });

  it('reads the final counts, singular and plural', () => {
    expect(parseStderrLine('12 packets captured')).toEqual({ kind: 'count', field: 'captured', value: 12 });
    expect(parseStderrLine('1 packet received by filter')).toEqual({
      kind: 'count',
      field: 'receivedByFilter',
      value: 1,
    });
    expect(parseStderrLine('0 packets dropped by kernel\r')).toEqual({
      kind: 'count',
      field: 'droppedByKernel',
      value: 0,
    });
    expect(parseStderrLine('3 packets dropped by interface')).toEqual({
      kind: 'count',
      field: 'droppedByInterface',
      value: 3,
    });
  });

  it('the marker, warnings, the rest', () => {
    expect(parseStderrLine(SESSION_MARKER)).toEqual({ kind: 'marker' });
    expect(parseStderrLine('tcpdump: WARNING: eth0: no IPv4 address assigned')).toEqual({
      kind: 'warning',
      message: 'tcpdump: WARNING: eth0: no IPv4 address assigned',
    });
    expect(parseStderrLine('(No such device exists)')).toEqual({
      kind: 'other',
      text: '(No such device exists)',
    });
  });
});

describe('LineSplitter', () => {
  it('joins lines cut across chunks, also inside a UTF-8 character', () => {
    const s = new LineSplitter();
    const bytes = new TextEncoder().encode('a\nbé\r\nc');
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i++) lines.push(...s.push(bytes.subarray(i, i + 1)));
    lines.push(...s.end());
    expect(lines).toEqual(['a', 'bé', 'c']);
  });
});

describe('classifyFailure: one clear line per cause', () => {
  it('ssh failures before the remote command ran', () => {
    expect(
      classifyFailure(
        outcome({
          exitCode: 255,
          markerSeen: false,
          sshLines: ['ssh: Could not resolve hostname nosuch: Name or service not known'],
        }),
        CTX,
      ),
    ).toEqual({
      kind: 'ssh_failed',
      message: 'ssh to compute failed: ssh: Could not resolve hostname nosuch: Name or service not known',
    });
    expect(
      classifyFailure(
        outcome({
          exitCode: 255,
          markerSeen: false,
          sshLines: [
            "Warning: Permanently added 'compute' (ED25519) to the list of known hosts.",
            'root@compute: Permission denied (publickey).',
          ],
        }),
        CTX,
      ).message,
    ).toBe('ssh to compute failed: root@compute: Permission denied (publickey).');
    expect(
      classifyFailure(
        outcome({
          exitCode: 255,
          markerSeen: false,
          sshLines: ['ssh: connect to host compute port 22: Connection refused'],
        }),
        CTX,
      ).message,
    ).toBe('ssh to compute failed: ssh: connect to host compute port 22: Connection refused');
    // A ProxyCommand's namespace error is ssh's failure, not a capture namespace missing.
    expect(
      classifyFailure(
        outcome({
          exitCode: 255,
          markerSeen: false,
          sshLines: [
            'Cannot open network namespace "hs-compute": No such file or directory',
            'kex_exchange_identification: Connection closed by remote host',
            'Connection closed by UNKNOWN port 65535',
          ],
        }),
        CTX,
      ),
    ).toEqual({
      kind: 'ssh_failed',
      message:
        'ssh to compute failed: Cannot open network namespace "hs-compute": No such file or directory; kex_exchange_identification: Connection closed by remote host; Connection closed by UNKNOWN port 65535',
    });
    expect(classifyFailure(outcome({ exitCode: 255, markerSeen: false }), CTX).message).toBe(
      'ssh to compute failed: ssh exit status 255',
    );
  });

  it('tcpdump missing: dash, bash, zsh, ip netns exec, nsenter, or just exit 127', () => {
    const missing = (line: string, tcpdumpPath = 'tcpdump', exitCode = 127) =>
      classifyFailure(outcome({ exitCode, remoteLines: [line] }), { ...CTX, tcpdumpPath });
    expect(missing('sh: 1: tcpdump: not found')).toEqual({
      kind: 'tcpdump_missing',
      message: 'tcpdump missing on the remote host compute (sh: 1: tcpdump: not found)',
    });
    expect(missing('bash: line 1: tcpdump: command not found').kind).toBe('tcpdump_missing');
    expect(missing('zsh:1: command not found: tcpdump').kind).toBe('tcpdump_missing');
    expect(
      missing('exec of "/nonexistent/tcpdump" failed: No such file or directory', '/nonexistent/tcpdump', 1)
        .kind,
    ).toBe('tcpdump_missing');
    expect(
      missing('sh: line 1: /nonexistent/tcpdump: No such file or directory', '/nonexistent/tcpdump').kind,
    ).toBe('tcpdump_missing');
    expect(
      missing('nsenter: failed to execute tcpdump: No such file or directory', 'tcpdump', 127).kind,
    ).toBe('tcpdump_missing');
    expect(
      classifyFailure(outcome({ exitCode: 127, remoteLines: ['sh: 1: tcpdump: introuvable'] }), CTX),
    ).toEqual({
      kind: 'tcpdump_missing',
      message: 'tcpdump missing on the remote host compute (exit status 127: sh: 1: tcpdump: introuvable)',
    });
  });

  it('interface not found, down, gone; namespace not found; permission; filter', () => {
    expect(
      classifyFailure(
        outcome({ remoteLines: ['tcpdump: eth9: No such device exists', '(No such device exists)'] }),
        CTX,
      ),
    ).toEqual({
      kind: 'interface_not_found',
      message: 'interface not found on compute: eth9 (tcpdump: eth9: No such device exists)',
    });
    const inNs = { ...CTX, where: 'qrouter-1/qr-9', netns: 'qrouter-1' };
    expect(
      classifyFailure(
        outcome({
          exitCode: 255,
          remoteLines: ['Cannot open network namespace "qrouter-1": No such file or directory'],
        }),
        inNs,
      ),
    ).toEqual({
      kind: 'netns_not_found',
      message:
        'network namespace not found on compute: qrouter-1 (Cannot open network namespace "qrouter-1": No such file or directory)',
    });
    expect(
      classifyFailure(
        outcome({ remoteLines: ['nsenter: cannot open /proc/99999/ns/net: No such file or directory'] }),
        { ...CTX, netns: 'pid:99999' },
      ).kind,
    ).toBe('netns_not_found');
    expect(
      classifyFailure(outcome({ remoteLines: ['tcpdump: eth9: That device is not up'] }), CTX).kind,
    ).toBe('interface_down');
    expect(
      classifyFailure(
        outcome({ listeningSeen: true, remoteLines: ['tcpdump: pcap_loop: The interface disappeared'] }),
        CTX,
      ),
    ).toEqual({
      kind: 'interface_gone',
      message: 'interface went away on compute: eth9 (tcpdump: pcap_loop: The interface disappeared)',
    });
    expect(
      classifyFailure(
        outcome({
          remoteLines: [
            "tcpdump: eth0: You don't have permission to perform this capture on that device",
            '(socket: Operation not permitted)',
          ],
        }),
        CTX,
      ).kind,
    ).toBe('permission_denied');
    expect(
      classifyFailure(
        outcome({ remoteLines: ["tcpdump: can't parse filter expression: syntax error"] }),
        CTX,
      ),
    ).toEqual({
      kind: 'bad_filter',
      message: "bad capture filter for compute:eth9 (tcpdump: can't parse filter expression: syntax error)",
    });
  });

  it('no nanosecond time stamps: a cause to fall back, not to fail', () => {
    expect(
      classifyFailure(outcome({ remoteLines: ['tcpdump: unsupported time stamp precision'] }), CTX).kind,
    ).toBe('no_nano_precision');
    expect(
      classifyFailure(
        outcome({ remoteLines: ["tcpdump: unrecognized option '--time-stamp-precision=nano'"] }),
        CTX,
      ).kind,
    ).toBe('no_nano_precision');
  });

  it('a session that was up and died: ssh killed, connection closed, sshd gone', () => {
    expect(classifyFailure(outcome({ exitCode: null, signal: 'SIGKILL', listeningSeen: true }), CTX)).toEqual(
      { kind: 'session_lost', message: 'ssh to compute failed: ssh killed by SIGKILL' },
    );
    expect(
      classifyFailure(
        outcome({
          exitCode: 255,
          listeningSeen: true,
          remoteLines: ['tcpdump: listening on eth9…', 'Connection to 127.0.0.1 closed by remote host.'],
        }),
        CTX,
      ),
    ).toEqual({
      kind: 'session_lost',
      message: 'ssh to compute failed: Connection to 127.0.0.1 closed by remote host.',
    });
    expect(
      classifyFailure(
        outcome({
          exitCode: 255,
          listeningSeen: true,
          remoteLines: ['Timeout, server 127.0.0.1 not responding.'],
        }),
        CTX,
      ).message,
    ).toBe('ssh to compute failed: Timeout, server 127.0.0.1 not responding.');
  });

  it('gone means the interface or its namespace is not there', () => {
    expect(meansGone('interface_gone')).toBe(true);
    expect(meansGone('netns_not_found')).toBe(true);
    expect(meansGone('session_lost')).toBe(false);
    expect(meansGone('tcpdump_missing')).toBe(false);
  });
});
