#include "server/error_response.hpp"

#include <fmt/format.h>

namespace crimecast::server {
namespace {

struct Row {
  ErrorCode code;
  int status;
  std::string_view metric_key;
};

// Input problems are the client's (4xx); storage and internal faults are ours (5xx). A request
// that is well-formed but cannot be satisfied by the data (no events before T, a model that
// cannot fit) is 422, so clients can tell "fix your request" (400) from "ask something else".
constexpr Row kTable[] = {
    {ErrorCode::kOk, 200, "ok"},
    {ErrorCode::kInvalidArgument, 400, "invalid_argument"},
    {ErrorCode::kFileNotFound, 404, "file_not_found"},
    {ErrorCode::kFileUnreadable, 400, "file_unreadable"},
    {ErrorCode::kMalformedCsv, 400, "malformed_input"},
    {ErrorCode::kMissingColumn, 400, "malformed_input"},
    {ErrorCode::kBadField, 400, "bad_field"},
    {ErrorCode::kBadTime, 400, "bad_field"},
    {ErrorCode::kBadCoordinate, 400, "bad_field"},
    {ErrorCode::kUnknownCategory, 400, "bad_field"},
    {ErrorCode::kBadEncoding, 400, "bad_field"},
    {ErrorCode::kLineTooLong, 413, "too_large"},
    {ErrorCode::kEmptyInput, 400, "malformed_input"},
    {ErrorCode::kBadMapping, 400, "invalid_argument"},
    {ErrorCode::kBadCrs, 400, "invalid_argument"},
    {ErrorCode::kBadGrid, 400, "invalid_argument"},
    {ErrorCode::kUnknownModel, 400, "invalid_argument"},
    {ErrorCode::kBadHorizon, 400, "invalid_argument"},
    {ErrorCode::kBadGeometry, 400, "invalid_argument"},
    {ErrorCode::kStorage, 500, "storage"},
    {ErrorCode::kSchemaVersion, 500, "storage"},
    {ErrorCode::kNoData, 404, "no_data"},
    {ErrorCode::kDuplicate, 409, "duplicate"},
    {ErrorCode::kNotFound, 404, "not_found"},
    {ErrorCode::kProjection, 422, "unprocessable"},
    {ErrorCode::kModelFit, 422, "unprocessable"},
    {ErrorCode::kEmptyTrainingWindow, 422, "unprocessable"},
    {ErrorCode::kOutOfRange, 400, "invalid_argument"},
    {ErrorCode::kTooLarge, 413, "too_large"},
    {ErrorCode::kUnauthenticated, 401, "unauthenticated"},
    {ErrorCode::kForbidden, 403, "forbidden"},
    {ErrorCode::kAccountLocked, 403, "account_locked"},
    {ErrorCode::kAccountDisabled, 403, "account_disabled"},
    {ErrorCode::kSessionExpired, 401, "session_expired"},
    {ErrorCode::kAuditChainBroken, 500, "audit_broken"},
    {ErrorCode::kRequestTimeout, 408, "timeout"},
    {ErrorCode::kRateLimited, 429, "rate_limited"},
    {ErrorCode::kUnavailable, 503, "unavailable"},
    {ErrorCode::kMethodNotAllowed, 405, "method_not_allowed"},
    {ErrorCode::kPayloadTooLarge, 413, "too_large"},
    {ErrorCode::kUnsupportedMediaType, 415, "unsupported_media_type"},
    {ErrorCode::kInternal, 500, "internal"},
};

}  // namespace

HttpErrorInfo HttpError(ErrorCode code) {
  for (const Row& r : kTable) {
    if (r.code == code) return {r.status, r.metric_key, true};
  }
  return {};
}

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

Response ErrorResponse(const Error& error) {
  Response r;
  const HttpErrorInfo info = HttpError(error.code);
  r.status = info.status;
  r.error_key = info.metric_key;
  r.body = "{\"code\":";
  AppendJsonString(r.body, Name(error.code));
  r.body += ",\"message\":";
  AppendJsonString(r.body, error.message);
  r.body += "}";
  if (error.code == ErrorCode::kRateLimited) r.headers.emplace_back("Retry-After", "1");
  if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"crimecast\"");
  return r;
}

}  // namespace crimecast::server
