// The files of `hopscope replay` (docs/spec-grammar.md "Replay's files"): each argument is FILE, LABEL=FILE or
// HOST:=FILE.
//
//   tap.pcap                          labels as the file records them, else its name: `tap`
//   compute:tap7aa08012-d0=tap.pcap   the file's one interface is compute:tap7aa08012-d0
//   compute:=tap.pcap                 every interface of the file is on host compute: `compute:tap`
//   ./a=b.pcap                        the file a=b.pcap: a LABEL never starts with '.' or '/'
//
// LABEL has a capture SPEC's form `[HOST:][NETNS/]IFACE` (sources/spec.ts) and names
// one interface: no glob. The first '=' ends it, so a file's name may hold '=' after
// it (`compute:eth0=run=2.pcap` is the file `run=2.pcap`). Files of different hosts
// are different clocks (docs/verdicts.md "Clocks"): the host is how the correlator knows them apart.
import type { CaptureFileInput } from '../framing/label.js';
import { RemoteCaptureError } from '../sources/remote-error.js';
import { validateHost } from '../sources/ssh.js';
import { parseSpecAs, SpecError, specIsOpen } from '../sources/spec.js';
import { UserError } from './errors.js';

function labelError(label: string, why: string): UserError {
  return new UserError(`replay: label ${JSON.stringify(label)}: ${why}`);
}

/** A label's host: an ssh destination's characters, and none that would end it (':') or read as a namespace ('/'). */
function checkHost(host: string, label: string): void {
  if (host.includes(':') || host.includes('/')) throw labelError(label, `a host holds no ':' or '/'`);
  try {
    validateHost(host);
  } catch (err) {
    if (err instanceof RemoteCaptureError) throw labelError(label, err.message);
    throw err;
  }
}

/** One argument of `replay`; a form that names nothing is a UserError saying what to write. */
export function parseReplayFile(arg: string): CaptureFileInput {
  const plain: CaptureFileInput = { path: arg, label: null, host: null, text: arg };
  const eq = arg.indexOf('=');
  if (eq < 0 || arg.startsWith('.') || arg.startsWith('/')) return plain;
  const label = arg.slice(0, eq);
  const path = arg.slice(eq + 1);
  if (label === '') {
    throw new UserError(
      `replay: ${JSON.stringify(arg)}: no label before '=': write LABEL=FILE (compute:eth0${arg}), ` +
        `HOST:=FILE (compute:${arg}), or ./${arg} for a file of that name`,
    );
  }
  if (path === '')
    throw new UserError(`replay: ${JSON.stringify(arg)}: no file after '=': write ${label}=FILE`);
  if (label.endsWith(':')) {
    const host = label.slice(0, -1);
    checkHost(host, label);
    return { path, label: null, host, text: arg };
  }
  let spec;
  try {
    spec = parseSpecAs('label', label);
  } catch (err) {
    if (err instanceof SpecError) throw new UserError(`replay: ${err.message}`);
    throw err;
  }
  if (specIsOpen(spec))
    throw labelError(label, 'a label names one interface, without globs (* ? [ and the namespace *)');
  if (spec.host !== null) checkHost(spec.host, label);
  return { path, label, host: null, text: arg };
}
