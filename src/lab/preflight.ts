// What the lab needs from the machine, checked before anything is created so a
// missing tool is one clear line instead of a half-built lab.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UserError } from '../shared/user-error.js';
import type { ScenarioSpec } from './topology.js';

/** tool → Debian package that provides it */
const TOOLS: Record<string, string> = {
  ip: 'iproute2',
  ss: 'iproute2',
  nft: 'nftables',
  sysctl: 'procps',
  socat: 'socat',
  nc: 'netcat-openbsd',
  'ssh-keygen': 'openssh-client',
  '/usr/sbin/sshd': 'openssh-server',
};

export function assertRoot(): void {
  if (process.getuid?.() !== 0) throw new UserError('lab: must run as root (creates network namespaces)');
}

/** Absolute path of an executable found on PATH (or the path itself if absolute), or null. */
export function findExecutable(name: string): string | null {
  const candidates = name.startsWith('/')
    ? [name]
    : [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin']
        .filter(Boolean)
        .map((d) => join(d, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  return null;
}

export interface LabTools {
  ip: string;
  nc: string;
}

/** Checks every tool the scenario needs; returns the absolute paths written into files. */
export function checkTools(spec: ScenarioSpec): LabTools {
  const needed: Record<string, string> = { ...TOOLS };
  if (spec.daemons.some((d) => d.kind === 'dnsmasq')) needed.dnsmasq = 'dnsmasq-base';
  for (const t of spec.iptables)
    needed[t.backend === 'legacy' ? 'iptables-legacy-restore' : 'iptables-nft-restore'] = 'iptables';
  if (spec.daemons.some((d) => d.kind === 'background-traffic')) needed.conntrack = 'conntrack';
  const missing = Object.keys(needed).filter((tool) => findExecutable(tool) === null);
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((t) => needed[t]))].join(' ');
    throw new UserError(`lab: missing ${missing.join(', ')} (install: apt-get install ${packages})`);
  }
  return { ip: findExecutable('ip') as string, nc: findExecutable('nc') as string };
}

/** Prefixes become part of namespace names, ssh host aliases and a directory name. */
export function validatePrefix(prefix: string): void {
  // An empty prefix would give namespaces the bare names of a real deployment
  // (`client`, `qrouter-…`), which a lab must never take or delete.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,23}$/.test(prefix)) {
    throw new UserError(
      `lab: bad --prefix '${prefix}' (up to 24 letters, digits, '.', '_' or '-', starting with a letter or digit)`,
    );
  }
}
