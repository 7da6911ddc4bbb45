// server/http_types.hpp
//
// The request and response as the handlers see them: plain structs with no networking types, so
// routes compile quickly and can be exercised without sockets. The transport (http_server.cpp,
// Boost.Beast) fills a Request from the wire and writes a Response back.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crimecast::server {

using SteadyTime = std::chrono::steady_clock::time_point;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/api/events?bbox=..."
  std::string path;    // percent-decoded path without the query: "/api/events"
  std::vector<std::pair<std::string, std::string>> params;       // decoded query parameters
  std::vector<std::pair<std::string, std::string>> headers;      // names in lower case
  std::vector<std::pair<std::string, std::string>> path_params;  // {id} captures
  std::string body;
  std::string client;  // remote IP address
  bool tls = false;
  SteadyTime received{};
  SteadyTime deadline{};  // work not started by then is refused (503)

  const std::string* Header(std::string_view lower_name) const;
  std::optional<std::string> Param(std::string_view name) const;
  std::optional<std::string> PathParam(std::string_view name) const;
  // Value of a cookie from the Cookie header.
  std::optional<std::string> Cookie(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // A large body shared with a cache (forecasts); used instead of `body` when set.
  std::shared_ptr<const std::string> shared_body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When true the transport switches the connection to a server-sent-events stream after
  // writing the headers (GET /api/live); `body` is written first (e.g. a "hello" event).
  bool event_stream = false;
  bool event_stream_record_level = false;  // subscriber may receive record-level messages
  std::string last_event_id;               // resume point sent by the client
  std::string_view error_key;              // error-table metric key of an error response

  std::string_view Body() const { return shared_body ? *shared_body : std::string_view(body); }
};

// "a%20b" -> "a b"; '+' -> ' ' when `plus_is_space` (query strings). Invalid escapes are kept
// literally.
std::string PercentDecode(std::string_view text, bool plus_is_space);
// Splits a target into path and decoded parameters.
void ParseTarget(std::string_view target, std::string& path,
                 std::vector<std::pair<std::string, std::string>>& params);
std::string_view ReasonPhrase(int status);

}  // namespace crimecast::server
