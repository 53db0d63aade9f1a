// Capture batches into pcapng EPBs; the contract is at the top of epb.h.
#include "epb.h"

#include <string.h>

#include <cstdint>

#include "capture_handle.h"
#include "errors.h"

namespace hopscope {
namespace {

constexpr uint32_t kBlockEpb = 6;
constexpr size_t kEpbFixedBytes = 28;  // type, length, interface, ts high, ts low, caplen, len
constexpr uint64_t kNsPerSec = 1000000000u;

inline size_t Pad4(size_t n) { return (n + 3) & ~static_cast<size_t>(3); }

size_t Offset(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw CaptureError(env, "ERR_INVALID_ARG", std::string("batchToEpbs: ") + what + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0) {
    throw CaptureError(env, "ERR_INVALID_ARG", std::string("batchToEpbs: ") + what + " out of range");
  }
  return static_cast<size_t>(d);
}

Napi::Value BatchToEpbs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 10 || !info[0].IsArrayBuffer() || !info[4].IsTypedArray() || !info[9].IsTypedArray()) {
    throw CaptureError(env, "ERR_INVALID_ARG",
                       "batchToEpbs(batch, from, end, maxPackets, out, at, outEnd, interfaceIndex, unitNs, state)");
  }
  Napi::ArrayBuffer batch = info[0].As<Napi::ArrayBuffer>();
  const uint8_t* src = static_cast<const uint8_t*>(batch.Data());
  size_t from = Offset(env, info[1], "from");
  size_t end = Offset(env, info[2], "end");
  size_t maxPackets = Offset(env, info[3], "maxPackets");
  Napi::TypedArray outArray = info[4].As<Napi::TypedArray>();
  if (outArray.TypedArrayType() != napi_uint8_array) {
    throw CaptureError(env, "ERR_INVALID_ARG", "batchToEpbs: out must be a Uint8Array");
  }
  Napi::Uint8Array out = outArray.As<Napi::Uint8Array>();
  uint8_t* dst = out.Data();
  size_t at = Offset(env, info[5], "at");
  size_t outEnd = Offset(env, info[6], "outEnd");
  uint32_t index = static_cast<uint32_t>(Offset(env, info[7], "interfaceIndex"));
  uint64_t unitNs = Offset(env, info[8], "unitNs");
  Napi::TypedArray stateArray = info[9].As<Napi::TypedArray>();
  if (stateArray.TypedArrayType() != napi_float64_array || stateArray.ElementLength() < 2) {
    throw CaptureError(env, "ERR_INVALID_ARG", "batchToEpbs: state must be a Float64Array of 2");
  }
  double* state = stateArray.As<Napi::Float64Array>().Data();
  if (end > batch.ByteLength() || from > end || outEnd > out.ElementLength() || at > outEnd ||
      (from & 7) != 0 || (at & 3) != 0 || (unitNs != 1 && unitNs != 1000)) {
    throw CaptureError(env, "ERR_INVALID_ARG", "batchToEpbs: offsets outside the buffers, or bad units");
  }

  size_t n = 0;
  while (n < maxPackets && from + kRecordHeaderBytes <= end) {
    uint32_t h[5];
    memcpy(h, src + from, sizeof h);
    const uint64_t sec = static_cast<uint64_t>(h[0]) | (static_cast<uint64_t>(h[1]) << 32);
    const uint32_t nsec = h[2];
    const size_t caplen = h[3];
    if (from + kRecordHeaderBytes + caplen > end || nsec >= kNsPerSec) break;
    // Beyond 2^64 units (the year 2554 in ns): left to the writer, which refuses it.
    if (sec > (UINT64_MAX - nsec) / kNsPerSec) break;
    const uint64_t ts = unitNs == 1 ? sec * kNsPerSec + nsec : sec * (kNsPerSec / unitNs) + nsec / unitNs;
    const size_t padded = Pad4(caplen);
    const size_t total = kEpbFixedBytes + padded + 4;
    if (total > outEnd - at) break;
    const uint32_t head[7] = {kBlockEpb,
                              static_cast<uint32_t>(total),
                              index,
                              static_cast<uint32_t>(ts >> 32),
                              static_cast<uint32_t>(ts & 0xffffffffu),
                              static_cast<uint32_t>(caplen),
                              h[4]};
    uint8_t* o = dst + at;
    memcpy(o, head, sizeof head);
    memcpy(o + kEpbFixedBytes, src + from + kRecordHeaderBytes, caplen);
    if (padded > caplen) memset(o + kEpbFixedBytes + caplen, 0, padded - caplen);
    const uint32_t tail = static_cast<uint32_t>(total);
    memcpy(o + kEpbFixedBytes + padded, &tail, 4);
    at += total;
    from += kRecordHeaderBytes + Align8(caplen);
    ++n;
  }
  state[0] = static_cast<double>(from);
  state[1] = static_cast<double>(at);
  return Napi::Number::New(env, static_cast<double>(n));
}

}  // namespace

void InitEpb(Napi::Env env, Napi::Object exports) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  exports.Set("batchToEpbs", Napi::Function::New(env, BatchToEpbs, "batchToEpbs"));
#else
  (void)env;
  (void)exports;
#endif
}

}  // namespace hopscope
