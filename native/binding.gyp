{
  # Sources sit directly in native/: scripts/setup.sh rebuilds when a *.cc, *.h
  # or this file at that depth is newer than the built addon.
  "targets": [
    {
      "target_name": "hopscope_native",
      "sources": ["addon.cc", "capture_handle.cc", "netns.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=gnu++17", "-fexceptions", "-Wall", "-Wextra", "-pthread"],
      "libraries": ["-lpcap", "-pthread"]
    }
  ]
}
