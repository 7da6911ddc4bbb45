// core/common/error.hpp
//
// The one error vocabulary of crimecast (see docs/decisions/0001-error-handling.md).
//
// * ErrorCode is numbered and APPEND-ONLY: never reorder or renumber, because codes are
//   written to error files, logs and (via the server's table) HTTP bodies. Values are grouped
//   in bands, as S2 does: 1xx bad input, 2xx data/storage, 3xx model/evaluation,
//   4xx access control, 5xx service (server limits and state), 9xx internal.
// * Operations that can fail on data or user input return Result<T> (std::expected<T, Error>).
//   No exception crosses a module boundary; exceptions are reserved for allocation failure
//   and similar faults and are converted to Error in the CLI's main and the server's handler.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#if defined(__has_include)
#if __has_include(<expected>)
#include <expected>
#endif
#endif

namespace crimecast {

enum class ErrorCode : int {
  kOk = 0,
  // 1xx: bad input (user arguments, malformed files).
  kInvalidArgument = 100,
  kFileNotFound = 101,
  kFileUnreadable = 102,
  kMalformedCsv = 103,
  kMissingColumn = 104,
  kBadField = 105,
  kBadTime = 106,
  kBadCoordinate = 107,
  kUnknownCategory = 108,
  kBadEncoding = 109,
  kLineTooLong = 110,
  kEmptyInput = 111,
  kBadMapping = 112,
  kBadCrs = 113,
  kBadGrid = 114,
  kUnknownModel = 115,
  kBadHorizon = 116,
  kBadGeometry = 117,
  // 2xx: data and storage.
  kStorage = 200,
  kSchemaVersion = 201,
  kNoData = 202,
  kDuplicate = 203,
  kNotFound = 204,
  kProjection = 205,
  // 3xx: models and evaluation.
  kModelFit = 300,
  kEmptyTrainingWindow = 301,
  kOutOfRange = 302,
  kTooLarge = 303,
  // 4xx: access control.
  kUnauthenticated = 400,
  kForbidden = 401,
  kAccountLocked = 402,
  kAccountDisabled = 403,
  kSessionExpired = 404,
  kAuditChainBroken = 405,
  // 5xx: service (the HTTP server's own limits and state).
  kRequestTimeout = 500,
  kRateLimited = 501,
  kUnavailable = 502,
  kMethodNotAllowed = 503,
  kPayloadTooLarge = 504,
  kUnsupportedMediaType = 505,
  // 9xx: internal (programmer error or environment fault).
  kInternal = 900,
};

// Stable machine-readable name ("MalformedCsv") used in JSON bodies and error files.
std::string_view Name(ErrorCode code);
// One-line human description of the code.
std::string_view Describe(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  std::string ToString() const;  // "MalformedCsv: <message>"
};

#if defined(__cpp_lib_expected) && __cpp_lib_expected >= 202202L
template <class T>
using Result = std::expected<T, Error>;
using Unexpected = std::unexpected<Error>;
#else
// Minimal stand-in for std::expected, used only by compilers whose standard library lacks it
// (clang 14 with libstdc++ 12, which builds the libFuzzer targets). It supports the subset
// crimecast uses: construction from T or Unexpected, has_value/operator bool, value(),
// operator*/->, error().
struct Unexpected {
  explicit Unexpected(Error e) : error_(std::move(e)) {}
  Error error_;
  const Error& error() const { return error_; }
};
template <class T>
class Result {
 public:
  Result(T v) : value_(std::move(v)) {}                  // NOLINT(google-explicit-constructor)
  Result(Unexpected u) : error_(std::move(u.error_)) {}  // NOLINT
  bool has_value() const { return value_.has_value(); }
  explicit operator bool() const { return value_.has_value(); }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  const Error& error() const { return error_; }

 private:
  // optional, not a T member: T need not be default-constructible (e.g. Projection).
  std::optional<T> value_;
  Error error_{};
};
template <>
class Result<void> {
 public:
  Result() : ok_(true) {}
  Result(Unexpected u) : ok_(false), error_(std::move(u.error_)) {}  // NOLINT
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const {}
  const Error& error() const { return error_; }

 private:
  bool ok_;
  Error error_{};
};
#endif

// Convenience: `return Fail(ErrorCode::kBadTime, "month '2024-13' is not a month");`
inline Unexpected Fail(ErrorCode code, std::string message) {
  return Unexpected(Error{code, std::move(message)});
}

}  // namespace crimecast
