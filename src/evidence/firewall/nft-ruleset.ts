// A namespace's nftables ruleset as evidence needs it: tables, chains (their hook,
// priority, policy) and rules (their match expressions, verdict, counter), from
// `nft -j list ruleset`, with each rule's own text from `nft -a list ruleset` (what
// an operator reads and greps for: the handle ties both together). Pure.

export type NftFamily = 'ip' | 'ip6' | 'inet' | 'bridge' | 'arp' | 'netdev';

export interface NftChain {
  family: NftFamily;
  table: string;
  name: string;
  handle: number;
  /** base chains only */
  hook: string | null;
  type: string | null;
  prio: number;
  policy: 'accept' | 'drop' | null;
  /** netdev chains: the devices they hook (empty: other families, or not known) */
  devices: readonly string[];
}

/** What a rule does when it matches (its last verdict statement). */
export type NftVerdict =
  | { kind: 'drop' }
  | { kind: 'reject' }
  | { kind: 'accept' }
  | { kind: 'return' }
  | { kind: 'jump'; target: string }
  | { kind: 'goto'; target: string }
  | {
      kind: 'nat';
      nat: 'snat' | 'dnat' | 'masquerade' | 'redirect';
      addr: string | null;
      port: number | null;
    }
  | { kind: 'notrack' }
  | { kind: 'continue' };

export interface NftRule {
  family: NftFamily;
  table: string;
  chain: string;
  handle: number;
  /** the `match` expressions (nft's JSON), in order */
  matches: unknown[];
  verdict: NftVerdict;
  /** packets counted by its `counter`; null without one */
  packets: number | null;
  /** statements this reader does not know (xt matches of iptables-nft, …) */
  opaque: boolean;
  /** `nft -a list ruleset` text, counter values left out; '' when the text was not read */
  text: string;
}

export interface NftRuleset {
  chains: NftChain[];
  rules: NftRule[];
}

const FAMILIES = new Set<string>(['ip', 'ip6', 'inet', 'bridge', 'arp', 'netdev']);

function verdictOf(expr: ReadonlyArray<Record<string, unknown>>): {
  verdict: NftVerdict;
  packets: number | null;
  opaque: boolean;
} {
  let verdict: NftVerdict = { kind: 'continue' };
  let packets: number | null = null;
  let opaque = false;
  for (const e of expr) {
    const key = Object.keys(e)[0];
    const value = e[key] as Record<string, unknown> | null;
    switch (key) {
      case 'match':
        break;
      case 'counter':
        packets = typeof value?.packets === 'number' ? value.packets : 0;
        break;
      case 'drop':
      case 'reject':
      case 'accept':
      case 'return':
        verdict = { kind: key };
        break;
      case 'jump':
      case 'goto':
        verdict = { kind: key, target: String(value?.target ?? '') };
        break;
      case 'snat':
      case 'dnat':
      case 'masquerade':
      case 'redirect':
        verdict = {
          kind: 'nat',
          nat: key,
          addr: typeof value?.addr === 'string' ? value.addr : null,
          port: typeof value?.port === 'number' ? value.port : null,
        };
        break;
      case 'notrack':
        verdict = { kind: 'notrack' };
        break;
      case 'xt':
        opaque = true;
        break;
      default:
        // log, limit, meta set, mangle, …: statements that do not decide
        break;
    }
  }
  return { verdict, packets, opaque };
}

/** Parses `nft -j list ruleset`; `text` (`nft -a list ruleset`), when given, supplies each rule's text. */
export function parseNftRuleset(json: string, text = ''): NftRuleset {
  const parsed = JSON.parse(json) as { nftables?: Array<Record<string, Record<string, unknown>>> };
  if (!Array.isArray(parsed.nftables)) throw new Error('nft -j: no "nftables" array');
  const texts = parseRuleTexts(text);
  const textDevices = parseChainDevices(text);
  const ruleset: NftRuleset = { chains: [], rules: [] };
  for (const item of parsed.nftables) {
    const chain = item.chain;
    if (chain !== undefined && FAMILIES.has(String(chain.family))) {
      ruleset.chains.push({
        family: chain.family as NftFamily,
        table: String(chain.table),
        name: String(chain.name),
        handle: Number(chain.handle),
        hook: typeof chain.hook === 'string' ? chain.hook : null,
        type: typeof chain.type === 'string' ? chain.type : null,
        prio: typeof chain.prio === 'number' ? chain.prio : 0,
        policy: chain.policy === 'drop' ? 'drop' : chain.policy === 'accept' ? 'accept' : null,
        // (nft 1.0.6's JSON leaves a netdev chain's device out: its text has it)
        devices:
          typeof chain.dev === 'string'
            ? [chain.dev]
            : Array.isArray(chain.dev)
              ? chain.dev.filter((d): d is string => typeof d === 'string')
              : (textDevices.get(`${String(chain.family)} ${String(chain.table)} ${String(chain.name)}`) ??
                []),
      });
    }
    const rule = item.rule;
    if (rule !== undefined && FAMILIES.has(String(rule.family)) && Array.isArray(rule.expr)) {
      const expr = rule.expr as Array<Record<string, unknown>>;
      const family = rule.family as NftFamily;
      const table = String(rule.table);
      const chainName = String(rule.chain);
      const handle = Number(rule.handle);
      ruleset.rules.push({
        family,
        table,
        chain: chainName,
        handle,
        matches: expr.filter((e) => 'match' in e).map((e) => e.match),
        ...verdictOf(expr),
        text: texts.get(ruleTextKey(family, table, chainName, handle)) ?? '',
      });
    }
  }
  return ruleset;
}

function ruleTextKey(family: string, table: string, chain: string, handle: number): string {
  return `${family} ${table} ${chain} ${handle}`;
}

/**
 * `nft -a list ruleset`'s lines inside a chain, each with the chain's family, table and
 * name: `table FAMILY NAME { # handle N` and `chain NAME { # handle N` open them, `}`
 * closes a chain, a set or the table (a chain's lines are done either way).
 */
function forEachChainLine(
  text: string,
  each: (family: string, table: string, chain: string, line: string) => void,
): void {
  let family = '';
  let table = '';
  let chain = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const t = /^table (\S+) (\S+) \{/.exec(line);
    if (t !== null) {
      family = t[1];
      table = t[2];
      continue;
    }
    const c = /^chain (\S+) \{/.exec(line);
    if (c !== null) {
      chain = c[1];
      continue;
    }
    if (line === '}') chain = '';
    else if (chain !== '') each(family, table, chain, line);
  }
}

/**
 * Rule lines end in `# handle N`. Counter values are left out of the text (`counter
 * packets 3 bytes 252` → `counter`): the rule is the same rule whatever it counted.
 */
export function parseRuleTexts(text: string): Map<string, string> {
  const texts = new Map<string, string>();
  forEachChainLine(text, (family, table, chain, line) => {
    const r = /^(.*\S)\s+# handle (\d+)$/.exec(line);
    if (r !== null && !/^(set|map|flowtable) /.test(line)) {
      texts.set(
        ruleTextKey(family, table, chain, Number(r[2])),
        r[1].replace(/counter packets \d+ bytes \d+/g, 'counter'),
      );
    }
  });
  return texts;
}

/**
 * The devices of each netdev base chain (`type filter hook ingress device "eth0" …`, or
 * `devices = { eth0, eth1 }`), by `family table chain`.
 */
export function parseChainDevices(text: string): Map<string, string[]> {
  const devices = new Map<string, string[]>();
  forEachChainLine(text, (family, table, chain, line) => {
    if (!/^type \S+ hook /.test(line)) return;
    const one = /\bdevice "?([^"\s;]+)"?/.exec(line);
    const many = /\bdevices = \{([^}]*)\}/.exec(line);
    const names =
      one !== null
        ? [one[1]]
        : many !== null
          ? many[1].split(',').map((d) => d.trim().replace(/^"|"$/g, ''))
          : [];
    if (names.length > 0)
      devices.set(
        `${family} ${table} ${chain}`,
        names.filter((d) => d !== ''),
      );
  });
  return devices;
}

/** `table FAMILY NAME` as nft names tables in messages (`bridge neutron_sg`). */
export function tableName(r: { family: string; table: string }): string {
  return `${r.family} ${r.table}`;
}
