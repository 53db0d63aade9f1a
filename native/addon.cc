// hopscope_native: live capture with libpcap, in any network namespace.
//
// Exports
//   open({iface, netnsPath?, filter?, snaplen?, bufferSize?, promisc?, immediate?, batchBytes?})
//       → CaptureHandle (capture_handle.h: batch layout, polling, lifetime;
//         netnsInode: the namespace it was opened in)
//   listInterfaces(netnsPath?) → [{name, description, flags, up, running,
//       loopback, addresses: [{family, address, prefixLength}]}]
//   listInterfacesAsync(netnsPath?) → Promise of the same, listed on the thread pool
//   deviceAt(socketFd, ifindex) → {name, addresses} | null: a device of a capture's
//       namespace by ifindex (a capture of every device's packets name it so)
//   defaults, recordHeaderBytes, libpcapVersion
//   batchToEpbs(...) a batch's packets as pcapng EPBs, for a live recording (epb.h)
//   openDropTracer, dropReasonNames, dropTracerBuilt, dropRecordBytes
//       the kernel's drop reasons per packet (drop_tracer.h)
//
// Namespaces are entered on a short-lived thread for the open (netns.h says
// why); every error is a JS Error with a `code` (errors.h) and a message that
// names the interface and the namespace.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <pcap/pcap.h>
#include <strings.h>
#include <sys/socket.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "capture_handle.h"
#include "drop_tracer.h"
#include "epb.h"
#include "errors.h"
#include "netns.h"

namespace hopscope {
namespace {

struct AddonData {
  Napi::FunctionReference captureHandleClass;
};

struct OpenOptions {
  CaptureTarget target;
  std::string filter;
  bool hasFilter = false;
  int snaplen = kDefaultSnaplen;
  int bufferSize = kDefaultBufferSize;
  bool immediate = kDefaultImmediate;
  size_t batchBytes = kDefaultBatchBytes;
};

struct OpenFailure {
  std::string code;
  std::string message;
};

void InitLibpcapOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    char errbuf[PCAP_ERRBUF_SIZE];
    // UTF-8 error strings; harmless if it fails (older defaults still work).
    (void)pcap_init(PCAP_CHAR_ENC_UTF_8, errbuf);
  });
}

// ── option parsing ───────────────────────────────────────────────────────────

int IntOption(Napi::Env env, Napi::Object opts, const char* name, int fallback, int min, int max) {
  Napi::Value v = opts.Get(name);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw CaptureError(env, "ERR_INVALID_ARG", std::string("open: ") + name + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || d != static_cast<double>(static_cast<long long>(d))) {
    throw CaptureError(env, "ERR_INVALID_ARG",
                       std::string("open: ") + name + " must be an integer in " + std::to_string(min) +
                           ".." + std::to_string(max));
  }
  return static_cast<int>(d);
}

std::string OptionalString(Napi::Env env, Napi::Value v, const char* what, bool* present) {
  *present = false;
  if (v.IsUndefined() || v.IsNull()) return std::string();
  if (!v.IsString()) throw CaptureError(env, "ERR_INVALID_ARG", std::string(what) + " must be a string");
  *present = true;
  return v.As<Napi::String>().Utf8Value();
}

std::string Where(const std::string& iface, const std::string& netnsPath) {
  return netnsPath.empty() ? iface : iface + " in netns " + NetnsLabel(netnsPath);
}

OpenOptions ParseOpenOptions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw CaptureError(env, "ERR_INVALID_ARG", "open(options): an options object is required");
  }
  Napi::Object opts = info[0].As<Napi::Object>();
  OpenOptions o;
  bool present = false;
  o.target.iface = OptionalString(env, opts.Get("iface"), "open: iface", &present);
  if (!present || o.target.iface.empty()) {
    throw CaptureError(env, "ERR_INVALID_ARG", "open: iface (interface name) is required");
  }
  o.target.netnsPath = OptionalString(env, opts.Get("netnsPath"), "open: netnsPath", &present);
  o.filter = OptionalString(env, opts.Get("filter"), "open: filter", &o.hasFilter);
  o.snaplen = IntOption(env, opts, "snaplen", kDefaultSnaplen, 1, kDefaultSnaplen);
  o.bufferSize = IntOption(env, opts, "bufferSize", kDefaultBufferSize, 1, 1 << 30);
  o.batchBytes = static_cast<size_t>(IntOption(env, opts, "batchBytes", kDefaultBatchBytes, 0, 1 << 30));
  Napi::Value immediate = opts.Get("immediate");
  if (!immediate.IsUndefined() && !immediate.IsNull()) {
    if (!immediate.IsBoolean()) throw CaptureError(env, "ERR_INVALID_ARG", "open: immediate must be a boolean");
    o.immediate = immediate.As<Napi::Boolean>().Value();
  }
  Napi::Value promisc = opts.Get("promisc");
  if (!promisc.IsUndefined() && !promisc.IsNull()) {
    if (!promisc.IsBoolean()) throw CaptureError(env, "ERR_INVALID_ARG", "open: promisc must be a boolean");
    o.target.promisc = promisc.As<Napi::Boolean>().Value();
  }
  o.target.where = Where(o.target.iface, o.target.netnsPath);
  return o;
}

// ── the open itself (runs inside the namespace: no N-API here) ───────────────

OpenFailure ActivateFailure(int status, const std::string& where, const std::string& detail) {
  OpenFailure f;
  const std::string statusText = pcap_statustostr(status);
  switch (status) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
      f.code = "ERR_NO_SUCH_DEVICE";
      f.message = "no such device exists: " + where;
      break;
    case PCAP_ERROR_PERM_DENIED:
      f.code = "ERR_PERMISSION";
      f.message = "permission denied capturing on " + where + " (needs root or CAP_NET_RAW)";
      break;
    case PCAP_ERROR_PROMISC_PERM_DENIED:
      f.code = "ERR_PERMISSION";
      f.message = "permission denied for promiscuous mode on " + where;
      break;
    case PCAP_ERROR_IFACE_NOT_UP:
      f.code = "ERR_IFACE_DOWN";
      f.message = "interface is not up: " + where;
      break;
    default:
      f.code = "ERR_CAPTURE";
      f.message = "cannot capture on " + where;
      if (status != PCAP_ERROR) f.message += ": " + statusText;
      break;
  }
  // libpcap's own text (the failing call and errno) is kept: it is what tells a
  // "No such device" from, say, a ring that could not be mapped.
  if (!detail.empty() && strcasecmp(detail.c_str(), statusText.c_str()) != 0) {
    f.message += (status == PCAP_ERROR ? ": " : " (") + detail + (status == PCAP_ERROR ? "" : ")");
  }
  return f;
}

void OpenInCurrentNamespace(const OpenOptions& o, OpenedPcap* out, OpenFailure* failure) {
  const std::string& where = o.target.where;
  if (o.target.iface.size() >= IFNAMSIZ) {
    // libpcap would silently truncate the name and might open another interface.
    failure->code = "ERR_NO_SUCH_DEVICE";
    failure->message = "no such device exists: " + where + " (interface names are at most " +
                       std::to_string(IFNAMSIZ - 1) + " bytes)";
    return;
  }
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_t* p = pcap_create(o.target.iface.c_str(), errbuf);
  if (p == nullptr) {
    failure->code = "ERR_CAPTURE";
    failure->message = "cannot capture on " + where + ": " + errbuf;
    return;
  }
  pcap_set_snaplen(p, o.snaplen);
  pcap_set_promisc(p, o.target.promisc ? 1 : 0);
  // Immediate mode (default): packets are handed over as they arrive; libpcap
  // then uses a TPACKET_V2 ring of fixed slots, each big enough for the largest
  // packet the interface can deliver (~64 KiB with offloads, as on veth/tap),
  // so a 4 MiB ring holds only ~64 packets and a fast burst overflows it.
  // Without it libpcap uses TPACKET_V3 blocks (packets packed back to back,
  // handed over when a block fills or after kBlockTimeoutMs): measured on a
  // veth, a 4000-packet flood-ping burst lost a few hundred packets in
  // immediate mode with a 4 MiB ring and none without it even with 1 MiB.
  pcap_set_immediate_mode(p, o.immediate ? 1 : 0);
  pcap_set_buffer_size(p, o.bufferSize);
  pcap_set_timeout(p, kBlockTimeoutMs);
  // Kernel timestamps in nanoseconds; if refused we scale microseconds later.
  (void)pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);

  int status = pcap_activate(p);
  if (status < 0) {
    *failure = ActivateFailure(status, where, pcap_geterr(p));
    pcap_close(p);
    return;
  }
  if (status > 0) out->warning = std::string(pcap_statustostr(status)) + ": " + pcap_geterr(p);
  // A capture of every device ("any") in LINUX_SLL2, as tcpdump asks for it: its header
  // carries the ifindex each packet was seen on, by which hopscope tells the devices
  // apart (src/framing/device-split.ts); libpcap's default for "any" is LINUX_SLL (v1),
  // which does not. Set before any filter is compiled (the filter's offsets follow it).
#ifdef DLT_LINUX_SLL2
  if (o.target.iface == "any" && pcap_datalink(p) == DLT_LINUX_SLL) (void)pcap_set_datalink(p, DLT_LINUX_SLL2);
#endif

  if (pcap_setnonblock(p, 1, errbuf) != 0) {
    failure->code = "ERR_CAPTURE";
    failure->message = "cannot make capture on " + where + " non-blocking: " + errbuf;
    pcap_close(p);
    return;
  }
  int fd = pcap_get_selectable_fd(p);
  if (fd < 0) {
    failure->code = "ERR_CAPTURE";
    failure->message = "capture on " + where + " has no selectable file descriptor";
    pcap_close(p);
    return;
  }
  // The netmask is looked up here because its ioctl socket must live in the
  // interface's namespace; filters use it for "ip broadcast".
  bpf_u_int32 net = 0;
  bpf_u_int32 mask = 0;
  char lookupErr[PCAP_ERRBUF_SIZE];
  if (pcap_lookupnet(o.target.iface.c_str(), &net, &mask, lookupErr) == 0) out->netmask = mask;

  out->pcap = p;
  out->fd = fd;
  out->linktype = pcap_datalink(p);
  out->snaplen = pcap_snapshot(p);
  out->nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  InitLibpcapOnce();
  OpenOptions o = ParseOpenOptions(info);

  OpenedPcap opened;
  OpenFailure failure;
  NetnsFailure nsFailure;
  uint64_t netnsInode = 0;
  if (!RunInNetns(o.target.netnsPath, [&] { OpenInCurrentNamespace(o, &opened, &failure); }, &nsFailure,
                  &netnsInode)) {
    throw CaptureError(env, nsFailure.code, nsFailure.message);
  }
  if (opened.pcap == nullptr) throw CaptureError(env, failure.code, failure.message);
  opened.netnsInode = netnsInode;

  Napi::Object handleObject;
  try {
    handleObject = env.GetInstanceData<AddonData>()->captureHandleClass.New({});
  } catch (...) {
    pcap_close(opened.pcap);
    throw;
  }
  CaptureHandle* handle = CaptureHandle::Unwrap(handleObject);
  handle->Adopt(env, o.target, std::move(opened), o.batchBytes);
  if (o.hasFilter) {
    try {
      handle->ApplyFilter(env, o.filter);
    } catch (...) {
      // Do not leave a capture without its filter open behind the error.
      handleObject.Get("close").As<Napi::Function>().Call(handleObject, {});
      throw;
    }
  }
  return handleObject;
}

// ── listInterfaces ───────────────────────────────────────────────────────────

struct AddressInfo {
  std::string family;
  std::string address;
  int prefixLength = -1;
};

struct InterfaceInfo {
  std::string name;
  std::string description;
  bpf_u_int32 flags = 0;
  std::vector<AddressInfo> addresses;
  std::string mac;  // its Ethernet address (`fa:16:3e:00:00:01`); empty: none
};

// The Ethernet address of an AF_PACKET entry (getifaddrs, through pcap_findalldevs), or "".
std::string MacOf(const struct sockaddr* addr) {
  if (addr == nullptr || addr->sa_family != AF_PACKET) return "";
  const auto* ll = reinterpret_cast<const sockaddr_ll*>(addr);
  if (ll->sll_halen != 6) return "";
  char text[18];
  snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", ll->sll_addr[0], ll->sll_addr[1], ll->sll_addr[2],
           ll->sll_addr[3], ll->sll_addr[4], ll->sll_addr[5]);
  return text;
}

int PrefixLength(const struct sockaddr* mask) {
  if (mask == nullptr) return -1;
  const unsigned char* bytes = nullptr;
  size_t n = 0;
  if (mask->sa_family == AF_INET) {
    bytes = reinterpret_cast<const unsigned char*>(&reinterpret_cast<const sockaddr_in*>(mask)->sin_addr);
    n = 4;
  } else if (mask->sa_family == AF_INET6) {
    bytes = reinterpret_cast<const unsigned char*>(&reinterpret_cast<const sockaddr_in6*>(mask)->sin6_addr);
    n = 16;
  } else {
    return -1;
  }
  int bits = 0;
  for (size_t i = 0; i < n; ++i) bits += __builtin_popcount(bytes[i]);
  return bits;
}

bool AddressOf(const struct sockaddr* addr, const struct sockaddr* netmask, AddressInfo* out) {
  if (addr == nullptr) return false;
  char text[INET6_ADDRSTRLEN] = "";
  if (addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, text, sizeof text);
    out->family = "ipv4";
  } else if (addr->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, text, sizeof text);
    out->family = "ipv6";
  } else {
    return false;  // AF_PACKET (MAC) entries: not an address an operator looks for here
  }
  out->address = text;
  out->prefixLength = PrefixLength(netmask);
  return true;
}

// What one listing found, or why it failed; built off the main thread, no N-API inside.
struct InterfaceListing {
  std::string netnsPath;
  std::vector<InterfaceInfo> list;
  std::string errorCode;  // empty: the listing worked
  std::string errorMessage;
};

// pcap_findalldevs inside the namespace (empty path: this process's). Runs on any thread.
void ListIn(InterfaceListing* out) {
  InitLibpcapOnce();
  std::string error;
  NetnsFailure nsFailure;
  bool entered = RunInNetns(
      out->netnsPath,
      [&] {
        // getifaddrs/netlink and the ioctl sockets behind pcap_findalldevs are
        // created on this thread, so they see the namespace's interfaces.
        char errbuf[PCAP_ERRBUF_SIZE] = "";
        pcap_if_t* all = nullptr;
        if (pcap_findalldevs(&all, errbuf) != 0) {
          error = errbuf;
          return;
        }
        for (pcap_if_t* d = all; d != nullptr; d = d->next) {
          InterfaceInfo i;
          i.name = d->name;
          if (d->description != nullptr) i.description = d->description;
          i.flags = d->flags;
          for (const pcap_addr* a = d->addresses; a != nullptr; a = a->next) {
            AddressInfo addr;
            if (AddressOf(a->addr, a->netmask, &addr)) i.addresses.push_back(addr);
            else if (i.mac.empty()) i.mac = MacOf(a->addr);
          }
          out->list.push_back(std::move(i));
        }
        pcap_freealldevs(all);
      },
      &nsFailure);
  if (!entered) {
    out->errorCode = nsFailure.code;
    out->errorMessage = nsFailure.message;
  } else if (!error.empty()) {
    out->errorCode = "ERR_CAPTURE";
    out->errorMessage = "cannot list interfaces" +
                        (out->netnsPath.empty() ? std::string() : " in netns " + NetnsLabel(out->netnsPath)) +
                        ": " + error;
  }
}

Napi::Array AddressesToJs(Napi::Env env, const std::vector<AddressInfo>& list) {
  Napi::Array addresses = Napi::Array::New(env, list.size());
  for (size_t j = 0; j < list.size(); ++j) {
    Napi::Object a = Napi::Object::New(env);
    a.Set("family", list[j].family);
    a.Set("address", list[j].address);
    a.Set("prefixLength", list[j].prefixLength < 0 ? env.Null() : Napi::Number::New(env, list[j].prefixLength));
    addresses.Set(static_cast<uint32_t>(j), a);
  }
  return addresses;
}

Napi::Array ListingToJs(Napi::Env env, const std::vector<InterfaceInfo>& list) {
  Napi::Array result = Napi::Array::New(env, list.size());
  for (size_t k = 0; k < list.size(); ++k) {
    const InterfaceInfo& i = list[k];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", i.name);
    o.Set("description", i.description.empty() ? env.Null() : Napi::String::New(env, i.description));
    o.Set("flags", Napi::Number::New(env, i.flags));
    o.Set("up", Napi::Boolean::New(env, (i.flags & PCAP_IF_UP) != 0));
    o.Set("running", Napi::Boolean::New(env, (i.flags & PCAP_IF_RUNNING) != 0));
    o.Set("loopback", Napi::Boolean::New(env, (i.flags & PCAP_IF_LOOPBACK) != 0));
    o.Set("addresses", AddressesToJs(env, i.addresses));
    o.Set("mac", i.mac.empty() ? env.Null() : Napi::String::New(env, i.mac));
    result.Set(static_cast<uint32_t>(k), o);
  }
  return result;
}

std::string NetnsPathArg(const Napi::CallbackInfo& info, const char* what) {
  bool present = false;
  return info.Length() > 0 ? OptionalString(info.Env(), info[0], what, &present) : std::string();
}

Napi::Value ListInterfaces(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  InterfaceListing listing;
  listing.netnsPath = NetnsPathArg(info, "listInterfaces(netnsPath)");
  ListIn(&listing);
  if (!listing.errorCode.empty()) throw CaptureError(env, listing.errorCode, listing.errorMessage);
  return ListingToJs(env, listing.list);
}

// The same listing on libuv's thread pool, so a capture polling many namespaces (a
// compute node has one per router and network) never waits for it on its main thread.
class ListInterfacesWorker : public Napi::AsyncWorker {
 public:
  ListInterfacesWorker(Napi::Env env, std::string netnsPath)
      : Napi::AsyncWorker(env, "hopscope.listInterfaces"), deferred_(Napi::Promise::Deferred::New(env)) {
    listing_.netnsPath = std::move(netnsPath);
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override { ListIn(&listing_); }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (listing_.errorCode.empty()) {
      deferred_.Resolve(ListingToJs(env, listing_.list));
    } else {
      deferred_.Reject(CaptureError(env, listing_.errorCode, listing_.errorMessage).Value());
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  InterfaceListing listing_;
};

Napi::Value ListInterfacesAsync(const Napi::CallbackInfo& info) {
  auto* worker = new ListInterfacesWorker(info.Env(), NetnsPathArg(info, "listInterfacesAsync(netnsPath)"));
  Napi::Promise promise = worker->Promise();
  worker->Queue();  // deletes itself when done
  return promise;
}

// deviceAt(socketFd, ifindex): the name and addresses interface `ifindex` has in the
// namespace of socket `socketFd` (a capture's fd, CaptureHandle.fd), or null when it
// has none there (gone, or the namespace cannot be entered). A capture of every
// device names its packets' devices by ifindex only; a device that came after the
// capture's listing is looked up here once, at its first packet: if_indextoname and
// getifaddrs ask netlink and an ioctl socket made on the namespace's thread.
Napi::Value DeviceAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    throw CaptureError(env, "ERR_INVALID_ARG", "deviceAt(socketFd, ifindex): two numbers expected");
  }
  const int fd = info[0].As<Napi::Number>().Int32Value();
  const uint32_t ifindex = info[1].As<Napi::Number>().Uint32Value();
  if (fd < 0 || ifindex == 0) return env.Null();
  std::string name;
  std::vector<AddressInfo> addresses;
  RunInNetnsOfSocket(fd, [&] {
    char buf[IF_NAMESIZE] = "";
    if (if_indextoname(ifindex, buf) == nullptr) return;
    name = buf;
    struct ifaddrs* all = nullptr;
    if (getifaddrs(&all) != 0) return;
    for (const struct ifaddrs* a = all; a != nullptr; a = a->ifa_next) {
      AddressInfo addr;
      if (a->ifa_name != nullptr && name == a->ifa_name && AddressOf(a->ifa_addr, a->ifa_netmask, &addr))
        addresses.push_back(addr);
    }
    freeifaddrs(all);
  });
  if (name.empty()) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", name);
  o.Set("addresses", AddressesToJs(env, addresses));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->captureHandleClass = Napi::Persistent(CaptureHandle::DefineClass(env));
  env.SetInstanceData<AddonData>(data);  // deleted by node-addon-api at env teardown

  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("listInterfaces", Napi::Function::New(env, ListInterfaces, "listInterfaces"));
  exports.Set("listInterfacesAsync", Napi::Function::New(env, ListInterfacesAsync, "listInterfacesAsync"));
  exports.Set("deviceAt", Napi::Function::New(env, DeviceAt, "deviceAt"));
  Napi::Object defaults = Napi::Object::New(env);
  defaults.Set("snaplen", Napi::Number::New(env, kDefaultSnaplen));
  defaults.Set("bufferSize", Napi::Number::New(env, kDefaultBufferSize));
  defaults.Set("batchBytes", Napi::Number::New(env, kDefaultBatchBytes));
  defaults.Set("promisc", Napi::Boolean::New(env, kDefaultPromisc));
  defaults.Set("immediate", Napi::Boolean::New(env, kDefaultImmediate));
  defaults.Set("maxPacketsPerBatch", Napi::Number::New(env, kDefaultMaxPacketsPerBatch));
  defaults.Freeze();
  exports.Set("defaults", defaults);
  exports.Set("recordHeaderBytes", Napi::Number::New(env, static_cast<double>(kRecordHeaderBytes)));
  exports.Set("libpcapVersion", Napi::String::New(env, pcap_lib_version()));
  InitDropTracer(env, exports);
  InitEpb(env, exports);
  return exports;
}

}  // namespace
}  // namespace hopscope

// NODE_API_MODULE pastes the function name into an identifier: it must be unqualified.
static Napi::Object InitHopscopeNative(Napi::Env env, Napi::Object exports) {
  return hopscope::Init(env, exports);
}

NODE_API_MODULE(hopscope_native, InitHopscopeNative)
