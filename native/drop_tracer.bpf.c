// The kernel side of the drop tracer (drop_tracer.h): one BPF program on the
// skb:kfree_skb tracepoint (tp_btf), which reports each dropped packet of a
// watched network namespace with the packet's own fields, so that user space
// matches a drop to an exchange by what the packet is, not by when it died.
//
// CO-RE without a generated vmlinux.h: the few kernel structures read here are
// declared below with only the fields used, marked preserve_access_index, and
// libbpf relocates each field access against the running kernel's BTF when the
// object is loaded. So the build needs no BTF of the build machine, and the
// object keeps working on kernels whose structure layouts differ.
//
// Filter (in the kernel, before anything is copied):
//   - the namespace of the device (else of the route's device, else of the
//     socket) is in `watched` (user space puts the inodes of the captured ones);
//   - the reason's bit is set in `reasons` (user space leaves out
//     SKB_NOT_DROPPED_YET and SKB_CONSUMED; subsystem reasons, above 0xffff, pass);
//   - the packet is IPv4, IPv6 or ARP.
// What is reported: struct drop_event (drop_tracer.h has the same layout).
// When the ring is full the event is counted in `lost` instead. The reader is woken
// only once a quarter of the ring is pending (it polls every 100 ms anyway): a wakeup
// per event cost more than everything else the program does (measured: 4.4 µs a drop
// with one, see scripts/bench-drop-tracer.mjs).
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

// ── the kernel structures read (CO-RE relocated) ──────────────────────────────
struct ns_common {
  unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
  struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
  struct net *net;
} possible_net_t;

struct net_device {
  int ifindex;
  possible_net_t nd_net;
} __attribute__((preserve_access_index));

struct dst_entry {
  struct net_device *dev;
} __attribute__((preserve_access_index));

struct sock_common {
  possible_net_t skc_net;
} __attribute__((preserve_access_index));

struct sock {
  struct sock_common __sk_common;
} __attribute__((preserve_access_index));

struct sk_buff {
  struct net_device *dev;
  struct sock *sk;
  unsigned long _skb_refdst;
  unsigned int len;
  __u16 protocol;
  __u16 network_header;
  unsigned char *head;
} __attribute__((preserve_access_index));

// ── what user space reads ─────────────────────────────────────────────────────
#define EVENT_IPV6 0x1
#define EVENT_INNER 0x2 /* the fields are those of a VXLAN-encapsulated packet */
#define EVENT_L4 0x4    /* sport..tcpSeq are set */
#define EVENT_ARP 0x8

struct drop_event {
  __u64 ts_mono_ns;
  __u64 location;
  __u32 reason;
  __u32 netns;
  __u32 ifindex;
  __u32 skb_len;
  __u16 l3proto; /* host order EtherType */
  __u8 ip_proto;
  __u8 flags;
  __u16 ip_id;
  __u16 ip_len; /* IPv4 total length, IPv6 payload length + 40 */
  __u8 src[16];
  __u8 dst[16];
  __u16 sport; /* TCP/UDP port; ICMP id */
  __u16 dport; /* TCP/UDP port; ICMP sequence */
  __u32 tcp_seq;
  __u8 icmp_type;
  __u8 icmp_code;
  __u8 tcp_flags;
  __u8 pad;
  __u32 outer_len; /* the outer packet's length when EVENT_INNER */
};

#define RING_BYTES (1024 * 1024)
#define WAKE_BYTES (RING_BYTES / 4)

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, RING_BYTES);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __u8);
} watched SEC(".maps");

// 256 bits: reasons 0..255 of the core enum; a set bit reports the reason.
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} reasons SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} lost SEC(".maps");

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_ARP 0x0806
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58
#define VXLAN_PORT 4789

static __always_inline __u16 be16(const __u8 *p) {
  return ((__u16)p[0] << 8) | p[1];
}

static __always_inline __u32 be32(const __u8 *p) {
  return ((__u32)p[0] << 24) | ((__u32)p[1] << 16) | ((__u32)p[2] << 8) | p[3];
}

static __always_inline void read_l4(struct drop_event *e, const unsigned char *l4) {
  __u8 h[16] = {};
  if (bpf_probe_read_kernel(h, sizeof h, l4) != 0) return;
  switch (e->ip_proto) {
    case IPPROTO_TCP_:
      e->sport = be16(h);
      e->dport = be16(h + 2);
      e->tcp_seq = be32(h + 4);
      e->tcp_flags = h[13];
      break;
    case IPPROTO_UDP_:
      e->sport = be16(h);
      e->dport = be16(h + 2);
      break;
    case IPPROTO_ICMP_:
    case IPPROTO_ICMPV6_:
      e->icmp_type = h[0];
      e->icmp_code = h[1];
      e->sport = be16(h + 4);
      e->dport = be16(h + 6);
      break;
    default:
      return;
  }
  e->flags |= EVENT_L4;
}

/* IPv4 header at `ip`: addresses, id, length, protocol; returns the L4 header or 0. */
static __always_inline const unsigned char *read_ipv4(struct drop_event *e, const unsigned char *ip) {
  __u8 h[20];
  if (bpf_probe_read_kernel(h, sizeof h, ip) != 0) return 0;
  if ((h[0] >> 4) != 4) return 0;
  __u32 ihl = (h[0] & 0x0f) * 4;
  if (ihl < 20) return 0;
  e->ip_len = be16(h + 2);
  e->ip_id = be16(h + 4);
  e->ip_proto = h[9];
  __builtin_memset(e->src, 0, sizeof e->src);
  __builtin_memset(e->dst, 0, sizeof e->dst);
  __builtin_memcpy(e->src, h + 12, 4);
  __builtin_memcpy(e->dst, h + 16, 4);
  /* a later fragment carries no L4 header */
  if ((be16(h + 6) & 0x1fff) != 0) return 0;
  return ip + ihl;
}

static __always_inline const unsigned char *read_ipv6(struct drop_event *e, const unsigned char *ip) {
  __u8 h[40];
  if (bpf_probe_read_kernel(h, sizeof h, ip) != 0) return 0;
  if ((h[0] >> 4) != 6) return 0;
  e->flags |= EVENT_IPV6;
  e->ip_len = be16(h + 4) + 40;
  e->ip_proto = h[6];
  __builtin_memcpy(e->src, h + 8, 16);
  __builtin_memcpy(e->dst, h + 24, 16);
  /* extension headers are not followed: the L4 fields stay unset */
  if (e->ip_proto != IPPROTO_TCP_ && e->ip_proto != IPPROTO_UDP_ && e->ip_proto != IPPROTO_ICMPV6_) return 0;
  return ip + 40;
}

static __always_inline void read_arp(struct drop_event *e, const unsigned char *arp) {
  __u8 h[28];
  if (bpf_probe_read_kernel(h, sizeof h, arp) != 0) return;
  /* Ethernet + IPv4 only: sender and target protocol addresses, the opcode */
  if (be16(h) != 1 || be16(h + 2) != ETH_P_IP || h[4] != 6 || h[5] != 4) return;
  e->flags |= EVENT_ARP;
  e->icmp_type = h[7];
  __builtin_memset(e->src, 0, sizeof e->src);
  __builtin_memset(e->dst, 0, sizeof e->dst);
  __builtin_memcpy(e->src, h + 14, 4);
  __builtin_memcpy(e->dst, h + 24, 4);
}

static __always_inline __u32 netns_of(struct sk_buff *skb, __u32 *ifindex) {
  struct net_device *dev = BPF_CORE_READ(skb, dev);
  if (dev == 0) {
    /* before the output path sets skb->dev: the route's device */
    unsigned long refdst = BPF_CORE_READ(skb, _skb_refdst) & ~1UL;
    if (refdst != 0) dev = BPF_CORE_READ((struct dst_entry *)refdst, dev);
  }
  if (dev != 0) {
    *ifindex = BPF_CORE_READ(dev, ifindex);
    return BPF_CORE_READ(dev, nd_net.net, ns.inum);
  }
  struct sock *sk = BPF_CORE_READ(skb, sk);
  if (sk != 0) return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
  return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(hopscope_drops, struct sk_buff *skb, void *location, int reason) {
  __u32 r = (__u32)reason;
  if (r < 256) {
    __u32 word = r / 64;
    __u64 *bits = bpf_map_lookup_elem(&reasons, &word);
    if (bits == 0 || ((*bits >> (r % 64)) & 1) == 0) return 0;
  }
  __u16 proto = __builtin_bswap16(BPF_CORE_READ(skb, protocol));
  if (proto != ETH_P_IP && proto != ETH_P_IPV6 && proto != ETH_P_ARP) return 0;
  __u32 ifindex = 0;
  __u32 netns = netns_of(skb, &ifindex);
  if (bpf_map_lookup_elem(&watched, &netns) == 0) return 0;

  struct drop_event *e = bpf_ringbuf_reserve(&events, sizeof *e, 0);
  if (e == 0) {
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&lost, &zero);
    if (n != 0) *n += 1;
    return 0;
  }
  __builtin_memset(e, 0, sizeof *e);
  e->ts_mono_ns = bpf_ktime_get_ns();
  e->location = (__u64)location;
  e->reason = r;
  e->netns = netns;
  e->ifindex = ifindex;
  e->skb_len = BPF_CORE_READ(skb, len);
  e->l3proto = proto;

  const unsigned char *head = BPF_CORE_READ(skb, head);
  __u16 nh = BPF_CORE_READ(skb, network_header);
  if (head != 0 && nh != (__u16)~0U) {
    const unsigned char *l3 = head + nh;
    if (proto == ETH_P_ARP) {
      read_arp(e, l3);
    } else {
      const unsigned char *l4 = proto == ETH_P_IP ? read_ipv4(e, l3) : read_ipv6(e, l3);
      if (l4 != 0) {
        read_l4(e, l4);
        /* VXLAN: the fields that identify the packet are the inner packet's */
        if (e->ip_proto == IPPROTO_UDP_ && e->dport == VXLAN_PORT) {
          __u8 eth[14];
          const unsigned char *inner = l4 + 8 + 8;
          if (bpf_probe_read_kernel(eth, sizeof eth, inner) == 0 && be16(eth + 12) == ETH_P_IP) {
            struct drop_event outer = *e;
            e->flags = EVENT_INNER;
            e->sport = 0;
            e->dport = 0;
            const unsigned char *il4 = read_ipv4(e, inner + 14);
            if (il4 != 0) {
              read_l4(e, il4);
              e->outer_len = outer.ip_len;
            } else {
              *e = outer;
            }
          }
        }
      }
    }
  }
  long pending = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
  bpf_ringbuf_submit(e, pending >= WAKE_BYTES ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
  return 0;
}
