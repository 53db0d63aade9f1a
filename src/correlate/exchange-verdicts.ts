// An exchange's verdict as its rows stand (docs/verdicts.md): its stages' sightings put
// in path order (stage-order.ts), then judged (verdict.ts) against what the run has
// learned — flows' paths, routes, the captures' health. The correlator decides *when*
// an exchange is judged (its deadline queue); this decides *what* the verdict is, and
// changes none of the state it reads, so an exchange still open may be looked at early
// (Correlator.lookAhead) and judged later all the same.
//
// The stages, the verdict and its timing are scratch, reused: judging is synchronous
// and a verdict's results are used before the next is asked for.
import type { CaptureInterfaces } from './capture-interfaces.js';
import type { ExchangeQuestions } from './exchange-questions.js';
import type { CaptureHealth } from './health.js';
import { type Kind, KIND_NAMES, STAGE_NAMES } from './kinds/table.js';
import type { PathKnowledge } from './path-learning.js';
import { StageOrder } from './stage-order.js';
import { EX_INTS, ExInt, type ExchangeRows, type TrackRows } from './tables.js';
import {
  judge,
  newVerdict,
  type JudgeTiming,
  type OrderedStage,
  type PathOracle,
  type Verdict,
} from './verdict.js';

export interface ExchangeVerdictsParts {
  ex: ExchangeRows;
  tracks: TrackRows;
  ifaces: CaptureInterfaces;
  learned: PathKnowledge;
  health: CaptureHealth;
  questions: ExchangeQuestions;
}

export class ExchangeVerdicts {
  /**
   * The time a verdict is given at (ns, relative, on the reference clock), set before
   * each `of`: a time in ns is a double, and a double passed as an argument to a call
   * that is not inlined is boxed on the heap.
   */
  now = Number.NEGATIVE_INFINITY;
  readonly #ex: ExchangeRows;
  readonly #ifaces: CaptureInterfaces;
  readonly #questions: ExchangeQuestions;
  /** puts a stage's sightings in path order */
  readonly #stageOrder: StageOrder;
  /** per kind, the array of its ordered stages */
  readonly #stages: Array<Array<OrderedStage | undefined>> = KIND_NAMES.map((_, kind) =>
    new Array<OrderedStage | undefined>(STAGE_NAMES[kind as Kind].length).fill(undefined),
  );
  readonly #verdict: Verdict = newVerdict();
  // (times start as -Infinity: a double, so that the first time stored keeps the shape; see UNSIGNED_32)
  readonly #timing: JudgeTiming = {
    deadline: Number.NEGATIVE_INFINITY,
    now: Number.NEGATIVE_INFINITY,
    forcedReason: null,
  };
  /** the kind of the exchange being judged (the oracle's flow paths are per kind) */
  #kind = 0 as Kind;
  readonly #oracle: PathOracle;

  constructor(parts: ExchangeVerdictsParts) {
    const { ex, tracks, ifaces, learned, health, questions } = parts;
    this.#ex = ex;
    this.#ifaces = ifaces;
    this.#questions = questions;
    this.#oracle = {
      flowPath: (src, dst) => learned.flowPath(this.#kind, src, dst),
      towards: (iface, addr) => learned.towardsPath(iface, addr),
      problem: (iface, from, to) => health.problem(iface, from, to),
      anyCaptureOf: (iface) => ifaces.anyCaptureOf[iface] ?? -1,
      destinationOf: (lastSeen, addr, seen) => ifaces.destinationOf(lastSeen, addr, seen),
    };
    this.#stageOrder = new StageOrder({
      ex,
      tracks,
      clock: ifaces.clock,
      learned,
      hosts: ifaces.hosts,
      hostOf: ifaces.hostOf,
      resolutionOf: ifaces.resolutionOf,
      addressesOf: ifaces.addressesOf,
      macOf: ifaces.macOf,
      rank: ifaces.rank,
      captureOf: ifaces.captureOf,
    });
  }

  /** The ordered stages of the last verdict of `kind` (valid until the next `of`). */
  stages(kind: Kind): Array<OrderedStage | undefined> {
    return this.#stages[kind];
  }

  /**
   * Exchange x's verdict at `now`, as it stands (its stages ordered into stages(kind));
   * `forcedReason`: why it is judged before its timeout, if it is.
   */
  of(x: number, kind: Kind, forcedReason: string | undefined): Verdict {
    const X = this.#ex;
    const stages = this.#stages[kind];
    for (let i = 0; i < stages.length; i++) {
      const t = X.ints[x * EX_INTS + ExInt.Stages + i] - 1;
      stages[i] = t < 0 ? undefined : this.#stageOrder.ordered(x, kind, t, i, stages);
    }
    this.#kind = kind;
    const timing = this.#timing;
    timing.deadline =
      this.#ifaces.hosts.length < 2 ? this.#questions.deadline(x) : this.#questions.deadlineNow(x);
    timing.now = this.now;
    timing.forcedReason = forcedReason ?? null;
    return judge(
      kind,
      stages,
      X.ints[x * EX_INTS + ExInt.ErrorStage],
      X.ints[x * EX_INTS + ExInt.ErrorStage] >= 0 ? X.errorDetail[x] : '',
      this.#oracle,
      timing,
      this.#verdict,
      X.ints[x * EX_INTS + ExInt.AskedAgain] === 1,
    );
  }
}
