// The lab's record of what it created. Written before each namespace is created
// and right after each process starts, always by whole-file atomic replace, so
// that after a crash at any point `lab down` finds everything to remove.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RecordedProcess } from './processes.js';
import { LAB_STATE_ROOT, labFiles } from './state-dir.js';
import type { LabView } from './view.js';

export const STATE_VERSION = 1;

export type LabPhase = 'building' | 'up';

export interface LabState {
  version: number;
  scenario: string;
  fault: string | null;
  prefix: string;
  phase: LabPhase;
  startedAt: string;
  /** the `lab up` process; a 'building' lab whose builder is gone was interrupted */
  builder: Pick<RecordedProcess, 'pid' | 'startTicks'>;
  /** namespaces this lab created (recorded before creation: some may not exist) */
  namespaces: string[];
  processes: RecordedProcess[];
  view: LabView;
}

/** The state directory exists already: a lab with that prefix is up, or its remains are. */
export class LabExistsError extends Error {
  readonly existing: LabState | null;
  constructor(dir: string, existing: LabState | null) {
    super(`${dir} exists`);
    this.name = 'LabExistsError';
    this.existing = existing;
  }
}

export class LabStateFile {
  readonly dir: string;
  #state: LabState;

  private constructor(dir: string, state: LabState) {
    this.dir = dir;
    this.#state = state;
  }

  /** Claim `dir` for a new lab (mkdir is the lock: it fails if another lab holds it). */
  static create(
    dir: string,
    initial: Omit<LabState, 'version' | 'phase' | 'namespaces' | 'processes' | 'startedAt'>,
  ): LabStateFile {
    mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new LabExistsError(dir, readLabState(dir));
      throw err;
    }
    const file = new LabStateFile(dir, {
      version: STATE_VERSION,
      phase: 'building',
      startedAt: new Date().toISOString(),
      namespaces: [],
      processes: [],
      ...initial,
    });
    file.#write();
    return file;
  }

  get state(): Readonly<LabState> {
    return this.#state;
  }

  addNamespace(name: string): void {
    this.#state.namespaces.push(name);
    this.#write();
  }

  forgetNamespace(name: string): void {
    this.#state.namespaces = this.#state.namespaces.filter((n) => n !== name);
    this.#write();
  }

  addProcess(process: RecordedProcess): void {
    this.#state.processes.push(process);
    this.#write();
  }

  setPhase(phase: LabPhase): void {
    this.#state.phase = phase;
    this.#write();
  }

  #write(): void {
    const path = labFiles.state(this.dir);
    const temp = `${path}.tmp`;
    writeFileSync(temp, `${JSON.stringify(this.#state, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, path);
  }
}

/** The recorded state in `dir`, or null when there is none (or it is unreadable). */
export function readLabState(dir: string): LabState | null {
  let text: string;
  try {
    text = readFileSync(labFiles.state(dir), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = JSON.parse(text) as LabState;
    return parsed.version === STATE_VERSION ? parsed : null;
  } catch {
    return null;
  }
}

/** Every lab state directory present (up, building, or left by a crash). */
export function listLabStateDirs(): string[] {
  try {
    return readdirSync(LAB_STATE_ROOT, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `${LAB_STATE_ROOT}/${e.name}`)
      .sort();
  } catch {
    return [];
  }
}
