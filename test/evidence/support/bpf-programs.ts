// What BPF programs are loaded, by name (`bpftool prog show -j`): the check that a
// tracer left nothing of ours in the kernel.
import { execFileSync } from 'node:child_process';

export const DROP_PROGRAM = 'hopscope_drops';

export function loadedBpfPrograms(): string[] {
  const out = execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8' });
  const progs = JSON.parse(out) as Array<{ name?: string }>;
  return progs.map((p) => p.name ?? '');
}

export function ourBpfPrograms(): string[] {
  return loadedBpfPrograms().filter((n) => n === DROP_PROGRAM);
}
