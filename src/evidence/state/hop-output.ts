// The hop script's output (hop-script.ts) split back into its sections. Pure.
import { NAMESPACE, NAMESPACE_RC, SECTION, SECTION_RC, type SectionName } from './hop-script.js';

export interface SectionOutput {
  /** stdout and stderr of the command, as one text */
  text: string;
  /** exit status; null when the section never ended (the script was cut off) */
  status: number | null;
}

/** Sections of one namespace, by `NAME` or `NAME ARG` (`route 0`). */
export type NamespaceOutput = Map<string, SectionOutput>;

export function sectionKey(name: SectionName, arg?: string | number): string {
  return arg === undefined ? name : `${name} ${arg}`;
}

/** Splits one namespace's output. */
export function splitSections(output: string): NamespaceOutput {
  const sections: NamespaceOutput = new Map();
  let current: { key: string; lines: string[] } | null = null;
  for (const line of output.split('\n')) {
    if (line.startsWith(`${SECTION_RC} `)) {
      const [, name, status] = line.split(' ');
      if (current !== null && current.key.split(' ')[0] === name) {
        sections.set(current.key, { text: current.lines.join('\n'), status: Number(status) });
        current = null;
      }
      continue;
    }
    if (line.startsWith(`${SECTION} `)) {
      if (current !== null) sections.set(current.key, { text: current.lines.join('\n'), status: null });
      current = { key: line.slice(SECTION.length + 1), lines: [] };
      continue;
    }
    current?.lines.push(line);
  }
  if (current !== null) sections.set(current.key, { text: current.lines.join('\n'), status: null });
  return sections;
}

export interface HostNamespaceOutput {
  /** null: the host's root namespace */
  netns: string | null;
  sections: NamespaceOutput;
  /** why the namespace could not be entered; null when it was */
  enterError: string | null;
}

/** Splits a host's batched output into its namespaces. */
export function splitHostOutput(output: string): HostNamespaceOutput[] {
  const result: HostNamespaceOutput[] = [];
  let current: { netns: string | null; lines: string[] } | null = null;
  const finish = (status: number | null): void => {
    if (current === null) return;
    const text = current.lines.join('\n');
    const entered = status === 0;
    // text before the first section is what `ip netns exec` said when it failed
    const firstSection = text.indexOf(`${SECTION} `);
    const before = (firstSection < 0 ? text : text.slice(0, firstSection)).trim();
    result.push({
      netns: current.netns,
      sections: splitSections(text),
      enterError: entered
        ? null
        : before !== ''
          ? before
          : status === null
            ? 'cut off'
            : `exit status ${status}`,
    });
    current = null;
  };
  for (const line of output.split('\n')) {
    if (line.startsWith(`${NAMESPACE_RC} `)) {
      finish(Number(line.slice(NAMESPACE_RC.length + 1)));
      continue;
    }
    if (line.startsWith(`${NAMESPACE} `)) {
      finish(null);
      const name = line.slice(NAMESPACE.length + 1);
      current = { netns: name === '-' ? null : name, lines: [] };
      continue;
    }
    current?.lines.push(line);
  }
  finish(null);
  return result;
}
