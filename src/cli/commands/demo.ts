// `hopscope demo` — what `npm start` runs (README: "the main job").
//
// As root: brings up the dvr-fip lab with its security-group fault, runs the scenario's
// traffic over and over, and captures every interface of it: on a terminal in the TUI
// (q quits), otherwise for a few seconds with the text report of verdicts. The lab is
// torn down on the way out, Ctrl-C included. Not root: the shipped recording of the same
// incident is replayed (in the TUI on a terminal).
import { join } from 'node:path';
import { labDown, labUp, runTraffic } from '../../lab/index.js';
import { untilSignal } from '../../pipeline/stop.js';
import { findProjectFile } from '../../shared/project-file.js';
import { numberOption, parseArgs, type OptionSpec } from '../args.js';
import { EXIT_OK, UserError } from '../errors.js';
import { runCapture } from './capture.js';
import { runReplay } from './replay.js';

const SCENARIO = 'dvr-fip';
const FAULT = 'sg-drop';
const PREFIX = 'hsdemo-';
const RECORDING_NAME = `${SCENARIO}-${FAULT}.pcapng`;

/**
 * The shipped recording of the incident, captures/NAME of the project: looked for
 * upwards from this module, which is src/cli/commands/ (tests), dist/cli/commands/ or
 * dist/app/ (the bundled CLI); null when there is none.
 */
function shippedRecording(name: string): string | null {
  return findProjectFile(import.meta.url, join('captures', name));
}

const OPTIONS: OptionSpec[] = [{ name: 'duration', kind: 'string' }];

export async function runDemo(argv: string[]): Promise<number> {
  const args = parseArgs(argv, OPTIONS, 'demo');
  const durationS = numberOption(args, 'duration', 'demo', 6, 1) ?? 6;
  if (process.getuid?.() !== 0) {
    const recording = shippedRecording(RECORDING_NAME);
    if (recording === null)
      throw new UserError(`demo: not root, and no captures/${RECORDING_NAME} in the project to replay`);
    process.stdout.write(
      `Not root, so no live lab: replaying the recording of ${SCENARIO} with fault ${FAULT}.\n` +
        `(Run as root to build the lab and capture it live.)\n\n`,
    );
    // The verdicts of the incident (lost exchanges make replay say 1; the demo itself went fine).
    await runReplay([recording]);
    return EXIT_OK;
  }
  return liveDemo(durationS);
}

/** No new round of traffic this close to the end of a fixed-length capture (a round and a timeout). */
const QUIET_TAIL_MS = 3000;

async function liveDemo(durationS: number): Promise<number> {
  const interactive = process.stdout.isTTY === true;
  // A demo interrupted earlier may have left its lab: it is ours (our prefix), remove it.
  await labDown(PREFIX);
  process.stdout.write(`Building lab ${SCENARIO} with fault ${FAULT} (namespaces ${PREFIX}*)…\n`);
  // Ctrl-C or SIGTERM while the lab is built: stop building, then tear down what was built.
  const abort = new AbortController();
  const building = untilSignal(['SIGINT', 'SIGTERM'], () => abort.abort());
  try {
    const lab = await labUp(SCENARIO, { fault: FAULT, prefix: PREFIX, signal: abort.signal });
    building.release();
    if (abort.signal.aborted) return EXIT_OK;
    // The scenario's traffic, over and over, while the capture runs. With a fixed
    // duration no round starts in its last seconds: exchanges cut short by the end of
    // the capture could only be judged inconclusive.
    let capturing = true;
    const endsAt = Date.now() + durationS * 1000;
    const traffic = (async (): Promise<void> => {
      await new Promise((r) => setTimeout(r, 1500));
      for (let round = 0; capturing; round++) {
        if (!interactive && round > 0 && Date.now() > endsAt - QUIET_TAIL_MS) break;
        await runTraffic(lab, { timeoutMs: 10_000 });
      }
    })();
    const specs = lab.capturePoints.flatMap((p) => ['-i', `${p.netns}/${p.iface}`]);
    if (!interactive) {
      process.stdout.write(
        `Capturing on ${lab.capturePoints.length} interfaces for ${durationS} s while the scenario's traffic runs…\n\n`,
      );
    }
    try {
      // On a terminal: the TUI until q. Otherwise the text report after durationS.
      await runCapture([...specs, ...(interactive ? [] : ['--duration', String(durationS)])]);
    } finally {
      capturing = false;
      await traffic;
    }
    if (!interactive) {
      process.stdout.write(
        `\nThe security group on qbr drops inbound ICMP and TCP 22: the outside's requests reach qvb…, never the tap.\n`,
      );
    }
  } finally {
    building.release();
    process.stdout.write(`Tearing the lab down…\n`);
    await labDown(PREFIX);
  }
  // The demo went fine whatever the verdicts were (lost exchanges are its point).
  return EXIT_OK;
}
