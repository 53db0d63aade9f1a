// The kernel's drop reasons, per packet (DESIGN §5.7): a BPF program on the
// skb:kfree_skb tracepoint (drop_tracer.bpf.c), loaded from this addon with
// libbpf, read on a thread of its own.
//
// ── JavaScript API ──────────────────────────────────────────────────────────
//   openDropTracer({ reasons?: number[], queueRecords?: number, roundMs?: number }) → DropTracer
//       loads and attaches the program; `reasons` are the skb_drop_reason values
//       to report (default: every one but NOT_DROPPED_YET and CONSUMED);
//       `roundMs` the reader thread's round (default 100)
//   tracer.watch(netnsInode) / tracer.unwatch(netnsInode)
//       the namespaces whose drops are reported (none at first)
//   tracer.read(now = false) → { buffer, count, byteLength, lost }
//       the records queued since the last read, and how many were lost (kernel
//       ring full, or the queue full) since the last read; `now`: the BPF ring is
//       emptied into the queue first (otherwise what came since the reader
//       thread's last round waits for its next)
//   tracer.close()   detaches and unloads; idempotent
//   dropReasonNames() → string[]   value → name, from the kernel's BTF
//   dropTracerBuilt: boolean       false when built without clang/libbpf
//
// ── Record layout (kDropRecordBytes each, host byte order) ─────────────────
//   offset size field
//   0      4    tsSec      ┐ CLOCK_REALTIME of the drop (the BPF program stamps
//   4      4    tsNsec     ┘ CLOCK_MONOTONIC; converted here)
//   8      8    location   kernel address of the caller of kfree_skb
//   16     4    reason     enum skb_drop_reason value
//   20     4    netns      inode of the device's (else the socket's) namespace
//   24     4    ifindex    0 when the packet had no device
//   28     4    skbLen
//   32     2    l3proto    EtherType
//   34     1    ipProto
//   35     1    flags      1 IPv6, 2 inner fields of a VXLAN packet, 4 L4 set, 8 ARP
//   36     2    ipId
//   38     2    ipLen      IPv4 total length (IPv6: payload + 40)
//   40     16   src        IPv4 in the first 4 bytes (ARP: sender address)
//   56     16   dst        (ARP: target address)
//   72     2    sport      TCP/UDP source port, ICMP id
//   74     2    dport      TCP/UDP destination port, ICMP sequence
//   76     4    tcpSeq
//   80     1    icmpType   (ARP: opcode)
//   81     1    icmpCode
//   82     1    tcpFlags
//   83     1    (zero)
//   84     4    outerLen   IP length of the VXLAN packet around it (flag 2)
//
// ── Threads and lifetime ────────────────────────────────────────────────────
// A reader thread polls the BPF ring buffer (1 MiB; epoll, a round of 100 ms,
// woken early only when a quarter of it is pending, or by close()) and appends the
// records to a bounded queue; read() on the main thread swaps the queue out
// (read(true) empties the ring itself first; a lock keeps the two threads from
// consuming it at once). So
// nothing of the tracer runs on the thread that reads the captures, and a read
// costs one copy of what accumulated. The BPF link is owned by this process's
// file descriptor only (never pinned): it is detached when close() runs, when
// the object is collected, when Node exits, and when the process is killed —
// the kernel drops the program with its last fd.
#pragma once

#include <napi.h>

namespace hopscope {

constexpr size_t kDropRecordBytes = 88;
// Records held between two read() calls; beyond, they are counted as lost.
constexpr size_t kDefaultDropQueueRecords = 32768;

void InitDropTracer(Napi::Env env, Napi::Object exports);

}  // namespace hopscope
