// The `crimecast user` and `crimecast audit` commands, run as a user would run them.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <regex>

#include "support/paths.hpp"

namespace crimecast {
namespace {

std::string Cli(const std::string& args) { return testing::CliPath().string() + " " + args; }

int RunSql(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  sqlite3_open(db.c_str(), &h);
  const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(h);
  return rc;
}

TEST(UserAuditCli, ManageUsersAndVerifyTheAuditTrail) {
  const auto dir = testing::TempDir("cli-user-audit");
  const std::string db = (dir / "c.db").string();
  std::string out;
  ASSERT_EQ(testing::RunCommand("CRIMECAST_PASSWORD='correct horse battery' " +
                                    Cli("user add --db " + db + " --name alice --role analyst"),
                                &out),
            0)
      << out;
  ASSERT_EQ(testing::RunCommand("echo 'auditor passphrase' | " +
                                    Cli("user add --db " + db + " --name aud --role auditor"),
                                &out),
            0)
      << out;
  // Bad role and short password are refused with clear messages.
  EXPECT_EQ(testing::RunCommand("CRIMECAST_PASSWORD='correct horse battery' " +
                                    Cli("user add --db " + db + " --name bob --role chief"),
                                &out),
            1);
  EXPECT_NE(out.find("unknown role 'chief'"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand("CRIMECAST_PASSWORD='short' " +
                                    Cli("user add --db " + db + " --name bob --role officer"),
                                &out),
            1);
  EXPECT_NE(out.find("password too short"), std::string::npos) << out;

  ASSERT_EQ(testing::RunCommand(Cli("user list --db " + db), &out), 0);
  EXPECT_NE(out.find("alice"), std::string::npos);
  EXPECT_NE(out.find("auditor"), std::string::npos);
  EXPECT_EQ(out.find("argon2"), std::string::npos);  // never prints hashes

  ASSERT_EQ(testing::RunCommand(Cli("user token --db " + db + " --name alice --label feed"), &out),
            0);
  EXPECT_NE(out.find("cca_"), std::string::npos);
  ASSERT_EQ(testing::RunCommand(Cli("user disable --db " + db + " --name alice"), &out), 0);

  ASSERT_EQ(testing::RunCommand(Cli("audit verify --db " + db), &out), 0) << out;
  EXPECT_NE(out.find("audit log ok: 6 records"), std::string::npos) << out;
  const auto head =
      out.substr(out.find("head ") + 5, out.find('\n', out.find("head ")) - out.find("head ") - 5);

  // Reading needs an auditor; a refused read is itself on record.
  EXPECT_EQ(testing::RunCommand("CRIMECAST_PASSWORD='correct horse battery' " +
                                    Cli("audit show --db " + db + " --user alice"),
                                &out),
            1);
  ASSERT_EQ(testing::RunCommand("CRIMECAST_PASSWORD='auditor passphrase' " +
                                    Cli("audit show --db " + db + " --user aud --json"),
                                &out),
            0)
      << out;
  EXPECT_NE(out.find("\"object\": \"user:alice\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"outcome\": \"denied\""), std::string::npos) << out;  // alice's attempt
  // The same record shape as GET /api/audit (core/access/audit_json.hpp): at_ms and a time
  // with milliseconds.
  EXPECT_NE(out.find("\"at_ms\": "), std::string::npos) << out;
  EXPECT_TRUE(
      std::regex_search(out, std::regex(R"("time": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")")))
      << out;

  ASSERT_EQ(testing::RunCommand(Cli("audit verify --db " + db + " --anchor " + head), &out), 0)
      << out;
  EXPECT_NE(out.find("8 records"), std::string::npos) << out;

  // A raw edit in the database: verify fails (exit 4) and names the record.
  ASSERT_EQ(RunSql(db,
                   "DROP TRIGGER audit_log_append_only_update; UPDATE audit_log SET "
                   "user_name = 'someone-else' WHERE seq = 3"),
            SQLITE_OK);
  EXPECT_EQ(testing::RunCommand(Cli("audit verify --db " + db), &out), 4);
  EXPECT_NE(out.find("record 3 was altered"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(Cli("audit verify --db " + (dir / "missing.db").string()), &out),
            1);
}

}  // namespace
}  // namespace crimecast
