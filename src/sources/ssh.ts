// The local `ssh` command line that runs one remote command: the destination as the
// user wrote it (so ~/.ssh/config applies, or `-F` the lab's config), the options
// that keep a capture's binary stream intact and a dead connection noticed, and the
// command as one argument (ssh has no argv: the remote login shell parses it, see
// shell-quote.ts). Remote capture and remote discovery both start ssh with it.
import { CONTROL, invalidArgument, show } from './remote-error.js';

/** How `ssh` is run when not told otherwise. */
export const SSH_PROGRAM: readonly string[] = ['ssh'];

export interface SshInput {
  host: string;
  sshConfig?: string;
  /** how `ssh` is run, default ['ssh'] (a wrapper such as `ip netns exec NS ssh`, `sudo -u U ssh`) */
  sshProgram?: readonly string[];
}

/** An ssh destination; one beginning with '-' would be read by ssh as an option (`-oProxyCommand=…`). */
export function validateHost(host: string): void {
  if (host === '') invalidArgument('ssh destination is empty');
  if (host.startsWith('-')) invalidArgument(`ssh destination ${show(host)} begins with '-'`);
  if (/\s/.test(host) || CONTROL.test(host))
    invalidArgument(`ssh destination ${show(host)} contains whitespace or control characters`);
}

/** The local argv: ssh options, `--`, the destination, the remote command as one argument. */
export function sshArgv(input: SshInput, command: string): string[] {
  validateHost(input.host);
  if (input.sshConfig === '') invalidArgument('ssh config path is empty');
  return [
    ...(input.sshProgram ?? SSH_PROGRAM),
    ...(input.sshConfig !== undefined ? ['-F', input.sshConfig] : []),
    // No tty: the pcap stream is binary, and a tty would turn \n into \r\n.
    '-T',
    // Never wait for a password or a host-key question nobody will answer.
    '-o',
    'BatchMode=yes',
    // Notice a dead connection in ~6 s instead of TCP's minutes.
    '-o',
    'ServerAliveInterval=2',
    '-o',
    'ServerAliveCountMax=3',
    // A RemoteCommand in the user's config would make ssh refuse our command.
    '-o',
    'RemoteCommand=none',
    // One ssh per interface: the user's LocalForward lines would collide with each other.
    '-o',
    'ClearAllForwardings=yes',
    '--',
    input.host,
    command,
  ];
}
