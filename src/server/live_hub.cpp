#include "server/live_hub.hpp"

#include <fmt/format.h>

namespace crimecast::server {

Frame LiveHub::MakeFrame(std::string_view type, std::string_view json, std::uint64_t id) {
  std::string f;
  f.reserve(json.size() + type.size() + 32);
  if (id > 0) f += fmt::format("id: {}\n", id);
  f += "event: ";
  f += type;
  f += "\ndata: ";
  f += json;
  f += "\n\n";
  return std::make_shared<const std::string>(std::move(f));
}

std::uint64_t LiveHub::Subscribe(std::shared_ptr<LiveSubscriber> subscriber, bool record_level,
                                 std::uint64_t last_event_id) {
  std::lock_guard lock(mu_);
  if (last_event_id > 0) {
    for (const Past& p : history_) {
      if (p.id > last_event_id && (record_level || !p.record_level)) {
        subscriber->Deliver(p.frame);
      }
    }
  }
  const std::uint64_t id = next_sub_++;
  subs_.emplace(id, Sub{std::move(subscriber), record_level});
  return id;
}

void LiveHub::Unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mu_);
  subs_.erase(id);
}

std::uint64_t LiveHub::Publish(std::string_view type, std::string_view json, bool record_level) {
  std::lock_guard lock(mu_);
  const std::uint64_t id = next_id_++;
  Frame frame = MakeFrame(type, json, id);
  history_.push_back({id, frame, record_level});
  while (history_.size() > history_limit_) history_.pop_front();
  for (auto& [sid, sub] : subs_) {
    if (record_level && !sub.record_level) continue;
    sub.subscriber->Deliver(frame);
  }
  return id;
}

void LiveHub::CloseAll() {
  std::unordered_map<std::uint64_t, Sub> subs;
  {
    std::lock_guard lock(mu_);
    subs.swap(subs_);
  }
  const Frame bye = MakeFrame("shutdown", "{\"reason\":\"server shutting down\"}", 0);
  for (auto& [id, sub] : subs) sub.subscriber->Close(bye);
}

std::size_t LiveHub::subscribers() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}

std::uint64_t LiveHub::published() const {
  std::lock_guard lock(mu_);
  return next_id_ - 1;
}

}  // namespace crimecast::server
