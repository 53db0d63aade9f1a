// The file of an HTML report (`--report FILE.html`): refused when the run starts if it
// could not be written at the end (a name taken, a symbolic link, no such directory, a
// read-only file system), written private and whole or not at all, never over a file it
// was not told to replace, and on a full disk one line naming the report and the reason
// with nothing left behind. Real files, a real tmpfs filled up, a real read-only mount,
// a real other user's file (as root, like CI).
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  closeSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkReportTarget, ReportFileError, writeReportFile } from '../../src/sinks/report-file.js';

const dir = mkdtempSync(join(tmpdir(), 'hopscope-report-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A new empty directory for one test. */
function fresh(): string {
  const d = join(dir, `t${++n}`);
  mkdirSync(d);
  return d;
}

function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new Error('these tests mount file systems and chown files: run them as root (npm test as root)');
}

/** The ReportFileError `fn` throws. */
function refusal(fn: () => unknown): ReportFileError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ReportFileError);
    return err as ReportFileError;
  }
  throw new Error('expected a ReportFileError, nothing was thrown');
}

/** Runs `body` on a tmpfs mounted with `options`, unmounted and removed whatever happens. */
function onTmpfs(options: string, body: (mnt: string) => void): void {
  requireRoot();
  const mnt = mkdtempSync(join(dir, 'tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', mnt]);
  try {
    body(mnt);
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
}

const PAGE = '<!DOCTYPE html>\n<p>the report</p>\n';

describe('report file', () => {
  it('lands whole under its name, mode 0600 whatever the umask, with no temporary file left', () => {
    const d = fresh();
    const path = join(d, 'incident.html');
    checkReportTarget(path, false);
    const old = process.umask(0);
    try {
      expect(writeReportFile(path, PAGE, false)).toBe(path);
    } finally {
      process.umask(old);
    }
    expect(readFileSync(path, 'utf8')).toBe(PAGE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(d)).toEqual(['incident.html']);
  });

  it('an existing name is refused when the run starts, unless --overwrite', () => {
    const d = fresh();
    const path = join(d, 'taken.html');
    writeFileSync(path, 'mine');
    const err = refusal(() => checkReportTarget(path, false));
    expect(err.message).toBe(`report ${path} exists (give --overwrite to replace it, or another name)`);
    expect(err.code).toBe('EEXIST');
    expect(() => checkReportTarget(path, true)).not.toThrow();
    expect(readFileSync(path, 'utf8')).toBe('mine');
  });

  it('a symbolic link (even a dangling one), a directory or a device is refused, --overwrite or not', () => {
    const d = fresh();
    const target = join(d, 'would-be-created');
    const link = join(d, 'link.html');
    symlinkSync(target, link);
    for (const overwrite of [false, true]) {
      expect(refusal(() => checkReportTarget(link, overwrite)).message).toBe(
        `report ${link} is a symbolic link; not replacing it (give another name)`,
      );
      expect(refusal(() => checkReportTarget(d, overwrite)).message).toBe(
        `report ${d} is a directory (give a file name)`,
      );
      expect(refusal(() => checkReportTarget('/dev/null', overwrite)).message).toBe(
        'report /dev/null is not a regular file; not replacing it (give another name)',
      );
    }
    expect(existsSync(target)).toBe(false);
    expect(refusal(() => checkReportTarget('', false)).message).toBe(
      "report needs a file name, and '' was given",
    );
  });

  it('a directory that does not exist is said when the run starts', () => {
    const path = join(dir, 'no-such-dir', 'r.html');
    expect(refusal(() => checkReportTarget(path, false)).message).toBe(
      `cannot write report ${path}: directory ${join(dir, 'no-such-dir')} does not exist`,
    );
  });

  it('a read-only file system is said when the run starts', () => {
    onTmpfs('size=1m,mode=0700,ro', (mnt) => {
      const path = join(mnt, 'r.html');
      const err = refusal(() => checkReportTarget(path, false));
      expect(err.message).toBe(`cannot write report ${path}: read-only file system`);
      expect(err.code).toBe('EROFS');
    });
  });

  it('--overwrite replaces the file in one step: a reader holding the old page still reads it whole', () => {
    const d = fresh();
    const path = join(d, 'again.html');
    writeFileSync(path, 'the old page', { mode: 0o644 });
    const before = statSync(path).ino;
    const reader = openSync(path, 'r');
    try {
      checkReportTarget(path, true);
      expect(writeReportFile(path, PAGE, true)).toBe(path);
      const buf = Buffer.alloc(64);
      expect(buf.toString('utf8', 0, readSync(reader, buf, 0, 64, 0))).toBe('the old page');
    } finally {
      closeSync(reader);
    }
    expect(readFileSync(path, 'utf8')).toBe(PAGE);
    expect(statSync(path).ino).not.toBe(before);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(d)).toEqual(['again.html']);
  });

  it('--overwrite does not replace a file with another hard link, nor another user’s file', () => {
    requireRoot();
    const d = fresh();
    const linked = join(d, 'linked.html');
    writeFileSync(linked, 'x');
    linkSync(linked, join(d, 'other-name.html'));
    expect(refusal(() => checkReportTarget(linked, true)).message).toBe(
      `report ${linked} has 2 hard links; not replacing it (remove it first, or give another name)`,
    );
    const theirs = join(d, 'theirs.html');
    writeFileSync(theirs, 'x');
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    chownSync(theirs, nobody, nobody);
    expect(refusal(() => checkReportTarget(theirs, true)).message).toBe(
      `report ${theirs} belongs to another user (uid ${nobody}); not replacing it (remove it first, or give another name)`,
    );
  });

  it('a file that took the name during the run is kept: the page goes to the next free name', () => {
    const d = fresh();
    const path = join(d, 'run.html');
    checkReportTarget(path, false);
    // ... the run goes on; meanwhile someone writes there, and to the next name too
    writeFileSync(path, 'theirs');
    writeFileSync(join(d, 'run.2.html'), 'theirs too');
    expect(writeReportFile(path, PAGE, false)).toBe(join(d, 'run.3.html'));
    expect(readFileSync(path, 'utf8')).toBe('theirs');
    expect(readFileSync(join(d, 'run.2.html'), 'utf8')).toBe('theirs too');
    expect(readFileSync(join(d, 'run.3.html'), 'utf8')).toBe(PAGE);
    expect(readdirSync(d).sort()).toEqual(['run.2.html', 'run.3.html', 'run.html']);
  });

  it('a full disk: one line naming the report and the reason, and nothing left behind', () => {
    onTmpfs('size=256k,mode=0700', (mnt) => {
      // fill the file system up to its last byte
      const filler = openSync(join(mnt, 'filler'), 'w');
      const block = Buffer.alloc(4096, 0x61);
      try {
        for (;;) writeSync(filler, block);
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        closeSync(filler);
      }
      const path = join(mnt, 'report.html');
      checkReportTarget(path, false);
      const err = refusal(() => writeReportFile(path, PAGE.repeat(10_000), false));
      expect(err.message).toBe(`cannot write report ${path}: no space left on device`);
      expect(err.code).toBe('ENOSPC');
      expect(err.message).not.toContain('\n');
      expect(readdirSync(mnt)).toEqual(['filler']);
    });
  });
});
