// The command helper (src/shared/command-launcher.ts): commands run as its children, never
// as this process's, with their arguments as given (no shell), their exit status, output,
// timeout and failures reported; they run at nice 19; a helper that dies fails what it was running and is
// started again; an idle helper never keeps hopscope from exiting.
import { execFileSync } from 'node:child_process';
import { getPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { launch, launcherPid } from '../../src/shared/command-launcher.js';

const OPTIONS = { timeoutMs: 10_000, maxBuffer: 1 << 20 };

afterEach(() => {
  vi.useRealTimers();
});

describe('command helper', () => {
  it('runs each command as a child of the helper, not of this process', async () => {
    const r = await launch(['sh', '-c', 'echo $PPID'], OPTIONS);
    expect(r.exitCode).toBe(0);
    const parent = Number(r.stdout.trim());
    expect(parent).toBe(launcherPid());
    expect(parent).not.toBe(process.pid);
  });

  it('runs the helper and its commands at the lowest priority, below the capture', async () => {
    // `nice` with no arguments prints the niceness it runs at
    const r = await launch(['nice'], OPTIONS);
    expect(r.exitCode).toBe(0);
    expect(Number(r.stdout.trim())).toBe(19);
    expect(getPriority(launcherPid())).toBe(19);
    expect(getPriority()).toBe(0);
  });

  it('passes arguments as they are: nothing reaches a shell', async () => {
    const args = ['a b', '$(id)', '; touch /tmp/hopscope-launcher-pwned', '\'"`', '\n'];
    const r = await launch(['printf', '%s|', ...args], OPTIONS);
    expect(r).toMatchObject({ exitCode: 0, error: null, timedOut: false });
    expect(r.stdout).toBe(`${args.join('|')}|`);
  });

  it('reports the exit status and stderr of a command that fails', async () => {
    const r = await launch(['sh', '-c', 'echo out; echo oops >&2; exit 3'], OPTIONS);
    expect(r).toEqual({
      exitCode: 3,
      signal: null,
      stdout: 'out\n',
      stderr: 'oops\n',
      timedOut: false,
      error: null,
      errorCode: null,
    });
  });

  it('says why a program that does not exist did not run', async () => {
    const r = await launch(['/nonexistent/hopscope-no-such-program'], OPTIONS);
    expect(r.exitCode).toBeNull();
    expect(r.error).toMatch(/ENOENT/);
    expect(r.errorCode).toBe('ENOENT');
  });

  it('kills a command at its timeout', async () => {
    const r = await launch(['sleep', '30'], { timeoutMs: 200, maxBuffer: 1024 });
    expect(r).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL', error: null });
  });

  it('cuts a command whose output passes maxBuffer, and says so', async () => {
    const r = await launch(['head', '-c', '100000', '/dev/zero'], { timeoutMs: 10_000, maxBuffer: 1000 });
    expect(r.error).toMatch(/maxBuffer/);
    expect(r.errorCode).toBe('ERR_CHILD_PROCESS_STDIO_MAXBUFFER');
    expect(r.timedOut).toBe(false);
  });

  it('runs commands side by side, each answered with its own result', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => launch(['sh', '-c', `sleep 0.0${i % 5}; echo ${i}`], OPTIONS)),
    );
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`));
  });

  it('a helper that dies fails the commands it ran, and a new one runs the next', async () => {
    await launch(['true'], OPTIONS);
    const first = launcherPid() as number;
    const running = launch(['sleep', '30'], OPTIONS);
    process.kill(first, 'SIGKILL');
    expect(await running).toMatchObject({ exitCode: null, error: 'the command helper process ended' });
    // (a helper is started at most once per 5 s: the clock is moved past it)
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 6000);
    const again = await launch(['echo', 'again'], OPTIONS);
    expect(again.stdout).toBe('again\n');
    expect(launcherPid()).not.toBe(first);
  });

  it('an idle helper does not keep the process alive', () => {
    const built = fileURLToPath(new URL('../../dist/shared/command-launcher.js', import.meta.url));
    const script = `import { launch } from ${JSON.stringify(built)};
const r = await launch(['echo', 'done'], { timeoutMs: 5000, maxBuffer: 1024 });
process.stdout.write(r.stdout);`;
    // exits by itself once the command is answered (execFileSync's timeout fails the test otherwise)
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out).toBe('done\n');
  });
});
