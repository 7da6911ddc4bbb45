// server/error_response.hpp
//
// The ONE table from crimecast::ErrorCode to HTTP (Valhalla's idea): status, the stable code
// string of the JSON body (common/error.hpp Name()), and the key counted in /metrics.
// Every error the server sends is built here, so every error body has the same shape:
//
//   {"code": "BadCoordinate", "message": "latitude 95 is outside -90..90"}
//
// A code missing from the table maps to 500 and is caught by the server tests, which walk every
// code.
#pragma once

#include <string_view>

#include "core/common/error.hpp"
#include "server/http_types.hpp"

namespace crimecast::server {

struct HttpErrorInfo {
  int status = 500;
  std::string_view metric_key = "internal";
  bool known = false;  // false: the code is not in the table
};

HttpErrorInfo HttpError(ErrorCode code);

// {"code": Name(code), "message": message} with the table's status.
Response ErrorResponse(const Error& error);
inline Response ErrorResponse(ErrorCode code, std::string message) {
  return ErrorResponse(Error{code, std::move(message)});
}

// JSON string escaping (RFC 8259) for hand-built bodies; control characters as \u00XX.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace crimecast::server
