// The words of a verdict in the text report, the TUI, the HTML report and recordings'
// annotations (sinks/exchange-text.ts formats a record with them; a problem's report
// lines written straight from the correlator's rows, correlate/exchange-text-writer.ts,
// say the same from the same function).
import type { ExchangeStatus } from '../events/types.js';

export const STATUS_WORDS: Readonly<Record<ExchangeStatus, string>> = {
  ok: 'OK',
  lost: 'LOST',
  unanswered: 'UNANSWERED',
  error: 'ERROR',
  inconclusive: 'INCONCLUSIVE',
};

/** What the verdict sentence is made of (an ExchangeRecord's fields of the same names). */
export interface VerdictFacts {
  status: ExchangeStatus;
  lost?: { stage: string; lastSeen: string | null; missingOn: readonly string[] };
  detail?: string;
  rttMs?: number;
  /** the name of the last stage seen (the record's last `stages` entry) */
  lastStage: string | undefined;
}

function list(labels: readonly string[]): string {
  return labels.join(', ');
}

/** The verdict in words: where it went and where it disappeared. */
export function verdictSentence(f: VerdictFacts): string {
  const lost = f.lost;
  switch (f.status) {
    case 'ok':
      return f.rttMs !== undefined ? `answered in ${f.rttMs.toFixed(3)} ms` : 'answered';
    case 'error':
      return `answered with an error: ${f.detail ?? 'error'}`;
    case 'lost':
      if (lost === undefined) return 'lost';
      // (missing nowhere further: it reached its asker's interface and was not taken there)
      if (lost.missingOn.length === 0)
        return `${lost.stage} reached ${lost.lastSeen ?? '(nowhere)'} and was ${f.detail ?? 'not taken'}`;
      return `${lost.stage} last seen on ${lost.lastSeen ?? '(nowhere)'}, never reached ${list(lost.missingOn)}`;
    case 'unanswered':
      if (lost === undefined) return 'unanswered';
      return `no ${lost.stage} anywhere: the ${f.lastStage ?? 'request'} reached ${lost.lastSeen ?? '(nowhere)'} and nothing answered`;
    case 'inconclusive': {
      const would =
        lost === undefined
          ? ''
          : lost.missingOn.length > 0
            ? `${lost.stage} last seen on ${lost.lastSeen ?? '?'}, missing on ${list(lost.missingOn)}; `
            : `no ${lost.stage} seen; `;
      return `${would}cannot tell: ${f.detail ?? 'the capture was incomplete'}`;
    }
  }
}
