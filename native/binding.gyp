{
  # Sources sit directly in native/: scripts/setup.sh rebuilds when a *.cc, *.h,
  # *.c, *.mjs or this file at that depth is newer than the built addon.
  "variables": {
    # 1 when clang and libbpf's headers are present: the addon gets the drop tracer.
    "hopscope_bpf%": "<!(node build-bpf.mjs --check)"
  },
  "targets": [
    {
      "target_name": "hopscope_native",
      "sources": ["addon.cc", "capture_handle.cc", "epb.cc", "netns.cc", "drop_tracer.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=gnu++17", "-fexceptions", "-Wall", "-Wextra", "-pthread"],
      "libraries": ["-lpcap", "-pthread"],
      "conditions": [
        ["hopscope_bpf==1", {
          "defines": ["HOPSCOPE_WITH_BPF"],
          "include_dirs": ["<(INTERMEDIATE_DIR)"],
          "libraries": ["-lbpf"],
          "actions": [
            {
              "action_name": "drop_tracer_bpf",
              "inputs": ["drop_tracer.bpf.c", "build-bpf.mjs"],
              "outputs": ["<(INTERMEDIATE_DIR)/drop_tracer_object.h"],
              "action": ["node", "build-bpf.mjs", "drop_tracer.bpf.c", "<(INTERMEDIATE_DIR)/drop_tracer_object.h"]
            }
          ]
        }]
      ]
    }
  ]
}
