// Per-source handshake rate limit for the SRT listen callback: a token bucket per source address in a bounded
// table. Runs on libsrt's receive thread during the handshake, so it never blocks on anything but its own mutex
// and never grows past maxSources entries.
#pragma once
#include <sys/socket.h>

#include <chrono>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mirror {

// The bucket key of a caller: its IPv4 address, or the /64 prefix of an IPv6 address (one host usually holds a
// whole /64, so per-address buckets would let it mint sources). Empty for anything else.
std::string SourceKey(const struct sockaddr* addr);

class HandshakeLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // ratePerSec <= 0 turns the limit off. burst: handshakes a quiet source may make at once.
  HandshakeLimiter(double ratePerSec, double burst, size_t maxSources);

  // Takes one token from the source's bucket; false when it has none (the handshake is refused).
  bool Allow(const std::string& source, Clock::time_point now);

  size_t Size();

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
    std::list<std::string>::iterator lru;
  };

  const double ratePerSec_;
  const double burst_;
  const size_t maxSources_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  // Most recently seen first. When the table is full the least recently seen source goes: a source quiet long
  // enough to be evicted under churn would mostly have refilled its bucket anyway.
  std::list<std::string> lru_;
};

}  // namespace mirror
