// Runs a lab's traffic commands (pings, DNS queries, DHCP, TCP connects) inside
// their namespaces, so a capture running at the same time sees real exchanges.
import { runCommand } from './run-command.js';
import type { LabTraffic, LabView } from './view.js';

export interface TrafficResult {
  name: string;
  netns: string;
  argv: string[];
  /** 0-based round, when `durationMs` made the traffic repeat */
  round: number;
  exitCode: number;
  succeeded: boolean;
  /** what the scenario expects with the lab's fault */
  expectSuccess: boolean;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export interface RunTrafficOptions {
  /** keep repeating the traffic until this much time has passed (at least one round) */
  durationMs?: number;
  /** only these traffic names */
  only?: readonly string[];
  /** per command; a command still running then counts as failed */
  timeoutMs?: number;
}

/** `ip netns exec <ns> …argv`, the argv a traffic command runs as. */
export function trafficArgv(traffic: LabTraffic): string[] {
  return ['ip', 'netns', 'exec', traffic.netns, ...traffic.argv];
}

/** Runs the commands one after another (one exchange at a time is easier to read in a capture). */
export async function runTraffic(lab: LabView, options: RunTrafficOptions = {}): Promise<TrafficResult[]> {
  const selected = lab.traffic.filter((t) => options.only === undefined || options.only.includes(t.name));
  const results: TrafficResult[] = [];
  const started = Date.now();
  for (let round = 0; round === 0 || Date.now() - started < (options.durationMs ?? 0); round++) {
    for (const traffic of selected) {
      const t0 = Date.now();
      const result = await runCommand(trafficArgv(traffic), { timeoutMs: options.timeoutMs ?? 20_000 });
      results.push({
        name: traffic.name,
        netns: traffic.netns,
        argv: [...traffic.argv],
        round,
        exitCode: result.exitCode,
        succeeded: result.exitCode === 0,
        expectSuccess: traffic.expectSuccess,
        stdout: result.stdout,
        stderr: result.stderr,
        elapsedMs: Date.now() - t0,
      });
    }
    if (selected.length === 0) break;
  }
  return results;
}
