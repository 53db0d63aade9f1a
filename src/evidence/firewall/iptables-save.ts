// iptables rules as `iptables-save -c` writes them (both backends, IPv4 and IPv6),
// read into tables, chains and rules with their counters; and, for one packet, the
// DROP and REJECT rules of the chains it crosses whose options fit it. Pure.
//
//   *filter
//   :FORWARD ACCEPT [0:0]
//   [3:252] -A FORWARD -d 10.0.0.10/32 -p icmp -m icmp --icmp-type 8 -j DROP
//   COMMIT
//
// Options understood: -s -d -i -o -p (each may be negated with `!`), --sport --dport
// (-m tcp/udp), --dports/--sports (-m multiport), --icmp-type, --ctstate / --state,
// -j/-g with DROP REJECT ACCEPT RETURN and user chains. Anything else makes the rule
// undecided for that option (-m physdev, -m mark, …), never a match by accident.
import type { ExchangePacket } from '../context.js';
import type { HookPass } from './hooks.js';
import { packetAt, type PacketAtPass } from './nft-walk.js';
import { all, ICMP_TYPES, inCidr, interfaceMatches, IP_PROTOCOLS, type Truth } from './ip-match.js';

export interface IptablesRule {
  table: string;
  chain: string;
  /** position among its chain's rules, from 0 */
  index: number;
  /** `-A CHAIN …` as written, counters left out */
  text: string;
  words: string[];
  packets: number;
  target: string;
  /** -g (goto) rather than -j */
  goto: boolean;
}

export interface IptablesChain {
  table: string;
  name: string;
  /** ACCEPT/DROP for built-in chains, null for user chains */
  policy: string | null;
}

export interface IptablesRuleset {
  chains: IptablesChain[];
  rules: IptablesRule[];
}

/** Splits iptables-save's words; quoted strings (comments) stay one word. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) out.push(m[1] !== undefined ? m[1] : m[2]);
  return out;
}

export function parseIptablesSave(text: string): IptablesRuleset {
  const ruleset: IptablesRuleset = { chains: [], rules: [] };
  let table = '';
  const counts = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      table = line.slice(1);
      continue;
    }
    const chain = /^:(\S+) (\S+)/.exec(line);
    if (chain !== null) {
      ruleset.chains.push({ table, name: chain[1], policy: chain[2] === '-' ? null : chain[2] });
      continue;
    }
    const rule = /^(?:\[(\d+):(\d+)\] )?(-A (\S+) .*)$/.exec(line);
    if (rule === null) continue;
    const w = words(rule[3]);
    const name = rule[4];
    const key = `${table} ${name}`;
    const index = counts.get(key) ?? 0;
    counts.set(key, index + 1);
    const j = w.lastIndexOf('-j');
    const g = w.lastIndexOf('-g');
    const at = Math.max(j, g);
    ruleset.rules.push({
      table,
      chain: name,
      index,
      text: rule[3],
      words: w,
      packets: rule[1] !== undefined ? Number(rule[1]) : 0,
      target: at >= 0 ? (w[at + 1] ?? '') : '',
      goto: g > j,
    });
  }
  return ruleset;
}

const BUILTIN: Readonly<Record<string, string>> = {
  prerouting: 'PREROUTING',
  input: 'INPUT',
  forward: 'FORWARD',
  output: 'OUTPUT',
  postrouting: 'POSTROUTING',
};
/** Tables in the order netfilter runs them at a hook (nat never drops). */
const TABLES = ['raw', 'mangle', 'filter', 'security'];

function ports(spec: string): Array<[number, number]> {
  return spec.split(',').map((p) => {
    const [lo, hi] = p.split(':').map(Number);
    return [lo, hi ?? lo];
  });
}

function inPorts(port: number | null, spec: string): Truth {
  if (port === null) return 'unknown';
  return ports(spec).some(([lo, hi]) => port >= lo && port <= hi) ? 'yes' : 'no';
}

/** One rule's options against the packet; undecided options are named. */
export function evaluateIptablesRule(
  rule: IptablesRule,
  packet: ExchangePacket,
  pass: HookPass,
  ctState: string | null,
): { fits: Truth; undecided: string[] } {
  const w = rule.words;
  const truths: Truth[] = [];
  const undecided: string[] = [];
  const is = (proto: number): boolean => packet.family !== 'arp' && packet.proto === proto;
  let k = 2; // after `-A CHAIN`
  // the options of a match module this reader does not know are that module's: undecided with it
  let unknownModule = false;
  while (k < w.length) {
    let negate = false;
    if (w[k] === '!') {
      negate = true;
      k++;
    }
    const opt = w[k];
    const arg = w[k + 1] ?? '';
    let t: Truth | null = null;
    let consumed = 2;
    switch (opt) {
      case '-s':
        t = inCidr(packet.src, arg) ? 'yes' : packet.aliases.some((a) => inCidr(a, arg)) ? 'unknown' : 'no';
        break;
      case '-d':
        t = inCidr(packet.dst, arg) ? 'yes' : packet.aliases.some((a) => inCidr(a, arg)) ? 'unknown' : 'no';
        break;
      case '-i':
        t = pass.iifname === null ? 'unknown' : interfaceMatches(pass.iifname, arg) ? 'yes' : 'no';
        break;
      case '-o':
        t = pass.oifname === null ? 'unknown' : interfaceMatches(pass.oifname, arg) ? 'yes' : 'no';
        break;
      case '-p': {
        const n = IP_PROTOCOLS[arg] ?? (/^\d+$/.test(arg) ? Number(arg) : arg === 'all' ? -1 : null);
        t = n === -1 ? 'yes' : n === null ? 'unknown' : is(n) ? 'yes' : 'no';
        break;
      }
      case '--dport':
      case '--destination-port':
      case '--dports':
        t = inPorts(packet.dport, arg);
        break;
      case '--sport':
      case '--source-port':
      case '--sports':
        t = inPorts(packet.sport, arg);
        break;
      case '--icmp-type': {
        const want = ICMP_TYPES[arg] ?? Number(arg.split('/')[0]);
        t = packet.icmpType === null ? 'unknown' : packet.icmpType === want ? 'yes' : 'no';
        break;
      }
      case '--ctstate':
      case '--state':
        t = ctState === null ? 'unknown' : arg.toLowerCase().split(',').includes(ctState) ? 'yes' : 'no';
        if (t === 'unknown') undecided.push(`${negate ? '! ' : ''}${opt} ${arg}`);
        break;
      case '-m':
        // the match module itself decides nothing: its options do
        unknownModule = !['tcp', 'udp', 'icmp', 'multiport', 'state', 'conntrack', 'comment'].includes(arg);
        if (unknownModule) {
          t = 'unknown';
          undecided.push(`-m ${arg}`);
        }
        break;
      case '--comment':
        break;
      case '-j':
      case '-g':
        k = w.length;
        continue;
      default:
        // an option of a module this reader does not know: its value, if any, is skipped
        if (opt.startsWith('-')) {
          consumed = arg.startsWith('-') || arg === '' ? 1 : 2;
          if (!unknownModule) t = 'unknown';
        } else consumed = 1;
    }
    if (t !== null) {
      const v = negate ? (t === 'yes' ? 'no' : t === 'no' ? 'yes' : 'unknown') : t;
      truths.push(v);
      if (v === 'unknown' && !['--ctstate', '--state', '-m'].includes(opt) && !undecided.includes(opt))
        undecided.push(opt);
      if (v === 'no') return { fits: 'no', undecided: [] };
    }
    k += consumed;
  }
  return { fits: all(truths), undecided };
}

export interface IptablesCandidate {
  rule: IptablesRule | null;
  /** for a built-in chain's DROP policy */
  chain: IptablesChain;
  fits: Truth;
  undecided: string[];
}

/** The DROP/REJECT rules (and DROP policies) the packet meets on its way through the given hooks. */
export function iptablesCandidates(
  ruleset: IptablesRuleset,
  passes: readonly HookPass[],
  packetOf: PacketAtPass,
  ctState: string | null,
): IptablesCandidate[] {
  const found: IptablesCandidate[] = [];
  for (const pass of passes) {
    if (pass.layer !== 'ip') continue;
    const packet = packetAt(packetOf, pass);
    const builtin = BUILTIN[pass.hook];
    if (builtin === undefined) continue;
    for (const table of TABLES) {
      const chain = ruleset.chains.find((c) => c.table === table && c.name === builtin);
      if (chain === undefined) continue;
      const walk = (name: string, depth: number): 'drop' | 'accept' | 'end' => {
        for (const rule of ruleset.rules.filter((r) => r.table === table && r.chain === name)) {
          const fit = evaluateIptablesRule(rule, packet, pass, ctState);
          if (fit.fits === 'no') continue;
          if (rule.target === 'DROP' || rule.target === 'REJECT') {
            found.push({ rule, chain, ...fit });
            if (fit.fits === 'yes') return 'drop';
          } else if (fit.fits === 'yes' && rule.target === 'ACCEPT') return 'accept';
          else if (fit.fits === 'yes' && rule.target === 'RETURN') return 'end';
          else if (depth < 16 && ruleset.chains.some((c) => c.table === table && c.name === rule.target)) {
            const r = walk(rule.target, depth + 1);
            if (fit.fits === 'yes' && r !== 'end') return r;
            if (fit.fits === 'yes' && rule.goto) return 'end';
          }
        }
        return 'end';
      };
      const r = walk(builtin, 0);
      if (r === 'drop') return found;
      if (r === 'end' && chain.policy === 'DROP') {
        found.push({ rule: null, chain, fits: 'yes', undecided: [] });
        return found;
      }
    }
  }
  return found;
}
