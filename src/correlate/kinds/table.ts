// Every exchange kind, in one exhaustive table (a kind left out of KIND_SPECS is a
// compile error), and the dense tables built from it when the module loads: what the
// per-packet paths read (classify.ts dispatching a packet to its kind, the correlator
// asking whether a stage opens an exchange) are plain typed arrays and arrays of
// functions indexed by kind, stage, ICMP type or port — never a property of a spec
// looked up per packet.
import { type CompiledFlow, compileFlow } from './flow-spec.js';
import { ARP } from './arp.js';
import { DHCP } from './dhcp.js';
import { DNS } from './dns.js';
import { ICMP_ECHO, ICMPV6_ECHO } from './icmp-echo.js';
import { ICMP_TIMESTAMP } from './icmp-timestamp.js';
import { MAX_STAGES, type KindSpec } from './kind-spec.js';
import { TCP_HANDSHAKE } from './tcp-handshake.js';
import { Kind } from './kind.js';

export { Kind } from './kind.js';

const NO_STAGES: readonly number[] = [];

/** A packet of no exchange (TCP data, other UDP, …): nothing opens, nothing is claimed. */
const NO_KIND: KindSpec = {
  name: '',
  stages: [],
  opening: [],
  asking: [],
  clockPairs: [],
  rttTo: 'first-answer',
  sequence: () => NO_STAGES,
  claims: {},
  classify: () => -1,
  keepKey: () => undefined,
  quote: null,
  flow: { fields: {}, key: '' },
};

export const KIND_SPECS: Readonly<Record<Kind, KindSpec>> = {
  [Kind.None]: NO_KIND,
  [Kind.IcmpEcho]: ICMP_ECHO,
  [Kind.Icmpv6Echo]: ICMPV6_ECHO,
  [Kind.TcpHandshake]: TCP_HANDSHAKE,
  [Kind.Dns]: DNS,
  [Kind.Dhcp]: DHCP,
  [Kind.Arp]: ARP,
  [Kind.IcmpTimestamp]: ICMP_TIMESTAMP,
};

/** The specs by kind number (Kind values are 0 … KIND_COUNT - 1). */
const SPECS: readonly KindSpec[] = (() => {
  const specs: KindSpec[] = [];
  for (const [kind, spec] of Object.entries(KIND_SPECS)) specs[Number(kind)] = spec;
  for (let k = 0; k < specs.length; k++)
    if (specs[k] === undefined) throw new Error(`kinds: no kind numbered ${k}`);
  return specs;
})();
export const KIND_COUNT = SPECS.length;

/** `kind` of the records, by kind. */
export const KIND_NAMES: readonly string[] = SPECS.map((s) => s.name);
/** Stage names by kind and stage. */
export const STAGE_NAMES: ReadonlyArray<readonly string[]> = SPECS.map((s) => s.stages);
/** Each kind's flow and key declaration, read once (flow-spec.ts). */
export const FLOWS: readonly CompiledFlow[] = SPECS.map((s) => compileFlow(s.flow));

/** Per kind and stage (kind * MAX_STAGES + stage): 1 when the stage opens an exchange. */
const OPENS = new Uint8Array(KIND_COUNT * MAX_STAGES);
/** Per kind and opening stage: the answer stages meaning it was answered, a bit each. */
const ANSWERED_BY = new Uint8Array(KIND_COUNT * MAX_STAGES);
/** Per kind and answer stage: the stage it answers (-1: none). */
const ASKING = new Int8Array(KIND_COUNT * MAX_STAGES).fill(-1);
/** Per kind and stage: the stage whose sightings measure round trips against its own (-1: none). */
const PARTNER = new Int8Array(KIND_COUNT * MAX_STAGES).fill(-1);
/** Per kind: 1 when an ok exchange's RTT runs to its final answer. */
const RTT_TO_FINAL = new Uint8Array(KIND_COUNT);
const FROM_ASKED = new Uint8Array(KIND_COUNT);
/** Per kind: the answer to its (first) opening stage (-1: none), named when an ICMP error was about it. */
const ANSWER = new Int8Array(KIND_COUNT).fill(-1);
/** notTakenUnless: the answer ends the exchange, no next step can be seen. */
export const NO_NEXT_STEP = MAX_STAGES;

/** Per kind and opening stage: the next step whose absence, when it is asked again after its answer, means the answer was not taken (-1: none). */
const NOT_TAKEN_UNLESS = new Int8Array(KIND_COUNT * MAX_STAGES).fill(-1);

for (let k = 0; k < KIND_COUNT; k++) {
  const s = SPECS[k];
  if (s.stages.length > MAX_STAGES) throw new Error(`kinds: ${s.name} has more than ${MAX_STAGES} stages`);
  const at = k * MAX_STAGES;
  for (const o of s.opening) {
    OPENS[at + o.stage] = 1;
    for (const answer of o.answeredBy) ANSWERED_BY[at + o.stage] |= 1 << answer;
  }
  for (const [answer, asking] of s.asking) ASKING[at + answer] = asking;
  // the question it answers, or else the first answer asking it
  for (let stage = 0; stage < s.stages.length; stage++) {
    if (ASKING[at + stage] >= 0) PARTNER[at + stage] = ASKING[at + stage];
    else
      for (const [answer, asking] of s.asking)
        if (asking === stage && PARTNER[at + stage] < 0) PARTNER[at + stage] = answer;
  }
  RTT_TO_FINAL[k] = s.rttTo === 'final-answer' ? 1 : 0;
  FROM_ASKED[k] = s.answerFromAsked === true ? 1 : 0;
  if (s.opening.length > 0) ANSWER[k] = PARTNER[at + s.opening[0].stage];
  const notTaken = s.notTakenWhenAskedAgain;
  if (notTaken !== undefined) NOT_TAKEN_UNLESS[at + notTaken.stage] = notTaken.unlessSeen ?? NO_NEXT_STEP;
}

/** Whether `stage` of `kind` may open an exchange (the asking side). */
export function opens(kind: Kind, stage: number): boolean {
  return OPENS[kind * MAX_STAGES + stage] === 1;
}

/** The answer stages that, seen where an opening `stage` started, mean it was answered: a bit per stage. */
export function answeredBy(kind: Kind, stage: number): number {
  return ANSWERED_BY[kind * MAX_STAGES + stage];
}

/** The stage an answer stage answers (its packets go back the way that one came); -1 when none. */
export function askingStageOf(kind: Kind, stage: number): number {
  return ASKING[kind * MAX_STAGES + stage];
}

/**
 * The stage whose packets, seen on the same interfaces, measure round trips against
 * `stage`'s (hop-order.ts): the question it answers, or else the answer it asks for;
 * -1 when none.
 */
export function roundTripPartner(kind: Kind, stage: number): number {
  return PARTNER[kind * MAX_STAGES + stage];
}

const SEQUENCE: ReadonlyArray<KindSpec['sequence']> = SPECS.map((s) => s.sequence);

/** The stages an exchange of `kind` goes through, given which were seen (shared arrays: read only). */
export function sequenceOf(kind: Kind, stages: ReadonlyArray<object | undefined>): readonly number[] {
  return SEQUENCE[kind](stages);
}

/** Whether the kind's asker takes an answer only from where its question went (KindSpec.answerFromAsked). */
export function answerFromAsked(kind: Kind): boolean {
  return FROM_ASKED[kind] === 1;
}

/**
 * For an opening `stage` of `kind` asked again after its answer reached the asker: the
 * stage whose absence means that answer was not taken (KindSpec.notTakenWhenAskedAgain),
 * NO_NEXT_STEP when there is none to wait for, -1 when asking again begins a new exchange.
 */
export function notTakenUnless(kind: Kind, stage: number): number {
  return NOT_TAKEN_UNLESS[kind * MAX_STAGES + stage];
}

/** Whether an ok exchange's RTT runs to its final answer rather than its first. */
export function rttToFinalAnswer(kind: Kind): boolean {
  return RTT_TO_FINAL[kind] === 1;
}

/** The answer to the kind's opening stage: what an ICMP error about the answer was about. */
export function answerStageOf(kind: Kind): number {
  return ANSWER[kind];
}

// --- the dispatcher's tables (classify.ts) ---

/** A kind's classify, keepKey and quote key, by kind (arrays of functions: no spec looked up per packet). */
export const CLASSIFY: ReadonlyArray<KindSpec['classify']> = SPECS.map((s) => s.classify);
export const KEEP_KEY: ReadonlyArray<KindSpec['keepKey']> = SPECS.map((s) => s.keepKey);
export const QUOTE_KEY: ReadonlyArray<NonNullable<KindSpec['quote']>['key']> = SPECS.map(
  (s) => s.quote?.key ?? (() => false),
);
/** The error stage an ICMP error quoting its packet joins, by kind. */
export const QUOTE_STAGE = new Int8Array(SPECS.map((s) => s.quote?.stage ?? -1));

/** ICMP type → kind (0: none) and the stage it is; the same for ICMPv6. */
export const ICMP_KIND = new Uint8Array(256);
export const ICMP_STAGE = new Uint8Array(256);
export const ICMPV6_KIND = new Uint8Array(256);
export const ICMPV6_STAGE = new Uint8Array(256);
/** UDP port → kind (0: none). */
export const UDP_KIND = new Uint8Array(65536);
/** A quoted packet's ICMP type (ICMPv6 type, UDP destination port) → the kind whose error it is. */
export const QUOTE_ICMP_KIND = new Uint8Array(256);
export const QUOTE_ICMPV6_KIND = new Uint8Array(256);
export const QUOTE_UDP_KIND = new Uint8Array(65536);

function claim(table: Uint8Array, index: number, kind: number, what: string): void {
  if (table[index] !== 0)
    throw new Error(`kinds: ${what} ${index} claimed by ${KIND_NAMES[table[index]]} and ${KIND_NAMES[kind]}`);
  table[index] = kind;
}

let arpKind = 0;
let tcpKind = 0;
let quoteTcpKind = 0;
for (let k = 1; k < KIND_COUNT; k++) {
  const { claims, quote, name } = SPECS[k];
  if (claims.arp === true) {
    if (arpKind !== 0) throw new Error(`kinds: ARP claimed by ${KIND_NAMES[arpKind]} and ${name}`);
    arpKind = k;
  }
  if (claims.tcp === true) {
    if (tcpKind !== 0) throw new Error(`kinds: TCP claimed by ${KIND_NAMES[tcpKind]} and ${name}`);
    tcpKind = k;
  }
  for (const [type, stage] of claims.icmp ?? []) {
    claim(ICMP_KIND, type, k, 'ICMP type');
    ICMP_STAGE[type] = stage;
    if (quote?.by === 'icmp') claim(QUOTE_ICMP_KIND, type, k, 'quoted ICMP type');
  }
  for (const [type, stage] of claims.icmpv6 ?? []) {
    claim(ICMPV6_KIND, type, k, 'ICMPv6 type');
    ICMPV6_STAGE[type] = stage;
    if (quote?.by === 'icmp') claim(QUOTE_ICMPV6_KIND, type, k, 'quoted ICMPv6 type');
  }
  for (const port of claims.udp ?? []) claim(UDP_KIND, port, k, 'UDP port');
  if (quote === null) continue;
  if (quote.by === 'tcp') {
    if (quoteTcpKind !== 0)
      throw new Error(`kinds: quoted TCP claimed by ${KIND_NAMES[quoteTcpKind]} and ${name}`);
    quoteTcpKind = k;
  } else if (quote.by !== 'icmp')
    for (const port of quote.by.udpDstPorts) claim(QUOTE_UDP_KIND, port, k, 'quoted UDP port');
}
/** The kind of ARP requests and replies, of TCP segments, of quoted TCP segments (0: none). */
export const ARP_KIND: Kind = arpKind;
export const TCP_KIND: Kind = tcpKind;
export const QUOTE_TCP_KIND: Kind = quoteTcpKind;
