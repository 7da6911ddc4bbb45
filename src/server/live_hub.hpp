// server/live_hub.hpp
//
// The broadcaster behind GET /api/live (server-sent events, the W3C EventSource format).
//
// * A message is one SSE frame "id: N\nevent: TYPE\ndata: JSON\n\n", built ONCE and shared by
//   every subscriber (shared_ptr), so a broadcast to 500 clients costs 500 pointer copies and
//   500 queued writes, not 500 serialisations.
// * ids increase by one per message; the last `history` frames are kept so a client reconnecting
//   with Last-Event-ID receives what it missed (when still in the history).
// * Messages are either record-level (a single new event: only roles with the read-records
//   permission receive them) or aggregate (changed forecast cells, alerts: every subscriber).
// * Delivery is the subscriber's business (the transport queues writes per connection and drops
//   a client whose queue grows past its limit); Publish never blocks on a slow client.
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace crimecast::server {

using Frame = std::shared_ptr<const std::string>;

class LiveSubscriber {
 public:
  virtual ~LiveSubscriber() = default;
  // Called from the publishing thread; must not block.
  virtual void Deliver(Frame frame) = 0;
  // The server is shutting down: send `frame` (a final message) and close.
  virtual void Close(Frame frame) = 0;
};

class LiveHub {
 public:
  explicit LiveHub(std::size_t history = 1024) : history_limit_(history) {}

  // Registers a subscriber; frames after `last_event_id` (0: none) still in the history are
  // delivered first. Returns the subscription id.
  std::uint64_t Subscribe(std::shared_ptr<LiveSubscriber> subscriber, bool record_level,
                          std::uint64_t last_event_id);
  void Unsubscribe(std::uint64_t id);

  // Broadcasts one message; `json` is the data line (must not contain a newline).
  std::uint64_t Publish(std::string_view type, std::string_view json, bool record_level);
  // Closes every stream (graceful shutdown) with a final "shutdown" message.
  void CloseAll();

  std::size_t subscribers() const;
  std::uint64_t published() const;
  // A frame outside the id sequence (comments, hello messages), e.g. ": ping\n\n".
  static Frame MakeFrame(std::string_view type, std::string_view json, std::uint64_t id);

 private:
  struct Sub {
    std::shared_ptr<LiveSubscriber> subscriber;
    bool record_level;
  };
  struct Past {
    std::uint64_t id;
    Frame frame;
    bool record_level;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::uint64_t, Sub> subs_;
  std::deque<Past> history_;
  std::size_t history_limit_;
  std::uint64_t next_sub_ = 1;
  std::uint64_t next_id_ = 1;
};

}  // namespace crimecast::server
