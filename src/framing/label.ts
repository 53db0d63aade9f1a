// Interface labels (DESIGN §2, §3): `[HOST:][NETNS/]NAME`, and the names replay
// gives interfaces a capture file did not name.

import { basename, extname } from 'node:path';
import type { InterfaceLocation } from '../events/types.js';

/**
 * Split a label into host, namespace and interface name.
 *
 *   br100                               → {host: null, netns: null, name: 'br100'}
 *   qrouter-6f77/qr-56c70d72-3b         → {host: null, netns: 'qrouter-6f77', name: 'qr-56c70d72-3b'}
 *   root@compute2:tap7aa08012-d0        → {host: 'root@compute2', netns: null, name: 'tap7aa08012-d0'}
 *   compute:qrouter-x/qr-1              → all three
 *   [2001:db8::7]:eth0                  → host '2001:db8::7' (brackets let a host hold colons)
 *   pid:1234/eth0, h:pid:1234/eth0      → netns 'pid:1234' (the SPEC's process namespace)
 *
 * Linux interface and namespace names hold neither '/' nor NUL, so the name is what
 * follows the last '/', and a host is what precedes the first ':'. A label that does
 * not parse as a location (empty host) is taken as a plain name.
 */
export function parseLabel(label: string): InterfaceLocation {
  let rest = label;
  let host: string | null = null;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']:');
    if (close > 1) {
      host = rest.slice(1, close);
      rest = rest.slice(close + 2);
    }
  } else if (!/^pid:\d+\//.test(rest)) {
    const colon = rest.indexOf(':');
    const slash = rest.indexOf('/');
    // A ':' after the '/' belongs to the name (eth0:1 aliases), not to a host.
    if (colon > 0 && (slash < 0 || colon < slash)) {
      host = rest.slice(0, colon);
      rest = rest.slice(colon + 1);
    }
  }
  const slash = rest.lastIndexOf('/');
  const netns = slash > 0 ? rest.slice(0, slash) : null;
  const name = slash >= 0 ? rest.slice(slash + 1) : rest;
  return { host, netns, name };
}

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
 * A capture file as `replay` was given it (DESIGN §2): `FILE`, `LABEL=FILE` (the label
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
