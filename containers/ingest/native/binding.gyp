{
  "targets": [
    {
      "target_name": "mirror_srt",
      "sources": ["src/addon.cc", "src/event-queue.cc", "src/handshake-limiter.cc", "src/streamid.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "<!@(pkg-config --cflags srt)"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs srt)", "-lcrypto"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"]
    }
  ]
}
