// core/access/roles.hpp
//
// Who may do what.
//
// Five roles share one deployment (police, council and social-services users):
//   officer  reads forecasts, hotspots and record-level events for briefings; cannot ingest.
//   analyst  everything an officer can, plus ingesting events and running backtests.
//   partner  council or social services: AGGREGATES ONLY (see access/disclosure.hpp): forecasts
//            and counts on cells of at least 500 m or LSOAs, small counts suppressed. Every
//            record-level permission is refused (HTTP 403).
//   auditor  reads the audit log (and nothing else that touches personal data).
//   admin    manages users and tokens; may also ingest and read, like an analyst.
//
// The table in roles.cpp is the single source of truth; the server checks one Permission per
// endpoint and never tests role names itself. Role values are stored in the database: append
// only, never renumber.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace crimecast::access {

enum class Role : std::uint8_t {
  kOfficer = 0,
  kAnalyst = 1,
  kPartner = 2,
  kAuditor = 3,
  kAdmin = 4,
};
inline constexpr int kRoleCount = 5;

std::string_view Name(Role role);  // "officer", "analyst", ...
std::optional<Role> ParseRole(std::string_view text);

enum class Permission : std::uint8_t {
  kReadRecords,     // individual events (GET /api/events, event-level live stream, cell history
                    // listing events, recent-event explanations)
  kReadAggregates,  // forecasts, hotspots, counts (partners: under disclosure control)
  kIngest,          // POST /api/events
  kRunBacktests,    // POST /api/backtests
  kReadAudit,       // the audit log
  kManageUsers,     // users and API tokens
};

bool Allowed(Role role, Permission permission);
// True when the role receives aggregates only, through disclosure control.
inline bool AggregatesOnly(Role role) { return role == Role::kPartner; }

std::string_view Name(Permission permission);

}  // namespace crimecast::access
