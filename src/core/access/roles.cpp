#include "core/access/roles.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace crimecast::access {
namespace {

constexpr std::string_view kRoleNames[kRoleCount] = {"officer", "analyst", "partner", "auditor",
                                                     "admin"};

// Rows: permissions; columns: officer, analyst, partner, auditor, admin. Partners are absent
// from every record-level row on purpose: disclosure control is enforced by the permission
// check, not by each endpoint remembering to filter.
struct Row {
  Permission permission;
  std::string_view name;
  bool allowed[kRoleCount];
};
constexpr Row kTable[] = {
    {Permission::kReadRecords, "read-records", {true, true, false, false, true}},
    {Permission::kReadAggregates, "read-aggregates", {true, true, true, false, true}},
    {Permission::kIngest, "ingest", {false, true, false, false, true}},
    {Permission::kRunBacktests, "run-backtests", {false, true, false, false, true}},
    {Permission::kReadAudit, "read-audit", {false, false, false, true, false}},
    {Permission::kManageUsers, "manage-users", {false, false, false, false, true}},
};

const Row* FindRow(Permission p) {
  for (const Row& r : kTable) {
    if (r.permission == p) return &r;
  }
  return nullptr;
}

}  // namespace

std::string_view Name(Role role) {
  const auto i = static_cast<int>(role);
  return i >= 0 && i < kRoleCount ? kRoleNames[i] : "unknown";
}

std::optional<Role> ParseRole(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (int i = 0; i < kRoleCount; ++i) {
    if (lower == kRoleNames[i]) return static_cast<Role>(i);
  }
  return std::nullopt;
}

bool Allowed(Role role, Permission permission) {
  const Row* row = FindRow(permission);
  const auto i = static_cast<int>(role);
  return row != nullptr && i >= 0 && i < kRoleCount && row->allowed[i];
}

std::string_view Name(Permission permission) {
  const Row* row = FindRow(permission);
  return row ? row->name : "unknown";
}

}  // namespace crimecast::access
