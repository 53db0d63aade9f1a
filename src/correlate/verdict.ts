// The verdict of one exchange (docs/verdicts.md: statuses, the expected path), as a pure function of
// its stages' ordered sightings, what was learned about paths, and capture health.
//
// Each kind has a sequence of stages (kinds/: echo request → reply; DHCP discover →
// offer → request → ack; …). The last stage seen decides:
//   - its packet did not get as far as expected  → lost (that stage, lastSeen, missingOn)
//   - it got there and was the last of the kind  → ok
//   - it got there and nothing answered it       → unanswered (the next stage)
// An error answer (ICMP error quoting the request, RST, NAK, DNS rcode) → error; so is
// an answer that reached the asker from another address than its question went to, for
// an asker that takes none such (TCP, DNS: `misaddressed`).
// Where a packet is expected after the last interface it was seen on, nearest first:
//   1. the path learned for its flow direction from packets that made it;
//   2. for an answer, the asking stage's path in reverse (it goes back the way it came);
//   3. the route learned towards its destination from that interface (any packet
//      that went on from there to that address, or came from it);
//   4. for an answer seen nowhere on its question's path, the asker: where the question
//      started (any device of it, for a capture of every device);
//   5. the interface holding its destination address, in a namespace it never reached.
// A lost/unanswered verdict becomes inconclusive when a capture where the packet was
// missing (or, for unanswered, where the answer would have appeared) was not
// running, gone, or dropping packets at the time.
import type { ExchangeStatus } from '../events/types.js';
import { answerFromAsked, askingStageOf, type Kind, rttToFinalAnswer, sequenceOf } from './kinds/table.js';

export interface OrderedStage {
  /** interface ids in time order (reference clock) */
  ifaces: number[];
  /** relative ns, same order */
  times: number[];
  srcs: number[];
  dsts: number[];
  tunnels: number[];
  packets: number;
  /** flooded (broadcast/multicast): reached wherever it was seen; no path to expect */
  broadcast: boolean;
}

export interface PathOracle {
  /** the learned path of a flow direction (addresses at its first sighting), or null */
  flowPath(src: number, dst: number): readonly number[] | null;
  /** where packets towards `addr` went on from `iface`, nearest first, or null */
  towards(iface: number, addr: number): readonly number[] | null;
  /** what was wrong with the capture on `iface` during [from, to], or null */
  problem(iface: number, from: number, to: number): string | null;
  /** the capture of every device (`any`) `iface` is a device of, or -1 */
  anyCaptureOf(iface: number): number;
  /**
   * the interface holding `addr` where a packet last seen on `lastSeen` should end, or -1
   * (none known, several, or the packet was seen in its namespace: CaptureInterfaces.destinationOf)
   */
  destinationOf(lastSeen: number, addr: number, seen: readonly number[]): number;
}

export interface JudgeTiming {
  /** when the exchange's timeout ran out (relative ns) */
  deadline: number;
  /** when it is judged */
  now: number;
  /** judged early for a reason of ours (state limit): not ok → inconclusive */
  forcedReason: string | null;
}

export interface Verdict {
  status: ExchangeStatus;
  lost: { stage: number; lastSeen: number | null; missingOn: number[] } | null;
  detail: string | null;
  rttNs: number | null;
  /**
   * Stages whose packets got as far as expected (their paths are worth learning): bit
   * i for stage i (a number, so judging an ok exchange allocates nothing).
   */
  delivered: number;
  /** inconclusive: the captures that were not looking, and why */
  problems: Array<{ iface: number; text: string }>;
}

/**
 * What is missing of an expected path: every interface of it after the furthest one
 * that saw the packet, nearest first — nothing once its far end was reached. A hop
 * before that one whose sighting is absent is the capture's gap, not a loss. Null when
 * the packet was seen nowhere on the path (the path does not apply).
 */
function missingAlong(path: readonly number[], seen: readonly number[], reversed = false): number[] | null {
  const n = path.length;
  // (no closure for the index: this runs for every exchange judged)
  let furthest = -1;
  for (let i = n - 1; i >= 0; i--) {
    if (seen.includes(path[reversed ? n - 1 - i : i])) {
      furthest = i;
      break;
    }
  }
  if (furthest < 0) return null;
  if (furthest === n - 1) return NOTHING_MISSING;
  const missing: number[] = [];
  for (let i = furthest + 1; i < n; i++) missing.push(path[reversed ? n - 1 - i : i]);
  return missing;
}

/** Shared by every delivered stage; never modified. */
const NOTHING_MISSING: number[] = [];
/** Shared by every verdict without capture problems; never modified. */
const NO_PROBLEMS: Array<{ iface: number; text: string }> = [];

/**
 * The interfaces where the stage's packet should have been after where it was last
 * seen (its last sighting), nearest first.
 */
function missingAfter(
  kind: Kind,
  index: number,
  stages: ReadonlyArray<OrderedStage | undefined>,
  oracle: PathOracle,
): number[] {
  const s = stages[index] as OrderedStage;
  const last = s.ifaces.length - 1;
  const lastSeen = s.ifaces[last];
  const seen = s.ifaces;
  const asking = askingStageOf(kind, index);
  const a = asking < 0 ? undefined : stages[asking];
  // A flooded question reaches wherever it was seen: there is no path to expect. Its
  // answer, flooded or not, must still get back to the asker.
  if (s.broadcast && a === undefined) return NOTHING_MISSING;
  const learned = oracle.flowPath(s.srcs[0], s.dsts[0]);
  let missing = learned === null ? null : missingAlong(learned, seen);
  // An answer goes back the way its question came (a flooded question: the way it
  // spread from the asker to wherever it was answered).
  if (missing === null && a !== undefined) missing = missingAlong(a.ifaces, seen, true);
  if (missing === null && !s.broadcast) {
    const towards = oracle.towards(lastSeen, s.dsts[last]);
    if (towards !== null) missing = towards.filter((i) => !seen.includes(i));
  }
  // An answer that went back another way than its question came (asymmetric routes),
  // with nothing learned of where it goes from there, must still reach the asker: where
  // its question started — or, when that is a device of a capture of every device (the
  // asker's namespace), any device of it: a namespace may be entered by another device
  // than it was left by.
  if (missing === null && a !== undefined && a.ifaces.length > 0) {
    const origin = a.ifaces[0];
    const capture = oracle.anyCaptureOf(origin);
    let arrived = false;
    for (let i = 0; i < seen.length && !arrived; i++)
      arrived = capture >= 0 && oracle.anyCaptureOf(seen[i]) === capture;
    missing = arrived ? NOTHING_MISSING : [origin];
  }
  // Nothing learned of where it goes: it still ends where its destination address lives,
  // when a capture holds it in a namespace the packet never reached (a first packet
  // dropped on its last hop, with no path learned yet).
  if (missing === null && !s.broadcast) {
    const end = oracle.destinationOf(lastSeen, s.dsts[last], seen);
    if (end >= 0) missing = [end];
  }
  return missing ?? NOTHING_MISSING;
}

/**
 * Where `answer` reached the interface its question started on (a device of the same
 * capture of every device will do), or -1.
 */
function whereAskerGot(ask: OrderedStage | undefined, answer: OrderedStage, oracle: PathOracle): number {
  if (ask === undefined || ask.ifaces.length === 0) return -1;
  const origin = ask.ifaces[0];
  const capture = oracle.anyCaptureOf(origin);
  for (const i of answer.ifaces)
    if (i === origin || (capture >= 0 && oracle.anyCaptureOf(i) === capture)) return i;
  return -1;
}

/** The detail of an answer that reached its asker from or to other addresses than asked. */
export const MISADDRESSED = 'misaddressed';
/**
 * The detail of an answer that reached the interface where its question started and was
 * not taken there: the asker asked again, without its next step (KindSpec.notTakenWhenAskedAgain).
 */
export const NOT_TAKEN = 'not taken: the asker asked again';

/**
 * Whether `answer`, where `ask` started, has other addresses than the question's there
 * mirrored: from another address than it went to (a DNAT it went around), or to
 * another than it came from. A flooded question is to no one address.
 */
function misaddressed(ask: OrderedStage, answer: OrderedStage): boolean {
  if (ask.broadcast || ask.ifaces.length === 0) return false;
  const j = answer.ifaces.indexOf(ask.ifaces[0]);
  if (j < 0) return false;
  const src = ask.srcs[0];
  const dst = ask.dsts[0];
  // (0: an address not known there)
  if (src === 0 || dst === 0 || answer.srcs[j] === 0 || answer.dsts[j] === 0) return false;
  return answer.srcs[j] !== dst || answer.dsts[j] !== src;
}

function rttOf(ask: OrderedStage | undefined, answer: OrderedStage | undefined): number | null {
  if (ask === undefined || answer === undefined || ask.ifaces.length === 0 || answer.ifaces.length === 0)
    return null;
  const origin = ask.ifaces[0];
  const back = answer.ifaces.indexOf(origin);
  const answerTime = back >= 0 ? answer.times[back] : answer.times[answer.times.length - 1];
  return answerTime - ask.times[0];
}

/** A verdict to fill: the correlator judges into one object again and again. */
export function newVerdict(): Verdict {
  return { status: 'ok', lost: null, detail: null, rttNs: null, delivered: 0, problems: NO_PROBLEMS };
}

/**
 * Judges into `out` (default: a new verdict) and returns it. An ok verdict allocates
 * nothing: this runs for every exchange. What a verdict holds is replaced, never
 * modified, so what a previous verdict handed on stays intact.
 */
export function judge(
  kind: Kind,
  stages: ReadonlyArray<OrderedStage | undefined>,
  errorStage: number,
  errorDetail: string,
  oracle: PathOracle,
  timing: JudgeTiming,
  out: Verdict = newVerdict(),
  /** the asker asked again after an answer reached it (ExInt.AskedAgain) */
  askedAgain = false,
): Verdict {
  const seq = sequenceOf(kind, stages);
  const first = stages[seq[0]];
  const finalAnswer = stages[seq[seq.length - 1]] ?? stages[seq[1]];
  out.delivered = 0;
  out.lost = null;
  out.detail = null;
  out.problems = NO_PROBLEMS;
  out.rttNs = null;
  if (errorStage >= 0) {
    out.status = 'error';
    out.detail = errorDetail;
    out.rttNs = rttOf(first, stages[errorStage]);
    return out;
  }
  let lastIdx = -1;
  for (let i = 0; i < seq.length; i++) if (stages[seq[i]] !== undefined) lastIdx = i;
  if (lastIdx < 0) {
    out.status = 'inconclusive';
    out.detail = 'no packet of it was kept';
    return out;
  }
  if (lastIdx > 0 && answerFromAsked(kind)) {
    const answer = stages[seq[1]];
    if (first !== undefined && answer !== undefined && misaddressed(first, answer)) {
      out.status = 'error';
      out.detail = MISADDRESSED;
      out.rttNs = rttOf(first, answer);
      return out;
    }
  }
  const stageIdx = seq[lastIdx];
  // (the last stage seen answers the question asked again: no next step came after it)
  if (askedAgain && lastIdx > 0 && askingStageOf(kind, stageIdx) === seq[0] && timing.forcedReason === null) {
    const at = whereAskerGot(stages[seq[0]], stages[stageIdx] as OrderedStage, oracle);
    if (at >= 0) {
      // It reached the asker's interface, and the asker asked again: lost past it.
      for (let i = 0; i <= lastIdx; i++) if (stages[seq[i]] !== undefined) out.delivered |= 1 << seq[i];
      out.status = 'lost';
      out.lost = { stage: stageIdx, lastSeen: at, missingOn: NOTHING_MISSING };
      out.detail = NOT_TAKEN;
      return out;
    }
  }
  const missing = missingAfter(kind, stageIdx, stages, oracle);
  // Earlier stages were answered, so they got where they had to go.
  for (let i = 0; i < lastIdx; i++) if (stages[seq[i]] !== undefined) out.delivered |= 1 << seq[i];
  const s = stages[stageIdx] as OrderedStage;
  const lastSeen = s.ifaces[s.ifaces.length - 1];
  const lastTime = s.times[s.times.length - 1];

  let status: ExchangeStatus;
  let suspects: readonly number[];
  if (missing.length > 0) {
    status = 'lost';
    out.lost = { stage: stageIdx, lastSeen, missingOn: missing };
    suspects = missing;
  } else if (lastIdx === seq.length - 1) {
    out.delivered |= 1 << stageIdx;
    out.status = 'ok';
    out.rttNs = rttOf(first, rttToFinalAnswer(kind) ? finalAnswer : stages[seq[1]]);
    return out;
  } else {
    out.delivered |= 1 << stageIdx;
    status = 'unanswered';
    out.lost = { stage: seq[lastIdx + 1], lastSeen, missingOn: [] };
    // The answer would have been seen first where the question was last seen, then back along its path.
    suspects = [...s.ifaces].reverse();
  }
  const from = lastTime;
  const to = Math.max(timing.deadline, from);
  let problems: Array<{ iface: number; text: string }> | null = null;
  for (const iface of suspects) {
    const text = oracle.problem(iface, from, to);
    if (text !== null) (problems ??= []).push({ iface, text });
  }
  if (problems !== null) out.problems = problems;
  if (timing.forcedReason !== null) {
    out.status = 'inconclusive';
    out.detail = timing.forcedReason;
    return out;
  }
  // With problems, the correlator words the detail with interface labels.
  out.status = problems !== null ? 'inconclusive' : status;
  return out;
}
