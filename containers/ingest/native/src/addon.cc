// libsrt listener for the Mirror ingest service: one UDP port, many callers.
//
// Threads: libsrt calls ListenCallback on its own receive thread during the handshake, so admission is decided
// from a native table that JavaScript keeps up to date (it never calls into JS synchronously), after a per-source
// handshake rate limit (handshake-limiter.h). One publisher per stream, except that an authenticated caller replaces
// a publisher that has delivered no data for takeoverIdleMs (a restarted encoder; see Admit). One epoll thread accepts sockets and reads them non-blocking; data,
// accept, close and reject events wait in a bounded EventQueue (event-queue.h says what each bound drops) and a
// ThreadSafeFunction wakes JavaScript to take them, one wake in flight at a time.
#include <arpa/inet.h>
#include <napi.h>
#include <netinet/in.h>
#include <srt.h>
#include <access_control.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <openssl/evp.h>

#include "event-queue.h"
#include "handshake-limiter.h"
#include "streamid.h"

namespace mirror {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kReadChunk = 1500;
// Coalesce reads into events of at most this size so one JS call carries many SRT packets.
constexpr size_t kMaxEventBytes = 256 * 1024;
// A caller admitted by the listen callback holds its stream for this long until srt_accept confirms it
// (a handshake that then fails on the passphrase never reaches accept).
constexpr auto kReservationTtl = std::chrono::seconds(5);
// Defaults of the bounds (the TypeScript side passes its own; see containers/ingest/src/srt/server.ts).
constexpr size_t kDefaultMaxPendingBytes = 16 * 1024 * 1024;
constexpr size_t kDefaultMaxQueuedBytes = 64 * 1024 * 1024;
constexpr size_t kDefaultMaxQueuedRejects = 256;
constexpr double kDefaultHandshakeRate = 10;
constexpr double kDefaultHandshakeBurst = 20;
constexpr size_t kDefaultHandshakeSources = 4096;
constexpr int kDefaultTakeoverIdleMs = 380;
// The reason a stale publisher is closed with when an authenticated caller of its stream takes over.
constexpr const char* kReplacedReason = "replaced by a new connection from the same encoder";

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

std::string PeerString(const struct sockaddr* addr) {
  if (addr == nullptr) return "";
  char host[INET6_ADDRSTRLEN] = {0};
  int port = 0;
  if (addr->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (addr->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); i++) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// SHA-256 of a presented publish key, lowercase hex: the table holds only hashes (decision D38), so a core dump or
// a heap read of this process yields no key that would publish. Hashing a 192-bit random key needs no slow hash.
std::string Sha256Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out(2 * length, '0');
  for (unsigned int i = 0; i < length; i++) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

struct StreamEntry {
  std::string publishKeyHash;  // SHA-256 hex of the publish key
  std::string passphrase;  // empty: unencrypted
  int keyLength = 16;
  int latencyMs = 0;       // 0: the listener's default
  bool allowed = true;
};

struct Reservation {
  std::string streamId;
  Clock::time_point expires;
  // The stream's publisher this caller replaces if it completes the handshake (it was idle at the callback).
  SRTSOCKET replaces = SRT_INVALID_SOCK;
};

// What the thread-safe function carries: the queue to drain (kept alive by the shared_ptr even if the server
// object is collected while a wake is on its way).
struct Wake {
  std::shared_ptr<EventQueue> queue;
};

Napi::Object EventObject(Napi::Env env, const Event& event) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("type", event.type);
  info.Set("conn", event.conn);
  if (event.type == "data") {
    info.Set("data", Napi::Buffer<uint8_t>::Copy(env, event.data.data(), event.data.size()));
  } else {
    info.Set("streamId", event.streamId);
    info.Set("peer", event.peer);
    info.Set("code", event.code);
    info.Set("reason", event.reason);
  }
  return info;
}

// Hands JavaScript everything queued, in order. An exception thrown by the callback must not lose the events
// after it (an accept or close lost would leave JavaScript with a wrong connection table): the first one is
// rethrown once all are delivered.
void DrainJs(Napi::Env env, Napi::Function callback, std::nullptr_t*, Wake* raw) {
  std::unique_ptr<Wake> wake(raw);
  if (env == nullptr || callback.IsEmpty()) return;
  std::deque<std::unique_ptr<Event>> events = wake->queue->Take();
  std::unique_ptr<Napi::Error> first;
  for (const auto& event : events) {
    try {
      callback.Call({EventObject(env, *event)});
    } catch (const Napi::Error& error) {
      if (!first) first = std::make_unique<Napi::Error>(error);
    }
  }
  if (first) first->ThrowAsJavaScriptException();
}

using EventTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, Wake, DrainJs>;

std::atomic<int> g_startups{0};

}  // namespace

class SrtServer : public Napi::ObjectWrap<SrtServer> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "SrtServer",
                       {
                           InstanceMethod("listen", &SrtServer::Listen),
                           InstanceMethod("setStream", &SrtServer::SetStream),
                           InstanceMethod("deleteStream", &SrtServer::DeleteStream),
                           InstanceMethod("setAccepting", &SrtServer::SetAccepting),
                           InstanceMethod("setMaxConnections", &SrtServer::SetMaxConnections),
                           InstanceMethod("closeConnection", &SrtServer::CloseConnectionJs),
                           InstanceMethod("stats", &SrtServer::Stats),
                           InstanceMethod("queueStats", &SrtServer::QueueStatsJs),
                           InstanceMethod("takeRejectsNotDelivered", &SrtServer::TakeRejectsNotDelivered),
                           InstanceMethod("stop", &SrtServer::Stop),
                       });
  }

  explicit SrtServer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SrtServer>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      throw Napi::TypeError::New(env, "new SrtServer(options, onEvent)");
    }
    Napi::Object opts = info[0].As<Napi::Object>();
    auto number = [&](const char* key, double fallback) {
      return opts.Has(key) && opts.Get(key).IsNumber() ? opts.Get(key).As<Napi::Number>().DoubleValue() : fallback;
    };
    port_ = static_cast<int>(number("port", 0));
    host_ = opts.Has("host") ? opts.Get("host").As<Napi::String>().Utf8Value() : "0.0.0.0";
    latencyMs_ = static_cast<int>(number("latencyMs", 120));
    maxConnections_ = static_cast<int>(number("maxConnections", 32));
    queue_ = std::make_shared<EventQueue>(static_cast<size_t>(number("maxPendingBytes", kDefaultMaxPendingBytes)),
                                          static_cast<size_t>(number("maxQueuedBytes", kDefaultMaxQueuedBytes)),
                                          static_cast<size_t>(number("maxQueuedRejects", kDefaultMaxQueuedRejects)));
    limiter_ = std::make_unique<HandshakeLimiter>(
        number("handshakeRatePerSec", kDefaultHandshakeRate), number("handshakeBurst", kDefaultHandshakeBurst),
        static_cast<size_t>(number("handshakeSources", kDefaultHandshakeSources)));
    takeoverIdleMs_ = static_cast<int>(number("takeoverIdleMs", kDefaultTakeoverIdleMs));
    if (g_startups++ == 0) {
      srt_startup();
      srt_setloglevel(LOG_CRIT);
    }
    tsfn_ = EventTsfn::New(env, info[1].As<Napi::Function>(), "mirror-srt-events", 0, 1);
  }

  ~SrtServer() override { Shutdown(); }

 private:
  // --- JS methods ---

  Napi::Value Listen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (listener_ != SRT_INVALID_SOCK) throw Napi::Error::New(env, "already listening");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    if (inet_pton(AF_INET, host_.c_str(), &addr.sin_addr) != 1) throw Napi::Error::New(env, "bad host " + host_);

    SRTSOCKET lsn = srt_create_socket();
    if (lsn == SRT_INVALID_SOCK) throw Napi::Error::New(env, std::string("srt_create_socket: ") + srt_getlasterror_str());
    bool no = false;
    int transtype = SRTT_LIVE;
    srt_setsockflag(lsn, SRTO_TRANSTYPE, &transtype, sizeof transtype);
    srt_setsockflag(lsn, SRTO_RCVSYN, &no, sizeof no);
    srt_setsockflag(lsn, SRTO_RCVLATENCY, &latencyMs_, sizeof latencyMs_);
    srt_setsockflag(lsn, SRTO_PEERLATENCY, &latencyMs_, sizeof latencyMs_);
    if (srt_bind(lsn, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == SRT_ERROR) {
      std::string err = srt_getlasterror_str();
      srt_close(lsn);
      throw Napi::Error::New(env, "srt_bind " + host_ + ":" + std::to_string(port_) + ": " + err);
    }
    srt_listen_callback(lsn, &SrtServer::ListenCallback, this);
    if (srt_listen(lsn, 64) == SRT_ERROR) {
      std::string err = srt_getlasterror_str();
      srt_close(lsn);
      throw Napi::Error::New(env, "srt_listen: " + err);
    }
    eid_ = srt_epoll_create();
    srt_epoll_set(eid_, SRT_EPOLL_ENABLE_EMPTY);
    int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
    srt_epoll_add_usock(eid_, lsn, &events);
    listener_ = lsn;
    running_ = true;
    thread_ = std::thread([this] { EpollLoop(); });
    return env.Undefined();
  }

  Napi::Value SetStream(const Napi::CallbackInfo& info) {
    std::string id = info[0].As<Napi::String>().Utf8Value();
    Napi::Object o = info[1].As<Napi::Object>();
    StreamEntry entry;
    entry.publishKeyHash = o.Get("publishKeyHash").As<Napi::String>().Utf8Value();
    Napi::Value pass = o.Get("passphrase");
    if (pass.IsString()) entry.passphrase = pass.As<Napi::String>().Utf8Value();
    if (o.Has("keyLength")) entry.keyLength = o.Get("keyLength").As<Napi::Number>().Int32Value();
    if (o.Has("latencyMs")) entry.latencyMs = o.Get("latencyMs").As<Napi::Number>().Int32Value();
    if (o.Has("allowed")) entry.allowed = o.Get("allowed").As<Napi::Boolean>().Value();
    std::lock_guard<std::mutex> lock(mu_);
    auto old = streams_.find(id);
    if (old != streams_.end()) keyIndex_.erase(old->second.publishKeyHash);
    keyIndex_[entry.publishKeyHash] = id;
    streams_[id] = std::move(entry);
    return info.Env().Undefined();
  }

  Napi::Value DeleteStream(const Napi::CallbackInfo& info) {
    std::string id = info[0].As<Napi::String>().Utf8Value();
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(id);
    if (it != streams_.end()) {
      keyIndex_.erase(it->second.publishKeyHash);
      streams_.erase(it);
    }
    return info.Env().Undefined();
  }

  Napi::Value SetAccepting(const Napi::CallbackInfo& info) {
    accepting_ = info[0].As<Napi::Boolean>().Value();
    return info.Env().Undefined();
  }

  Napi::Value SetMaxConnections(const Napi::CallbackInfo& info) {
    maxConnections_ = info[0].As<Napi::Number>().Int32Value();
    return info.Env().Undefined();
  }

  Napi::Value CloseConnectionJs(const Napi::CallbackInfo& info) {
    int sock = info[0].As<Napi::Number>().Int32Value();
    std::string reason = info.Length() > 1 ? info[1].As<Napi::String>().Utf8Value() : "closed by server";
    return Napi::Boolean::New(info.Env(), CloseConnection(sock, reason));
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int sock = info[0].As<Napi::Number>().Int32Value();
    std::shared_ptr<Connection> conn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = conns_.find(sock);
      if (it == conns_.end()) return env.Null();
      conn = it->second;
    }
    SRT_TRACEBSTATS perf{};
    if (srt_bstats(sock, &perf, 0) == SRT_ERROR) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("rttMs", perf.msRTT);
    o.Set("recvRateMbps", perf.mbpsRecvRate);
    o.Set("packetsReceived", static_cast<double>(perf.pktRecvTotal));
    o.Set("bytesReceived", static_cast<double>(perf.byteRecvTotal));
    o.Set("packetsLost", perf.pktRcvLossTotal);
    o.Set("packetsRetransmitted", perf.pktRcvRetrans);
    o.Set("packetsDropped", perf.pktRcvDropTotal);
    o.Set("packetsBelated", static_cast<double>(perf.pktRcvBelated));
    o.Set("bufferBytes", perf.byteRcvBuf);
    o.Set("bufferMs", perf.msRcvBuf);
    o.Set("bufferAvailableBytes", perf.byteAvailRcvBuf);
    o.Set("queueDroppedBytes", static_cast<double>(conn->droppedBytes.load()));
    o.Set("queueDroppedChunks", static_cast<double>(conn->droppedChunks.load()));
    o.Set("queuePendingBytes", static_cast<double>(conn->pendingBytes.load()));
    return o;
  }

  // The queue towards JavaScript and the rate-limit table, for diagnostics and tests.
  Napi::Value QueueStatsJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    QueueStats q = queue_->Stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("queuedEvents", static_cast<double>(q.queuedEvents));
    o.Set("queuedDataBytes", static_cast<double>(q.queuedDataBytes));
    o.Set("peakDataBytes", static_cast<double>(q.peakDataBytes));
    o.Set("queuedRejects", static_cast<double>(q.queuedRejects));
    o.Set("droppedDataBytes", static_cast<double>(q.droppedDataBytes));
    o.Set("droppedDataChunks", static_cast<double>(q.droppedDataChunks));
    o.Set("handshakeSources", static_cast<double>(limiter_->Size()));
    return o;
  }

  // Rejects counted but not queued (the reject queue was full) since the last call, by reject code.
  Napi::Value TakeRejectsNotDelivered(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    for (const auto& [code, count] : queue_->TakeRejectsNotDelivered()) {
      o.Set(std::to_string(code), static_cast<double>(count));
    }
    return o;
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  // --- libsrt side ---

  static int ListenCallback(void* opaque, SRTSOCKET ns, int, const struct sockaddr* peer, const char* streamid) {
    return static_cast<SrtServer*>(opaque)->Admit(ns, peer, streamid == nullptr ? "" : streamid);
  }

  // Runs on libsrt's thread inside the handshake: decide from the table only.
  int Admit(SRTSOCKET ns, const struct sockaddr* peer, const std::string& raw) {
    auto reject = [&](int code, const std::string& reason, const std::string& streamId) {
      srt_setrejectreason(ns, code);
      EmitReject(streamId, PeerString(peer), code, reason);
      return -1;
    };
    // First and cheapest: a source over its handshake rate learns nothing about streams or keys.
    // SRT_REJX_OVERLOAD is access_control.h's "exceeded credits for accessing the service".
    if (!limiter_->Allow(SourceKey(peer), Clock::now())) {
      return reject(SRT_REJX_OVERLOAD, "handshake rate limit", "");
    }
    if (!accepting_) return reject(SRT_REJX_DOWN, "not accepting (draining)", "");
    ParsedStreamId parsed = ParseStreamId(raw);
    if (!parsed.ok) return reject(SRT_REJX_BAD_REQUEST, "malformed streamid: " + parsed.reason, "");
    if (parsed.mode != "publish") return reject(SRT_REJX_BAD_MODE, "only m=publish is served", parsed.streamId);

    // Hashed before taking the lock: the table holds hashes only.
    const std::string presentedHash = Sha256Hex(parsed.publishKey);
    std::lock_guard<std::mutex> lock(mu_);
    std::string id = parsed.streamId;
    if (id.empty()) {
      auto byKey = keyIndex_.find(presentedHash);
      if (byKey == keyIndex_.end()) return reject(SRT_REJX_NOTFOUND, "unknown publish key", "");
      id = byKey->second;
    }
    auto it = streams_.find(id);
    if (it == streams_.end()) return reject(SRT_REJX_NOTFOUND, "unknown stream", id);
    const StreamEntry& entry = it->second;
    if (!ConstantTimeEquals(entry.publishKeyHash, presentedHash)) {
      return reject(SRT_REJX_UNAUTHORIZED, "wrong publish key", id);
    }
    if (!entry.allowed) return reject(SRT_REJX_FORBIDDEN, "stream disabled", id);
    auto now = Clock::now();
    for (auto r = reservations_.begin(); r != reservations_.end();) {
      r = r->second.expires < now ? reservations_.erase(r) : std::next(r);
    }
    // A publisher that has delivered no data for takeoverIdleMs_ (plus the latency) is most likely dead (an encoder killed or
    // restarted, which libsrt notices only after its peer idle timeout): an authenticated caller of the same
    // stream replaces it, once its handshake completes (AcceptAll), so a wrong passphrase never costs it.
    SRTSOCKET replaces = SRT_INVALID_SOCK;
    for (const auto& [sock, conn] : conns_) {
      if (conn->streamId != id) continue;
      if (!IdleForTakeover(*conn)) return reject(SRT_REJX_CONFLICT, "already publishing on this task", id);
      replaces = sock;
    }
    // Pending handshakes do not hold the stream: a caller with a wrong passphrase must not lock out the right one.
    // Two callers racing through the handshake are settled at accept (the later one is closed).
    int occupied = static_cast<int>(conns_.size()) - (replaces == SRT_INVALID_SOCK ? 0 : 1);
    if (occupied >= maxConnections_) {
      return reject(SRT_REJX_OVERLOAD, "no capacity on this task", id);
    }
    if (!entry.passphrase.empty()) {
      srt_setsockflag(ns, SRTO_PASSPHRASE, entry.passphrase.c_str(), static_cast<int>(entry.passphrase.size()));
      int keyLength = entry.keyLength;
      srt_setsockflag(ns, SRTO_PBKEYLEN, &keyLength, sizeof keyLength);
    }
    if (entry.latencyMs > 0) {
      int latency = entry.latencyMs;
      srt_setsockflag(ns, SRTO_RCVLATENCY, &latency, sizeof latency);
    }
    reservations_[ns] = Reservation{id, now + kReservationTtl, replaces};
    return 0;
  }

  // Takeover allowed (takeoverIdleMs_ > 0) and the connection has delivered no data for takeoverIdleMs_ beyond its
  // stream's SRT latency: TSBPD can hold delivery back by up to the latency before it drops a lost packet, so a live
  // publisher's silences are its source's gaps plus at most the latency. Caller holds mu_.
  bool IdleForTakeover(const Connection& conn) const {
    if (takeoverIdleMs_ <= 0) return false;
    auto it = streams_.find(conn.streamId);
    int latency = (it != streams_.end() && it->second.latencyMs > 0) ? it->second.latencyMs : latencyMs_;
    int64_t idleMs = static_cast<int64_t>(takeoverIdleMs_) + latency;
    return NowNs() - conn.lastDataNs.load() >= idleMs * 1000000;
  }

  // A caller that closes before its socket is accepted (or dies silently) may never raise an epoll event:
  // look at every connection's state now and then and close the broken ones.
  void SweepBroken() {
    std::vector<SRTSOCKET> socks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [s, c] : conns_) socks.push_back(s);
    }
    for (SRTSOCKET s : socks) {
      SRT_SOCKSTATUS st = srt_getsockstate(s);
      if (st == SRTS_BROKEN || st == SRTS_CLOSED || st == SRTS_NONEXIST || st == SRTS_CLOSING) {
        CloseConnection(s, "connection closed by peer");
      }
    }
  }

  void EpollLoop() {
    std::vector<SRT_EPOLL_EVENT> events(64);
    std::vector<char> buf(kReadChunk);
    auto lastSweep = Clock::now();
    while (running_) {
      if (Clock::now() - lastSweep > std::chrono::milliseconds(250)) {
        SweepBroken();
        lastSweep = Clock::now();
      }
      int n = srt_epoll_uwait(eid_, events.data(), static_cast<int>(events.size()), 100);
      if (n <= 0) continue;
      for (int i = 0; i < n; i++) {
        SRTSOCKET s = events[i].fd;
        if (s == listener_) {
          AcceptAll();
          continue;
        }
        std::shared_ptr<Connection> conn;
        {
          std::lock_guard<std::mutex> lock(mu_);
          auto it = conns_.find(s);
          if (it != conns_.end()) conn = it->second;
        }
        if (!conn) continue;
        ReadAll(conn, buf);
      }
    }
  }

  void AcceptAll() {
    for (;;) {
      sockaddr_storage peer{};
      int len = sizeof peer;
      SRTSOCKET s = srt_accept(listener_, reinterpret_cast<sockaddr*>(&peer), &len);
      if (s == SRT_INVALID_SOCK) return;
      bool no = false;
      srt_setsockflag(s, SRTO_RCVSYN, &no, sizeof no);
      auto conn = std::make_shared<Connection>();
      conn->sock = s;
      conn->lastDataNs = NowNs();
      std::shared_ptr<Connection> stale;
      {
        std::lock_guard<std::mutex> lock(mu_);
        SRTSOCKET replaces = SRT_INVALID_SOCK;
        auto r = reservations_.find(s);
        if (r != reservations_.end()) {
          conn->streamId = r->second.streamId;
          replaces = r->second.replaces;
          reservations_.erase(r);
        }
        bool duplicate = false;
        for (const auto& [other, c] : conns_) {
          if (c->streamId != conn->streamId) continue;
          // The takeover decided at the callback holds only if that publisher is still idle now (it may have
          // resumed during the handshake: then it is live, and this caller loses like any second publisher).
          if (other == replaces && IdleForTakeover(*c)) {
            stale = c;
          } else {
            duplicate = true;
          }
        }
        if (conn->streamId.empty() || duplicate) {
          // A lapsed reservation (very slow handshake) or the loser of two racing publishers.
          srt_close(s);
          if (duplicate) EmitReject(conn->streamId, "", SRT_REJX_CONFLICT, "already publishing on this task");
          continue;
        }
        if (stale) conns_.erase(stale->sock);
        conns_[s] = conn;
      }
      if (stale) {
        // Close before accept, in the one ordered queue: JavaScript ends the old connection, then sees the new one
        // as a reconnect of the same stream.
        srt_epoll_remove_usock(eid_, stale->sock);
        srt_close(stale->sock);
        Emit("close", stale->sock, stale->streamId, "", 0, kReplacedReason);
      }
      int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
      srt_epoll_add_usock(eid_, s, &events);
      Emit("accept", s, conn->streamId, PeerString(reinterpret_cast<sockaddr*>(&peer)), 0, "");
      // Data may have arrived before the socket joined the epoll set (level-triggered, but be sure).
      std::vector<char> buf(kReadChunk);
      ReadAll(conn, buf);
    }
  }

  void ReadAll(const std::shared_ptr<Connection>& conn, std::vector<char>& buf) {
    auto fresh = [&] {
      auto e = std::make_unique<Event>();
      e->type = "data";
      e->conn = conn->sock;
      e->connection = conn;
      return e;
    };
    auto event = fresh();
    auto flush = [&] {
      if (event->data.empty()) return;
      if (released_) return;
      bool queued = false;
      if (queue_->PushData(std::move(event), &queued)) WakeJs();
      // Dropped data was counted on the connection; either way the next chunk starts a new event.
      event = fresh();
    };
    for (;;) {
      int got = srt_recvmsg(conn->sock, buf.data(), static_cast<int>(buf.size()));
      if (got == SRT_ERROR) {
        int err = srt_getlasterror(nullptr);
        if (err == SRT_EASYNCRCV) break;
        flush();
        CloseConnection(conn->sock, std::string("connection lost: ") + srt_strerror(err, 0));
        return;
      }
      if (got == 0) break;
      conn->lastDataNs = NowNs();
      event->data.insert(event->data.end(), buf.data(), buf.data() + got);
      if (event->data.size() >= kMaxEventBytes) flush();
    }
    flush();
    SRT_SOCKSTATUS st = srt_getsockstate(conn->sock);
    if (st == SRTS_BROKEN || st == SRTS_CLOSED || st == SRTS_NONEXIST) {
      CloseConnection(conn->sock, "connection closed by peer");
    }
  }

  bool CloseConnection(SRTSOCKET s, const std::string& reason) {
    std::shared_ptr<Connection> conn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = conns_.find(s);
      if (it == conns_.end()) return false;
      conn = it->second;
      conns_.erase(it);
    }
    if (eid_ >= 0) srt_epoll_remove_usock(eid_, s);
    srt_close(s);
    Emit("close", s, conn->streamId, "", 0, reason);
    return true;
  }

  static std::unique_ptr<Event> MakeEvent(const std::string& type, int conn, const std::string& streamId,
                                         const std::string& peer, int code, const std::string& reason) {
    auto ev = std::make_unique<Event>();
    ev->type = type;
    ev->conn = conn;
    ev->streamId = streamId;
    ev->peer = peer;
    ev->code = code;
    ev->reason = reason;
    return ev;
  }

  // accept and close: never dropped.
  void Emit(const std::string& type, int conn, const std::string& streamId, const std::string& peer, int code,
            const std::string& reason) {
    if (released_) return;
    if (queue_->PushControl(MakeEvent(type, conn, streamId, peer, code, reason))) WakeJs();
  }

  // Rejects: bounded; over the bound only counted (takeRejectsNotDelivered).
  void EmitReject(const std::string& streamId, const std::string& peer, int code, const std::string& reason) {
    if (released_) return;
    if (queue_->PushReject(MakeEvent("reject", 0, streamId, peer, code, reason))) WakeJs();
  }

  // One wake in flight at a time: the TSFN's own queue never holds more than one item.
  void WakeJs() {
    auto* wake = new Wake{queue_};
    if (tsfn_.NonBlockingCall(wake) != napi_ok) {
      delete wake;
      queue_->WakeFailed();
    }
  }

  void Shutdown() {
    if (shutDown_.exchange(true)) return;
    running_ = false;
    if (thread_.joinable()) thread_.join();
    std::vector<SRTSOCKET> socks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [s, c] : conns_) socks.push_back(s);
    }
    for (SRTSOCKET s : socks) CloseConnection(s, "server stopped");
    if (listener_ != SRT_INVALID_SOCK) srt_close(listener_);
    listener_ = SRT_INVALID_SOCK;
    if (eid_ >= 0) srt_epoll_release(eid_);
    eid_ = -1;
    released_ = true;
    tsfn_.Release();
    if (--g_startups == 0) srt_cleanup();
  }

  int port_ = 0;
  std::string host_;
  int latencyMs_ = 120;
  std::atomic<int> maxConnections_{32};
  int takeoverIdleMs_ = kDefaultTakeoverIdleMs;  // 0: no takeover
  std::shared_ptr<EventQueue> queue_;
  std::unique_ptr<HandshakeLimiter> limiter_;
  std::atomic<bool> accepting_{true};
  std::atomic<bool> running_{false};
  std::atomic<bool> shutDown_{false};
  std::atomic<bool> released_{false};
  SRTSOCKET listener_ = SRT_INVALID_SOCK;
  int eid_ = -1;
  std::thread thread_;
  EventTsfn tsfn_;
  std::mutex mu_;
  std::map<std::string, StreamEntry> streams_;
  std::map<std::string, std::string> keyIndex_;  // publish-key hash -> stream id
  std::map<SRTSOCKET, Reservation> reservations_;
  std::map<SRTSOCKET, std::shared_ptr<Connection>> conns_;
};

// Test and diagnostics helper: an SRT caller that connects, optionally holds the connection, and reports
// libsrt's reject reason (ffmpeg's srt:// only prints "connection rejected").
class ProbeWorker : public Napi::AsyncWorker {
 public:
  ProbeWorker(Napi::Env env, std::string host, std::string bindHost, int port, std::string streamId,
              std::string passphrase, int keyLength, int holdMs, int timeoutMs, bool garbage)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        host_(std::move(host)),
        bindHost_(std::move(bindHost)),
        port_(port),
        streamId_(std::move(streamId)),
        passphrase_(std::move(passphrase)),
        keyLength_(keyLength),
        holdMs_(holdMs),
        timeoutMs_(timeoutMs),
        garbage_(garbage) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    if (g_startups++ == 0) srt_startup();
    SRTSOCKET s = srt_create_socket();
    srt_setsockflag(s, SRTO_STREAMID, streamId_.c_str(), static_cast<int>(streamId_.size()));
    if (!passphrase_.empty()) {
      srt_setsockflag(s, SRTO_PASSPHRASE, passphrase_.c_str(), static_cast<int>(passphrase_.size()));
      srt_setsockflag(s, SRTO_PBKEYLEN, &keyLength_, sizeof keyLength_);
    }
    srt_setsockflag(s, SRTO_CONNTIMEO, &timeoutMs_, sizeof timeoutMs_);
    if (!bindHost_.empty()) {
      // Another loopback address (127.0.0.2, ...) is another source for the listener's rate limit.
      sockaddr_in local{};
      local.sin_family = AF_INET;
      inet_pton(AF_INET, bindHost_.c_str(), &local.sin_addr);
      srt_bind(s, reinterpret_cast<sockaddr*>(&local), sizeof local);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
    if (srt_connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == SRT_ERROR) {
      connected_ = false;
      rejectReason_ = srt_getrejectreason(s);
    } else {
      connected_ = true;
      auto until = Clock::now() + std::chrono::milliseconds(holdMs_);
      // garbage: bytes that are not MPEG-TS, at about 2 Mbit/s, to test that a bad feed fails only its stream.
      char payload[1316];
      unsigned seed = 12345;
      while (Clock::now() < until) {
        if (garbage_) {
          for (char& c : payload) c = static_cast<char>((seed = seed * 1103515245 + 12345) >> 16);
          if (srt_sendmsg2(s, payload, sizeof payload, nullptr) == SRT_ERROR) break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    srt_close(s);
    if (--g_startups == 0) srt_cleanup();
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("connected", connected_);
    o.Set("rejectReason", rejectReason_);
    o.Set("rejectReasonText", rejectReason_ < 1000 ? std::string(srt_rejectreason_str(rejectReason_)) : "");
    deferred_.Resolve(o);
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string host_;
  std::string bindHost_;
  int port_;
  std::string streamId_;
  std::string passphrase_;
  int keyLength_;
  int holdMs_;
  int timeoutMs_;
  bool garbage_;
  bool connected_ = false;
  int rejectReason_ = 0;
};

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Object o = info[0].As<Napi::Object>();
  auto str = [&](const char* k) { return o.Has(k) && o.Get(k).IsString() ? o.Get(k).As<Napi::String>().Utf8Value() : ""; };
  auto num = [&](const char* k, int d) { return o.Has(k) && o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().Int32Value() : d; };
  auto* worker = new ProbeWorker(info.Env(), str("host"), str("bindHost"), num("port", 0), str("streamId"),
                                 str("passphrase"),
                                 num("keyLength", 16), num("holdMs", 0), num("timeoutMs", 3000),
                                 o.Has("garbage") && o.Get("garbage").ToBoolean().Value());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value ParseStreamIdJs(const Napi::CallbackInfo& info) {
  ParsedStreamId p = ParseStreamId(info[0].As<Napi::String>().Utf8Value());
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("ok", p.ok);
  o.Set("streamId", p.streamId);
  o.Set("publishKey", p.publishKey);
  o.Set("mode", p.mode);
  o.Set("reason", p.reason);
  return o;
}

// Test hook: runs the listener's HandshakeLimiter over a scripted list of attempts ({ source, atMs }) on a fake
// clock and says which were allowed, so refill, burst and the bounded table are checked without timing.
Napi::Value TestHandshakeLimiter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  HandshakeLimiter limiter(o.Get("ratePerSec").As<Napi::Number>().DoubleValue(),
                           o.Get("burst").As<Napi::Number>().DoubleValue(),
                           static_cast<size_t>(o.Get("maxSources").As<Napi::Number>().Int64Value()));
  Napi::Array attempts = info[1].As<Napi::Array>();
  Napi::Array allowed = Napi::Array::New(env, attempts.Length());
  auto start = Clock::now();
  for (uint32_t i = 0; i < attempts.Length(); i++) {
    Napi::Object a = attempts.Get(i).As<Napi::Object>();
    auto at = start + std::chrono::microseconds(
                          static_cast<int64_t>(a.Get("atMs").As<Napi::Number>().DoubleValue() * 1000));
    allowed.Set(i, limiter.Allow(a.Get("source").As<Napi::String>().Utf8Value(), at));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("allowed", allowed);
  out.Set("sources", static_cast<double>(limiter.Size()));
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("SrtServer", SrtServer::Init(env));
  exports.Set("testHandshakeLimiter", Napi::Function::New(env, TestHandshakeLimiter));
  exports.Set("probe", Napi::Function::New(env, Probe));
  exports.Set("parseStreamId", Napi::Function::New(env, ParseStreamIdJs));
  return exports;
}

NODE_API_MODULE(mirror_srt, Init)

}  // namespace mirror
