// tests/server/http_client.hpp: a small blocking HTTP/1.1 client for the server tests (one
// connection per request, plain or TLS), and a server-sent-events reader.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace crimecast::testing {

struct HttpResult {
  int status = 0;                              // 0: connection failed
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;
  nlohmann::json Json() const;
  std::string Header(const std::string& lower) const {
    auto it = headers.find(lower);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpOptions {
  std::string token;  // Authorization: Bearer
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  bool tls = false;
  double timeout_s = 10;
};

HttpResult Http(std::uint16_t port, const std::string& method, const std::string& target,
                const std::string& body = "", const HttpOptions& options = {});

// Reads an event stream: connects, sends GET target with the token, and collects frames.
class SseClient {
 public:
  SseClient(std::uint16_t port, const std::string& target, const std::string& token,
            const std::string& last_event_id = "");
  ~SseClient();
  bool connected() const;
  int status() const;
  struct Message {
    std::string id, event, data;
  };
  // Waits until a message of `event` type arrives (or the timeout); returns it.
  std::optional<Message> WaitFor(const std::string& event, std::chrono::milliseconds timeout);
  // True when the server closed the stream within the timeout.
  bool WaitClosed(std::chrono::milliseconds timeout);
  std::vector<Message> messages();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crimecast::testing
