// Sign-in, sessions, roles and rate limits over HTTP.
#include "server/server_fixture.hpp"

namespace crimecast::testing {
namespace {

using Access = ServerTest;

TEST_F(Access, EveryRoleOnEveryEndpoint) {
  Start();
  // Some data so that reads have something to return.
  ASSERT_EQ(Post("/api/events", Events("m", 3), "analyst").status, 200);
  struct Row {
    std::string method, target;
    std::map<std::string, int> expect;  // role ("" = no token) -> status
  };
  const std::vector<Row> rows = {
      {"GET",
       "/api/events",
       {{"", 401},
        {"officer", 200},
        {"analyst", 200},
        {"partner", 403},
        {"auditor", 403},
        {"admin", 200}}},
      {"POST",
       "/api/events",
       {{"", 401},
        {"officer", 403},
        {"analyst", 200},
        {"partner", 403},
        {"auditor", 403},
        {"admin", 200}}},
      {"GET",
       "/api/stats",
       {{"", 401},
        {"officer", 200},
        {"analyst", 200},
        {"partner", 200},
        {"auditor", 403},
        {"admin", 200}}},
      {"GET",
       "/api/audit",
       {{"", 401},
        {"officer", 403},
        {"analyst", 403},
        {"partner", 403},
        {"auditor", 200},
        {"admin", 403}}},
      {"GET",
       "/api/session",
       {{"", 401},
        {"officer", 200},
        {"analyst", 200},
        {"partner", 200},
        {"auditor", 200},
        {"admin", 200}}},
      {"GET", "/healthz", {{"", 200}, {"officer", 200}, {"partner", 200}}},
      {"GET", "/metrics", {{"", 200}}},
      {"GET", "/api/openapi.json", {{"", 200}}},
  };
  for (const Row& row : rows) {
    for (const auto& [role, status] : row.expect) {
      HttpResult r = row.method == "GET" ? Get(row.target, role)
                                         : Post(row.target, Events("matrix-" + role, 1), role);
      EXPECT_EQ(r.status, status) << row.method << " " << row.target << " as '" << role
                                  << "': " << r.body;
      if (status >= 400) {
        const auto j = r.Json();
        EXPECT_TRUE(j.contains("code") && j.contains("message")) << r.body;
        EXPECT_EQ(j.value("code", ""), status == 401 ? "Unauthenticated" : "Forbidden");
      }
    }
  }
  // The live stream: partners may subscribe (aggregates), auditors may not.
  for (const auto& [role, status] : std::map<std::string, int>{
           {"", 401}, {"officer", 200}, {"partner", 200}, {"auditor", 403}}) {
    SseClient sse(port(), "/api/live", role.empty() ? "" : tokens.at(role));
    EXPECT_EQ(sse.status(), status) << role;
  }
}

TEST_F(Access, PartnerIsToldWhyAndGetsNoRecords) {
  Start();
  auto r = Get("/api/events", "partner");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("partners receive aggregates only"), std::string::npos) << r.body;
  auto me = Get("/api/session", "partner").Json();
  EXPECT_TRUE(me["aggregates_only"].get<bool>());
  EXPECT_EQ(me["disclosure"]["min_cell_m"].get<double>(), 500.0);
  EXPECT_EQ(me["disclosure"]["min_count"].get<int>(), 5);
}

TEST_F(Access, SignInErrorsAndLockOut) {
  Start();
  HttpResult r;
  EXPECT_EQ(Login("analyst", "wrong password!", &r), "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Json()["code"], "Unauthenticated");
  HttpResult unknown;
  Login("nobody", "wrong password!", &unknown);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.Json()["message"], r.Json()["message"]);  // no user enumeration
  // Malformed sign-in bodies.
  HttpOptions o;
  EXPECT_EQ(Http(port(), "POST", "/api/session", "not json", o).status, 400);
  EXPECT_EQ(Http(port(), "POST", "/api/session", "{\"user\": 5}", o).status, 400);
  // Four more failures lock the account (five in a row); then even the right password fails.
  for (int i = 0; i < 4; ++i) Login("analyst", "wrong password!");
  EXPECT_EQ(Login("analyst", "analyst passphrase", &r), "");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Json()["code"], "AccountLocked");
  // The locked account's open session stops working too.
  EXPECT_EQ(Get("/api/session", "analyst").status, 403);
}

TEST_F(Access, LogoutEndsTheSessionAndCookiesWorkForReadsOnly) {
  Start();
  HttpResult login;
  const std::string token = Login("officer", "officer passphrase", &login);
  ASSERT_FALSE(token.empty());
  const std::string cookie = login.Header("set-cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  HttpOptions with_cookie;
  with_cookie.headers = {{"Cookie", "crimecast_session=" + token}};
  EXPECT_EQ(Http(port(), "GET", "/api/session", "", with_cookie).status, 200);
  // A cookie alone never authorises a state-changing request (no CSRF).
  HttpOptions analyst_cookie;
  analyst_cookie.headers = {{"Cookie", "crimecast_session=" + tokens["analyst"]}};
  EXPECT_EQ(Http(port(), "POST", "/api/events", Events("csrf", 1), analyst_cookie).status, 401);

  HttpOptions bearer;
  bearer.token = token;
  EXPECT_EQ(Http(port(), "DELETE", "/api/session", "", bearer).status, 204);
  EXPECT_EQ(Http(port(), "GET", "/api/session", "", bearer).status, 401);
  EXPECT_EQ(Http(port(), "GET", "/api/session", "", with_cookie).status, 401);
}

TEST_F(Access, IdleSessionsExpire) {
  config.access.idle_timeout_s = 1;
  config.access.touch_interval_s = 0;
  Start();
  EXPECT_EQ(Get("/api/session", "officer").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  auto r = Get("/api/session", "officer");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Json()["code"], "SessionExpired");
}

TEST_F(Access, ApiTokensForMachineFeeds) {
  Start();
  auto store = access::AccessStore::Open(db_path, config.access);
  ASSERT_TRUE(store);
  auto tok = (*store)->CreateApiToken("analyst", "rms feed");
  ASSERT_TRUE(tok);
  HttpOptions o;
  o.token = tok->first;
  auto r = Http(port(), "POST", "/api/events", Events("feed", 2), o);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Http(port(), "GET", "/api/session", "", o).Json()["kind"], "api-token");
  ASSERT_TRUE((*store)->RevokeApiToken(tok->second.id));
  EXPECT_EQ(Http(port(), "POST", "/api/events", Events("feed2", 2), o).status, 401);
}

TEST_F(Access, RateLimitPerToken) {
  config.rate_limit_per_s = 2;
  config.rate_burst = 5;
  Start();
  int ok = 0, limited = 0;
  HttpResult last;
  for (int i = 0; i < 12; ++i) {
    auto r = Get("/api/session", "officer");
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      last = r;
    }
  }
  // A burst of 5, plus ~2 a second refilled while the loop runs; the rest are refused.
  EXPECT_GE(ok, 5);
  EXPECT_LE(ok, 8);
  EXPECT_EQ(ok + limited, 12);
  EXPECT_EQ(last.Json()["code"], "RateLimited");
  EXPECT_EQ(last.Header("retry-after"), "1");
  // Another token has its own bucket; monitoring is never limited.
  EXPECT_EQ(Get("/api/session", "analyst").status, 200);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Get("/healthz").status, 200);
}

}  // namespace
}  // namespace crimecast::testing
