// Text for `lab list` and `lab status`: pure functions from data to lines, so
// the CLI only prints and tests compare strings.
import type { LabStatus, ScenarioSummary } from './lab.js';
import { trafficArgv } from './traffic.js';
import type { CapturePoint, LabView } from './view.js';

/** Quote an argument for a POSIX shell only when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shellLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

export function formatScenarioList(scenarios: readonly ScenarioSummary[]): string {
  const lines: string[] = [];
  for (const s of scenarios) {
    lines.push(`${s.name.padEnd(12)} ${s.summary}`);
    lines.push(`${''.padEnd(12)} hosts: ${s.hosts.join(', ')}`);
    for (const f of s.faults) lines.push(`${''.padEnd(12)}   --fault ${f.name.padEnd(18)} ${f.description}`);
    lines.push('');
  }
  lines.push("Bring one up with 'hopscope lab up SCENARIO [--fault NAME]'.");
  return `${lines.join('\n')}\n`;
}

/** `-i` spec of a capture point, local (`netns/iface`) or through the lab's ssh (`host:…`). */
export function captureSpec(point: CapturePoint, lab: LabView, remote: boolean): string {
  if (!remote) return `${point.netns}/${point.iface}`;
  const hostNetns = lab.hosts.find((h) => h.name === point.host)?.netns;
  return point.netns === hostNetns
    ? `${point.sshHost}:${point.iface}`
    : `${point.sshHost}:${point.netns}/${point.iface}`;
}

export function captureCommand(lab: LabView, remote: boolean): string[] {
  const argv = ['hopscope', 'capture'];
  if (remote) argv.push('--ssh-config', lab.sshConfigPath);
  for (const point of lab.capturePoints) argv.push('-i', captureSpec(point, lab, remote));
  return argv;
}

export function formatLabStatus(lab: LabStatus): string {
  const lines: string[] = [];
  const phase =
    lab.phase === 'up'
      ? 'up'
      : lab.phase === 'building'
        ? 'being built'
        : `interrupted while building (run 'hopscope lab down --prefix ${lab.prefix}')`;
  lines.push(`lab ${lab.scenario} — ${phase}`);
  lines.push(`  fault:      ${lab.fault ?? 'none'}`);
  lines.push(`  prefix:     ${lab.prefix === '' ? '(none)' : lab.prefix}`);
  lines.push(`  state:      ${lab.stateDir}`);
  lines.push(`  ssh config: ${lab.sshConfigPath}`);
  if (lab.missingNamespaces.length > 0)
    lines.push(`  MISSING namespaces: ${lab.missingNamespaces.join(', ')}`);
  const dead = lab.processes.filter((p) => !p.alive);
  if (dead.length > 0) lines.push(`  NOT RUNNING: ${dead.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);

  lines.push('', '  hosts (ssh -F <ssh config> HOST):');
  for (const h of lab.hosts) lines.push(`    ${h.sshName.padEnd(24)} ${h.description}`);

  lines.push('', '  namespaces and interfaces:');
  for (const n of lab.namespaces) {
    lines.push(`    ${n.name}  (${n.description}; host ${n.host})`);
    for (const i of lab.liveInterfaces.filter((x) => x.netns === n.name)) {
      const master = i.master ? ` master ${i.master}` : '';
      const addrs = i.addresses.length > 0 ? `  ${i.addresses.join(' ')}` : '';
      lines.push(
        `      ${i.name.padEnd(16)} ${i.role.padEnd(9)} ${i.state.padEnd(8)} mtu ${String(i.mtu).padEnd(5)}${master}${addrs}`,
      );
    }
  }

  lines.push('', '  traffic (paste as root):');
  for (const t of lab.traffic) {
    const expectation = t.expectSuccess ? '' : `   # fails with ${lab.fault}`;
    lines.push(`    ${shellLine(trafficArgv(t))}${expectation}`);
  }

  lines.push('', '  capture:');
  lines.push(`    ${shellLine(captureCommand(lab, false))}`);
  lines.push(`    ${shellLine(captureCommand(lab, true))}`);
  return `${lines.join('\n')}\n`;
}
