// The labels replay gives the interfaces of capture files: the recorded name, the
// file's name when there is none, and what LABEL=FILE and HOST:=FILE make of them
// (docs/spec-grammar.md). Parsing a label is shared/label.ts.

import { basename, extname } from 'node:path';
import { parseLabel } from '../shared/label.js';

/** `natdrop-qg.pcap` → `natdrop-qg`; `/x/y/run.1.pcapng` → `run.1`. */
export function fileBaseLabel(path: string): string {
  const base = basename(path);
  const ext = extname(base);
  return ext.length > 0 && ext.length < base.length ? base.slice(0, -ext.length) : base;
}

/**
 * The label of an interface read from a file: its recorded name (if_name) when there
 * is one, else the file's base name, or `<base>#<idx>` when the file has several
 * unnamed interfaces (idx: the interface's index in the file, counted over sections).
 */
export function fileInterfaceLabel(
  recordedName: string | null,
  fileBase: string,
  indexInFile: number,
  severalUnnamed: boolean,
): string {
  if (recordedName !== null && recordedName.length > 0) return recordedName;
  return severalUnnamed ? `${fileBase}#${indexInFile}` : fileBase;
}

/**
 * A capture file as `replay` was given it (docs/spec-grammar.md): `FILE`, `LABEL=FILE` (the label
 * of its one interface) or `HOST:=FILE` (the host of all its interfaces). Files of
 * different hosts are different clocks: the host is what tells the correlator so.
 */
export interface CaptureFileInput {
  path: string;
  /** LABEL=FILE: the label of the file's single interface, in place of any other */
  label: string | null;
  /** HOST:=FILE: the host every interface of the file is on */
  host: string | null;
  /** the argument as written, for messages */
  text: string;
}

/** A file's interfaces cannot be named as its argument asks; the message is one line. */
export class InterfaceLabelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterfaceLabelError';
  }
}

/**
 * How a file is given to `replay` as itself, whatever its name: a LABEL never starts
 * with '.' or '/', so `./a=b.pcap` is the file `a=b.pcap`.
 */
export function plainFileArgument(path: string): string {
  return path.includes('=') && !path.startsWith('.') && !path.startsWith('/') ? `./${path}` : path;
}

/**
 * The label of an interface of `file` as its argument names it, from `label`, the one
 * it has on its own (fileInterfaceLabel), and the number of interfaces the file has
 * shown so far. LABEL=FILE needs a file of one interface. HOST:=FILE puts the host in
 * front of each label; a label recorded with a host keeps it when it is that host and
 * is refused when it is another (a file's interfaces are never quietly split between
 * hosts, nor moved from the one they were recorded on).
 */
export function givenInterfaceLabel(file: CaptureFileInput, label: string, interfacesInFile: number): string {
  const plain = plainFileArgument(file.path);
  if (file.label !== null) {
    if (interfacesInFile > 1) {
      const host = parseLabel(file.label).host;
      throw new InterfaceLabelError(
        `${file.text}: the file has ${interfacesInFile} interfaces and a LABEL names one: write ${plain} ` +
          `to keep their own labels, or ${host ?? 'HOST'}:=${file.path} to put them all on ${host === null ? 'a' : 'that'} host`,
      );
    }
    return file.label;
  }
  if (file.host === null) return label;
  const recorded = parseLabel(label).host;
  if (recorded === null) return `${file.host}:${label}`;
  if (recorded === file.host) return label;
  throw new InterfaceLabelError(
    `${file.text}: interface "${label}" of the file was recorded on host ${recorded}, not ${file.host} ` +
      `(a recorded host is not replaced): write ${plain} to keep the recorded hosts`,
  );
}
