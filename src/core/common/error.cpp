#include "core/common/error.hpp"

namespace crimecast {
namespace {
struct Entry {
  ErrorCode code;
  std::string_view name;
  std::string_view description;
};
// One row per code. Kept as a flat table so adding a code is one line here and one in the enum.
constexpr Entry kTable[] = {
    {ErrorCode::kOk, "Ok", "no error"},
    {ErrorCode::kInvalidArgument, "InvalidArgument", "an argument is invalid"},
    {ErrorCode::kFileNotFound, "FileNotFound", "file not found"},
    {ErrorCode::kFileUnreadable, "FileUnreadable", "file cannot be read"},
    {ErrorCode::kMalformedCsv, "MalformedCsv", "the file is not well-formed CSV"},
    {ErrorCode::kMissingColumn, "MissingColumn", "a required column is missing"},
    {ErrorCode::kBadField, "BadField", "a field has an invalid value"},
    {ErrorCode::kBadTime, "BadTime", "a date or time is invalid"},
    {ErrorCode::kBadCoordinate, "BadCoordinate", "a coordinate is invalid or out of range"},
    {ErrorCode::kUnknownCategory, "UnknownCategory", "the category is not known"},
    {ErrorCode::kBadEncoding, "BadEncoding", "the text is not valid UTF-8"},
    {ErrorCode::kLineTooLong, "LineTooLong", "a line exceeds the maximum length"},
    {ErrorCode::kEmptyInput, "EmptyInput", "the input is empty"},
    {ErrorCode::kBadMapping, "BadMapping", "the column mapping file is invalid"},
    {ErrorCode::kBadCrs, "BadCrs", "the coordinate reference system is unknown or unusable"},
    {ErrorCode::kBadGrid, "BadGrid", "the grid definition is invalid"},
    {ErrorCode::kUnknownModel, "UnknownModel", "the model name is not known"},
    {ErrorCode::kBadHorizon, "BadHorizon", "the forecast horizon is invalid"},
    {ErrorCode::kBadGeometry, "BadGeometry", "a geometry is invalid"},
    {ErrorCode::kStorage, "Storage", "the database reported an error"},
    {ErrorCode::kSchemaVersion, "SchemaVersion", "the database schema version is not supported"},
    {ErrorCode::kNoData, "NoData", "there is no data for the request"},
    {ErrorCode::kDuplicate, "Duplicate", "the record already exists"},
    {ErrorCode::kNotFound, "NotFound", "the object was not found"},
    {ErrorCode::kProjection, "Projection", "a coordinate transformation failed"},
    {ErrorCode::kModelFit, "ModelFit", "the model could not be fitted"},
    {ErrorCode::kEmptyTrainingWindow, "EmptyTrainingWindow", "no events before the forecast time"},
    {ErrorCode::kOutOfRange, "OutOfRange", "a value is outside the supported range"},
    {ErrorCode::kTooLarge, "TooLarge", "the request is too large"},
    {ErrorCode::kUnauthenticated, "Unauthenticated", "authentication is required"},
    {ErrorCode::kForbidden, "Forbidden", "the caller's role may not do this"},
    {ErrorCode::kAccountLocked, "AccountLocked", "the account is locked after failed sign-ins"},
    {ErrorCode::kAccountDisabled, "AccountDisabled", "the account is disabled"},
    {ErrorCode::kSessionExpired, "SessionExpired", "the session has expired; sign in again"},
    {ErrorCode::kAuditChainBroken, "AuditChainBroken",
     "the audit log hash chain does not verify (records altered or deleted)"},
    {ErrorCode::kRequestTimeout, "RequestTimeout", "the request took too long"},
    {ErrorCode::kRateLimited, "RateLimited", "too many requests; slow down"},
    {ErrorCode::kUnavailable, "Unavailable", "the service is shutting down or overloaded"},
    {ErrorCode::kMethodNotAllowed, "MethodNotAllowed", "the method is not allowed on this path"},
    {ErrorCode::kPayloadTooLarge, "PayloadTooLarge", "the request body is too large"},
    {ErrorCode::kUnsupportedMediaType, "UnsupportedMediaType",
     "the request body's content type is not supported"},
    {ErrorCode::kInternal, "Internal", "internal error"},
};
const Entry* Find(ErrorCode code) {
  for (const auto& e : kTable) {
    if (e.code == code) return &e;
  }
  return nullptr;
}
}  // namespace

std::string_view Name(ErrorCode code) {
  const Entry* e = Find(code);
  return e ? e->name : "Unknown";
}
std::string_view Describe(ErrorCode code) {
  const Entry* e = Find(code);
  return e ? e->description : "unknown error code";
}
std::string Error::ToString() const {
  std::string out(Name(code));
  out += ": ";
  out += message;
  return out;
}
}  // namespace crimecast
