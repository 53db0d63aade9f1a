// The arguments of `hopscope replay` (docs/spec-grammar.md): FILE, LABEL=FILE, HOST:=FILE, and the
// forms that name nothing, each refused with what to write instead.
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/cli/errors.js';
import { parseReplayFile } from '../../src/cli/replay-files.js';

function refusal(arg: string): string {
  try {
    parseReplayFile(arg);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(2);
    return (err as UserError).message;
  }
  throw new Error(`${arg} was accepted`);
}

describe('replay arguments', () => {
  it('a plain FILE is the file, named by nothing', () => {
    expect(parseReplayFile('captures/tap.pcap')).toEqual({
      path: 'captures/tap.pcap',
      label: null,
      host: null,
      text: 'captures/tap.pcap',
    });
  });

  it('LABEL=FILE: the SPEC form [HOST:][NETNS/]IFACE names the one interface', () => {
    for (const label of [
      'compute2:tap7aa08012-d0',
      'tap7aa08012-d0',
      'qrouter-6f77/qr-56c70d72-3b',
      'root@compute2:qrouter-6f77/qr-56c70d72-3b',
      'pid:1234/eth0',
      'node1:pid:1234/eth0',
    ]) {
      expect(parseReplayFile(`${label}=tap.pcap`)).toEqual({
        path: 'tap.pcap',
        label,
        host: null,
        text: `${label}=tap.pcap`,
      });
    }
  });

  it('HOST:=FILE: every interface of the file on that host', () => {
    expect(parseReplayFile('external:=/tmp/ext.pcap')).toEqual({
      path: '/tmp/ext.pcap',
      label: null,
      host: 'external',
      text: 'external:=/tmp/ext.pcap',
    });
    expect(parseReplayFile('root@compute2:=x.pcapng').host).toBe('root@compute2');
  });

  it("a file name holding '=': after the LABEL's '=', or as ./NAME (a LABEL never starts with . or /)", () => {
    expect(parseReplayFile('compute:eth0=run=2.pcap')).toMatchObject({
      path: 'run=2.pcap',
      label: 'compute:eth0',
    });
    expect(parseReplayFile('./a=b.pcap')).toMatchObject({ path: './a=b.pcap', label: null, host: null });
    expect(parseReplayFile('/srv/x=1/a=b.pcap')).toMatchObject({ path: '/srv/x=1/a=b.pcap', label: null });
    expect(parseReplayFile('../a=b.pcap')).toMatchObject({ path: '../a=b.pcap', label: null });
  });

  it('=FILE alone says what to write instead', () => {
    expect(refusal('=tap.pcap')).toBe(
      `replay: "=tap.pcap": no label before '=': write LABEL=FILE (compute:eth0=tap.pcap), ` +
        `HOST:=FILE (compute:=tap.pcap), or ./=tap.pcap for a file of that name`,
    );
    expect(refusal('compute:eth0=')).toBe(
      `replay: "compute:eth0=": no file after '=': write compute:eth0=FILE`,
    );
  });

  it('a LABEL is validated as a capture SPEC, without globs', () => {
    expect(refusal('tap*=tap.pcap')).toMatch(
      /^replay: label "tap\*": a label names one interface, without globs/,
    );
    expect(refusal('*/eth0=x.pcap')).toMatch(/^replay: label "\*\/eth0": a label names one interface/);
    expect(refusal('qrouter-*/qr-1=x.pcap')).toMatch(/^replay: label "qrouter-\*\/qr-1": a label names one/);
    expect(refusal('compute:eth 0=x.pcap')).toBe(
      'replay: label "compute:eth 0": interface name "eth 0" contains whitespace or control characters',
    );
    expect(refusal('compute:ns/eth0:1=x.pcap')).toBe(
      `replay: label "compute:ns/eth0:1": interface names cannot contain ':'`,
    );
    expect(refusal('averyveryverylongname=x.pcap')).toMatch(/longer than 15 bytes/);
    expect(refusal('compute:pid:12=x.pcap')).toMatch(/a namespace needs an interface: pid:12\/IFACE/);
    // a host that would read as a namespace in the label (parseLabel) or as an option of ssh
    expect(refusal('a/b:eth0=x.pcap')).toBe(`replay: label "a/b:eth0": a host holds no ':' or '/'`);
    expect(refusal('a:b:=x.pcap')).toBe(`replay: label "a:b:": a host holds no ':' or '/'`);
    expect(refusal('co mpute:=x.pcap')).toMatch(/^replay: label "co mpute:": ssh destination .* whitespace/);
  });
});
