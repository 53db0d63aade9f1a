// See drop_tracer.h for the API, the record layout, threads and lifetime.
#include "drop_tracer.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "errors.h"

#ifdef HOPSCOPE_WITH_BPF
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "drop_tracer_object.h"  // generated at build time: the compiled drop_tracer.bpf.c
#endif

namespace hopscope {
namespace {

#ifdef HOPSCOPE_WITH_BPF

// What the BPF program writes (drop_tracer.bpf.c struct drop_event).
struct KernelDropEvent {
  uint64_t tsMonoNs;
  uint64_t location;
  uint32_t reason;
  uint32_t netns;
  uint32_t ifindex;
  uint32_t skbLen;
  uint16_t l3proto;
  uint8_t ipProto;
  uint8_t flags;
  uint16_t ipId;
  uint16_t ipLen;
  uint8_t src[16];
  uint8_t dst[16];
  uint16_t sport;
  uint16_t dport;
  uint32_t tcpSeq;
  uint8_t icmpType;
  uint8_t icmpCode;
  uint8_t tcpFlags;
  uint8_t pad;
  uint32_t outerLen;
};
static_assert(sizeof(KernelDropEvent) == kDropRecordBytes, "record layout of drop_tracer.h");

constexpr uint64_t kNsPerSec = 1000000000ULL;
// The reader thread's round: what came without a wakeup waits at most this long.
constexpr int kDefaultRoundMs = 100;

uint64_t ClockNs(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * kNsPerSec + static_cast<uint64_t>(ts.tv_nsec);
}

// libbpf's messages of the current load, kept for the error a user sees.
std::mutex gLogMutex;
std::string gLog;

int LibbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[512];
  int n = vsnprintf(line, sizeof line, format, args);
  std::lock_guard<std::mutex> lock(gLogMutex);
  if (gLog.size() < 4096) gLog += line;
  return n;
}

std::string LastLogLine() {
  std::lock_guard<std::mutex> lock(gLogMutex);
  std::string text = gLog;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  size_t nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

class DropTracer;

// Per Node environment: the class, and the tracers still open (closed by the
// environment's cleanup hook when Node exits without close()).
struct TracerEnv {
  Napi::FunctionReference tracerClass;
  std::set<DropTracer*> open;
};

class DropTracer : public Napi::ObjectWrap<DropTracer> {
 public:
  static Napi::Function DefineClass(Napi::Env env) {
    return ObjectWrap::DefineClass(env, "DropTracer",
                                   {
                                       InstanceMethod("watch", &DropTracer::Watch),
                                       InstanceMethod("unwatch", &DropTracer::Unwatch),
                                       InstanceMethod("read", &DropTracer::Read),
                                       InstanceMethod("close", &DropTracer::Close),
                                       InstanceAccessor("closed", &DropTracer::Closed, nullptr),
                                   });
  }

  explicit DropTracer(const Napi::CallbackInfo& info) : ObjectWrap(info) {}
  ~DropTracer() override { Shutdown(); }

  // Loads, configures and attaches; throws a JS error with a code on failure.
  void Open(Napi::Env env, TracerEnv* owner, const std::vector<uint32_t>& reasons, size_t queueRecords,
            int roundMs) {
    capacity_ = queueRecords;
    roundMs_ = roundMs;
    owner_ = owner;
    owner_->open.insert(this);
    {
      std::lock_guard<std::mutex> lock(gLogMutex);
      gLog.clear();
    }
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "hopscope_drops");
    object_ = bpf_object__open_mem(kDropTracerObject, sizeof kDropTracerObject, &opts);
    if (object_ == nullptr) Fail(env, errno, "cannot open the drop tracer's BPF object");
    int err = bpf_object__load(object_);
    if (err != 0) Fail(env, -err, "cannot load the drop tracer into the kernel");
    watched_ = bpf_object__find_map_fd_by_name(object_, "watched");
    lost_ = bpf_object__find_map_fd_by_name(object_, "lost");
    int reasonsFd = bpf_object__find_map_fd_by_name(object_, "reasons");
    int eventsFd = bpf_object__find_map_fd_by_name(object_, "events");
    if (watched_ < 0 || lost_ < 0 || reasonsFd < 0 || eventsFd < 0)
      Fail(env, ENOENT, "the drop tracer's BPF object lacks a map");
    uint64_t bits[4] = {0, 0, 0, 0};
    for (uint32_t r : reasons)
      if (r < 256) bits[r / 64] |= 1ULL << (r % 64);
    for (uint32_t k = 0; k < 4; ++k) {
      if (bpf_map_update_elem(reasonsFd, &k, &bits[k], BPF_ANY) != 0)
        Fail(env, errno, "cannot configure the drop tracer");
    }
    struct bpf_program* prog = bpf_object__find_program_by_name(object_, "hopscope_drops");
    if (prog == nullptr) Fail(env, ENOENT, "the drop tracer's BPF object lacks its program");
    link_ = bpf_program__attach(prog);
    if (link_ == nullptr) Fail(env, errno, "cannot attach the drop tracer to skb:kfree_skb");
    ring_ = ring_buffer__new(eventsFd, &DropTracer::OnEvent, this, nullptr);
    if (ring_ == nullptr) Fail(env, errno, "cannot map the drop tracer's ring buffer");
    // the reader's own epoll: the ring's wakeups, and close() waking it at once
    wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeFd_ < 0) Fail(env, errno, "cannot make the drop tracer's wakeup eventfd");
    epollFd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epollFd_ < 0) Fail(env, errno, "cannot make the drop tracer's epoll");
    struct epoll_event ev = {};
    ev.events = EPOLLIN;
    if (epoll_ctl(epollFd_, EPOLL_CTL_ADD, eventsFd, &ev) != 0 || epoll_ctl(epollFd_, EPOLL_CTL_ADD, wakeFd_, &ev) != 0)
      Fail(env, errno, "cannot wait on the drop tracer's ring buffer");
    queue_.reserve(1024);
    running_ = true;
    reader_ = std::thread([this] { ReaderLoop(); });
  }

 public:
  void Shutdown() {
    if (owner_ != nullptr) owner_->open.erase(this);
    owner_ = nullptr;
    if (closed_) return;
    closed_ = true;
    running_ = false;
    if (wakeFd_ >= 0) {
      uint64_t one = 1;
      (void)!write(wakeFd_, &one, sizeof one);
    }
    if (reader_.joinable()) reader_.join();
    if (epollFd_ >= 0) close(epollFd_);
    if (wakeFd_ >= 0) close(wakeFd_);
    epollFd_ = -1;
    wakeFd_ = -1;
    if (ring_ != nullptr) ring_buffer__free(ring_);
    ring_ = nullptr;
    // The link first: the program stops running before its maps go.
    if (link_ != nullptr) bpf_link__destroy(link_);
    link_ = nullptr;
    if (object_ != nullptr) bpf_object__close(object_);
    object_ = nullptr;
    watched_ = -1;
    lost_ = -1;
  }

 private:
  [[noreturn]] void Fail(Napi::Env env, int err, const std::string& what) {
    std::string detail = LastLogLine();
    Shutdown();
    std::string code = (err == EPERM || err == EACCES) ? "ERR_PERMISSION" : "ERR_TRACER";
    std::string message = what + ": " + strerror(err);
    if (code == "ERR_PERMISSION") message += " (needs root: CAP_BPF and CAP_PERFMON)";
    if (!detail.empty() && code != "ERR_PERMISSION") message += " (" + detail + ")";
    throw CaptureError(env, code, message);
  }

  static int OnEvent(void* ctx, void* data, size_t size) {
    auto* self = static_cast<DropTracer*>(ctx);
    if (size < sizeof(KernelDropEvent)) return 0;
    KernelDropEvent e;
    memcpy(&e, data, sizeof e);
    // CLOCK_MONOTONIC → CLOCK_REALTIME with the offset of this poll round.
    uint64_t real = e.tsMonoNs + self->monoToRealNs_;
    uint32_t words[2] = {static_cast<uint32_t>(real / kNsPerSec), static_cast<uint32_t>(real % kNsPerSec)};
    memcpy(&e.tsMonoNs, words, sizeof words);
    std::lock_guard<std::mutex> lock(self->mutex_);
    if (self->queue_.size() >= self->capacity_ * kDropRecordBytes) {
      self->overflow_++;
      return 0;
    }
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(&e);
    self->queue_.insert(self->queue_.end(), bytes, bytes + sizeof e);
    return 0;
  }

  // Takes what the ring holds into the queue. Either thread may call it: libbpf's
  // consume is not safe from two threads at once, hence the lock.
  void Consume() {
    std::lock_guard<std::mutex> lock(consumeMutex_);
    monoToRealNs_ = ClockNs(CLOCK_REALTIME) - ClockNs(CLOCK_MONOTONIC);
    (void)ring_buffer__consume(ring_);
  }

  void ReaderLoop() {
    // (not ring_buffer__poll: it would consume outside the lock)
    struct epoll_event ready[2];
    while (running_.load()) {
      int n = epoll_wait(epollFd_, ready, 2, roundMs_);
      if (n < 0 && errno != EINTR) break;
      // the program wakes this thread only when the ring fills up (drop_tracer.bpf.c):
      // what came without a wakeup is taken every round
      Consume();
    }
  }

  uint64_t TakeKernelLost() {
    if (lost_ < 0) return 0;
    int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) return 0;
    std::vector<uint64_t> perCpu(static_cast<size_t>(cpus), 0);
    uint32_t zero = 0;
    if (bpf_map_lookup_elem(lost_, &zero, perCpu.data()) != 0) return 0;
    uint64_t total = 0;
    for (uint64_t v : perCpu) total += v;
    uint64_t fresh = total - kernelLostSeen_;
    kernelLostSeen_ = total;
    return fresh;
  }

  uint32_t InodeArg(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber())
      throw CaptureError(env, "ERR_INVALID_ARG", "a namespace inode (number) is required");
    double d = info[0].As<Napi::Number>().DoubleValue();
    if (!(d >= 1 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint32_t>(d)))
      throw CaptureError(env, "ERR_INVALID_ARG", "a namespace inode is an integer from 1 to 2^32-1");
    if (closed_) throw CaptureError(env, "ERR_CLOSED", "the drop tracer is closed");
    return static_cast<uint32_t>(d);
  }

  Napi::Value Watch(const Napi::CallbackInfo& info) {
    uint32_t inode = InodeArg(info);
    uint8_t one = 1;
    if (bpf_map_update_elem(watched_, &inode, &one, BPF_ANY) != 0) {
      throw CaptureError(info.Env(), "ERR_TRACER",
                         std::string("cannot watch namespace ") + std::to_string(inode) + ": " + strerror(errno));
    }
    return info.Env().Undefined();
  }

  Napi::Value Unwatch(const Napi::CallbackInfo& info) {
    uint32_t inode = InodeArg(info);
    (void)bpf_map_delete_elem(watched_, &inode);
    return info.Env().Undefined();
  }

  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    // read(true): what the ring holds now too, not only what the last round took
    // (a query about a packet that died a few ms ago: the round may be 100 ms away)
    if (info.Length() > 0 && info[0].ToBoolean().Value() && !closed_ && ring_ != nullptr) Consume();
    std::vector<uint8_t> taken;
    uint64_t overflow = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      taken.swap(queue_);
      overflow = overflow_;
      overflow_ = 0;
    }
    uint64_t lost = overflow + (closed_ ? 0 : TakeKernelLost());
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, taken.size());
    if (!taken.empty()) memcpy(buffer.Data(), taken.data(), taken.size());
    Napi::Object result = Napi::Object::New(env);
    result.Set("buffer", buffer);
    result.Set("count", Napi::Number::New(env, static_cast<double>(taken.size() / kDropRecordBytes)));
    result.Set("byteLength", Napi::Number::New(env, static_cast<double>(taken.size())));
    result.Set("lost", Napi::Number::New(env, static_cast<double>(lost)));
    return result;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), closed_); }

  TracerEnv* owner_ = nullptr;
  struct bpf_object* object_ = nullptr;
  struct bpf_link* link_ = nullptr;
  struct ring_buffer* ring_ = nullptr;
  int watched_ = -1;
  int lost_ = -1;
  uint64_t kernelLostSeen_ = 0;
  std::thread reader_;
  std::atomic<bool> running_{false};
  bool closed_ = false;
  int epollFd_ = -1;
  int wakeFd_ = -1;
  int roundMs_ = kDefaultRoundMs;
  // held while the ring is consumed (Consume); monoToRealNs_ is read by OnEvent under it
  std::mutex consumeMutex_;
  uint64_t monoToRealNs_ = 0;
  std::mutex mutex_;
  std::vector<uint8_t> queue_;
  uint64_t overflow_ = 0;
  size_t capacity_ = kDefaultDropQueueRecords;
};

std::vector<std::string> ReasonNames(std::string* error) {
  std::vector<std::string> names;
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (vmlinux == nullptr) {
    *error = std::string("cannot read the kernel's BTF: ") + strerror(errno);
    return names;
  }
  int id = btf__find_by_name_kind(vmlinux, "skb_drop_reason", BTF_KIND_ENUM);
  if (id < 0) {
    *error = "the kernel's BTF has no enum skb_drop_reason (kernel older than 5.17)";
    btf__free(vmlinux);
    return names;
  }
  const struct btf_type* t = btf__type_by_id(vmlinux, static_cast<uint32_t>(id));
  const struct btf_enum* values = btf_enum(t);
  static const char kPrefix[] = "SKB_DROP_REASON_";
  for (uint16_t k = 0; k < btf_vlen(t); ++k) {
    int64_t value = values[k].val;
    if (value < 0 || value > 4096) continue;
    std::string name = btf__name_by_offset(vmlinux, values[k].name_off);
    if (name.rfind(kPrefix, 0) == 0) name = name.substr(sizeof kPrefix - 1);
    if (names.size() <= static_cast<size_t>(value)) names.resize(static_cast<size_t>(value) + 1);
    names[static_cast<size_t>(value)] = name;
  }
  btf__free(vmlinux);
  return names;
}

Napi::Value DropReasonNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string error;
  std::vector<std::string> names = ReasonNames(&error);
  if (!error.empty()) throw CaptureError(env, "ERR_TRACER", error);
  Napi::Array result = Napi::Array::New(env, names.size());
  for (size_t k = 0; k < names.size(); ++k) result.Set(static_cast<uint32_t>(k), names[k]);
  return result;
}

Napi::Value OpenDropTracer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<uint32_t> reasons;
  size_t queueRecords = kDefaultDropQueueRecords;
  int roundMs = kDefaultRoundMs;
  bool reasonsGiven = false;
  if (info.Length() > 0 && info[0].IsObject()) {
    Napi::Object opts = info[0].As<Napi::Object>();
    Napi::Value list = opts.Get("reasons");
    if (list.IsArray()) {
      reasonsGiven = true;
      Napi::Array a = list.As<Napi::Array>();
      for (uint32_t k = 0; k < a.Length(); ++k) {
        Napi::Value v = a.Get(k);
        if (!v.IsNumber()) throw CaptureError(env, "ERR_INVALID_ARG", "openDropTracer: reasons are numbers");
        reasons.push_back(v.As<Napi::Number>().Uint32Value());
      }
    }
    Napi::Value q = opts.Get("queueRecords");
    if (q.IsNumber()) {
      double d = q.As<Napi::Number>().DoubleValue();
      if (!(d >= 1 && d <= 1048576))
        throw CaptureError(env, "ERR_INVALID_ARG", "openDropTracer: queueRecords is 1..1048576");
      queueRecords = static_cast<size_t>(d);
    }
    Napi::Value round = opts.Get("roundMs");
    if (round.IsNumber()) {
      double d = round.As<Napi::Number>().DoubleValue();
      if (!(d >= 1 && d <= 60000))
        throw CaptureError(env, "ERR_INVALID_ARG", "openDropTracer: roundMs is 1..60000");
      roundMs = static_cast<int>(d);
    }
  }
  if (!reasonsGiven) {
    // Every reason but SKB_NOT_DROPPED_YET (0) and SKB_CONSUMED (1).
    for (uint32_t r = 2; r < 256; ++r) reasons.push_back(r);
  }
  libbpf_set_print(LibbpfPrint);
  auto* owner = static_cast<TracerEnv*>(info.Data());
  Napi::Object object = owner->tracerClass.New({});
  DropTracer::Unwrap(object)->Open(env, owner, reasons, queueRecords, roundMs);
  return object;
}

#endif  // HOPSCOPE_WITH_BPF

}  // namespace

void InitDropTracer(Napi::Env env, Napi::Object exports) {
#ifdef HOPSCOPE_WITH_BPF
  auto* owner = new TracerEnv();
  owner->tracerClass = Napi::Persistent(DropTracer::DefineClass(env));
  env.AddCleanupHook([owner] {
    // copy: Shutdown() erases from the set
    std::set<DropTracer*> open = owner->open;
    for (DropTracer* t : open) t->Shutdown();
    delete owner;
  });
  exports.Set("openDropTracer", Napi::Function::New(env, OpenDropTracer, "openDropTracer", owner));
  exports.Set("dropReasonNames", Napi::Function::New(env, DropReasonNames, "dropReasonNames"));
  exports.Set("dropTracerBuilt", Napi::Boolean::New(env, true));
#else
  exports.Set("dropTracerBuilt", Napi::Boolean::New(env, false));
#endif
  exports.Set("dropRecordBytes", Napi::Number::New(env, static_cast<double>(kDropRecordBytes)));
}

}  // namespace hopscope
