// Operational endpoints, the error table, static files, TLS and transport limits.
// clang-format off
#include <utility>  // before Boost 1.74 asio, which uses std::exchange without including it
#include <boost/asio.hpp>
// clang-format on
#include <filesystem>
#include <fstream>

#include "server/error_response.hpp"
#include "server/server_fixture.hpp"
#include "support/paths.hpp"

namespace crimecast::testing {
namespace {

using Basics = ServerTest;

TEST(ErrorTable, EveryErrorCodeHasAnHttpStatus) {
  int codes = 0;
  for (int c = 0; c < 1000; ++c) {
    const auto code = static_cast<ErrorCode>(c);
    if (Name(code) == "Unknown") continue;
    ++codes;
    const auto info = server::HttpError(code);
    EXPECT_TRUE(info.known) << "ErrorCode " << c << " (" << Name(code)
                            << ") is missing from server/error_response.cpp";
    EXPECT_GE(info.status, 200);
    EXPECT_LT(info.status, 600);
    if (c >= 100 && c < 200) {
      EXPECT_LT(info.status, 500) << Name(code);
    }
  }
  EXPECT_GT(codes, 30);
  auto r = server::ErrorResponse(ErrorCode::kBadCoordinate, "latitude \"95\"\n is out");
  EXPECT_EQ(r.status, 400);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["code"], "BadCoordinate");
  EXPECT_EQ(j["message"], "latitude \"95\"\n is out");
  EXPECT_EQ(server::ErrorResponse(ErrorCode::kUnauthenticated, "x").status, 401);
  EXPECT_EQ(server::ErrorResponse(ErrorCode::kForbidden, "x").status, 403);
  EXPECT_EQ(server::ErrorResponse(ErrorCode::kRateLimited, "x").status, 429);
}

TEST_F(Basics, HealthMetricsAndOpenApi) {
  Start();
  auto h = Get("/healthz");
  ASSERT_EQ(h.status, 200);
  EXPECT_EQ(h.Json()["status"], "ok");
  EXPECT_EQ(h.Json()["db"], "ok");
  ASSERT_EQ(Get("/api/events", "officer").status, 200);
  auto m = Get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find("crimecast_http_requests_total{route=\"/api/events\",method=\"GET\","
                        "status=\"200\"} 1"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("crimecast_http_request_duration_seconds_bucket{route=\"/api/events\""),
            std::string::npos);
  EXPECT_NE(m.body.find("crimecast_live_clients 0"), std::string::npos);
  EXPECT_NE(m.body.find("crimecast_audit_records_total"), std::string::npos);
  EXPECT_NE(m.body.find("crimecast_ingest_events_total{outcome=\"inserted\"} 0"),
            std::string::npos);
  auto o = Get("/api/openapi.json");
  ASSERT_EQ(o.status, 200);
  auto spec = o.Json();
  ASSERT_FALSE(spec.is_discarded()) << "openapi.json is not valid JSON";
  EXPECT_EQ(spec["openapi"].get<std::string>().substr(0, 2), "3.");
  // Every route of the server is documented.
  for (const auto& route : srv->service().router().routes()) {
    std::string method = route.method;
    for (char& c : method) c = static_cast<char>(std::tolower(c));
    EXPECT_TRUE(spec["paths"].contains(route.pattern) &&
                spec["paths"][route.pattern].contains(method))
        << route.method << " " << route.pattern << " is not in docs/openapi.json";
  }
}

TEST_F(Basics, UnknownPathsAndMethods) {
  Start();
  auto nf = Get("/api/nothing", "officer");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.Json()["code"], "NotFound");
  HttpOptions o;
  o.token = tokens["officer"];
  auto bad_method = Http(port(), "PUT", "/api/events", "{}", o);
  EXPECT_EQ(bad_method.status, 405);
  EXPECT_EQ(bad_method.Json()["code"], "MethodNotAllowed");
  EXPECT_EQ(bad_method.Header("allow"), "GET, POST");
  // Percent-encoded paths are decoded before routing.
  EXPECT_EQ(Get("/api/%65vents", "officer").status, 200);
}

TEST_F(Basics, StaticFilesWithSpaFallbackAndNoEscape) {
  const auto dir = TempDir("static-web");
  std::filesystem::create_directories(dir / "assets");
  std::ofstream(dir / "index.html") << "<html>crimecast</html>";
  std::ofstream(dir / "assets" / "app-1234.js") << "console.log(1)";
  std::ofstream(dir.parent_path() / "secret.txt") << "secret";
  config.static_dir = dir.string();
  Start();
  auto index = Get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<html>crimecast</html>");
  EXPECT_EQ(index.Header("content-type"), "text/html; charset=utf-8");
  auto js = Get("/assets/app-1234.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_NE(js.Header("cache-control").find("immutable"), std::string::npos);
  EXPECT_EQ(Get("/map/cells").body, "<html>crimecast</html>");  // client-side route
  EXPECT_EQ(Get("/missing.png").status, 404);
  EXPECT_EQ(Get("/../secret.txt").status, 404);
  EXPECT_EQ(Get("/%2e%2e/secret.txt").status, 404);
  EXPECT_EQ(Get("/api/unknown").status, 404);  // /api is never the web client
}

TEST_F(Basics, SlowClientsAreCutOff) {
  config.request_timeout_s = 0.5;
  Start();
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket sock(ioc);
  sock.connect({net::ip::make_address("127.0.0.1"), port()});
  net::write(sock, net::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n")));  // unfinished
  const auto t0 = std::chrono::steady_clock::now();
  char buf[256];
  boost::system::error_code ec;
  sock.read_some(net::buffer(buf), ec);  // the server closes the connection
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(Get("/healthz").status, 200);  // the server is fine
}

TEST_F(Basics, KeepAliveServesSeveralRequestsOnOneConnection) {
  Start();
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket sock(ioc);
  sock.connect({net::ip::make_address("127.0.0.1"), port()});
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    net::write(sock, net::buffer(req));
    std::string got;
    char buf[4096];
    while (got.find("\"status\"") == std::string::npos) {
      const auto n = sock.read_some(net::buffer(buf));
      got.append(buf, n);
    }
    EXPECT_NE(got.find("HTTP/1.1 200 OK"), std::string::npos);
    EXPECT_NE(got.find("Connection: keep-alive"), std::string::npos);
  }
}

TEST_F(Basics, Https) {
  const auto dir = TempDir("tls-cert");
  const std::string cert = (dir / "cert.pem").string();
  const std::string key = (dir / "key.pem").string();
  std::string out;
  ASSERT_EQ(RunCommand("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 "
                       "-keyout " +
                           key + " -out " + cert,
                       &out),
            0)
      << out;
  config.tls_cert = cert;
  config.tls_key = key;
  Start();  // signs in over HTTPS
  EXPECT_TRUE(srv->tls());
  auto r = Get("/api/session", "analyst");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.Header("strict-transport-security").find("max-age"), std::string::npos);
  auto login = Login("analyst", "analyst passphrase", &r);
  EXPECT_NE(r.Header("set-cookie").find("Secure"), std::string::npos);
  // Plain HTTP on the TLS port gets nothing useful.
  HttpOptions plain;
  plain.timeout_s = 2;
  EXPECT_EQ(Http(port(), "GET", "/healthz", "", plain).status, 0);
}

TEST(ServerStart, ClearErrorsForBadConfiguration) {
  server::ServerConfig c;
  c.db_path = (TempDir("bad-config") / "x.db").string();
  c.port = 0;
  c.tls_cert = "/nonexistent/cert.pem";
  auto s = server::Server::Start(c);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("--tls-key"), std::string::npos);
  c.tls_key = "/nonexistent/key.pem";
  s = server::Server::Start(c);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kFileUnreadable);
  c.tls_cert.clear();
  c.tls_key.clear();
  c.bind_address = "not-an-address";
  EXPECT_EQ(server::Server::Start(c).error().code, ErrorCode::kInvalidArgument);
  c.bind_address = "127.0.0.1";
  c.timezone = "Mars/Olympus";
  EXPECT_FALSE(server::Server::Start(c));
}

}  // namespace
}  // namespace crimecast::testing
