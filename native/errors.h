// JS errors thrown or reported by the addon carry a stable `code` next to the
// message, so callers (the CLI's exit status 2 with a one-line reason, the
// sources' interface state) can tell "netns not found" from "interface gone"
// without parsing text.
//
// Codes: ERR_NO_SUCH_DEVICE, ERR_NETNS_NOT_FOUND, ERR_NETNS, ERR_PERMISSION,
// ERR_IFACE_DOWN, ERR_BAD_FILTER, ERR_IFACE_GONE, ERR_CAPTURE, ERR_CLOSED,
// ERR_STARTED, ERR_INVALID_ARG.
#pragma once

#include <napi.h>

#include <string>

namespace hopscope {

inline Napi::Error CaptureError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

}  // namespace hopscope
