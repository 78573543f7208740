// The bounded queue between the SRT threads (libsrt's handshake thread, the epoll thread) and JavaScript.
//
// One queue in arrival order, because a connection's accept, data and close must reach JavaScript in that order;
// each kind of event has its own bound:
// - data: bytes queued per connection (maxPendingBytes) and in total (maxQueuedBytes). Over either, the chunk is
//   dropped and counted on its connection (queueDroppedBytes/Chunks in stats()): MPEG-TS survives a gap, and the
//   alternative (blocking the epoll thread) would stall every other connection and then libsrt's receive buffers.
// - control (accept, close): never dropped, or JavaScript would lose track of a connection. Their number is bounded
//   by construction: each accept needs an admitted handshake (capacity, rate limit) and each close an accept.
// - rejects: at most maxQueuedRejects waiting; beyond that only counted per code (a handshake flood while the event
//   loop is busy must not grow memory; the summary logged by server.ts reports them as not delivered).
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mirror {

struct Connection {
  int sock = -1;
  std::string streamId;
  // steady_clock nanoseconds of the last data read from the socket (set at accept): a takeover (addon.cc) needs
  // the time since the peer last delivered media, which libsrt does not expose (its last-response time, which
  // keepalives refresh too, is internal to the peer idle timeout).
  std::atomic<int64_t> lastDataNs{0};
  std::atomic<size_t> pendingBytes{0};
  std::atomic<uint64_t> droppedBytes{0};
  std::atomic<uint64_t> droppedChunks{0};
};

struct Event {
  std::string type;  // accept | data | close | reject
  int conn = 0;
  std::string streamId;
  std::string peer;
  int code = 0;
  std::string reason;
  std::vector<uint8_t> data;
  std::shared_ptr<Connection> connection;
};

struct QueueStats {
  size_t queuedEvents = 0;
  size_t queuedDataBytes = 0;
  size_t peakDataBytes = 0;
  size_t queuedRejects = 0;
  uint64_t droppedDataBytes = 0;
  uint64_t droppedDataChunks = 0;
  std::map<int, uint64_t> rejectsNotDelivered;
};

class EventQueue {
 public:
  EventQueue(size_t maxPendingBytes, size_t maxQueuedBytes, size_t maxQueuedRejects);

  // Each Push returns true when the consumer must be woken (the first event since the last Take).
  // Data over a bound is dropped and counted on its connection; `queued` says whether it was kept.
  bool PushData(std::unique_ptr<Event> event, bool* queued);
  bool PushControl(std::unique_ptr<Event> event);
  bool PushReject(std::unique_ptr<Event> event);

  // The consumer (JavaScript thread): everything queued, in order; clears the wake flag first so a push racing
  // with the take wakes again.
  std::deque<std::unique_ptr<Event>> Take();

  // A wake that could not be delivered (the thread-safe function is closing).
  void WakeFailed() { wakePending_ = false; }

  // Rejects that were counted but not queued since the last call, by code; the counters restart.
  std::map<int, uint64_t> TakeRejectsNotDelivered();

  QueueStats Stats();

 private:
  bool Pushed();

  const size_t maxPendingBytes_;
  const size_t maxQueuedBytes_;
  const size_t maxQueuedRejects_;
  std::mutex mu_;
  std::deque<std::unique_ptr<Event>> events_;
  size_t dataBytes_ = 0;
  size_t peakDataBytes_ = 0;
  size_t rejects_ = 0;
  uint64_t droppedDataBytes_ = 0;
  uint64_t droppedDataChunks_ = 0;
  std::map<int, uint64_t> rejectsNotDelivered_;
  std::atomic<bool> wakePending_{false};
};

}  // namespace mirror
