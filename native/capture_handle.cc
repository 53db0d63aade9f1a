// One live capture handle; the design notes (batch layout, ownership, polling,
// namespaces, lifetime) are at the top of capture_handle.h.
#include "capture_handle.h"

#include <poll.h>
#include <string.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "errors.h"

namespace hopscope {

namespace {

uv_loop_t* LoopOf(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    throw CaptureError(env, "ERR_CAPTURE", "cannot get the event loop");
  }
  return loop;
}

bool Contains(const std::string& haystack, const char* needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

Napi::Function CaptureHandle::DefineClass(Napi::Env env) {
  return ObjectWrap<CaptureHandle>::DefineClass(
      env, "CaptureHandle",
      {
          InstanceAccessor<&CaptureHandle::GetLinktype>("linktype"),
          InstanceAccessor<&CaptureHandle::GetSnaplen>("snaplen"),
          InstanceAccessor<&CaptureHandle::GetFd>("fd"),
          InstanceAccessor<&CaptureHandle::GetTsPrecision>("tsPrecision"),
          InstanceAccessor<&CaptureHandle::GetWarning>("warning"),
          InstanceAccessor<&CaptureHandle::GetClosed>("closed"),
          InstanceAccessor<&CaptureHandle::GetStarted>("started"),
          InstanceAccessor<&CaptureHandle::GetBatchCapacity>("batchCapacity"),
          InstanceAccessor<&CaptureHandle::GetNetnsInode>("netnsInode"),
          InstanceMethod<&CaptureHandle::SetFilter>("setFilter"),
          InstanceMethod<&CaptureHandle::Read>("read"),
          InstanceMethod<&CaptureHandle::Start>("start"),
          InstanceMethod<&CaptureHandle::Stop>("stop"),
          InstanceMethod<&CaptureHandle::Stats>("stats"),
          InstanceMethod<&CaptureHandle::Close>("close"),
      });
}

CaptureHandle::CaptureHandle(const Napi::CallbackInfo& info)
    : ObjectWrap<CaptureHandle>(info), env_(info.Env()) {
  // Only open() creates handles (it calls Adopt right away); the class itself
  // is not exported, so there is no half-built handle reachable from JS.
}

CaptureHandle::~CaptureHandle() {
  // Reached from the GC finalizer (never while started: a started handle holds
  // a reference to itself) or at env teardown after CleanupHook ran.
  CloseNow(/*envTeardown=*/false);
}

void CaptureHandle::Adopt(Napi::Env env, const CaptureTarget& target, OpenedPcap opened,
                          size_t batchBytes) {
  pcap_ = opened.pcap;
  target_ = target;
  linktype_ = opened.linktype;
  snaplen_ = opened.snaplen;
  fd_ = opened.fd;
  nano_ = opened.nano;
  netmask_ = opened.netmask;
  warning_ = std::move(opened.warning);
  netnsInode_ = opened.netnsInode;
  maxRecord_ = kRecordHeaderBytes + Align8(static_cast<size_t>(std::max(snaplen_, 1)));
  capacity_ = std::max(Align8(batchBytes), 2 * maxRecord_);
  if (napi_add_env_cleanup_hook(env, CleanupHook, this) == napi_ok) hookInstalled_ = true;
}

void CaptureHandle::ApplyFilter(Napi::Env env, const std::string& expression) {
  EnsureOpen(env);
  struct bpf_program program;
  // optimize = 1, like tcpdump; the netmask (from pcap_lookupnet in the
  // namespace) only matters for "ip broadcast".
  if (pcap_compile(pcap_, &program, expression.c_str(), 1, netmask_) != 0) {
    throw CaptureError(env, "ERR_BAD_FILTER",
                       "bad capture filter '" + expression + "' on " + target_.where + ": " +
                           pcap_geterr(pcap_));
  }
  int rc = pcap_setfilter(pcap_, &program);
  pcap_freecode(&program);
  if (rc != 0) {
    throw CaptureError(env, "ERR_BAD_FILTER",
                       "cannot install capture filter '" + expression + "' on " + target_.where +
                           ": " + pcap_geterr(pcap_));
  }
}

// ── accessors ────────────────────────────────────────────────────────────────

Napi::Value CaptureHandle::GetLinktype(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), linktype_);
}
Napi::Value CaptureHandle::GetSnaplen(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), snaplen_);
}
Napi::Value CaptureHandle::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), closed_ ? -1 : fd_);
}
Napi::Value CaptureHandle::GetTsPrecision(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), nano_ ? "nano" : "micro");
}
Napi::Value CaptureHandle::GetWarning(const Napi::CallbackInfo& info) {
  if (warning_.empty()) return info.Env().Null();
  return Napi::String::New(info.Env(), warning_);
}
Napi::Value CaptureHandle::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), closed_);
}
Napi::Value CaptureHandle::GetStarted(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), poll_ != nullptr);
}
Napi::Value CaptureHandle::GetBatchCapacity(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(capacity_));
}
Napi::Value CaptureHandle::GetNetnsInode(const Napi::CallbackInfo& info) {
  // Namespace inodes are small (proc_alloc_inum): exact as a double.
  if (target_.netnsPath.empty()) return info.Env().Null();
  return Napi::Number::New(info.Env(), static_cast<double>(netnsInode_));
}

// ── reading ──────────────────────────────────────────────────────────────────

void CaptureHandle::EnsureOpen(Napi::Env env) const {
  if (closed_ || pcap_ == nullptr) {
    throw CaptureError(env, "ERR_CLOSED", "capture on " + target_.where + " is closed");
  }
}

void CaptureHandle::EnsureBuffer(Napi::Env env) {
  if (!bufferRef_.IsEmpty()) {
    Napi::ArrayBuffer current = bufferRef_.Value();
    // Re-checked before every batch: JS may have detached (transferred) it.
    if (!current.IsDetached() && current.ByteLength() >= capacity_) {
      buffer_ = static_cast<uint8_t*>(current.Data());
      return;
    }
  }
  Napi::ArrayBuffer fresh = Napi::ArrayBuffer::New(env, capacity_);
  bufferRef_ = Napi::Persistent(fresh);
  buffer_ = static_cast<uint8_t*>(fresh.Data());
}

int CaptureHandle::DispatchBatch(int maxPackets, bool* more, std::string* error) {
  used_ = 0;
  count_ = 0;
  full_ = false;
  dispatching_ = true;
  int rc = pcap_dispatch(pcap_, maxPackets, OnPacket, reinterpret_cast<u_char*>(this));
  dispatching_ = false;
  if (rc == PCAP_ERROR) {
    *error = pcap_geterr(pcap_);
    return -1;
  }
  // PCAP_ERROR_BREAK means our own pcap_breakloop (buffer nearly full): the
  // packets delivered so far are in count_, the rest wait in the ring.
  *more = full_ || count_ >= maxPackets;
  return count_;
}

void CaptureHandle::OnPacket(u_char* user, const struct pcap_pkthdr* header, const u_char* bytes) {
  reinterpret_cast<CaptureHandle*>(user)->Append(header, bytes);
}

void CaptureHandle::Append(const struct pcap_pkthdr* header, const u_char* bytes) {
  size_t caplen = header->caplen;
  // libpcap already clips to the snapshot length; clipping again here is what
  // makes maxRecord_ a true bound for the space check below.
  if (caplen > static_cast<size_t>(snaplen_)) caplen = static_cast<size_t>(snaplen_);
  size_t room = capacity_ - used_;
  if (kRecordHeaderBytes + Align8(caplen) > room) {
    // Cannot happen (we stop while a maximum-size record still fits), but never
    // write past the buffer: keep what fits, and stop this batch.
    if (room < kRecordHeaderBytes) {
      pcap_breakloop(pcap_);
      return;
    }
    caplen = (room - kRecordHeaderBytes) & ~static_cast<size_t>(7);
  }
  uint8_t* record = buffer_ + used_;
  const uint64_t sec = static_cast<uint64_t>(header->ts.tv_sec);
  const uint32_t sub = static_cast<uint32_t>(header->ts.tv_usec);
  const uint32_t words[6] = {
      static_cast<uint32_t>(sec & 0xffffffffu),
      static_cast<uint32_t>(sec >> 32),
      nano_ ? sub : sub * 1000u,
      static_cast<uint32_t>(caplen),
      header->len,
      0,
  };
  memcpy(record, words, sizeof words);
  memcpy(record + kRecordHeaderBytes, bytes, caplen);
  const size_t padded = Align8(caplen);
  if (padded > caplen) memset(record + kRecordHeaderBytes + caplen, 0, padded - caplen);
  used_ += kRecordHeaderBytes + padded;
  ++count_;
  if (capacity_ - used_ < maxRecord_) {
    full_ = true;
    pcap_breakloop(pcap_);  // stops pcap_dispatch after this packet
  }
}

Napi::Error CaptureHandle::DispatchError(Napi::Env env, const std::string& pcapMessage) const {
  // libpcap reports a vanished interface as "The interface disappeared" (mmap
  // ring) or "The interface went down" (recvfrom path), or as ENODEV/ENXIO.
  const bool gone = Contains(pcapMessage, "disappeared") || Contains(pcapMessage, "went down") ||
                    Contains(pcapMessage, "No such device");
  if (gone) {
    return CaptureError(env, "ERR_IFACE_GONE",
                        "interface gone: " + target_.where + " (" + pcapMessage + ")");
  }
  return CaptureError(env, "ERR_CAPTURE",
                      "capture on " + target_.where + " failed: " + pcapMessage);
}

Napi::Value CaptureHandle::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env);
  if (poll_ != nullptr) {
    throw CaptureError(env, "ERR_STARTED",
                       "read() on " + target_.where + " while started: stop() first");
  }
  int maxPackets = kDefaultMaxPacketsPerBatch;
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsNumber()) throw CaptureError(env, "ERR_INVALID_ARG", "read(maxPackets): not a number");
    maxPackets = info[0].As<Napi::Number>().Int32Value();
    if (maxPackets < 1) throw CaptureError(env, "ERR_INVALID_ARG", "read(maxPackets): must be >= 1");
  }
  EnsureBuffer(env);
  bool more = false;
  std::string error;
  int n = DispatchBatch(maxPackets, &more, &error);
  if (n < 0) throw DispatchError(env, error);
  Napi::Object result = Napi::Object::New(env);
  result.Set("buffer", bufferRef_.Value());
  result.Set("count", Napi::Number::New(env, n));
  result.Set("byteLength", Napi::Number::New(env, static_cast<double>(used_)));
  result.Set("more", Napi::Boolean::New(env, more));
  return result;
}

Napi::Value CaptureHandle::SetFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw CaptureError(env, "ERR_INVALID_ARG", "setFilter(expression): expression must be a string");
  }
  ApplyFilter(env, info[0].As<Napi::String>().Utf8Value());
  return env.Undefined();
}

// ── event-driven reading ─────────────────────────────────────────────────────

Napi::Value CaptureHandle::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env);
  if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction()) {
    throw CaptureError(env, "ERR_INVALID_ARG",
                       "start(onBatch, onError[, maxPacketsPerBatch]): two functions expected");
  }
  int maxPackets = kDefaultMaxPacketsPerBatch;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    if (!info[2].IsNumber()) throw CaptureError(env, "ERR_INVALID_ARG", "start: maxPacketsPerBatch must be a number");
    maxPackets = info[2].As<Napi::Number>().Int32Value();
    if (maxPackets < 1) throw CaptureError(env, "ERR_INVALID_ARG", "start: maxPacketsPerBatch must be >= 1");
  }
  if (poll_ != nullptr) {
    throw CaptureError(env, "ERR_STARTED", "capture on " + target_.where + " is already started");
  }
  uv_loop_t* loop = LoopOf(env);

  // A stop() from inside a callback deferred the release of the old callbacks;
  // they are replaced now, after that callback has returned or while it still
  // runs (its function value is held on the stack, so dropping the reference is safe).
  releasePending_ = false;
  onBatch_ = Napi::Persistent(info[0].As<Napi::Function>());
  onError_ = Napi::Persistent(info[1].As<Napi::Function>());
  if (!asyncContext_) asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "hopscope.LiveCapture", Value());
  maxPackets_ = maxPackets;
  backlog_ = false;

  auto* poll = new uv_poll_t;
  int rc = uv_poll_init(loop, poll, fd_);
  if (rc != 0) {
    delete poll;  // never initialised as a handle: plain delete is right
    ReleaseCallbacks();
    throw CaptureError(env, "ERR_CAPTURE",
                       "cannot poll capture on " + target_.where + ": " + uv_strerror(rc));
  }
  poll->data = this;
  poll_ = poll;
  auto* timer = new uv_timer_t;
  uv_timer_init(loop, timer);
  timer->data = this;
  timer_ = timer;

  rc = uv_poll_start(poll_, UV_READABLE, OnPoll);
  if (rc != 0) {
    StopWatching();
    ReleaseCallbacks();
    throw CaptureError(env, "ERR_CAPTURE",
                       "cannot poll capture on " + target_.where + ": " + uv_strerror(rc));
  }
  if (!selfReferenced_) {
    // Keep the JS object (and so this handle) alive while the poll can fire.
    // Already held if stop() and start() were called from inside a callback.
    Ref();
    selfReferenced_ = true;
  }
  return env.Undefined();
}

Napi::Value CaptureHandle::Stop(const Napi::CallbackInfo& info) {
  StopWatching();
  ReleaseCallbacks();
  return info.Env().Undefined();
}

void CaptureHandle::OnPoll(uv_poll_t* poll, int status, int /*events*/) {
  auto* self = static_cast<CaptureHandle*>(poll->data);
  if (self == nullptr || self->poll_ != poll) return;
  Napi::Env env(self->env_);
  Napi::HandleScope scope(env);
  // Held until we are done with `self`, even if a callback closes the capture.
  Napi::Object keepAlive = self->Value();
  (void)keepAlive;
  self->Drain();
  if (status < 0 && self->poll_ == poll && !self->closed_) {
    // libuv reports POLLERR as UV_EBADF and stops the watcher. On a packet
    // socket POLLERR means a pending socket error (ENETDOWN when the interface
    // goes down or away), which only libpcap can interpret: Drain() let
    // pcap_dispatch read it (it fails with "The interface disappeared" if the
    // interface is gone, which stops us); the capture is still alive, so the
    // interface only went down: watch again.
    int rc = uv_poll_start(poll, UV_READABLE, OnPoll);
    if (rc != 0) {
      self->ReportErrorAndStop(CaptureError(
          env, "ERR_CAPTURE", "capture on " + self->target_.where + " failed: poll: " + uv_strerror(rc)));
    }
  }
}

void CaptureHandle::OnTimer(uv_timer_t* timer) {
  auto* self = static_cast<CaptureHandle*>(timer->data);
  if (self == nullptr || self->timer_ != timer) return;
  if (self->backlog_) {
    // Looking for an emptied ring: while the fd is readable, this turn's poll phase
    // reads it (a wake here too would double the time timers and immediates wait).
    struct pollfd p = {self->fd_, POLLIN, 0};
    if (poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0) {
      uv_timer_start(timer, OnTimer, kBacklogLookMs, 0);
      return;
    }
  }
  self->Drain();
}

void CaptureHandle::Drain() {
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  // A local handle to our own JS object: even if a callback calls stop() or
  // close() (dropping the self reference), GC cannot finalize us mid-function.
  Napi::Object keepAlive = Value();
  (void)keepAlive;
  const uint64_t began = uv_hrtime();
  try {
    for (int round = 0; round < kMaxBatchesPerWake; ++round) {
      if (poll_ == nullptr || closed_) return;
      EnsureBuffer(env);
      bool more = false;
      std::string error;
      int n = DispatchBatch(maxPackets_, &more, &error);
      if (n < 0) {
        ReportErrorAndStop(DispatchError(env, error));
        return;
      }
      if (n > 0) {
        backlog_ = more;
        Napi::ArrayBuffer buffer = bufferRef_.Value();
        if (!CallBack(onBatch_, {buffer, Napi::Number::New(env, n),
                                 Napi::Number::New(env, static_cast<double>(used_)),
                                 Napi::Boolean::New(env, more)})) {
          break;
        }
      } else if (backlog_) {
        // The last batch ended full and the ring turned out empty: an empty batch says so.
        backlog_ = false;
        Napi::ArrayBuffer buffer = bufferRef_.Value();
        if (!CallBack(onBatch_, {buffer, Napi::Number::New(env, 0), Napi::Number::New(env, 0),
                                 Napi::Boolean::New(env, false)})) {
          break;
        }
      }
      if (!more) break;
      if (uv_hrtime() - began >= kWakeBudgetNs) break;
    }
  } catch (const Napi::Error& e) {
    // Only our own N-API calls can throw here (e.g. no memory for a buffer);
    // nothing may escape into libuv.
    ReportErrorAndStop(CaptureError(env, "ERR_CAPTURE",
                                    "capture on " + target_.where + " failed: " + e.Message()));
    return;
  } catch (const std::exception& e) {
    ReportErrorAndStop(CaptureError(env, "ERR_CAPTURE",
                                    "capture on " + target_.where + " failed: " + e.what()));
    return;
  }
  ArmRequiredTimeout();
  // Left with a batch that ended full: look again on the loop's next turn, whether or
  // not the fd is readable then, so that an emptied ring is reported (the empty batch).
  // (not 0 ms: a timer started from a timer callback with 0 ms runs again in the same phase)
  if (backlog_ && timer_ != nullptr && poll_ != nullptr && !closed_) uv_timer_start(timer_, OnTimer, kBacklogLookMs, 0);
}

void CaptureHandle::ArmRequiredTimeout() {
  if (poll_ == nullptr || timer_ == nullptr || closed_) return;
  const struct timeval* required = pcap_get_required_select_timeout(pcap_);
  if (required == nullptr) {
    uv_timer_stop(timer_);
    return;
  }
  uint64_t ms = static_cast<uint64_t>(required->tv_sec) * 1000u +
                static_cast<uint64_t>(required->tv_usec) / 1000u;
  uv_timer_start(timer_, OnTimer, std::max(ms, kMinRequiredTimeoutMs), 0);
}

void CaptureHandle::ReportErrorAndStop(Napi::Error error) {
  // Stop first: the error is final for this start(), and the callback may
  // want to close() or start() again.
  StopWatching();
  // The callbacks and the async context go once onError has returned (CallBack
  // releases pending work when its depth drops to 0), so onError still runs in
  // the capture's async context.
  releasePending_ = true;
  CallBack(onError_, {error.Value()});
  if (callbackDepth_ == 0 && releasePending_) ReleaseCallbacks();  // there was no onError
}

bool CaptureHandle::CallBack(const Napi::FunctionReference& fn, std::initializer_list<napi_value> args) {
  if (fn.IsEmpty()) return false;
  // Keep the function alive locally: the callback may stop()/start() and so
  // replace the reference it was called through.
  Napi::Function function = fn.Value();
  bool ok = true;
  callbackDepth_++;
  try {
    function.MakeCallback(Value(), args,
                          asyncContext_ ? static_cast<napi_async_context>(*asyncContext_) : nullptr);
  } catch (const Napi::Error& thrown) {
    // Same as an exception thrown from any event callback: 'uncaughtException'.
    napi_fatal_exception(env_, thrown.Value());
    ok = false;
  }
  callbackDepth_--;
  if (callbackDepth_ == 0 && releasePending_) ReleaseCallbacks();
  return ok;
}

void CaptureHandle::StopWatching() {
  // uv_close guarantees no further callbacks; memory is freed in the close
  // callback, as libuv requires, never here.
  if (poll_ != nullptr) {
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }
  if (timer_ != nullptr) {
    timer_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
  }
}

void CaptureHandle::ReleaseCallbacks() {
  if (callbackDepth_ > 0) {
    // Inside a JS callback that uses the async context right now: finish later.
    releasePending_ = true;
    return;
  }
  releasePending_ = false;
  if (poll_ != nullptr) return;  // restarted from inside the callback
  onBatch_.Reset();
  onError_.Reset();
  asyncContext_.reset();
  if (selfReferenced_) {
    selfReferenced_ = false;
    Unref();
  }
}

// ── stats and closing ────────────────────────────────────────────────────────

Napi::Value CaptureHandle::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env);
  struct pcap_stat stat;
  memset(&stat, 0, sizeof stat);
  if (pcap_stats(pcap_, &stat) != 0) {
    throw CaptureError(env, "ERR_CAPTURE",
                       "cannot get statistics of " + target_.where + ": " + pcap_geterr(pcap_));
  }
  Napi::Object result = Napi::Object::New(env);
  // On Linux ps_recv counts every packet that passed the filter, dropped ones included.
  result.Set("received", Napi::Number::New(env, stat.ps_recv));
  result.Set("dropped", Napi::Number::New(env, stat.ps_drop));
  // ps_ifdrop comes from /sys/class/net of the root namespace's sysfs, and is
  // only filled in promiscuous mode: report it only when it is about our interface.
  if (target_.netnsPath.empty() && target_.promisc) {
    result.Set("ifDropped", Napi::Number::New(env, stat.ps_ifdrop));
  } else {
    result.Set("ifDropped", env.Null());
  }
  return result;
}

Napi::Value CaptureHandle::Close(const Napi::CallbackInfo& info) {
  CloseNow(/*envTeardown=*/false);
  return info.Env().Undefined();
}

void CaptureHandle::CloseNow(bool envTeardown) {
  if (closed_) return;
  closed_ = true;
  // The poll must leave epoll before pcap_close closes its fd.
  StopWatching();
  if (envTeardown) {
    // Node is tearing the environment down: do not call back into it; the
    // references die with it.
    (void)onBatch_.SuppressDestruct();
    (void)onError_.SuppressDestruct();
    (void)asyncContext_.release();
    selfReferenced_ = false;
  } else {
    ReleaseCallbacks();
  }
  // close() cannot run inside pcap_dispatch (no JS runs there); the check only
  // makes that invariant explicit rather than freeing pcap under its own loop.
  if (pcap_ != nullptr && !dispatching_) {
    pcap_close(pcap_);
    pcap_ = nullptr;
  }
  buffer_ = nullptr;
  if (hookInstalled_ && !envTeardown) {
    napi_remove_env_cleanup_hook(env_, CleanupHook, this);
  }
  hookInstalled_ = false;
}

void CaptureHandle::CleanupHook(void* arg) {
  static_cast<CaptureHandle*>(arg)->CloseNow(/*envTeardown=*/true);
}

}  // namespace hopscope
