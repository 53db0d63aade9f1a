// Parsing an interface label, `[HOST:][NETNS/]NAME` (docs/json-lines.md "Labels"):
// the inverse of events/types.ts's interfaceLabel. Merging files, the TUI and the
// tests read labels back into their parts with it.

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
