// Running a command of the project as an unprivileged user (uid/gid 65534, no
// groups), wherever the project was cloned. A clone under a directory only root may
// enter (`mktemp -d` makes them 0700, /root is 0700) cannot be reached by that user,
// and the tests must not loosen a directory that is not theirs: so the command runs in
// a mount namespace of its own where the project is bind-mounted on a directory anyone
// may enter, and sees the project there. Every path of the project in argv is given
// with its place in that mount.
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from './run-cli.js';

/**
 * Where the project is seen by the unprivileged command: one empty directory of /tmp
 * (0755) that every test process shares — each mounts on it in its own namespace only.
 */
export function nobodyProjectRoot(): string {
  const dir = join(tmpdir(), 'hopscope-nobody-mount');
  mkdirSync(dir, { recursive: true });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.())
    throw new Error(`${dir} is not a directory of ours: remove it`);
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * argv that runs `command` as uid 65534 from the project's root, with the project seen
 * at nobodyProjectRoot(): project paths in `command` are rewritten to it.
 */
export function asNobodyArgv(command: readonly string[]): string[] {
  const root = nobodyProjectRoot();
  const project = PROJECT_ROOT.replace(/\/+$/, '');
  const moved = command.map((a) =>
    a === project || a.startsWith(`${project}/`) ? root + a.slice(project.length) : a,
  );
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount --bind "$1" "$2" && cd "$2" && shift 2 && exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"',
    'sh',
    project,
    root,
    ...moved,
  ];
}
