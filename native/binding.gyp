{
  # rdprobe's only native piece: a small plain N-API addon (no node-addon-api, no dependencies) that exposes what
  # Node cannot do for path-MTU work: DF-flagged probes with the error queue, and TCP_MAXSEG before connect.
  # Built by native/build.mjs at install; the rest of the tool works without it.
  "targets": [
    {
      "target_name": "rdprobe_net",
      "sources": ["rdprobe_net.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"]
      }
    }
  ]
}
