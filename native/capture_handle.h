// One live libpcap capture, as a JavaScript object (DESIGN §4 "sources").
//
// ── Batch layout ─────────────────────────────────────────────────────────────
// A batch is `byteLength` bytes at the start of one ArrayBuffer, holding `count`
// records back to back. Every record starts at a multiple of 8 (the buffer
// itself is 8-aligned), so JavaScript can read the header through a Uint32Array
// over the same ArrayBuffer. All header words are in host byte order (little
// endian on every platform Node runs hopscope on).
//
//   offset  size  field
//   0       4     tsSec, low 32 bits   ┐ seconds since 1970 (64-bit, so the
//   4       4     tsSec, high 32 bits  ┘ 2106 wrap never bites)
//   8       4     tsNsec   0..999999999, nanoseconds (the kernel's, see below)
//   12      4     caplen   bytes of packet data stored after the header
//   16      4     len      length on the wire
//   20      4     reserved (0)
//   24      caplen        packet bytes, from the link-layer header on
//   24+caplen             zero padding up to the next multiple of 8
//
//   record size = 24 + align8(caplen); next record = this offset + record size.
//
// Timestamps come from the pcap header (the kernel's packet timestamp), asked
// for in nanosecond precision; if libpcap could not give nanoseconds the
// microseconds are scaled, so tsNsec is always nanoseconds.
//
// ── Buffer ownership ─────────────────────────────────────────────────────────
// Each handle owns one ArrayBuffer (V8-allocated, so V8 owns and frees the
// memory) and reuses it for every batch: the bytes of a batch are valid until
// the next batch is read (the next read() call, or the return of the onBatch
// callback). Whoever keeps bytes longer copies them. If JavaScript detaches the
// buffer (transfer), the next batch goes to a fresh one. pcap's ring slot is
// copied once, straight into this buffer; there is no copy per packet in JS.
//
// A batch ends when maxPackets were read, when the ring is empty, or when less
// than one maximum-size record (24 + align8(snaplen)) is left in the buffer: the
// pcap callback then calls pcap_breakloop(), which stops pcap_dispatch after the
// current packet, so a packet never has to be split or dropped. The buffer is
// at least twice a maximum-size record.
//
// ── Event-driven reading ─────────────────────────────────────────────────────
// start() puts a uv_poll_t on pcap's selectable fd in Node's own event loop
// (napi_get_uv_event_loop), so callbacks run on the main thread with no
// thread-safe function and no copy between threads. On each readiness it drains
// up to kMaxBatchesPerWake batches, or batches for kWakeBudgetNs, calling
// onBatch(buffer, count, byteLength, more) once per batch, then gives the loop
// back (uv_poll is level-triggered, so what is left wakes it again). `more` says
// the batch ended full, so the ring may hold more: after the last batch of a wake,
// packets later than its last may wait unread (the caller judges nothing past it);
// the capture then looks again on the loop's next turn, and if the ring turned out
// empty, an empty batch (count 0, more false) says it was read to its end.
// The budget is there because a loop turn runs every ready capture's wake before
// any timer: under load, 16 batches of 4096 on each of several interfaces held
// timers (verdicts, the TUI, counters) back by half a second. How many packets a wake finds depends on the ring:
// immediate mode (default) hands each packet over at once; without it the
// kernel hands over TPACKET_V3 blocks within kBlockTimeoutMs (see addon.cc for
// why that matters under bursts). libpcap's pcap_get_required_select_timeout() is
// honoured with a uv_timer_t: after an ENETDOWN it must be called again even
// without readiness to find out that the interface is gone. A fatal pcap error
// (interface gone, socket error) stops the poll and calls onError(err) once;
// err.code is ERR_IFACE_GONE when the interface disappeared.
//
// ── Namespaces ───────────────────────────────────────────────────────────────
// Opening runs in the target namespace on a short-lived thread (netns.h); the
// packet socket stays in that namespace, and everything afterwards (dispatch,
// stats, filters) runs on the main thread. libpcap reads ps_ifdrop from
// /sys/class/net/<name>/statistics, and sysfs here is the root namespace's, so
// for a handle opened in another namespace ifDropped is reported as null rather
// than as another interface's counter. The open socket holds its namespace: one
// deleted with `ip netns del` lives on (with its veths) until the handle closes.
// netnsInode is the inode of the namespace entered (fstat of the fd setns used),
// so the caller can tell when the name no longer leads there.
//
// ── Lifetime ─────────────────────────────────────────────────────────────────
// close() is idempotent. While started, the handle keeps a strong reference to
// its JS object (like an open socket) so it is not collected under the poll.
// An unstarted handle that is collected is closed by its finalizer; an env
// cleanup hook closes whatever is still open when Node exits.
#pragma once

#include <napi.h>
#include <pcap/pcap.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

namespace hopscope {

constexpr size_t kRecordHeaderBytes = 24;
constexpr int kMaxBatchesPerWake = 16;
constexpr uint64_t kWakeBudgetNs = 10'000'000;  // 10 ms of batches a wake, then the loop's turn
constexpr uint64_t kBacklogLookMs = 1;          // a wake that left a full batch looks again after
constexpr int kDefaultMaxPacketsPerBatch = 4096;
constexpr int kDefaultSnaplen = 262144;          // tcpdump's default (MAXIMUM_SNAPLEN)
constexpr int kDefaultBufferSize = 4 << 20;      // kernel ring, bytes
constexpr int kDefaultBatchBytes = 1 << 20;      // batch ArrayBuffer, bytes
constexpr bool kDefaultPromisc = true;           // tcpdump's default
constexpr bool kDefaultImmediate = true;
// When not immediate: how long a partly filled TPACKET_V3 block may wait before
// the kernel hands it over, i.e. the worst added latency (see addon.cc). Every
// block handed over wakes the event loop: at 10 ms, four interfaces at 50k
// packets/s each woke it ~500 times a second (~2100 epoll waits in 4 s against
// ~1300 at 50 ms, measured), for blocks a fifth full. tcpdump waits 1 s; a
// capture's hold (src/pipeline/timing.ts, 600 ms) leaves room for 50.
constexpr int kBlockTimeoutMs = 50;
// libpcap asks to be called every 1 ms while an ENETDOWN is unresolved; 10 ms
// keeps a downed interface from costing 1000 wake-ups a second, and delays the
// "gone" report by at most 10 ms.
constexpr uint64_t kMinRequiredTimeoutMs = 10;

inline size_t Align8(size_t n) { return (n + 7) & ~static_cast<size_t>(7); }

// What the namespaced open produces; built off the main thread, no N-API inside.
struct OpenedPcap {
  pcap_t* pcap = nullptr;
  int linktype = 0;
  int snaplen = 0;
  int fd = -1;
  bool nano = false;
  bpf_u_int32 netmask = PCAP_NETMASK_UNKNOWN;
  std::string warning;  // pcap_activate's warning, if any
  uint64_t netnsInode = 0;  // the namespace's inode (0: the process's own)
};

struct CaptureTarget {
  std::string iface;
  std::string netnsPath;  // empty: the process's namespace
  std::string where;      // "a0 in netns qrouter-x", for messages
  bool promisc = kDefaultPromisc;
};

class CaptureHandle : public Napi::ObjectWrap<CaptureHandle> {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  explicit CaptureHandle(const Napi::CallbackInfo& info);
  ~CaptureHandle() override;

  // Called once by open() right after construction: takes ownership of `opened`.
  void Adopt(Napi::Env env, const CaptureTarget& target, OpenedPcap opened, size_t batchBytes);
  // Compiles and installs a kernel BPF filter; throws a JS Error on failure.
  void ApplyFilter(Napi::Env env, const std::string& expression);

 private:
  // JS methods and accessors
  Napi::Value GetLinktype(const Napi::CallbackInfo& info);
  Napi::Value GetSnaplen(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetTsPrecision(const Napi::CallbackInfo& info);
  Napi::Value GetWarning(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);
  Napi::Value GetStarted(const Napi::CallbackInfo& info);
  Napi::Value GetBatchCapacity(const Napi::CallbackInfo& info);
  Napi::Value GetNetnsInode(const Napi::CallbackInfo& info);
  Napi::Value SetFilter(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void EnsureOpen(Napi::Env env) const;
  void EnsureBuffer(Napi::Env env);
  // Reads one batch into the buffer. Returns the packet count, or -1 with
  // *error set; *more says whether packets are probably still waiting.
  int DispatchBatch(int maxPackets, bool* more, std::string* error);
  static void OnPacket(u_char* user, const struct pcap_pkthdr* header, const u_char* bytes);
  void Append(const struct pcap_pkthdr* header, const u_char* bytes);
  Napi::Error DispatchError(Napi::Env env, const std::string& pcapMessage) const;

  static void OnPoll(uv_poll_t* poll, int status, int events);
  static void OnTimer(uv_timer_t* timer);
  void Drain();
  void ArmRequiredTimeout();
  void ReportErrorAndStop(Napi::Error error);
  // Calls a JS callback as an event-loop callback would (async context,
  // microtasks). A throwing callback becomes an uncaught exception, as it would
  // for any event emitter. Returns false if it threw.
  bool CallBack(const Napi::FunctionReference& fn, std::initializer_list<napi_value> args);
  void StopWatching();       // uv handles only
  void ReleaseCallbacks();   // JS callbacks, async context, self reference
  void CloseNow(bool envTeardown);
  static void CleanupHook(void* arg);

  pcap_t* pcap_ = nullptr;
  CaptureTarget target_;
  int linktype_ = 0;
  int snaplen_ = 0;
  int fd_ = -1;
  bool nano_ = false;
  bpf_u_int32 netmask_ = PCAP_NETMASK_UNKNOWN;
  std::string warning_;
  uint64_t netnsInode_ = 0;
  bool closed_ = false;
  bool hookInstalled_ = false;
  napi_env env_ = nullptr;

  // batch buffer (see "Batch layout")
  Napi::Reference<Napi::ArrayBuffer> bufferRef_;
  uint8_t* buffer_ = nullptr;
  size_t capacity_ = 0;
  size_t maxRecord_ = 0;
  size_t used_ = 0;
  int count_ = 0;
  bool full_ = false;
  // the last batch handed over ended full (more): the ring may hold more
  bool backlog_ = false;
  bool dispatching_ = false;

  // event-driven reading
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* timer_ = nullptr;
  Napi::FunctionReference onBatch_;
  Napi::FunctionReference onError_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
  int maxPackets_ = kDefaultMaxPacketsPerBatch;
  bool selfReferenced_ = false;
  int callbackDepth_ = 0;         // >0 while a JS callback runs
  bool releasePending_ = false;   // stop()/close() asked for from inside a callback
};

}  // namespace hopscope
