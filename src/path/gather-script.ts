// What `hopscope path` (and the cloud identities of `-i`) ask a host: one POSIX sh
// script, the same locally and over ssh, that prints the state the path follows —
// per network namespace its links with addresses (`ip -j -d addr`), routes and rules
// of both families, neighbours, the bridge fdb, the ids it has for other namespaces
// (`ip -j netns list-id`, to find a veth's peer), its nftables ruleset (NAT) and the
// sysctls forwarding needs; per host its boot id (hosts sharing a kernel share
// namespaces: the lab) and the processes holding tun/tap devices (a hypervisor, or a
// userspace shuttle joining two taps).
//
// The script is fixed text. The only values from the user are its positional
// parameters — the namespace pattern (a shell pattern in `case`, never evaluated) and
// the mode — and they reach the remote shell single-quoted (shell-quote.ts). Every
// section of the output starts with a marker line; a command that fails prints its
// stderr and an `error` marker, so one namespace vanishing mid-way costs only itself.
//
//   @@hopscope-path host BOOT_ID ROOT_INODE
//   @@hopscope-path ns NAME            (the host's own namespace: `ns -`)
//   @@hopscope-path part addr|route4|route6|rule4|rule6|neigh|fdb|nsid|nft|sysctl|inode
//   @@hopscope-path tun                 lines: PID NETNS_INODE COMM IFF
//   @@hopscope-path end

export const PATH_MARK = '@@hopscope-path';

/** `links`: what identities need (links, addresses, peers, taps); `full`: everything the path follows. */
export type GatherMode = 'links' | 'full';

// Run inside one namespace (directly for the host's own, under `ip netns exec` for a
// named one). `$1` is the mode. A part that fails prints its message and an error marker.
const DUMP = [
  'M=' + PATH_MARK,
  // stdout is the part; stderr only when the command fails (ip warns on stderr while
  // namespaces come and go — "Peer netns reference is invalid" — and still answers)
  'p() { n=$1; shift; echo "$M part $n"; { e=$("$@" 2>&1 >&3 3>&-); } 3>&1; r=$?;',
  '  [ "$r" -eq 0 ] || { printf "%s\\n" "$e"; echo "$M error"; }; }',
  'p inode stat -L -c %i /proc/self/ns/net',
  'p addr ip -j -d addr show',
  'p nsid ip -j netns list-id',
  'if [ "$1" = full ]; then',
  '  p route4 ip -4 -j route show table all',
  '  p route6 ip -6 -j route show table all',
  '  p rule4 ip -4 -j rule show',
  '  p rule6 ip -6 -j rule show',
  '  p neigh ip -j neigh show',
  '  p fdb bridge -j fdb show',
  '  if command -v nft >/dev/null 2>&1; then p nft nft -j list ruleset; fi',
  '  p sysctl grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding' +
    ' /proc/sys/net/ipv4/conf/*/proxy_arp /proc/sys/net/ipv4/conf/*/route_localnet',
  'fi',
].join('\n');

/**
 * The script; positional parameters: `$1` the namespace pattern (`*` for all), `$2`
 * the mode. Named namespaces not matching the pattern are skipped; the host's own
 * namespace is always dumped.
 */
export function gatherScript(): string {
  return [
    'PATH="$PATH:/usr/sbin:/sbin"; LC_ALL=C; export LC_ALL',
    'command -v ip >/dev/null 2>&1 || { echo "ip (iproute2) not found on the host" >&2; exit 127; }',
    `M=${PATH_MARK}; pat=$1; mode=$2`,
    `DUMP='${DUMP.replaceAll("'", "'\\''")}'`,
    'echo "$M host $(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo -) $(stat -L -c %i /proc/self/ns/net 2>/dev/null || echo -)"',
    'echo "$M ns -"',
    'sh -c "$DUMP" sh "$mode"',
    'ip netns list 2>/dev/null | while read -r ns _; do',
    '  case $ns in $pat) ;; *) continue ;; esac',
    '  echo "$M ns $ns"',
    '  ip netns exec "$ns" sh -c "$DUMP" sh "$mode" 2>&1 || echo "$M error"',
    'done',
    // Processes holding a tun/tap: which device (fdinfo's iff), and the namespace they run in.
    'echo "$M tun"',
    "find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/fd/*' -lname /dev/net/tun 2>/dev/null |" +
      ' while read -r f; do',
    '  pid=${f#/proc/}; pid=${pid%%/*}; fd=${f##*/}',
    '  iff=$(sed -n "s/^iff:[[:space:]]*//p" "/proc/$pid/fdinfo/$fd" 2>/dev/null)',
    '  [ -n "$iff" ] || continue',
    '  echo "$pid $(stat -L -c %i /proc/$pid/ns/net 2>/dev/null || echo -) $(tr -c "[:alnum:]._\\n-" _ </proc/$pid/comm 2>/dev/null || echo -) $iff"',
    'done',
    'echo "$M end"',
  ].join('\n');
}
