#include "core/access/audit_json.hpp"

#include <fmt/format.h>

#include "core/common/time.hpp"

namespace crimecast::access {

std::string FormatAuditTime(std::int64_t at_ms) {
  return FormatIso(TimePoint{Seconds{at_ms / 1000}}).substr(0, 19) +
         fmt::format(".{:03}Z", at_ms % 1000);
}

nlohmann::json AuditRecordJson(const AuditRecord& r) {
  return {{"seq", r.seq},       {"at_ms", r.at_ms},     {"time", FormatAuditTime(r.at_ms)},
          {"user", r.user},     {"role", r.role},       {"action", Name(r.action)},
          {"object", r.object}, {"outcome", r.outcome}, {"status", r.status},
          {"client", r.client}, {"purpose", r.purpose}, {"detail", r.detail},
          {"hash", r.hash}};
}

}  // namespace crimecast::access
