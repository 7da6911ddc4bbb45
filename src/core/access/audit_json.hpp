// core/access/audit_json.hpp
//
// The one JSON shape of an audit record, shared by `crimecast audit show --json` and
// `GET /api/audit` (docs/api.md), so an oversight panel sees the same fields from both:
//
//   {"seq": 41, "at_ms": 1732870000123, "time": "2024-11-29T08:46:40.123Z", "user": "alice",
//    "role": "analyst", "action": "consultation", "object": "GET /api/forecast", "outcome": "ok",
//    "status": 200, "client": "127.0.0.1", "purpose": "...", "detail": "...", "hash": "<hex>"}
//
// `time` is `at_ms` in ISO 8601 UTC with milliseconds. prev_hash is left out: it is the
// previous record's `hash`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/access/audit_log.hpp"

namespace crimecast::access {

// "2024-11-29T08:46:40.123Z" for UTC milliseconds since 1970 (ms >= 0).
std::string FormatAuditTime(std::int64_t at_ms);

nlohmann::json AuditRecordJson(const AuditRecord& record);

}  // namespace crimecast::access
