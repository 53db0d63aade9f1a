// One line per packet in the manner of `tcpdump -n -tt`, prefixed by the interface
// label so lines from many interfaces read as one story:
//   1700000000.123456789 qrouter-6f77/qr-56c70d72-3b IP 10.0.2.24 > 203.0.113.7: ICMP echo request, id 24895, seq 1
import { type PacketView } from '../events/types.js';

const ICMP4_UNREACH: Record<number, string> = {
  0: 'net unreachable',
  1: 'host unreachable',
  2: 'protocol unreachable',
  3: 'port unreachable',
  4: 'frag-needed',
  9: 'net prohibited',
  10: 'host prohibited',
  13: 'admin prohibited',
};
const ICMP6_UNREACH: Record<number, string> = {
  0: 'no route',
  1: 'admin prohibited',
  3: 'address unreachable',
  4: 'port unreachable',
};

function icmpText(v: PacketView, icmp: NonNullable<PacketView['icmp']>): string {
  const six = v.proto === 'icmpv6';
  const { type, code } = icmp;
  let text: string;
  if (!six && (type === 8 || type === 0))
    text = `ICMP echo ${type === 8 ? 'request' : 'reply'}, id ${icmp.id}, seq ${icmp.seq}`;
  else if (six && (type === 128 || type === 129))
    text = `ICMP6 echo ${type === 128 ? 'request' : 'reply'}, id ${icmp.id}, seq ${icmp.seq}`;
  else if (!six && type === 3)
    text = `ICMP ${ICMP4_UNREACH[code] ?? `unreachable code ${code}`}${icmp.mtu !== undefined ? ` mtu ${icmp.mtu}` : ''}`;
  else if (!six && type === 11) text = 'ICMP time exceeded in-transit';
  else if (!six && type === 5) text = 'ICMP redirect';
  else if (six && type === 1) text = `ICMP6 unreachable ${ICMP6_UNREACH[code] ?? `code ${code}`}`;
  else if (six && type === 2) text = `ICMP6 packet too big, mtu ${icmp.mtu ?? '?'}`;
  else if (six && type === 3) text = 'ICMP6 time exceeded in-transit';
  else if (six && type === 135) text = 'ICMP6 neighbor solicitation';
  else if (six && type === 136) text = 'ICMP6 neighbor advertisement';
  else if (six && type === 133) text = 'ICMP6 router solicitation';
  else if (six && type === 134) text = 'ICMP6 router advertisement';
  else text = `${six ? 'ICMP6' : 'ICMP'} type ${type} code ${code}`;
  if (v.quoted) {
    const q = v.quoted;
    const ports = q.sport !== null ? ` ports ${q.sport} > ${q.dport}` : '';
    text += ` (quoting ${q.src} > ${q.dst} proto ${q.proto}${ports})`;
  }
  return text;
}

function endpoint(addr: string | null, port: number | null): string {
  return port === null ? `${addr}` : `${addr}.${port}`;
}

function l4Text(v: PacketView): string {
  if (v.icmp) return icmpText(v, v.icmp);
  if (v.dns) {
    const d = v.dns;
    const q = `${d.qtype ?? '?'}? ${d.qname ?? '?'}`;
    if (!d.qr) return `DNS ${d.id}+ ${q}`;
    const rcode = d.rcode === 0 ? '' : ` rcode ${d.rcode}`;
    return `DNS ${d.id}${rcode} ${q} ${d.answers.length} answers${d.answers.length ? `: ${d.answers.join(', ')}` : ''}`;
  }
  if (v.dhcp) {
    const d = v.dhcp;
    const parts = [
      `DHCP ${d.msgType ?? (d.op === 1 ? 'BOOTREQUEST' : 'BOOTREPLY')}`,
      `xid 0x${d.xid.toString(16).padStart(8, '0')}`,
    ];
    if (d.chaddr) parts.push(`chaddr ${d.chaddr}`);
    if (d.yiaddr && d.yiaddr !== '0.0.0.0') parts.push(`yiaddr ${d.yiaddr}`);
    if (d.serverId) parts.push(`server ${d.serverId}`);
    return parts.join(', ');
  }
  if (v.tcp) return `Flags [${v.tcp.flags}], seq ${v.tcp.seq}, ack ${v.tcp.ack}`;
  if (v.proto === 'udp') return 'UDP';
  return v.proto ?? '';
}

export function formatPacketLine(v: PacketView): string {
  let body: string;
  if (v.arp) {
    const a = v.arp;
    body =
      a.op === 1
        ? `ARP, Request who-has ${a.tpa} tell ${a.spa}`
        : a.op === 2
          ? `ARP, Reply ${a.spa} is-at ${a.sha}`
          : `ARP, op ${a.op} ${a.spa} > ${a.tpa}`;
  } else if (v.src !== null) {
    const ip = v.src.includes(':') ? 'IP6' : 'IP';
    body = `${ip} ${endpoint(v.src, v.sport)} > ${endpoint(v.dst, v.dport)}: ${l4Text(v)}`;
    if (v.fragment?.later) body += ` (frag offset ${v.fragment.offset})`;
  } else {
    body = v.layers.length ? v.layers.join('/') : 'unknown link';
  }
  if (v.tunnel) {
    const t = v.tunnel;
    body = `${t.type.toUpperCase()}${t.vni !== null ? ` vni ${t.vni}` : ''} ${t.outerSrc} > ${t.outerDst}: ${body}`;
  }
  if (v.vlan.length) body = `vlan ${v.vlan.join(',')} ${body}`;
  if (v.malformed)
    body += ` [malformed ${v.malformed.layer}: ${v.malformed.reason} at +${v.malformed.offset}]`;
  else if (v.truncated) body += ' [|truncated]';
  return `${v.ts} ${v.iface} ${body}, length ${v.len}`;
}
