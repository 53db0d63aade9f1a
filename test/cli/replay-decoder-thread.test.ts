// `replay` without pacing decodes on a second thread (src/sources/file-decoder-thread.ts);
// a paced replay reads in one thread. Both must give the same records, byte for byte:
// the shipped incidents (lost, unanswered, error, several hosts), two recordings merged,
// a damaged file, and 200k generated packets (the ring between the threads laps many times).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayMayUseDecoderThread } from '../../src/sources/decoder-thread-boot.js';
import { runCli } from '../support/run-cli.js';

/** Paced this fast, a replay waits for nothing but still reads in one thread. */
const ONE_THREAD = ['--speed', '1e12'];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hopscope-decoder-thread-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function both(args: string[]): void {
  const threaded = runCli(['replay', ...args]);
  const single = runCli(['replay', ...args, ...ONE_THREAD]);
  expect(threaded.stdout.length).toBeGreaterThan(0);
  expect(threaded.stdout).toBe(single.stdout);
  expect(threaded.stderr).toBe(single.stderr);
  expect(threaded.status).toBe(single.status);
}

describe('replay on the decoder thread', () => {
  for (const file of [
    'dvr-fip-sg-drop.pcapng',
    'nova-flat-reply-drop-br100.pcapng',
    'sdn-vxlan-mtu-mismatch.pcapng',
    'dnat-local-no-route-localnet.pcapng',
  ]) {
    it(`${file}: the same JSON records and text report as one thread`, () => {
      both([`captures/${file}`, '--json']);
      both([`captures/${file}`]);
    });
  }

  it('two recordings merged: the same records', () => {
    both(['captures/dvr-fip-sg-drop.pcapng', 'captures/nova-flat-reply-drop-br100.pcapng', '--json']);
  });

  it('a file cut short: the same warning, and the verdicts of every whole packet', () => {
    const whole = readFileSync('captures/nova-flat-reply-drop-br100.pcapng');
    const cut = join(dir, 'cut.pcapng');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.7)));
    both([cut, '--json']);
    const r = runCli(['replay', cut]);
    expect(r.stderr).toMatch(/warning/);
    expect(r.stdout).toMatch(/exchanges:/);
  });

  it('a damaged file: exit 2 with the byte offset, after the verdicts before the fault', () => {
    const whole = readFileSync('captures/dvr-fip-sg-drop.pcapng');
    const bad = Buffer.from(whole);
    // a block length that is not a multiple of 4, two thirds in (the error names that field)
    const at = findBlockAfter(bad, Math.floor(bad.length * 0.66));
    bad.writeUInt32LE(bad.readUInt32LE(at + 4) + 1, at + 4);
    const file = join(dir, 'bad.pcapng');
    writeFileSync(file, bad);
    both([file, '--json']);
    const r = runCli(['replay', file, '--json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`not a multiple of 4 at byte ${at + 4} \\(packet \\d+\\)`));
    // the packets of the chunk read before the fault are judged too, not dropped with it
    expect(r.stdout).toMatch(/"type":"exchange"/);
  });

  it('the thread started early: one never taken lets the process end; --packets lets it go', () => {
    // The CLI starts it for every replay (decoder-thread-boot.ts); an error before the
    // replay takes it (here: no such file) must not leave the process waiting on it.
    const boot = new URL('../../dist/sources/decoder-thread-boot.js', import.meta.url).href;
    const script = join(dir, 'boot-only.mjs');
    writeFileSync(
      script,
      `import { bootDecoderThread } from '${boot}';\nbootDecoderThread();\nconsole.log('booted');\n`,
    );
    const idle = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    expect(idle.error).toBeUndefined(); // not killed by the timeout
    expect(idle.status).toBe(0);
    expect(idle.stdout).toBe('booted\n');
    const missing = runCli(['replay', join(dir, 'no-such-file.pcap')], { timeout: 60_000 });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no such file/);
    const packets = runCli(['replay', 'captures/dvr-fip-sg-drop.pcapng', '--packets'], { timeout: 60_000 });
    expect(packets.status).not.toBeNull();
    expect(packets.stdout.split('\n').length).toBeGreaterThan(10);
  });

  it('the CLI starts it early only for a replay that will take it', () => {
    expect(replayMayUseDecoderThread(['a.pcap'], false)).toBe(true);
    expect(replayMayUseDecoderThread(['a.pcap', '--json'], true)).toBe(true);
    // the TUI, packets printed, paced: decoded on the command's own thread
    expect(replayMayUseDecoderThread(['a.pcap'], true)).toBe(false);
    expect(replayMayUseDecoderThread(['a.pcap', '--packets'], false)).toBe(false);
    expect(replayMayUseDecoderThread(['a.pcap', '--speed', '2'], false)).toBe(false);
    expect(replayMayUseDecoderThread(['a.pcap', '--speed=2', '--json'], false)).toBe(false);
    expect(replayMayUseDecoderThread(['--realtime', 'a.pcap'], false)).toBe(false);
  });

  it('200k generated packets: the same records', () => {
    const file = join(dir, 'mixed.pcap');
    const gen = spawnSync(process.execPath, [
      'scripts/gen-mixed-pcap.mjs',
      file,
      '--packets',
      '200000',
      '--flows',
      '5000',
    ]);
    expect(gen.status).toBe(0);
    both([file, '--json']);
  });
});

/** Byte offset of the first pcapng block at or after `from` (walking the blocks from the start). */
function findBlockAfter(b: Buffer, from: number): number {
  let at = 0;
  while (at < from) at += b.readUInt32LE(at + 4);
  return at;
}
