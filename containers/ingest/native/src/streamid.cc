#include "streamid.h"

#include <vector>

namespace mirror {

namespace {

constexpr const char* kAccessControlPrefix = "#!::";

bool IsPrintableAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

ParsedStreamId Fail(const std::string& reason) {
  ParsedStreamId out;
  out.reason = reason;
  return out;
}

}  // namespace

ParsedStreamId ParseStreamId(const std::string& raw) {
  if (raw.empty()) return Fail("empty streamid");
  if (raw.size() > kMaxStreamIdLength) return Fail("streamid longer than 512 characters");
  if (!IsPrintableAscii(raw)) return Fail("streamid contains characters outside printable ASCII");

  if (raw.rfind("#!", 0) == 0) {
    if (raw.rfind(kAccessControlPrefix, 0) != 0) return Fail("streamid starts with #! but not #!::");
    std::string body = raw.substr(4);
    std::string r, m, s, u;
    bool seenR = false, seenM = false, seenS = false, seenU = false, seenH = false, seenT = false;
    size_t start = 0;
    while (start <= body.size()) {
      size_t comma = body.find(',', start);
      if (comma == std::string::npos) comma = body.size();
      std::string item = body.substr(start, comma - start);
      size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0) return Fail("streamid item is not key=value");
      std::string key = item.substr(0, eq);
      std::string value = item.substr(eq + 1);
      if (value.empty()) return Fail("streamid key " + key + " has an empty value");
      bool* seen = nullptr;
      std::string* target = nullptr;
      if (key == "r") { seen = &seenR; target = &r; }
      else if (key == "m") { seen = &seenM; target = &m; }
      else if (key == "s") { seen = &seenS; target = &s; }
      else if (key == "u") { seen = &seenU; target = &u; }
      else if (key == "h") { seen = &seenH; }
      else if (key == "t") {
        seen = &seenT;
        if (value != "stream") return Fail("streamid t= must be stream");
      } else {
        return Fail("streamid key is not supported (use r, m, s, u, h, t)");
      }
      if (*seen) return Fail("streamid key " + key + " repeated");
      *seen = true;
      if (target != nullptr) *target = value;
      start = comma + 1;
    }
    if (!seenR) return Fail("streamid has no r= (stream id)");
    if (!seenS && !seenU) return Fail("streamid has no s= or u= (publish key)");
    ParsedStreamId out;
    out.ok = true;
    out.streamId = r;
    out.publishKey = seenS ? s : u;
    if (seenM) out.mode = m;
    return out;
  }

  ParsedStreamId out;
  out.ok = true;
  out.publishKey = raw;
  return out;
}

}  // namespace mirror
