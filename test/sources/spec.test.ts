// `-i SPEC` as a user types it (docs/spec-grammar.md): what parseSpec makes of it, the
// one-line errors it refuses with, and what resolveSpecs picks out of hand-built
// inventories (plain data, as discoverInterfaces would return them).
import { describe, expect, it } from 'vitest';
import { interfaceLabel } from '../../src/events/types.js';
import type { DiscoveredInterface, HostInventory, NamespaceInventory } from '../../src/sources/discovery.js';
import {
  isPseudoDevice,
  parseSpec,
  resolveSpecs,
  SpecError,
  specIsOpen,
  specMatches,
  specSelectsNamespace,
  type CaptureSpec,
} from '../../src/sources/spec.js';

// ---------------------------------------------------------------- helpers

interface SpecShape {
  host: string | null;
  netns: string;
  iface: string;
  glob: boolean;
}

/** A CaptureSpec as plain data: `netns` is `root`, `*`, `pid:N` or `named:PATTERN`. */
function shape(spec: CaptureSpec): SpecShape {
  const n = spec.netns;
  const netns =
    n.kind === 'root'
      ? 'root'
      : n.kind === 'all'
        ? '*'
        : n.kind === 'pid'
          ? `pid:${n.pid}`
          : `named:${n.pattern.text}`;
  return { host: spec.host, netns, iface: spec.iface.text, glob: spec.iface.isGlob };
}

function parseError(text: string): SpecError {
  try {
    parseSpec(text);
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  throw new Error(`parseSpec(${JSON.stringify(text)}) did not throw`);
}

function resolveError(texts: string[], inventories: HostInventory[]): SpecError {
  try {
    resolveSpecs(texts.map(parseSpec), inventories);
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  throw new Error(`resolveSpecs(${JSON.stringify(texts)}) did not throw`);
}

function expectOneLine(err: Error): void {
  expect(err.message).not.toMatch(/[\r\n]/);
  expect(err.message.length).toBeGreaterThan(0);
}

/** Addresses of some inventory interfaces (by label), as `ip -j addr` gave them. */
const ADDRESSES: Record<string, string[]> = {
  'qrouter-6f774e8e/qr-56c70d72-3b': ['10.0.0.1/24', 'fe80::f816:3eff:fe12:3456/64'],
  'root@compute2:tun0': ['10.128.0.1/14'],
};

function iface(host: string | null, netns: string | null, name: string, ifindex = 1): DiscoveredInterface {
  return {
    host,
    netns,
    name,
    ifindex,
    kind: null,
    role: name === 'lo' ? 'loopback' : 'other',
    state: 'UP',
    adminUp: true,
    mtu: 1500,
    mac: null,
    master: null,
    addresses: ADDRESSES[interfaceLabel({ host, netns, name })] ?? [],
  };
}

function ns(
  host: string | null,
  netns: string | null,
  names: string[],
  error: string | null = null,
): NamespaceInventory {
  return {
    host,
    netns,
    interfaces: error === null ? names.map((n, i) => iface(host, netns, n, i + 1)) : [],
    error,
  };
}

const LOCAL: HostInventory = {
  host: null,
  namespaces: ['qrouter-6f774e8e', 'qrouter-9d8c7b6a', 'qdhcp-1234', 'vanished-ns'],
  inventories: [
    ns(null, null, ['lo', 'eth0', 'br-int', 'tap7aa08012-d0', 'tap1b2c3d4e-f5', 'nflog', 'usbmon0']),
    ns(null, 'qrouter-6f774e8e', ['lo', 'qr-56c70d72-3b', 'qg-0a1b2c3d-4e', 'eth0']),
    ns(null, 'qrouter-9d8c7b6a', ['lo', 'qr-11111111-aa']),
    ns(null, 'qdhcp-1234', ['lo', 'tap9f9f9f9f-00']),
    ns(null, 'vanished-ns', [], 'Cannot open network namespace "vanished-ns": No such file or directory'),
    ns(null, 'pid:1234', ['lo', 'eth0', 'tapinpod']),
    ns(null, 'pid:999', [], 'no such process'),
  ],
};

const REMOTE: HostInventory = {
  host: 'root@compute2',
  namespaces: ['qrouter-x'],
  inventories: [
    ns('root@compute2', null, ['lo', 'eth0', 'tun0', 'tapremote-01']),
    ns('root@compute2', 'qrouter-x', ['lo', 'qr-y']),
  ],
};

const BOTH = [LOCAL, REMOTE];

function labels(texts: string[], inventories: HostInventory[] = BOTH): string[] {
  return resolveSpecs(texts.map(parseSpec), inventories).map((t) => t.label);
}

// ---------------------------------------------------------------- parseSpec

describe('parseSpec: what a user types', () => {
  it.each<[string, SpecShape]>([
    ['tap7aa08012-d0', { host: null, netns: 'root', iface: 'tap7aa08012-d0', glob: false }],
    ['tap*', { host: null, netns: 'root', iface: 'tap*', glob: true }],
    [
      'qrouter-6f774e8e/qr-56c70d72-3b',
      { host: null, netns: 'named:qrouter-6f774e8e', iface: 'qr-56c70d72-3b', glob: false },
    ],
    ['qrouter-*/qr-*', { host: null, netns: 'named:qrouter-*', iface: 'qr-*', glob: true }],
    ['pid:1234/eth0', { host: null, netns: 'pid:1234', iface: 'eth0', glob: false }],
    ['host:pid:1234/eth0', { host: 'host', netns: 'pid:1234', iface: 'eth0', glob: false }],
    ['*/tap*', { host: null, netns: '*', iface: 'tap*', glob: true }],
    ['root@compute2:tun0', { host: 'root@compute2', netns: 'root', iface: 'tun0', glob: false }],
    [
      'root@compute2:qrouter-x/qr-y',
      { host: 'root@compute2', netns: 'named:qrouter-x', iface: 'qr-y', glob: false },
    ],
    ['any', { host: null, netns: 'root', iface: 'any', glob: false }],
    ['*/any', { host: null, netns: '*', iface: 'any', glob: false }],
    ['root@compute2:*/tap*', { host: 'root@compute2', netns: '*', iface: 'tap*', glob: true }],
    ['eth[01]', { host: null, netns: 'root', iface: 'eth[01]', glob: true }],
    ['lo', { host: null, netns: 'root', iface: 'lo', glob: false }],
    // 15 bytes is the longest name Linux allows (IFNAMSIZ 16 with its NUL).
    ['abcdefghijklmno', { host: null, netns: 'root', iface: 'abcdefghijklmno', glob: false }],
  ])('%s', (text, expected) => {
    const spec = parseSpec(text);
    expect(spec.text).toBe(text);
    expect(shape(spec)).toEqual(expected);
  });

  it('a glob interface longer than 15 bytes is a pattern, not a name, and is accepted', () => {
    // `qr-[0-9a-f][0-9a-f]*` is 20 bytes but matches 15-byte names such as qr-56c70d72-3b.
    const spec = parseSpec('qrouter-*/qr-[0-9a-f][0-9a-f]*');
    expect(shape(spec)).toEqual({
      host: null,
      netns: 'named:qrouter-*',
      iface: 'qr-[0-9a-f][0-9a-f]*',
      glob: true,
    });
    expect(spec.iface.matches('qr-56c70d72-3b')).toBe(true);
  });

  describe('hostile-looking names are literal names (never given to a shell)', () => {
    it.each(['eth0;reboot', '$(id)', '`id`', "it's", 'a&&b', '|x', '>out', '"q"'])('%s', (text) => {
      const spec = parseSpec(text);
      expect(shape(spec)).toEqual({ host: null, netns: 'root', iface: text, glob: false });
      expect(spec.iface.matches(text)).toBe(true);
      expect(spec.iface.matches('eth0')).toBe(false);
    });

    it('in a namespace and on a host, each part is kept as typed', () => {
      expect(shape(parseSpec('root@c2;id:ns$(id)/eth0;reboot'))).toEqual({
        host: 'root@c2;id',
        netns: 'named:ns$(id)',
        iface: 'eth0;reboot',
        glob: false,
      });
    });
  });
});

describe('parseSpec: errors are SpecErrors with one line naming the spec', () => {
  it.each<[string, RegExp]>([
    ['pid:12', /a namespace needs an interface: pid:12\/IFACE/],
    ['host:pid:12', /a namespace needs an interface/],
    ['qrouter-x/', /no interface name after the namespace/],
    ['*/', /no interface name after the namespace/],
    ['pid:12/', /no interface name after the namespace/],
    ['/eth0', /namespace name is empty/],
    ['abcdefghijklmnop', /longer than 15 bytes/],
    ['qrouter-x/abcdefghijklmnop', /longer than 15 bytes/],
    // 8 bytes of text, but 16 bytes of UTF-8.
    ['éééééééé', /longer than 15 bytes/],
    ['eth 0', /whitespace or control characters/],
    ['eth0 ', /whitespace or control characters/],
    ['\teth0', /whitespace or control characters/],
    ['eth\n0', /whitespace or control characters/],
    ['eth\u00000', /whitespace or control characters/],
    ['eth\u007f', /whitespace or control characters/],
    ['eth0; reboot', /whitespace or control characters/],
    ['-oProxyCommand=id:eth0', /ssh destination "-oProxyCommand=id" begins with '-'/],
    ['-x:eth0', /begins with '-'/],
    [':eth0', /ssh destination is empty/],
    ['root@compute2 :eth0', /ssh destination .* whitespace or control characters/],
    ['-n/eth0', /network namespace name "-n" begins with '-'/],
    ['root@compute2:-n/eth0', /begins with '-'/],
    ['a/b/c', /network namespace name "a\/b" contains '\/'/],
    ['pid:0/eth0', /bad process id/],
    ['pid:99999999999999999999/eth0', /bad process id/],
    ['x:y:z', /interface names cannot contain ':'/],
    ['.', /not valid/],
    ['..', /not valid/],
    ['qrouter-x/..', /not valid/],
    ['../eth0', /not valid/],
  ])('%j', (text, reason) => {
    const err = parseError(text);
    expect(err).toBeInstanceOf(SpecError);
    expect(err.name).toBe('SpecError');
    expectOneLine(err);
    expect(err.message).toMatch(reason);
    expect(err.message.startsWith(`-i ${JSON.stringify(text)}: `)).toBe(true);
  });

  it.each(['', ' ', '\t', '\n'])('empty spec %j', (text) => {
    const err = parseError(text);
    expectOneLine(err);
    expect(err.message).toBe('-i: empty interface spec');
  });
});

// ---------------------------------------------------------------- predicates

describe('isPseudoDevice', () => {
  it.each([
    'any',
    'nflog',
    'nfqueue',
    'dbus-system',
    'dbus-session',
    'bluetooth-monitor',
    'usbmon',
    'usbmon3',
  ])('%s is a pseudo-device', (name) => expect(isPseudoDevice(name)).toBe(true));
  it.each(['eth0', 'lo', 'anything', 'nflog0', 'my-any', 'usbmonx', 'tap7aa08012-d0'])('%s is not', (name) =>
    expect(isPseudoDevice(name)).toBe(false),
  );
});

describe('specSelectsNamespace', () => {
  const cases: Array<[string, Array<string | null>, Array<string | null>]> = [
    ['eth0', [null], ['qrouter-x', 'pid:1']],
    ['*/eth0', [null, 'qrouter-x', 'qdhcp-1'], ['pid:1', 'pid:1234']],
    ['pid:1234/eth0', ['pid:1234'], [null, 'pid:123', 'pid:12345', 'qrouter-x']],
    ['qrouter-x/eth0', ['qrouter-x'], [null, 'qrouter-xy', 'pid:1']],
    ['qrouter-*/eth0', ['qrouter-x', 'qrouter-'], [null, 'qdhcp-1', 'pid:1']],
    // A glob that would match `pid:N` as text still never selects a process's namespace.
    ['p*/eth0', ['pods'], ['pid:1234', null]],
  ];
  it.each(cases)('%s', (text, yes, no) => {
    const spec = parseSpec(text);
    for (const n of yes) expect(specSelectsNamespace(spec, n), String(n)).toBe(true);
    for (const n of no) expect(specSelectsNamespace(spec, n), String(n)).toBe(false);
  });
});

describe('specIsOpen: can the spec name interfaces that do not exist yet', () => {
  it.each<[string, boolean]>([
    ['tap7aa08012-d0', false],
    ['qrouter-6f774e8e/qr-56c70d72-3b', false],
    ['pid:1234/eth0', false],
    ['root@compute2:tun0', false],
    ['any', false],
    ['tap*', true],
    ['qrouter-*/qr-56c70d72-3b', true],
    ['qrouter-6f774e8e/qr-*', true],
    ['*/eth0', true],
    ['*/any', true],
    ['root@compute2:tap*', true],
  ])('%s → %s', (text, open) => expect(specIsOpen(parseSpec(text))).toBe(open));
});

describe('specMatches: interfaces that appear later', () => {
  const loc = (host: string | null, netns: string | null, name: string) => ({ host, netns, name });

  it("'tap*' attaches new root taps on this host only", () => {
    const spec = parseSpec('tap*');
    expect(specMatches(spec, loc(null, null, 'tapnew0123-45'))).toBe(true);
    expect(specMatches(spec, loc(null, null, 'qvbnew0123-45'))).toBe(false);
    expect(specMatches(spec, loc(null, 'qrouter-x', 'tapnew0123-45'))).toBe(false);
    expect(specMatches(spec, loc(null, 'pid:1', 'tapnew0123-45'))).toBe(false);
    expect(specMatches(spec, loc('root@compute2', null, 'tapnew0123-45'))).toBe(false);
  });

  it("'qrouter-*/qr-*' attaches a new router's port", () => {
    const spec = parseSpec('qrouter-*/qr-*');
    expect(specMatches(spec, loc(null, 'qrouter-new', 'qr-0000aaaa-bb'))).toBe(true);
    expect(specMatches(spec, loc(null, 'qrouter-new', 'qg-0000aaaa-bb'))).toBe(false);
    expect(specMatches(spec, loc(null, 'qdhcp-new', 'qr-0000aaaa-bb'))).toBe(false);
    expect(specMatches(spec, loc(null, null, 'qr-0000aaaa-bb'))).toBe(false);
  });

  it("'*/tap*' attaches in the root and named namespaces, not a process's", () => {
    const spec = parseSpec('*/tap*');
    expect(specMatches(spec, loc(null, null, 'tapx'))).toBe(true);
    expect(specMatches(spec, loc(null, 'qdhcp-new', 'tapx'))).toBe(true);
    expect(specMatches(spec, loc(null, 'pid:1234', 'tapx'))).toBe(false);
  });

  it('a remote glob attaches on its host only', () => {
    const spec = parseSpec('root@compute2:tap*');
    expect(specMatches(spec, loc('root@compute2', null, 'tapx'))).toBe(true);
    expect(specMatches(spec, loc(null, null, 'tapx'))).toBe(false);
    expect(specMatches(spec, loc('compute2', null, 'tapx'))).toBe(false);
  });

  it('globs never match lo or pseudo-devices; exact names do', () => {
    for (const text of ['*', '?o', 'l*', '*/*', 'an?', 'nf*', 'usbmon*']) {
      const spec = parseSpec(text);
      for (const name of ['lo', 'any', 'nflog', 'nfqueue', 'usbmon1'])
        expect(specMatches(spec, loc(null, null, name)), `${text} ~ ${name}`).toBe(false);
    }
    expect(specMatches(parseSpec('lo'), loc(null, null, 'lo'))).toBe(true);
    expect(specMatches(parseSpec('nflog'), loc(null, null, 'nflog'))).toBe(true);
    expect(specMatches(parseSpec('*/lo'), loc(null, 'qrouter-x', 'lo'))).toBe(true);
  });

  it('an exact spec matches that name only, literally', () => {
    expect(specMatches(parseSpec('eth0'), loc(null, null, 'eth0'))).toBe(true);
    expect(specMatches(parseSpec('eth0'), loc(null, null, 'eth01'))).toBe(false);
    expect(specMatches(parseSpec('eth0;reboot'), loc(null, null, 'eth0;reboot'))).toBe(true);
    expect(specMatches(parseSpec('pid:1234/eth0'), loc(null, 'pid:1234', 'eth0'))).toBe(true);
    expect(specMatches(parseSpec('pid:1234/eth0'), loc(null, null, 'eth0'))).toBe(false);
  });
});

// ---------------------------------------------------------------- resolveSpecs

describe('resolveSpecs', () => {
  it('an exact root name resolves to one target labelled as typed', () => {
    const targets = resolveSpecs([parseSpec('tap7aa08012-d0')], BOTH);
    expect(targets).toEqual([
      {
        host: null,
        netns: null,
        name: 'tap7aa08012-d0',
        label: 'tap7aa08012-d0',
        spec: 'tap7aa08012-d0',
        addresses: [],
      },
    ]);
  });

  it('an exact name in a named namespace, with the addresses its listing gave', () => {
    expect(resolveSpecs([parseSpec('qrouter-6f774e8e/qr-56c70d72-3b')], BOTH)).toEqual([
      {
        host: null,
        netns: 'qrouter-6f774e8e',
        name: 'qr-56c70d72-3b',
        label: 'qrouter-6f774e8e/qr-56c70d72-3b',
        spec: 'qrouter-6f774e8e/qr-56c70d72-3b',
        addresses: ['10.0.0.1/24', 'fe80::f816:3eff:fe12:3456/64'],
      },
    ]);
  });

  it('lo is captured when named', () => {
    expect(labels(['lo'])).toEqual(['lo']);
  });

  it("'tap*' picks the root taps of this host, in inventory order", () => {
    expect(labels(['tap*'])).toEqual(['tap7aa08012-d0', 'tap1b2c3d4e-f5']);
  });

  it("'*' is every root interface but lo and pseudo-devices", () => {
    expect(labels(['*'])).toEqual(['eth0', 'br-int', 'tap7aa08012-d0', 'tap1b2c3d4e-f5']);
  });

  it("'qrouter-*/qr-*' globs on both parts", () => {
    expect(labels(['qrouter-*/qr-*'])).toEqual([
      'qrouter-6f774e8e/qr-56c70d72-3b',
      'qrouter-9d8c7b6a/qr-11111111-aa',
    ]);
  });

  it("'*/tap*' covers the root and named namespaces, not pid ones, skipping one that vanished", () => {
    expect(labels(['*/tap*'])).toEqual(['tap7aa08012-d0', 'tap1b2c3d4e-f5', 'qdhcp-1234/tap9f9f9f9f-00']);
  });

  it("'*/eth0' finds eth0 in the root and named namespaces only", () => {
    expect(labels(['*/eth0'])).toEqual(['eth0', 'qrouter-6f774e8e/eth0']);
  });

  it('pid:1234/eth0 resolves in the process namespace', () => {
    expect(resolveSpecs([parseSpec('pid:1234/eth0')], BOTH)).toEqual([
      {
        host: null,
        netns: 'pid:1234',
        name: 'eth0',
        label: 'pid:1234/eth0',
        spec: 'pid:1234/eth0',
        addresses: [],
      },
    ]);
  });

  it('pid:1234/tap* globs in the process namespace', () => {
    expect(labels(['pid:1234/tap*'])).toEqual(['pid:1234/tapinpod']);
  });

  it('remote specs resolve against their host inventory, labelled with the host', () => {
    expect(resolveSpecs([parseSpec('root@compute2:tun0')], BOTH)).toEqual([
      {
        host: 'root@compute2',
        netns: null,
        name: 'tun0',
        label: 'root@compute2:tun0',
        spec: 'root@compute2:tun0',
        addresses: ['10.128.0.1/14'],
      },
    ]);
    expect(labels(['root@compute2:qrouter-x/qr-y'])).toEqual(['root@compute2:qrouter-x/qr-y']);
    expect(labels(['root@compute2:tap*'])).toEqual(['root@compute2:tapremote-01']);
    expect(labels(['root@compute2:*/*'])).toEqual([
      'root@compute2:eth0',
      'root@compute2:tun0',
      'root@compute2:tapremote-01',
      'root@compute2:qrouter-x/qr-y',
    ]);
  });

  it('a remote inventory is used only for specs of that host', () => {
    // tun0 exists remotely only: a local spec must not find it.
    const err = resolveError(['tun0'], BOTH);
    expect(err.message).toContain('on this host');
    expect(err.message).toContain(
      '(interfaces: lo, eth0, br-int, tap7aa08012-d0, tap1b2c3d4e-f5, nflog, usbmon0)',
    );
    expect(err.message).not.toContain('tapremote');
    // and a local-only name is not found on the remote host.
    const remote = resolveError(['root@compute2:br-int'], BOTH);
    expect(remote.message).toContain('on root@compute2');
    expect(remote.message).toContain('(interfaces: lo, eth0, tun0, tapremote-01)');
  });

  it('a spec for a host without an inventory is a programming error', () => {
    expect(() => resolveSpecs([parseSpec('compute9:eth0')], [LOCAL])).toThrow(/no inventory for compute9/);
  });

  it("'any' is libpcap's pseudo-device, per namespace", () => {
    const [any] = resolveSpecs([parseSpec('any')], BOTH);
    expect(any).toMatchObject({
      host: null,
      netns: null,
      name: 'any',
      label: 'any',
      spec: 'any',
      addresses: [],
    });
    // its devices by ifindex, with their addresses: its packets are their sightings
    expect(any.devices?.map((d) => [d.ifindex, d.name])).toEqual(
      ['lo', 'eth0', 'br-int', 'tap7aa08012-d0', 'tap1b2c3d4e-f5', 'nflog', 'usbmon0'].map((n, i) => [
        i + 1,
        n,
      ]),
    );
    const [inRouter] = resolveSpecs([parseSpec('qrouter-6f774e8e/any')], BOTH);
    expect(inRouter.devices?.map((d) => d.name)).toEqual(['lo', 'qr-56c70d72-3b', 'qg-0a1b2c3d-4e', 'eth0']);
    expect(inRouter.devices?.[1].addresses).toEqual(ADDRESSES['qrouter-6f774e8e/qr-56c70d72-3b']);
    expect(labels(['*/any'])).toEqual([
      'any',
      'qrouter-6f774e8e/any',
      'qrouter-9d8c7b6a/any',
      'qdhcp-1234/any',
    ]);
    expect(labels(['pid:1234/any'])).toEqual(['pid:1234/any']);
    expect(labels(['root@compute2:any'])).toEqual(['root@compute2:any']);
  });

  it('an interface named by two specs is kept once, for the first spec, in first-spec order', () => {
    const targets = resolveSpecs(['tap*', 'eth0', 'tap7aa08012-d0', '*/tap*', 'eth0'].map(parseSpec), BOTH);
    expect(targets.map((t) => [t.label, t.spec])).toEqual([
      ['tap7aa08012-d0', 'tap*'],
      ['tap1b2c3d4e-f5', 'tap*'],
      ['eth0', 'eth0'],
      ['qdhcp-1234/tap9f9f9f9f-00', '*/tap*'],
    ]);
  });

  it('the same name on two hosts or in two namespaces is two targets', () => {
    expect(labels(['eth0', 'root@compute2:eth0', 'pid:1234/eth0', 'qrouter-6f774e8e/eth0'])).toEqual([
      'eth0',
      'root@compute2:eth0',
      'pid:1234/eth0',
      'qrouter-6f774e8e/eth0',
    ]);
  });

  it('a glob interface longer than 15 bytes resolves like any glob', () => {
    // 20 bytes of pattern; both routers' qr- ports start with two hex digits
    expect(labels(['qrouter-*/qr-[0-9a-f][0-9a-f]*'])).toEqual([
      'qrouter-6f774e8e/qr-56c70d72-3b',
      'qrouter-9d8c7b6a/qr-11111111-aa',
    ]);
    expect(labels(['qrouter-*/qr-[0-9a-f][!1]*'])).toEqual(['qrouter-6f774e8e/qr-56c70d72-3b']);
  });

  describe('errors list what exists', () => {
    it('a missing root name lists the root interfaces', () => {
      const err = resolveError(['tap00000000-00'], BOTH);
      expectOneLine(err);
      expect(err.message).toBe(
        `-i "tap00000000-00": no interface 'tap00000000-00' in the root namespace on this host ` +
          '(interfaces: lo, eth0, br-int, tap7aa08012-d0, tap1b2c3d4e-f5, nflog, usbmon0)',
      );
    });

    it('a missing name in a namespace lists that namespace only', () => {
      const err = resolveError(['qrouter-9d8c7b6a/qr-56c70d72-3b'], BOTH);
      expectOneLine(err);
      expect(err.message).toBe(
        `-i "qrouter-9d8c7b6a/qr-56c70d72-3b": no interface 'qr-56c70d72-3b' in namespace 'qrouter-9d8c7b6a' ` +
          'on this host (interfaces: qrouter-9d8c7b6a/lo, qrouter-9d8c7b6a/qr-11111111-aa)',
      );
    });

    it('a missing namespace lists the namespaces', () => {
      const err = resolveError(['qrouter-00000000/qr-56c70d72-3b'], BOTH);
      expectOneLine(err);
      expect(err.message).toBe(
        `-i "qrouter-00000000/qr-56c70d72-3b": no such namespace 'qrouter-00000000' on this host ` +
          '(namespaces: qrouter-6f774e8e, qrouter-9d8c7b6a, qdhcp-1234, vanished-ns)',
      );
    });

    it('a namespace glob matching nothing lists the namespaces', () => {
      const err = resolveError(['qlbaas-*/eth0'], BOTH);
      expectOneLine(err);
      expect(err.message).toMatch(
        /no namespace matches 'qlbaas-\*' on this host \(namespaces: qrouter-6f774e8e,/,
      );
    });

    it('a missing remote namespace lists the remote namespaces', () => {
      const err = resolveError(['root@compute2:qrouter-6f774e8e/qr-56c70d72-3b'], BOTH);
      expect(err.message).toMatch(
        /no such namespace 'qrouter-6f774e8e' on root@compute2 \(namespaces: qrouter-x\)$/,
      );
    });

    it('a glob matching nothing is an error', () => {
      const err = resolveError(['vxlan*'], BOTH);
      expectOneLine(err);
      expect(err.message).toMatch(
        /^-i "vxlan\*": no interface matches 'vxlan\*' in the root namespace on this host \(interfaces: lo, eth0,/,
      );
    });

    it("a glob that could only match lo or pseudo-devices ('l*', 'nf*') matches nothing", () => {
      expect(resolveError(['l*'], BOTH).message).toMatch(/no interface matches 'l\*'/);
      expect(resolveError(['nf*'], BOTH).message).toMatch(/no interface matches 'nf\*'/);
    });

    it("'*/NAME' missing everywhere names its scope", () => {
      const err = resolveError(['*/vxlan-0'], BOTH);
      expect(err.message).toMatch(/no interface 'vxlan-0' in any namespace on this host/);
      expect(err.message).toContain('qdhcp-1234/tap9f9f9f9f-00');
      expect(err.message).not.toContain('pid:1234');
    });

    it('a glob namespace with no matching interface names its scope', () => {
      const err = resolveError(['qrouter-*/tap*'], BOTH);
      expect(err.message).toMatch(
        /no interface matches 'tap\*' in namespaces matching 'qrouter-\*' on this host/,
      );
    });

    it('a pid namespace that could not be entered is an error with the reason', () => {
      const err = resolveError(['pid:999/eth0'], BOTH);
      expectOneLine(err);
      expect(err.message).toBe(
        '-i "pid:999/eth0": cannot enter the namespace of process 999 on this host (no such process)',
      );
    });

    it('a pid not in the inventory is an error', () => {
      const err = resolveError(['pid:4242/eth0'], BOTH);
      expect(err.message).toBe('-i "pid:4242/eth0": cannot enter the namespace of process 4242 on this host');
    });

    it('a missing name in a pid namespace lists its interfaces', () => {
      const err = resolveError(['pid:1234/eth1'], BOTH);
      expect(err.message).toMatch(
        /no interface 'eth1' in the namespace of process 1234 on this host \(interfaces: pid:1234\/lo, pid:1234\/eth0, pid:1234\/tapinpod\)$/,
      );
    });

    it('the first failing spec stops resolution', () => {
      const err = resolveError(['eth0', 'nope0', 'nope1'], BOTH);
      expect(err.message).toMatch(/^-i "nope0": /);
    });

    it('a hostile literal name is quoted back, on one line', () => {
      for (const text of ['eth0;reboot', '$(id)', '`id`']) {
        const err = resolveError([text], BOTH);
        expectOneLine(err);
        expect(err.message.startsWith(`-i ${JSON.stringify(text)}: no interface '${text}' `)).toBe(true);
      }
    });

    it('a long list of interfaces is cut at 30', () => {
      const names = Array.from({ length: 40 }, (_, i) => `veth${i}`);
      const inv: HostInventory = { host: null, namespaces: [], inventories: [ns(null, null, names)] };
      const err = resolveError(['eth0'], [inv]);
      expectOneLine(err);
      expect(err.message).toContain('veth29, … (10 more))');
      expect(err.message).not.toContain('veth30');
    });

    it('an empty namespace lists (none)', () => {
      const inv: HostInventory = { host: null, namespaces: [], inventories: [ns(null, null, [])] };
      expect(resolveError(['eth0'], [inv]).message).toContain('(interfaces: (none))');
      expect(resolveError(['x/eth0'], [inv]).message).toContain('(namespaces: (none))');
    });
  });
});
