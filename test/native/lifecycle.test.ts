// The capture handle's life: polling reads, buffer reuse and growth limits,
// re-entrant calls from callbacks, closing on exit and on GC, /proc/<pid>/ns/net,
// argument errors. Process-level behaviour runs in child processes so that a
// crash shows as an exit status instead of taking the test runner down.

import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isCaptureError, loadNativeAddon, type CaptureError } from '../../src/sources/native-addon.js';
import { LiveCapture, netnsPathOf, type PacketBatchView } from '../../src/sources/live-capture.js';
import {
  A_ADDR,
  Topology,
  copyPacket,
  parseEcho,
  requireRoot,
  startCollecting,
  waitFor,
  type CopiedPacket,
} from './netns-topology.js';

const topo = new Topology('l');
const opened: LiveCapture[] = [];
const children: ChildProcess[] = [];
const ADDON = fileURLToPath(new URL('../../native/build/Release/hopscope_native.node', import.meta.url));

function open(options: Parameters<typeof LiveCapture.open>[0]): LiveCapture {
  const capture = LiveCapture.open(options);
  opened.push(capture);
  return capture;
}

function thrown(fn: () => unknown): CaptureError {
  try {
    fn();
  } catch (err) {
    if (isCaptureError(err)) return err;
    throw err;
  }
  throw new Error('expected an error, none was thrown');
}

function ping(count: number, extra: string[] = []): Promise<string> {
  return topo.inB(['ping', '-c', String(count), '-i', '0.01', '-n', ...extra, A_ADDR]);
}

/** Drains a non-started capture with read() until `want` packets came (copied). */
async function readUntil(
  capture: LiveCapture,
  want: number,
): Promise<{ packets: CopiedPacket[]; batches: number }> {
  const packets: CopiedPacket[] = [];
  let batches = 0;
  await waitFor(`${want} packets via read()`, () => {
    const batch = capture.read();
    if (batch.count > 0) batches++;
    batch.forEach((p) => packets.push(copyPacket(p)));
    return packets.length >= want;
  });
  return { packets, batches };
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a CommonJS snippet in a fresh node with ADDON and NS set; resolves when it exits. */
function runChild(script: string, nodeArgs: string[] = [], timeoutMs = 10_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, '-e', script], {
      env: { ...process.env, ADDON, NS: topo.pathA },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`child did not exit within ${timeoutMs} ms (event loop kept alive?): ${stdout} ${stderr}`),
      );
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  requireRoot();
  await topo.up();
  // Jumbo frames on the first pair, for packets far larger than a page.
  await topo.run(['ip', '-n', topo.nsA, 'link', 'set', 'a0', 'mtu', '9000']);
  await topo.run(['ip', '-n', topo.nsB, 'link', 'set', 'b0', 'mtu', '9000']);
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const capture of opened) capture.close();
  await topo.down();
  expect(await topo.leftovers()).toEqual([]);
});

describe('reading without start(): read() on demand', () => {
  it('drains what is waiting, in one reused buffer, without blocking', async () => {
    const capture = open({ iface: 'a0', netnsPath: topo.pathA, filter: 'icmp' });
    expect(capture.fd).toBeGreaterThan(2);
    const empty = capture.read();
    expect(empty.count).toBe(0);

    await ping(5);
    const { packets } = await readUntil(capture, 10);
    expect(packets.map((p) => parseEcho(p.bytes)?.seq)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);

    // The same view and buffer come back for every batch (no per-batch allocation).
    const first = capture.read();
    await ping(1);
    let second: PacketBatchView = first;
    await waitFor('one more batch', () => (second = capture.read()).count > 0);
    expect(second).toBe(first);
    expect(second.bytes.buffer).toBe(first.bytes.buffer);
  });

  it('starts over in a fresh buffer when JavaScript transferred (detached) the old one', async () => {
    const capture = open({ iface: 'a0', netnsPath: topo.pathA, filter: 'icmp' });
    await ping(1);
    const { packets: before } = await readUntil(capture, 2);
    expect(before).toHaveLength(2);
    const old = capture.read().bytes.buffer as ArrayBuffer;
    structuredClone(old, { transfer: [old] });
    expect(old.byteLength).toBe(0);

    await ping(1);
    const { packets: after } = await readUntil(capture, 2);
    expect(after.map((p) => parseEcho(p.bytes)?.type)).toEqual(['request', 'reply']);
  });

  it('keeps jumbo frames whole and cuts at snaplen, padding records to 8 bytes', async () => {
    const full = open({ iface: 'a0', netnsPath: topo.pathA, filter: 'icmp' });
    const cut = open({ iface: 'a0', netnsPath: topo.pathA, filter: 'icmp', snaplen: 101 });
    expect(cut.snaplen).toBe(101);
    await ping(2, ['-s', '8000', '-M', 'do']); // 8000 + 8 + 20 + 14 = 8042 bytes, one frame
    const { packets: whole } = await readUntil(full, 4);
    for (const p of whole) expect([p.caplen, p.len]).toEqual([8042, 8042]);
    // ping fills its data after the 16-byte timestamp with byte i = i & 0xff:
    // every byte of the 8042 arrived in place.
    const ICMP_DATA = 14 + 20 + 8;
    for (const p of whole) {
      let intact = true;
      for (let i = 16; i < 8000; i++) if (p.bytes[ICMP_DATA + i] !== (i & 0xff)) intact = false;
      expect(intact).toBe(true);
    }

    const { packets: cutPackets } = await readUntil(cut, 4);
    for (const p of cutPackets) expect([p.caplen, p.len]).toEqual([101, 8042]);
    expect(cutPackets.map((p) => parseEcho(p.bytes)?.seq)).toEqual([1, 1, 2, 2]);
  });

  it('ends a batch while a maximum-size record still fits, so a tiny buffer only means more batches', async () => {
    // snaplen 100 → largest record 24 + 104 = 128 bytes; batchBytes 0 → the
    // minimum of two such records: at most 2 packets per batch.
    const capture = open({ iface: 'a0', netnsPath: topo.pathA, filter: 'icmp', snaplen: 100, batchBytes: 0 });
    await ping(20);
    const { packets, batches } = await readUntil(capture, 40);
    expect(packets).toHaveLength(40);
    expect(batches).toBeGreaterThanOrEqual(20);
    expect(
      packets.filter((p) => parseEcho(p.bytes)?.type === 'request').map((p) => parseEcho(p.bytes)?.seq),
    ).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(capture.stats().dropped).toBe(0);
  });
});

describe('callbacks that stop, restart or close the capture', () => {
  it('allows stop() and start() again from inside onBatch, and close() from inside onBatch', async () => {
    const capture = open({ iface: 'a0', netnsPath: topo.pathA, filter: 'icmp', immediate: false });
    const seen: number[] = [];
    let restarted = false;
    const onError = (err: Error): void => {
      throw err;
    };
    const second = (batch: PacketBatchView): void => {
      seen.push(batch.count);
      capture.close(); // closing from inside the callback
    };
    capture.start(() => {
      capture.stop();
      expect(capture.started).toBe(false);
      capture.start(second, onError);
      restarted = true;
    }, onError);
    await ping(1);
    await waitFor('the restart', () => restarted);
    await ping(1);
    await waitFor('the close', () => capture.closed);
    expect(seen.length).toBe(1);
    expect(capture.started).toBe(false);
    expect(capture.stats().final).toBe(true);
  });

  it('refuses what does not make sense, with a reason', () => {
    const capture = open({ iface: 'a0', netnsPath: topo.pathA });
    capture.start(
      () => undefined,
      () => undefined,
    );
    expect(
      thrown(() =>
        capture.start(
          () => undefined,
          () => undefined,
        ),
      ).code,
    ).toBe('ERR_STARTED');
    expect(thrown(() => capture.read()).code).toBe('ERR_STARTED');
    capture.close();
    expect(thrown(() => capture.read()).code).toBe('ERR_CLOSED');
    expect(thrown(() => capture.setFilter('icmp')).code).toBe('ERR_CLOSED');
    expect(
      thrown(() =>
        capture.start(
          () => undefined,
          () => undefined,
        ),
      ).message,
    ).toBe(`capture on a0 in netns ${topo.nsA} is closed`);
    capture.stop(); // harmless once closed

    const addon = loadNativeAddon();
    expect(thrown(() => addon.open({ iface: '' })).code).toBe('ERR_INVALID_ARG');
    expect(thrown(() => addon.open({ iface: 'a0', netnsPath: topo.pathA, snaplen: 0 })).message).toBe(
      'open: snaplen must be an integer in 1..262144',
    );
    const tooLong = thrown(() => addon.open({ iface: 'a0-but-far-too-long', netnsPath: topo.pathA }));
    expect(tooLong.code).toBe('ERR_NO_SUCH_DEVICE');
    expect(tooLong.message).toContain('at most 15 bytes');
    expect(() => netnsPathOf('../etc')).toThrow(/not a network namespace name/);
  });
});

describe('namespaces named by a process', () => {
  it('opens in the namespace of a pid (/proc/<pid>/ns/net), naming it pid:N in errors', async () => {
    const sleeper = spawn('ip', ['netns', 'exec', topo.nsA, 'sleep', '60'], { stdio: 'ignore' });
    children.push(sleeper);
    const pid = sleeper.pid!;
    // `ip netns exec` enters the namespace, then execs sleep in the same process.
    const inA = (): boolean => {
      try {
        return statSync(`/proc/${pid}/ns/net`).ino === statSync(topo.pathA).ino;
      } catch {
        return false;
      }
    };
    await waitFor('the sleeper to enter the namespace', inA);
    const capture = open({ iface: 'a0', netnsPath: netnsPathOf(`pid:${pid}`), filter: 'icmp' });
    const got = startCollecting(capture);
    await ping(2);
    await waitFor('4 echoes', () => got.packets.length >= 4);
    capture.stop();
    const err = thrown(() => open({ iface: 'nosuch0', netnsPath: netnsPathOf(`pid:${pid}`) }));
    expect(err.message).toMatch(new RegExp(`^no such device exists: nosuch0 in netns pid:${pid}\\b`));
    sleeper.kill('SIGKILL');
  });
});

describe('process exit and garbage collection', () => {
  const PRELUDE = `
    const addon = require(process.env.ADDON);
    const open = () => addon.open({ iface: 'a0', netnsPath: process.env.NS, filter: 'icmp' });
  `;

  it('exits cleanly with a capture still started (process.exit)', async () => {
    const r = await runChild(`${PRELUDE}
      const h = open();
      h.start(() => {}, (e) => { console.error(e); });
      setTimeout(() => { console.log('exiting'); process.exit(0); }, 100);
    `);
    expect(r).toMatchObject({ code: 0, signal: null, stdout: 'exiting\n', stderr: '' });
  });

  it('lets the event loop end once the capture is closed (no leaked poll handle)', async () => {
    const r = await runChild(`${PRELUDE}
      const h = open();
      h.start(() => {}, () => {});
      setTimeout(() => { h.close(); h.close(); console.log('closed'); }, 100);
    `);
    expect(r).toMatchObject({ code: 0, signal: null, stdout: 'closed\n', stderr: '' });
  });

  it('closes unreferenced captures when they are collected', async () => {
    const r = await runChild(
      `${PRELUDE}
      for (let i = 0; i < 20; i++) open();
      global.gc();
      setTimeout(() => { global.gc(); console.log('collected'); }, 50);
    `,
      ['--expose-gc'],
    );
    expect(r).toMatchObject({ code: 0, signal: null, stdout: 'collected\n', stderr: '' });
  });

  it('turns an exception thrown by onBatch into an uncaught exception, like any event callback', async () => {
    const r = await runChild(`${PRELUDE}
      process.on('uncaughtException', (e) => { console.log('uncaught:', e.message); h.close(); });
      const h = open();
      h.start(() => { throw new Error('consumer bug'); }, () => {});
      require('child_process').execFileSync('ip', ['netns', 'exec', ${JSON.stringify(topo.nsB)}, 'ping', '-c', '1', '-n', ${JSON.stringify(A_ADDR)}]);
    `);
    expect(r).toMatchObject({ code: 0, signal: null, stdout: 'uncaught: consumer bug\n' });
  });
});
