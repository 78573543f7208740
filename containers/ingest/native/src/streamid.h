// SRT streamid parsing, mirrored by containers/ingest/src/srt/streamid.ts (a test checks they agree).
// Runs inside libsrt's listen callback, so it must not allocate unboundedly or call into JavaScript.
#pragma once
#include <string>

namespace mirror {

constexpr size_t kMaxStreamIdLength = 512;

struct ParsedStreamId {
  bool ok = false;
  // Set when the access-control syntax names the resource (r=); empty for a plain key.
  std::string streamId;
  std::string publishKey;
  // "publish" unless m= said otherwise.
  std::string mode = "publish";
  // Why parsing failed; never contains the secret.
  std::string reason;
};

ParsedStreamId ParseStreamId(const std::string& raw);

}  // namespace mirror
