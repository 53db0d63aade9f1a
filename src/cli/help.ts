// Help texts: each teaches its command with examples from the field.

export const MAIN_HELP = `hopscope — find the hop where your packets die.

A VM or pod is "running" but unreachable. hopscope captures on every virtual
interface at once (tap*, qbr/qvb/qvo, br100, qr-*/qg-* in qrouter-* namespaces,
tun0, vxlan_sys_4789, on several hosts), recognises the same packet at every hop
(through NAT and VXLAN), and tells, per ICMP echo and timestamp, TCP handshake,
DNS query, DHCP handshake and ARP exchange, where the request went and where the
reply vanished.

Usage:
  hopscope capture -i SPEC [-i SPEC ...] [-f BPF] [-w FILE.pcapng] [--json] [--packets]
  hopscope replay  [LABEL=|HOST:=]FILE ... [--speed N | --realtime] [--json] [--packets] [--report F]
                   [--annotate OUT.pcapng]
  hopscope ifaces  [--host H] [--netns NS | --all-netns] [--json]
  hopscope path    SRC DST [--host H ...] [--json]
  hopscope lab     up|down|status|list [SCENARIO] [--fault NAME]

Commands:
  capture   capture live on many interfaces (local, in namespaces, over ssh)
  replay    read pcap/pcapng recordings through the same pipeline
  ifaces    list candidate interfaces across namespaces and hosts
  path      the chain of interfaces a packet from SRC to DST crosses (and back)
  lab       build a namespace lab (nova-flat, dvr-fip, sdn-vxlan, dnat-local)
  demo      what \`npm start\` runs: a lab with a fault, captured and explained

Examples:
  hopscope capture -i 'tap*' -i 'qrouter-*/qr-*' -i br100 -w incident.pcapng
  hopscope capture -i root@compute2:vxlan_sys_4789 -i tun0 -f 'icmp or arp'
  hopscope replay captures/dvr-fip-sg-drop.pcapng --packets
  hopscope path 10.0.0.5 203.0.113.1
  hopscope lab up dvr-fip --fault sg-drop

Exit status: 0 ok, 1 lost or unanswered exchanges found, 2 usage or environment error.
Run 'hopscope COMMAND --help' for a command's options.
`;

export const CAPTURE_HELP = `hopscope capture — capture on many interfaces at once.

Usage:
  hopscope capture -i SPEC [-i SPEC ...] [options]

SPEC is [HOST:][NETNS/]IFACE:
  IFACE   an interface name or a glob: tap7aa08012-d0, 'tap*', 'qr-*', br100, any
          (globs never match lo or libpcap's pseudo-devices; name those). 'any'
          is one capture of every device of its namespace; its packets are
          sightings on the devices they were seen on (NETNS/eth1, NETNS/br100),
          so a router's any capture shows where inside it a packet stopped
          (docs/spec-grammar.md "Captures of every device")
  NETNS   a named namespace (qrouter-6f774e8e-...), a glob ('qrouter-*'),
          pid:1234 (the namespace of a process: a pod or container), or '*'
          (every named namespace and the root one); without it: the root namespace
  HOST    an ssh destination (root@compute2, a Host of your ssh config); the
          system ssh runs 'tcpdump -U -w -' there, so ProxyJump, keys etc. apply;
          time stamps in nanoseconds where that tcpdump takes
          --time-stamp-precision=nano (tcpdump >= 4.6, libpcap >= 1.5), else in
          microseconds (the interface record's tsResolutionNs says which)
  Quote globs so your shell does not expand them. A SPEC that matches nothing is
  an error that lists what exists (see also: hopscope ifaces --all-netns).

or [HOST:]IDENTITY, a cloud identity by the field's naming conventions (no cloud API):
  port:UUID         the port's devices in any namespace: tap, qbr, qvb, qvo (and
                    qr-, qg-, ns-, fg-) + the id's first 11 characters
  router:UUID       the interfaces of qrouter-UUID (qr-, qg-, rfp-) and snat-UUID,
                    and the DVR fip- namespace's fpr- and fg- that belong to it
  dhcp:NETWORK_UUID the interfaces of qdhcp-UUID (ns-, tap)
  ip:ADDR           the interfaces holding ADDR and the bridge port towards each
                    (a VM's tap, a pod veth's end); for a guest's address, the
                    bridge port its MAC was learned on
  An id may be shortened to its first 8 hex digits or more. An identity that names
  nothing is an error listing the nearest names that exist.

While capturing:
  - an interface that disappears (a tap deleted with its VM) or is set down is
    shown gone and the others go on; when it is back it is captured again, and
    a new interface matching a glob is attached, within about a second;
  - a namespace deleted (ip netns del; for pid:N the process gone) has its
    interfaces shown gone and their captures closed, so the kernel frees it and
    its veths; created again under its name, it is captured again;
  - a remote session that dies is restarted with backoff (shown retrying);
  - Ctrl-C, SIGTERM, SIGHUP or --duration end the capture: the recording is
    closed complete, with each interface's received/dropped counts;
  - a full disk stops the recording, not the capture: the file is cut back to
    its last whole block (still a valid pcapng) and stderr says so.

Options:
  -i, --interface SPEC   where to capture (repeat for several)
  -f, --filter BPF       tcpdump filter, applied in the kernel on every source
  -w, --write FILE       record everything to one pcapng: one interface block per
                         interface, named by its label, with its addresses, its
                         time stamps in their source's resolution (ns, or µs);
                         file mode 0600; flushed every second, from 32 MiB of
                         write buffers made ready before the first packet.
                         An existing FILE is refused (see --overwrite); a
                         symbolic link is never followed. When the capture
                         stops, the packets of every non-ok exchange get its
                         verdict as a packet comment ("hopscope: icmp-echo … LOST
                         request, last seen on …, missing on …; why: …"; in
                         Wireshark: frame.comment contains "LOST"): the file is
                         copied with them to a new file beside it, which replaces
                         it once complete. That costs one read and one write of
                         the recording and as much free space again while both
                         exist; a failure (a full disk) leaves the recording as
                         captured, and stderr says why
      --overwrite        replace FILE (or the --report file) if it is a regular
                         file of yours (never through a symbolic link)
      --path SRC DST     capture every interface of the chain a packet from SRC to
                         DST takes (and of the way back where it differs), as
                         'hopscope path SRC DST' finds it, instead of -i
      --host H           with --path: follow the chain onto host H too (repeat)
      --netns NS         with --path: look only in namespaces matching NS (a glob,
                         'qrouter-*'); the host's own namespace is always read
      --report FILE.html also write a self-contained HTML page when the capture
                         ends: the verdicts, each problem's ladder and cause, the
                         interfaces, clock offsets, the command line; refused if
                         FILE exists unless --overwrite
      --record           record to hopscope-YYYYMMDD-HHMMSS.pcapng (UTC) in the
                         working directory (_2, _3, ... if taken)
      --max-size MB      rotate the recording at this size: FILE, FILE-1, FILE-2 ...
      --max-files N      keep only the newest N files of the ring
      --packets          print every packet (tcpdump -n style), in time order
      --json             JSON lines (docs/json-lines.md): interface (with tsResolutionNs:
                         1 for ns time stamps, 1000 for µs, and addresses: its own,
                         as the listing showed them when it was attached or came
                         back), state, stats records; with --packets also one
                         packet record each
      --duration S       stop after S seconds
      --ssh-config FILE  ssh config for remote hosts (the lab writes one)
      --no-cause         do not gather why exchanges broke (below): no tracing,
                         no reading of the hops' state
      --trace-rules      also trace, with nftables' nftrace, a flow that broke on
                         this machine, where it broke: its next packets name the
                         rule that dropped them by handle. Adds a table of its own
                         to that namespace's ruleset while the capture runs
                         (removed at the end; a killed run's by the next run)
  -s, --snaplen N        bytes kept per packet (default 262144)
  -B, --buffer-size KiB  kernel capture buffer per local interface, mapped into
                         hopscope's memory (default 8192; over 32 local interfaces
                         share 256 MiB, at least 1024 each, and stderr says so)
      --remote-tcpdump P tcpdump's path on remote hosts (default: tcpdump in PATH)

On a terminal (without --json or --packets) the capture opens the terminal UI:
interfaces with their rates and drops, exchanges with problems first and where each
broke; Enter shows the ladder of one, / filters, 1-6 pick DHCP/DNS/ARP/ICMP/TCP,
r stops the recording or starts one (next to -w FILE as FILE.2.pcapng, else in the
working directory), ? lists every key, q quits (the recording is closed complete).

Output: every exchange (ICMP echo and timestamp, TCP handshake, DNS over UDP and
TCP, DHCP, ARP) is judged about half a second after its timeout: ok, lost (where it
was last seen, where it went missing), unanswered, error or inconclusive (the
capture was not looking). Not on a terminal: problems in full, the first 20 ok ones a line each,
then a table of packets captured, received and dropped (by the kernel) per
interface; notes about interfaces coming and going go to stderr. With --json:
interface, state, stats, exchange, clock and summary records (docs/json-lines.md).

Why it broke: for each lost, unanswered or error exchange, the capture reads the
hop where it broke, off the capture path — the kernel's drop reason for that very
packet (a BPF program here, a tracefs instance of its own over ssh), the nftables
and iptables rules that fit it or whose counter moved, neighbours, routes, sysctls,
links and MTU, conntrack, listening sockets — and gives the cause: a "why:" line in
the text report, under the selected row and at the ladder's ✗ in the terminal UI,
"cause" in the JSON exchange record. A problem's record waits for its cause at most
2 s, and the records after it wait behind it (verdict order kept). Not root, no
tracefs, no nft: the verdicts are the same, and the cause's evidence says what could
not be read. A recording (-w, --record) carries the causes, so a replay shows them.
Nothing is changed on any host (but for --trace-rules); the tracing and tables are
removed at the end, also on Ctrl-C, and a killed run's are removed by the next.

A reader slower than the capture (stdout into a busy pipe) never holds it up: at
most 16 MiB of output waits for it; lines beyond are skipped and counted, and said
(a skipped record with --json, and a line on stderr) once it reads again and at
the end. The final counters and verdicts are always printed. A reader that goes
away (| head) ends the capture, the recording closed complete.

Examples:
  hopscope capture -i 'tap*' -i br100 -i eth1 -w incident.pcapng
  hopscope capture -i 'qrouter-*/qr-*' -i 'qrouter-*/qg-*' -f icmp --packets
  hopscope capture -i root@compute2:vxlan_sys_4789 -i tun0 -f 'icmp or arp' --json
  hopscope capture -i pid:4242/eth0 -i tun0 --duration 30 --record
  hopscope capture -i port:7aa08012-d0e5-4c3b-9a1f-1b2c3d4e5f60 -i router:6f774e8e-2f5b-4c1d-9a3e-0b1c2d3e4f50
  hopscope capture -i root@compute2:ip:10.0.0.5 -w vm.pcapng
  hopscope capture --ssh-config /run/hopscope/lab/hs-/ssh_config \\
                   -i hs-compute:'hs-qrouter-*/qr-*' -i hs-network:'hs-qdhcp-*/ns-*'

Exit status: 0 when nothing was lost, 1 when an exchange was lost or unanswered,
2 when the capture could not start (not root, no such interface or namespace, bad
filter, ssh or remote tcpdump failing) or stdout could not be written (a full disk).
`;

export const REPLAY_HELP = `hopscope replay — read recordings through the same pipeline as live capture.

Usage:
  hopscope replay [LABEL=|HOST:=]FILE ... [options]

Reads pcap (microsecond or nanosecond, either byte order) and pcapng (several
interfaces, any timestamp resolution), merging several files by timestamp. An
interface without a recorded name is labelled by its file's name without
extension (natdrop-qg.pcap -> natdrop-qg). A capture of every device (tcpdump -i
any -w router.pcap) is split into the devices its packets name by ifindex:
router#if2, router#if3 (ip link in that namespace tells their names).

Files from several machines are several clocks: say which machine each came from.
  LABEL=FILE   names the file's one interface; LABEL is a capture SPEC without globs,
               [HOST:][NETNS/]IFACE (compute:tap7aa08012-d0=tap.pcap)
  HOST:=FILE   puts every interface of the file on HOST: its labels become
               HOST:<label> (external:=ext.pcap -> external:ext); a label recorded
               with another host is an error, one with HOST is kept
The correlator estimates each host's clock offset, with its uncertainty, from
packets seen on two hosts and puts every host on the first one's clock ("clock"
records with --json); hops are ordered by the network (TTL, addresses, round
trips), and by time across hosts only beyond that uncertainty. Files of several
hosts are read twice: first for the clocks (any skew, seconds too), then merged on
the first host's clock (docs/verdicts.md "Clocks"). The workflow:
tcpdump -w on each machine, then one replay naming each file's host. A file
whose name holds '=' is given as ./a=b.pcap (a LABEL never starts with . or /).

Every exchange is judged as live capture judges it, by packet time: ok, lost (last
seen on …, never reached …; or reached the asker and not taken: a TCP client sent
its SYN again, a resolver its query), unanswered, error, inconclusive; the text
report shows each problem with its path hop by hop, --json one exchange record
each. Exit status 1 when anything was lost or unanswered, 2 when a file cannot be
read: damaged (with the byte offset), not readable (permission denied, I/O error,
not a regular file), or past a limit (more than 65,536 interfaces, a time before
1970 or past 2^53 s) — one line, after the verdicts of the packets read before it;
also when its interfaces cannot be named as its argument asks, or stdout cannot be
written (a full disk).

A recording hopscope capture made carries the cause of each problem it found (see
capture --help): the replay shows the same ("why:" lines, the TUI, "cause" in
--json); it reads no host's state itself. A file without causes (tcpdump's, or a
capture with --no-cause) gives verdicts only, and says so once on stderr when it
has problem exchanges.

Output waits for its reader: into a slow pipe (| jq) reading and decoding pause
while 1 MiB is waiting, and every line is delivered. A reader that goes away
(| head) ends the replay.

On a terminal (without --json or --packets) the replay opens the terminal UI, as
capture does: interfaces, exchanges with problems first and where each broke, Enter
for the ladder of one, / to filter, 1-6 for DHCP/DNS/ARP/ICMP/TCP, ? for every key,
q to quit. With --speed or --realtime it plays the recording at its own pace.

Options:
      --packets          print every packet, one line each, tcpdump -n style
      --json             JSON lines (docs/json-lines.md): an interface record each, with its
                         file, tsResolutionNs (what its time stamps tell apart,
                         in ns: 1000 for µs pcap, pcapng if_tsresol rounded up)
                         and addresses (pcapng if_IPv4addr, if_IPv6addr);
                         with --packets, one record per packet
      --speed N          replay at N times the recorded speed, verdicts coming as they
                         would have live (in the TUI +/- change it, p pauses)
      --realtime         replay at the recorded speed (same as --speed 1)
      --report FILE.html also write a self-contained HTML page of the run: the
                         verdicts, each problem's ladder and cause, the
                         interfaces, clock offsets, the command line; refused if
                         FILE exists unless --overwrite
      --annotate OUT     also write every packet of the replay to OUT (pcapng),
                         those of non-ok exchanges with the verdict as a packet
                         comment (Wireshark: frame.comment contains "LOST"). One
                         pcapng file is copied whole (its statistics blocks and
                         comments kept); several files, or a pcap, are merged into
                         one pcapng. Opened before the replay as -w opens a
                         recording: mode 0600, refused if OUT exists unless
                         --overwrite, never through a symbolic link
      --overwrite        replace the --report or --annotate file if it is a
                         regular file of yours

Examples:
  hopscope replay captures/dvr-fip-sg-drop.pcapng --report incident.html
  hopscope replay captures/dvr-fip-sg-drop.pcapng --annotate annotated.pcapng
  wireshark -Y 'frame.comment contains "LOST"' annotated.pcapng
  hopscope replay captures/dvr-fip-sg-drop.pcapng --packets
  hopscope replay natdrop-tap.pcap natdrop-qg.pcap --packets --json | jq .
  # tcpdump -i tap7aa08012-d0 -w tap.pcap on the compute node, tcpdump -i eth0 -w ext.pcap
  # on the external host, then both files here:
  hopscope replay compute:tap7aa08012-d0=tap.pcap external:eth0=ext.pcap
`;

export const IFACES_HELP = `hopscope ifaces — the map of interfaces to choose what to capture.

Usage:
  hopscope ifaces [--host H] [--netns NS | --all-netns] [--json] [--ssh-config FILE]

Lists every interface, one block per namespace ("namespace qrouter-6f77… (3
interfaces)", or "root namespace"; "HOST: …" for a remote host), like
'ip -br addr' with more columns:
  NAME       the interface name, as -i takes it
  ROLE       guessed from the name, then the link kind: tap (VM port), qbr, qvb,
             qvo (OpenStack hybrid plug), qr, qg (router ports), rfp, fpr, fg (DVR
             floating-IP ports), bridge (Linux bridge or OVS: br-int, br100, br0),
             tun (tun0), vxlan (vxlan_sys_4789, geneve, gre), veth, physical (a
             NIC: eth0, ens3), loopback, other
  STATE      the operational state as ip prints it (UP, DOWN, LOWERLAYERDOWN,
             UNKNOWN for lo and taps in use); "(set down)" when administratively
             down
  MTU        the MTU
  MASTER     the bridge (or ovs-system) the interface is a port of, "-" if none
  ADDRESSES  IPv4 and IPv6 addresses with their prefix length
then a capture command to start from. Without --netns/--all-netns: the root
namespace only (no privileges needed); looking into other namespaces on this
machine needs root (CAP_SYS_ADMIN). A namespace that cannot be asked (it vanished
meanwhile) is a warning on stderr naming it and why; the others are listed.

Options:
      --host H           ask a remote host over ssh (your ssh config applies;
                         one ssh session runs ip there)
      --netns NS         only these namespaces: a name, a glob ('qrouter-*'), or
                         pid:1234 (the namespace of a process: a pod or container)
      --all-netns        the root namespace and every named one
      --json             one JSON object per interface: {"type":"iface", host,
                         netns, name, label ([HOST:][NETNS/]NAME, as -i takes it),
                         role, kind (ip's link kind), state, adminUp, mtu, mac,
                         master, addresses}
      --ssh-config FILE  ssh config for remote hosts (the lab writes one)

Examples:
  hopscope ifaces --all-netns
  hopscope ifaces --netns 'qrouter-*' --json | jq -r 'select(.role=="qr") | .label'
  hopscope ifaces --netns pid:$(pgrep -f my-pod-app | head -1)
  hopscope ifaces --host root@compute2 --netns 'qrouter-*'
  hopscope ifaces --ssh-config /run/hopscope/lab/hs-/ssh_config --host hs-compute

Exit status: 0 listed, 2 when nothing could be listed: no such namespace (the
message lists those that exist), no process for pid:N, ssh failing, ip failing.
`;

export const PATH_HELP = `hopscope path — where a packet from SRC to DST goes, interface by interface.

Usage:
  hopscope path SRC DST[:PORT] [--host H ...] [--netns NS] [--proto P] [--json]
                [--ssh-config FILE]

SRC is an address of a VM or pod (or any interface); DST an address, with a port
where a port forward matters (198.51.100.1:80, [2001:db8::1]:443). The path is
computed from the system's own state, read once per host (one process; over ssh
for --host): in the namespace holding SRC, the route to DST, then hop by hop —
a veth to its other end (in whichever namespace), a tap to the process holding
it (a VM's hypervisor; a process holding two taps joins them), a bridge to the
port its fdb names for the neighbour's MAC (ip neigh), or else to the port behind
which something holds (or proxy-ARPs for) the next hop, a VXLAN device to the
host holding its remote (fdb dst, else its remote) and that host's VXLAN device
of the same VNI; in each namespace nftables NAT (dnat, snat, masquerade,
redirect, iptables-nft rules too) rewrites the address followed, 127/8 arriving
on an interface without route_localnet is dropped, forwarding off drops, and a
missing route ends the path. Then the answer, from DST back to SRC (conntrack
undoes the NAT the request met); shown in full when its interfaces are not the
same in reverse.

Printed in the order of the ladder's columns, one interface a line:
[HOST:][NETNS/]IFACE (as capture -i takes it), its role (as ifaces guesses it),
and what happens there (the route, NAT, the bridge, the tap's process); then how
the path ends, and the capture command for every interface of both ways. A bridge
that only forwards between its ports is not listed (frames it forwards never show
on the bridge device); the bridge-side end of a veth whose other end is a router's
interface in the middle (qr-, fg-, tun0: an OVS internal port in a real
deployment) is listed as that interface's twin, not a hop of its own.

Options:
      --host H           follow the path across this host too (repeatable); its
                         state is read over ssh (ssh config, keys, ProxyJump
                         apply); without --host: this machine, all namespaces
      --netns NS         look only in namespaces matching NS (a glob:
                         'qrouter-*'); the host's own namespace is always read
      --proto P          icmp, tcp or udp (default: tcp with a port, else icmp)
      --json             one record: {"type":"path", src, dst, proto, dport,
                         forward, back, backDiffers, capture, notes}; forward and
                         back are {src, dst, hops, end: {status, note}}, status
                         delivered, left (to what is not listed: a VM, a host not
                         asked) or stopped; each hop {label, host, netns, name,
                         role, kind, src, dst, bridge, twin, tunnel, notes}
      --ssh-config FILE  ssh config for --host (the lab writes one)

Not followed: Open vSwitch flows (the path stops at an OVS port), VRFs, policy
routing on marks, nat rules that match on more than addresses, ports and
interfaces (said in a note). Linux bridges, veths, taps, VXLAN and nftables are.

Examples:
  hopscope path 10.0.0.5 203.0.113.1
  hopscope path 203.0.113.1 203.0.113.20 --netns 'q*' --json | jq -r '.capture[]'
  hopscope path 198.51.100.10 198.51.100.1:80
  hopscope path 10.128.0.5 10.128.2.5 --host root@node1 --host root@node2

Exit status: 0 followed to DST and back (or to what is not listed), 1 a way
stops (no route, dropped: the note says where and why), 2 usage or environment
error (SRC held by no interface, or by several: narrow with --netns).
`;

export const LAB_HELP = `hopscope lab — build real topologies in network namespaces to see hopscope work.

Usage:
  hopscope lab list [--json]
  hopscope lab up SCENARIO [--fault NAME] [--prefix P] [--json]
  hopscope lab status [SCENARIO] [--prefix P] [--json]
  hopscope lab down [SCENARIO] [--prefix P]

Scenarios (run 'hopscope lab list' for their faults):
  nova-flat    nova-network FlatDHCP: vm eth0 -> tap -> br100 -> eth1, SNAT to a
               floating IP -> external host; real dnsmasq for DHCP and DNS
  dvr-fip      Neutron DVR with a floating IP: tap -> qbr -> qvb/qvo -> br-int ->
               qrouter qr-/rfp- -> fip fpr-/fg- -> br-ex -> outside
  sdn-vxlan    OpenShift SDN: pod veth -> br0 -> tun0; node to node over
               vxlan_sys_4789 on an underlay
  dnat-local   DNAT to a local port: ingress NIC -> nat PREROUTING -> a service
               on 127.0.0.1:8080

Everything lives in namespaces named like the real thing (qrouter-<uuid>,
tap<port-id>), addresses in 10/8, 192.168/16 and the documentation ranges; the
root namespace is never touched. Hosts of multi-host scenarios run their own sshd,
reachable through the ssh config that 'lab up' writes
(/run/hopscope/lab/<prefix>/ssh_config); 'lab status' prints ready-to-paste
traffic and capture commands. Must run as root.

Options:
      --fault NAME       inject a fault (see 'hopscope lab list')
      --prefix P         prefix of every namespace and ssh host (default hs-);
                         tests use one per run so labs never collide
      --json             machine-readable output

Examples:
  hopscope lab up dvr-fip --fault sg-drop
  hopscope lab status
  ip netns exec hs-instance-00000001 ping -c 3 203.0.113.10   # as printed by status
  hopscope lab down
`;

export const DEMO_HELP = `hopscope demo — what 'npm start' runs.

As root: brings up the dvr-fip lab with its security-group fault, runs its traffic
over and over and captures all 14 of its interfaces — in the terminal UI on a
terminal (q quits and tears the lab down), otherwise for --duration seconds
(default 6) with the text report of verdicts. Not root: replays the shipped
recording of the same incident from captures/.

Options:
      --duration S       how long to capture without a terminal (default 6)
`;
