// The causes gathered live, carried in a recording (docs/json-lines.md `cause`): a
// recording carries the evidence gathered live, so a replay explains as the live
// capture did.
//
// Where: an Interface Statistics Block of the interface the cause is `at` (else of the
// exchange's last-seen interface), written when the cause is known, with the
// interface's counters of that moment and one opt_comment:
//
//   hopscope cause 1 {"kind":"icmp-echo","key":"…","ts":"…","cause":{…}}
//
// Why a statistics block's comment rather than a custom block: every pcapng reader
// keeps statistics blocks and their comments (tshark shows them with the MIME Files
// Format reader; Wireshark lists them), a custom block needs a registered Private
// Enterprise Number and is skipped by everything but its writer, and hopscope's own
// reader already hands statistics comments on in order with the packets (it is how
// the recorder notes capture gaps). The counters are the interface's real ones, so
// the block is an honest statistics block too. A reader matches a comment to its
// verdict by kind, key and the exchange's first time stamp.
//
// Bounds: one comment is at most MAX_CAUSE_COMMENT_BYTES (64 KiB) and an evidence
// list at most MAX_EVIDENCE_ITEMS (64) items; what does not fit is cut at a whole item
// and said so (`truncated`). A recorder should write one block per distinct cause a
// second, listing the exchanges it explains, so a flood of identical losses is not a
// flood of blocks (and stays under the replay's 4 MiB of interface text).
import type { Cause, CauseCode, EvidenceItem, EvidenceSource, ExchangeRecord } from '../events/types.js';

export const CAUSE_COMMENT_PREFIX = 'hopscope cause ';
/**
 * The Section Header Block comment of a recording made while causes were gathered: a
 * replay of it waits for each problem verdict's cause (a file without it has none).
 */
export const CAUSES_SECTION_COMMENT = 'hopscope causes: gathered live, in statistics block comments';
/** Cause comments written to one file at most (bytes): under a replay's 4 MiB of interface text. */
export const MAX_CAUSE_BYTES_PER_FILE = 2 * 1024 * 1024;
export const CAUSE_COMMENT_VERSION = 1;
export const MAX_CAUSE_COMMENT_BYTES = 64 * 1024;
export const MAX_EVIDENCE_ITEMS = 64;

const CODES: ReadonlySet<string> = new Set<CauseCode>([
  'netfilter-drop',
  'no-neighbour',
  'no-route',
  'rp-filter',
  'forwarding-off',
  'mtu',
  'localnet',
  'conntrack',
  'link-down',
  'no-listener',
  'routing-loop',
  'ttl-expired',
  'nat-bypassed',
  'listener-stalled',
  'echo-ignored',
  'upstream-failed',
  'wrong-neighbour',
  'unknown',
]);
const SOURCES: ReadonlySet<string> = new Set<EvidenceSource | 'exchange'>([
  'kernel',
  'nftables',
  'iptables',
  'neighbour',
  'route',
  'sysctl',
  'link',
  'conntrack',
  'socket',
  'exchange',
]);

/** Which verdict a recorded cause belongs to. */
export interface RecordedCause {
  kind: string;
  key: string;
  /** the exchange's first sighting (ExchangeRecord.ts) */
  ts: string;
  cause: Cause;
  /** evidence items were left out to keep within the bounds */
  truncated?: boolean;
}

/** The opt_comment for a verdict's cause. */
export function encodeCauseComment(
  exchange: Pick<ExchangeRecord, 'kind' | 'key' | 'ts'>,
  cause: Cause,
): string {
  const record: RecordedCause = { kind: exchange.kind, key: exchange.key, ts: exchange.ts, cause };
  let evidence = cause.evidence.slice(0, MAX_EVIDENCE_ITEMS);
  const text = (items: EvidenceItem[], truncated: boolean): string =>
    `${CAUSE_COMMENT_PREFIX}${CAUSE_COMMENT_VERSION} ${JSON.stringify({
      ...record,
      cause: { ...cause, evidence: items },
      ...(truncated ? { truncated: true } : {}),
    })}`;
  let out = text(evidence, evidence.length < cause.evidence.length);
  while (Buffer.byteLength(out) > MAX_CAUSE_COMMENT_BYTES && evidence.length > 0) {
    evidence = evidence.slice(0, -1);
    out = text(evidence, true);
  }
  if (Buffer.byteLength(out) > MAX_CAUSE_COMMENT_BYTES) {
    // a summary (or a key) too long by itself: the summary cut short
    out = text([], true).replace(
      JSON.stringify(cause.summary),
      JSON.stringify(`${cause.summary.slice(0, 1024)}…`),
    );
  }
  return out;
}

export type DecodedCauseComment = { ok: true; value: RecordedCause } | { ok: false; reason: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A statistics block's comment read back: null when it is not a cause comment (other
 * comments: the recorder's capture gaps, a user's note); otherwise the cause, or why
 * it cannot be used (a newer version, damaged text). Never throws.
 */
export function decodeCauseComment(comment: string): DecodedCauseComment | null {
  if (!comment.startsWith(CAUSE_COMMENT_PREFIX)) return null;
  const rest = comment.slice(CAUSE_COMMENT_PREFIX.length);
  const space = rest.indexOf(' ');
  const version = Number(space < 0 ? rest : rest.slice(0, space));
  if (!Number.isInteger(version)) return { ok: false, reason: 'no version' };
  if (version !== CAUSE_COMMENT_VERSION)
    return { ok: false, reason: `version ${version} (this hopscope reads ${CAUSE_COMMENT_VERSION})` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(rest.slice(space + 1));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isObject(parsed)) return { ok: false, reason: 'not an object' };
  const { kind, key, ts, cause, truncated } = parsed;
  if (
    typeof kind !== 'string' ||
    typeof key !== 'string' ||
    typeof ts !== 'string' ||
    !/^\d+\.\d{1,9}$/.test(ts)
  )
    return { ok: false, reason: 'no kind, key or time stamp' };
  if (!isObject(cause)) return { ok: false, reason: 'no cause' };
  const { code, summary, at, evidence } = cause;
  if (typeof code !== 'string' || !CODES.has(code))
    return { ok: false, reason: `unknown code ${JSON.stringify(code)}` };
  if (typeof summary !== 'string' || typeof at !== 'string' || !Array.isArray(evidence))
    return { ok: false, reason: 'a cause needs a summary, a hop and evidence' };
  if (evidence.length > MAX_EVIDENCE_ITEMS)
    return { ok: false, reason: `more than ${MAX_EVIDENCE_ITEMS} evidence items` };
  for (const e of evidence) {
    if (!isObject(e) || typeof e.source !== 'string' || !SOURCES.has(e.source))
      return { ok: false, reason: 'evidence without a known source' };
  }
  return {
    ok: true,
    value: {
      kind,
      key,
      ts,
      cause: { code: code as CauseCode, summary, at, evidence: evidence as EvidenceItem[] },
      ...(truncated === true ? { truncated: true } : {}),
    },
  };
}

/** The recorded cause of a verdict, by kind, key and first time stamp (replay's lookup). */
export function causeKey(exchange: Pick<ExchangeRecord, 'kind' | 'key' | 'ts'>): string {
  return `${exchange.kind}\u0000${exchange.key}\u0000${exchange.ts}`;
}
