#include "server/server_fixture.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include "core/access/audit_log.hpp"
#include "support/paths.hpp"

namespace crimecast::testing {

void ServerTest::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto dir = TempDir(std::string("srv-") + info->test_suite_name() + "-" + info->name());
  db_path = (dir / "server.db").string();
  config.db_path = db_path;
  config.port = 0;
  config.bind_address = "127.0.0.1";
  config.access.password_cost = access::PasswordCost::Minimum();
  config.rate_limit_per_s = 0;  // tests that check limits switch it on
  config.drain_timeout_s = 5;
}

void ServerTest::TearDown() {
  if (srv) srv->Shutdown();
  srv.reset();
}

void ServerTest::Start() {
  {
    auto store = access::AccessStore::Open(db_path, config.access);
    ASSERT_TRUE(store) << store.error().message;
    for (const char* role : {"officer", "analyst", "partner", "auditor", "admin"}) {
      auto u =
          (*store)->CreateUser(role, *access::ParseRole(role), std::string(role) + " passphrase");
      ASSERT_TRUE(u) << u.error().message;
    }
  }
  auto s = server::Server::Start(config);
  ASSERT_TRUE(s) << s.error().message;
  srv = std::move(*s);
  for (const char* role : {"officer", "analyst", "partner", "auditor", "admin"}) {
    const std::string t = Login(role, std::string(role) + " passphrase");
    ASSERT_FALSE(t.empty()) << role;
    tokens[role] = t;
  }
}

HttpResult ServerTest::Get(const std::string& target, const std::string& role) const {
  HttpOptions o;
  o.tls = srv->tls();
  if (!role.empty()) o.token = tokens.at(role);
  return Http(port(), "GET", target, "", o);
}

HttpResult ServerTest::Post(const std::string& target, const std::string& body,
                            const std::string& role, const std::string& content_type) const {
  HttpOptions o;
  o.tls = srv->tls();
  o.content_type = content_type;
  if (!role.empty()) o.token = tokens.at(role);
  return Http(port(), "POST", target, body, o);
}

std::string ServerTest::Login(const std::string& user, const std::string& password,
                              HttpResult* out) const {
  HttpOptions o;
  o.tls = srv->tls();
  nlohmann::json body = {{"user", user}, {"password", password}, {"purpose", "server tests"}};
  auto r = Http(port(), "POST", "/api/session", body.dump(), o);
  std::string token;
  if (r.status == 201) token = r.Json().value("token", "");
  if (out) *out = std::move(r);
  return token;
}

namespace {
std::int64_t CountRows(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    n = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}
}  // namespace

std::int64_t ServerTest::AuditCount() const {
  return CountRows(db_path, "SELECT COUNT(*) FROM audit_log");
}
std::int64_t ServerTest::EventCount() const {
  return CountRows(db_path, "SELECT COUNT(*) FROM events");
}

std::string ServerTest::Events(const std::string& prefix, int n, const std::string& category,
                               const std::string& month) {
  nlohmann::json arr = nlohmann::json::array();
  for (int i = 0; i < n; ++i) {
    arr.push_back({{"id", fmt::format("{}-{}", prefix, i)},
                   {"category", category},
                   {"time", month.empty() ? fmt::format("2024-03-{:02}T{:02}:{:02}:00Z", 1 + i % 28,
                                                        i % 24, i % 60)
                                          : month},
                   {"lon", -3.0 + 0.001 * (i % 100)},
                   {"lat", 51.58 + 0.001 * (i / 100 % 100)}});
  }
  return arr.dump();
}

}  // namespace crimecast::testing
