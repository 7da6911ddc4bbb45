#include "core/access/roles.hpp"

#include <gtest/gtest.h>

namespace crimecast::access {
namespace {

TEST(Roles, NamesRoundTrip) {
  for (int i = 0; i < kRoleCount; ++i) {
    const auto role = static_cast<Role>(i);
    EXPECT_EQ(ParseRole(Name(role)), role);
  }
  EXPECT_EQ(ParseRole("ANALYST"), Role::kAnalyst);
  EXPECT_FALSE(ParseRole("superuser"));
}

TEST(Roles, PartnersNeverGetRecordLevelData) {
  EXPECT_FALSE(Allowed(Role::kPartner, Permission::kReadRecords));
  EXPECT_FALSE(Allowed(Role::kPartner, Permission::kIngest));
  EXPECT_FALSE(Allowed(Role::kPartner, Permission::kReadAudit));
  EXPECT_TRUE(Allowed(Role::kPartner, Permission::kReadAggregates));
  EXPECT_TRUE(AggregatesOnly(Role::kPartner));
  EXPECT_FALSE(AggregatesOnly(Role::kAnalyst));
}

TEST(Roles, OnlyAuditorsReadTheAuditLog) {
  for (int i = 0; i < kRoleCount; ++i) {
    const auto role = static_cast<Role>(i);
    EXPECT_EQ(Allowed(role, Permission::kReadAudit), role == Role::kAuditor) << Name(role);
  }
  // Auditors see the log, not the data.
  EXPECT_FALSE(Allowed(Role::kAuditor, Permission::kReadRecords));
  EXPECT_FALSE(Allowed(Role::kAuditor, Permission::kReadAggregates));
}

TEST(Roles, IngestAndBacktestsAreForAnalystsAndAdmins) {
  EXPECT_FALSE(Allowed(Role::kOfficer, Permission::kIngest));
  EXPECT_TRUE(Allowed(Role::kOfficer, Permission::kReadRecords));
  EXPECT_TRUE(Allowed(Role::kAnalyst, Permission::kIngest));
  EXPECT_TRUE(Allowed(Role::kAdmin, Permission::kIngest));
  EXPECT_TRUE(Allowed(Role::kAnalyst, Permission::kRunBacktests));
  EXPECT_FALSE(Allowed(Role::kOfficer, Permission::kRunBacktests));
  EXPECT_TRUE(Allowed(Role::kAdmin, Permission::kManageUsers));
  EXPECT_FALSE(Allowed(Role::kAnalyst, Permission::kManageUsers));
}

}  // namespace
}  // namespace crimecast::access
