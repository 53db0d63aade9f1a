// sshd and ssh configuration for lab hosts: each host namespace runs
// its own sshd on its loopback, reached with `ProxyCommand ip netns exec <ns> nc
// 127.0.0.1 22`, so remote capture goes over real ssh without any link between a
// lab namespace and the root namespace.

/** An ed25519 key pair without passphrase: `path` and `path.pub`. */
export function sshKeygenArgv(path: string, comment: string): string[] {
  return ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path];
}

export interface SshdConfigInput {
  hostKey: string;
  authorizedKeys: string;
  pidFile: string;
}

export function sshdConfigText(input: SshdConfigInput): string {
  return [
    '# written by hopscope lab: sshd of one lab host, inside its namespace',
    'ListenAddress 127.0.0.1:22',
    `HostKey ${input.hostKey}`,
    `PidFile ${input.pidFile}`,
    `AuthorizedKeysFile ${input.authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    // PAM would consult the machine's real login stack; the lab needs none of it.
    'UsePAM no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    // MaxStartups stays sshd's default (10:30:100), as on a real host: hopscope sets up
    // a few connections to a host at a time (sources/ssh-start-gate.ts).
    'LogLevel INFO',
    '',
  ].join('\n');
}

export interface SshClientHost {
  /** the Host alias */
  alias: string;
  netns: string;
}

export interface SshClientConfigInput {
  hosts: readonly SshClientHost[];
  identityFile: string;
  /** absolute paths, so the config works whatever PATH ssh runs with */
  ipPath: string;
  ncPath: string;
}

export function sshClientConfigText(input: SshClientConfigInput): string {
  const lines = ['# written by hopscope lab: use with ssh -F <this file> <host>', ''];
  for (const host of input.hosts) {
    lines.push(
      `Host ${host.alias}`,
      '  HostName 127.0.0.1',
      '  Port 22',
      '  User root',
      `  IdentityFile ${input.identityFile}`,
      '  IdentitiesOnly yes',
      // Lab host keys are generated per lab: nothing to pin, nothing to remember.
      '  StrictHostKeyChecking no',
      '  UserKnownHostsFile /dev/null',
      '  LogLevel ERROR',
      '  BatchMode yes',
      `  ProxyCommand ${input.ipPath} netns exec ${host.netns} ${input.ncPath} 127.0.0.1 22`,
      '',
    );
  }
  return lines.join('\n');
}
