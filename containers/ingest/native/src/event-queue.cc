#include "event-queue.h"

#include <algorithm>

namespace mirror {

EventQueue::EventQueue(size_t maxPendingBytes, size_t maxQueuedBytes, size_t maxQueuedRejects)
    : maxPendingBytes_(maxPendingBytes), maxQueuedBytes_(maxQueuedBytes), maxQueuedRejects_(maxQueuedRejects) {}

bool EventQueue::Pushed() { return !wakePending_.exchange(true); }

bool EventQueue::PushData(std::unique_ptr<Event> event, bool* queued) {
  size_t size = event->data.size();
  Connection& conn = *event->connection;
  std::lock_guard<std::mutex> lock(mu_);
  if (conn.pendingBytes.load() + size > maxPendingBytes_ || dataBytes_ + size > maxQueuedBytes_) {
    conn.droppedBytes += size;
    conn.droppedChunks += 1;
    droppedDataBytes_ += size;
    droppedDataChunks_ += 1;
    *queued = false;
    return false;
  }
  conn.pendingBytes += size;
  dataBytes_ += size;
  peakDataBytes_ = std::max(peakDataBytes_, dataBytes_);
  events_.push_back(std::move(event));
  *queued = true;
  return Pushed();
}

bool EventQueue::PushControl(std::unique_ptr<Event> event) {
  std::lock_guard<std::mutex> lock(mu_);
  events_.push_back(std::move(event));
  return Pushed();
}

bool EventQueue::PushReject(std::unique_ptr<Event> event) {
  std::lock_guard<std::mutex> lock(mu_);
  if (rejects_ >= maxQueuedRejects_) {
    rejectsNotDelivered_[event->code] += 1;
    return false;
  }
  rejects_ += 1;
  events_.push_back(std::move(event));
  return Pushed();
}

std::deque<std::unique_ptr<Event>> EventQueue::Take() {
  wakePending_ = false;
  std::deque<std::unique_ptr<Event>> taken;
  std::lock_guard<std::mutex> lock(mu_);
  taken.swap(events_);
  for (const auto& event : taken) {
    if (event->type == "data" && event->connection) event->connection->pendingBytes -= event->data.size();
  }
  dataBytes_ = 0;
  rejects_ = 0;
  return taken;
}

std::map<int, uint64_t> EventQueue::TakeRejectsNotDelivered() {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<int, uint64_t> out;
  out.swap(rejectsNotDelivered_);
  return out;
}

QueueStats EventQueue::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  QueueStats s;
  s.queuedEvents = events_.size();
  s.queuedDataBytes = dataBytes_;
  s.peakDataBytes = peakDataBytes_;
  s.queuedRejects = rejects_;
  s.droppedDataBytes = droppedDataBytes_;
  s.droppedDataChunks = droppedDataChunks_;
  s.rejectsNotDelivered = rejectsNotDelivered_;
  return s;
}

}  // namespace mirror
