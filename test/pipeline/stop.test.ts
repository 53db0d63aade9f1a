// When a run ends (src/pipeline/stop.ts): the first stop condition met — a signal,
// --duration, stdout's reader gone, q, the end of the files — ends it once, with that
// reason; a signal once it is stopping means "do not wait"; afterwards the signals are
// Node's again. Signals are sent for real, to a child process running the built module.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LineWriter } from '../../src/sinks/line-writer.js';
import { RunStop } from '../../src/pipeline/stop.js';
import { PROJECT_ROOT } from '../support/run-cli.js';

const STOP_MODULE = pathToFileURL(join(PROJECT_ROOT, 'dist', 'pipeline', 'stop.js')).href;

describe('RunStop', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the first condition met is the reason; the ones after it change nothing', async () => {
    const stop = new RunStop();
    expect(stop.reason).toBeNull();
    stop.stop('quit');
    stop.stop('end');
    expect(stop.reason).toBe('quit');
    expect(await stop.stopped()).toBe('quit');
    // a wait begun after the stop ends at once, with the same reason
    expect(await stop.stopped()).toBe('quit');
    stop.dispose();
    expect(stop.reason).toBe('quit');
  });

  it('--duration: stops the run that many seconds later, not before; its timers stop with it', () => {
    vi.useFakeTimers();
    const stop = new RunStop();
    let ticks = 0;
    stop.every(100, () => ticks++);
    stop.after(2);
    vi.advanceTimersByTime(1999);
    expect(stop.reason).toBeNull();
    expect(ticks).toBe(19);
    vi.advanceTimersByTime(1);
    expect(stop.reason).toBe('duration');
    const atStop = ticks;
    vi.advanceTimersByTime(10_000);
    expect(ticks).toBe(atStop);
    stop.dispose();
  });

  it('a duration given once the run has stopped (a capture stopped while starting) never fires', () => {
    vi.useFakeTimers();
    const stop = new RunStop();
    stop.stop('SIGINT');
    stop.after(1);
    vi.advanceTimersByTime(5000);
    expect(stop.reason).toBe('SIGINT');
    stop.dispose();
  });

  it("stdout's reader gone (EPIPE): the run stops, as soon as a write finds it", async () => {
    // a real pipe into a process that exits without reading it
    const reader = spawn('true', { stdio: ['pipe', 'ignore', 'ignore'] });
    await new Promise((resolve) => reader.once('exit', resolve));
    const out = new LineWriter(reader.stdin);
    const stop = new RunStop({ output: out });
    for (let i = 0; stop.reason === null && i < 1000; i++) {
      out.line('x'.repeat(100_000));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await stop.stopped()).toBe('output closed');
    expect(out.isClosed).toBe(true);
    stop.dispose();
  });

  it('an output that had ended before the run began stops it at once', async () => {
    const reader = spawn('true', { stdio: ['pipe', 'ignore', 'ignore'] });
    await new Promise((resolve) => reader.once('exit', resolve));
    const out = new LineWriter(reader.stdin);
    while (!out.isClosed) {
      out.line('x'.repeat(100_000));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const stop = new RunStop({ output: out });
    expect(stop.reason).toBe('output closed');
    stop.dispose();
  });
});

/** A child running `body` (an async function of the stop module), with its output lines and exit. */
function child(body: string): {
  lines: string[];
  waitForLine(line: string): Promise<void>;
  signal(name: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
} {
  const script = `const m = await import(${JSON.stringify(STOP_MODULE)});\n${body}`;
  const p = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const waiters: Array<() => void> = [];
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  p.stderr.setEncoding('utf8');
  p.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    p.once('close', (code, signal) => {
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal });
    }),
  );
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const waitForLine = (line: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (lines.includes(line)) resolve();
        else if (done)
          reject(new Error(`exited without '${line}'; stdout: ${lines.join('|')}; stderr: ${stderr}`));
        else waiters.push(check);
      };
      check();
    });
  return { lines, waitForLine, signal: (name) => p.kill(name), exited };
}

describe('signals (a child process, signalled for real)', () => {
  for (const first of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${first} stops the run; a second signal while it stops is "do not wait", once`, async () => {
      const c = child(`
        const stop = new m.RunStop({ signals: { again: (s) => { console.log('again ' + s); process.exit(130); } } });
        const keep = setInterval(() => {}, 1000);
        console.log('ready');
        console.log('stopped ' + (await stop.stopped()));
        // stopping takes a while (remote hosts draining): a second signal comes meanwhile
      `);
      await c.waitForLine('ready');
      c.signal(first);
      await c.waitForLine(`stopped ${first}`);
      c.signal('SIGINT');
      expect(await c.exited).toEqual({ code: 130, signal: null });
      expect(c.lines.filter((l) => l.startsWith('again'))).toEqual(['again SIGINT']);
    });
  }

  it('a signal after a stop by something else (--duration, q) is "do not wait" too', async () => {
    const c = child(`
      const stop = new m.RunStop({ signals: { again: (s) => { console.log('again ' + s); process.exit(130); } } });
      const keep = setInterval(() => {}, 1000);
      stop.stop('quit');
      console.log('stopped ' + (await stop.stopped()));
    `);
    await c.waitForLine('stopped quit');
    c.signal('SIGTERM');
    expect(await c.exited).toEqual({ code: 130, signal: null });
    expect(c.lines).toContain('again SIGTERM');
  });

  it("once the run is over (disposed), a signal is Node's again: the process ends by it", async () => {
    const c = child(`
      const stop = new m.RunStop({ signals: { again: (s) => { console.log('again ' + s); } } });
      const keep = setInterval(() => {}, 1000);
      console.log('ready');
      await stop.stopped();
      stop.dispose();
      console.log('disposed');
    `);
    await c.waitForLine('ready');
    c.signal('SIGINT');
    await c.waitForLine('disposed');
    c.signal('SIGTERM');
    expect(await c.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(c.lines.filter((l) => l.startsWith('again'))).toEqual([]);
  });

  it("untilSignal (the demo building its lab): each signal interrupts once, a second of it is Node's default", async () => {
    const c = child(`
      m.untilSignal(['SIGINT', 'SIGTERM'], () => console.log('interrupted'));
      const keep = setInterval(() => {}, 1000);
      console.log('ready');
    `);
    await c.waitForLine('ready');
    c.signal('SIGINT');
    await c.waitForLine('interrupted');
    c.signal('SIGINT');
    expect(await c.exited).toEqual({ code: null, signal: 'SIGINT' });
  });

  it("untilSignal released: nothing is interrupted, and a signal is Node's default", async () => {
    const c = child(`
      const watch = m.untilSignal(['SIGINT', 'SIGTERM'], () => console.log('interrupted'));
      watch.release();
      const keep = setInterval(() => {}, 1000);
      console.log('ready');
    `);
    await c.waitForLine('ready');
    c.signal('SIGTERM');
    expect(await c.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(c.lines).not.toContain('interrupted');
  });
});
