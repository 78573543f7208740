#include "handshake-limiter.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>

namespace mirror {

std::string SourceKey(const struct sockaddr* addr) {
  if (addr == nullptr) return "";
  char host[INET6_ADDRSTRLEN] = {0};
  if (addr->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return host;
  }
  if (addr->sa_family == AF_INET6) {
    in6_addr prefix = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr;
    std::fill(prefix.s6_addr + 8, prefix.s6_addr + 16, 0);
    inet_ntop(AF_INET6, &prefix, host, sizeof host);
    return std::string(host) + "/64";
  }
  return "";
}

HandshakeLimiter::HandshakeLimiter(double ratePerSec, double burst, size_t maxSources)
    : ratePerSec_(ratePerSec), burst_(std::max(1.0, burst)), maxSources_(std::max<size_t>(1, maxSources)) {}

bool HandshakeLimiter::Allow(const std::string& source, Clock::time_point now) {
  if (ratePerSec_ <= 0) return true;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    if (buckets_.size() >= maxSources_) {
      buckets_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(source);
    it = buckets_.emplace(source, Bucket{burst_, now, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    double elapsedS = std::chrono::duration<double>(now - it->second.last).count();
    it->second.tokens = std::min(burst_, it->second.tokens + std::max(0.0, elapsedS) * ratePerSec_);
    it->second.last = now;
  }
  if (it->second.tokens < 1) return false;
  it->second.tokens -= 1;
  return true;
}

size_t HandshakeLimiter::Size() {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

}  // namespace mirror
