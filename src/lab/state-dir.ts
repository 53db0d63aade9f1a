// Where a lab keeps what it needs to be taken down again, and the files its
// daemons use: one directory per prefix under /run (tmpfs: a reboot, which also
// removes every namespace, removes the record too).
//
//   /run/hopscope/lab/<prefix or "default">/
//     state.json                   what was created: namespaces, processes (pid + start time)
//     ssh_config                   Host entries for every lab host (ProxyCommand ip netns exec … nc)
//     ssh_host_ed25519_key[.pub]   the hosts' sshd host key
//     id_ed25519[.pub]             the client key (and the hosts' authorized key)
//     sshd-<host>.conf, sshd-<host>.pid
//     dnsmasq-<name>.leases, dnsmasq-<name>.pid
//     nft-<netns>-<ruleset>.nft    every ruleset loaded, as loaded
//     iptables-<netns>-<name>.rules every iptables-restore script loaded
//     <process>.log                stdout/stderr of every daemon
import { join } from 'node:path';

export const LAB_STATE_ROOT = '/run/hopscope/lab';

export function labStateDir(prefix: string): string {
  return join(LAB_STATE_ROOT, prefix === '' ? 'default' : prefix);
}

export const labFiles = {
  state: (dir: string): string => join(dir, 'state.json'),
  sshConfig: (dir: string): string => join(dir, 'ssh_config'),
  hostKey: (dir: string): string => join(dir, 'ssh_host_ed25519_key'),
  clientKey: (dir: string): string => join(dir, 'id_ed25519'),
  sshdConfig: (dir: string, host: string): string => join(dir, `sshd-${host}.conf`),
  sshdPid: (dir: string, host: string): string => join(dir, `sshd-${host}.pid`),
  dnsmasqLeases: (dir: string, name: string): string => join(dir, `dnsmasq-${name}.leases`),
  dnsmasqPid: (dir: string, name: string): string => join(dir, `dnsmasq-${name}.pid`),
  nftRuleset: (dir: string, netns: string, name: string): string => join(dir, `nft-${netns}-${name}.nft`),
  iptablesRules: (dir: string, netns: string, name: string): string =>
    join(dir, `iptables-${netns}-${name}.rules`),
  log: (dir: string, process: string): string => join(dir, `${process}.log`),
};
