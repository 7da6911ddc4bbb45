// GET /api/live: server-sent events.
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "server/server_fixture.hpp"

namespace crimecast::testing {
namespace {

using Live = ServerTest;

TEST_F(Live, PostedEventReachesSubscribersWithinOneSecond) {
  Start();
  SseClient officer(port(), "/api/live", tokens["officer"]);
  SseClient partner(port(), "/api/live", tokens["partner"]);
  ASSERT_EQ(officer.status(), 200);
  ASSERT_EQ(partner.status(), 200);
  auto hello = officer.WaitFor("hello", std::chrono::seconds(2));
  ASSERT_TRUE(hello);
  EXPECT_NE(hello->data.find("\"record_level\":true"), std::string::npos);
  ASSERT_TRUE(partner.WaitFor("hello", std::chrono::seconds(2)));

  const auto posted = std::chrono::steady_clock::now();
  auto r = Post(
      "/api/events",
      R"([{"id":"live-1","category":"robbery","time":"2024-06-01T22:15:00Z","lon":-2.99,"lat":51.59}])",
      "analyst");
  ASSERT_EQ(r.status, 200) << r.body;
  auto msg = officer.WaitFor("events", std::chrono::seconds(1));
  const auto latency = std::chrono::steady_clock::now() - posted;
  ASSERT_TRUE(msg) << "no live message within 1 s";
  EXPECT_LT(latency, std::chrono::seconds(1));
  auto j = nlohmann::json::parse(msg->data);
  EXPECT_EQ(j["inserted"], 1);
  ASSERT_EQ(j["events"].size(), 1u);
  EXPECT_EQ(j["events"][0]["id"], "live-1");
  EXPECT_EQ(j["events"][0]["category"], "robbery");
  EXPECT_FALSE(msg->id.empty());
  // Partners never receive record-level messages.
  EXPECT_FALSE(partner.WaitFor("events", std::chrono::milliseconds(300)));
  // A re-sent duplicate publishes nothing.
  Post(
      "/api/events",
      R"([{"id":"live-1","category":"robbery","time":"2024-06-01T22:15:00Z","lon":-2.99,"lat":51.59}])",
      "analyst");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int events = 0;
  for (const auto& m : officer.messages()) events += m.event == "events";
  EXPECT_EQ(events, 1);
}

TEST_F(Live, ReconnectWithLastEventIdReplaysMissedMessages) {
  Start();
  ASSERT_EQ(Post("/api/events", Events("r1", 1), "analyst").status, 200);
  ASSERT_EQ(Post("/api/events", Events("r2", 1), "analyst").status, 200);
  SseClient resumed(port(), "/api/live", tokens["officer"], "1");
  auto msg = resumed.WaitFor("events", std::chrono::seconds(2));
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->id, "2");
  EXPECT_NE(msg->data.find("r2-0"), std::string::npos);
}

TEST_F(Live, ManyClientsAndShutdownClosesStreams) {
  Start();
  std::vector<std::unique_ptr<SseClient>> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(std::make_unique<SseClient>(port(), "/api/live", tokens["analyst"]));
  }
  for (auto& c : clients) ASSERT_TRUE(c->WaitFor("hello", std::chrono::seconds(5)));
  EXPECT_EQ(srv->service().hub().subscribers(), 50u);
  ASSERT_EQ(Post("/api/events", Events("many", 3), "analyst").status, 200);
  for (auto& c : clients) EXPECT_TRUE(c->WaitFor("events", std::chrono::seconds(2)));
  clients.resize(25);  // half disconnect
  for (int i = 0; i < 100 && srv->service().hub().subscribers() > 25; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(srv->service().hub().subscribers(), 25u);
  srv->Shutdown();
  for (auto& c : clients) {
    EXPECT_TRUE(c->WaitFor("shutdown", std::chrono::seconds(2)));
    EXPECT_TRUE(c->WaitClosed(std::chrono::seconds(2)));
  }
}

// Clients that subscribe, never read, then vanish while the server is writing to them (writes
// in flight, queues over their limit). Each such stream must be closed without touching the
// frame a pending write still uses (this once crashed the server under bench/server_load.sh).
TEST_F(Live, ClientsThatStopReadingAndVanishMidWriteAreDropped) {
  config.sse_max_queue = 4;
  Start();
  const std::string request =
      fmt::format("GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\r\n",
                  tokens["analyst"]);
  std::vector<int> fds;
  for (int i = 0; i < 20; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    int small = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
    fds.push_back(fd);
  }
  for (int i = 0; i < 200 && srv->service().hub().subscribers() < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(srv->service().hub().subscribers(), 20u);
  // Large messages (500 events each) fill the unread sockets; half the clients then reset
  // their connections while writes are pending, the rest overflow their queues.
  // Loopback send buffers hold megabytes: keep posting until every unread stream overflowed.
  for (int b = 0; b < 80 && srv->service().hub().subscribers() > 0; ++b) {
    ASSERT_EQ(Post("/api/events", Events(fmt::format("flood{}", b), 500), "analyst").status, 200);
    if (b == 3) {
      for (std::size_t i = 0; i < fds.size() / 2; ++i) {
        linger reset{1, 0};
        ::setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        ::close(fds[i]);
        fds[i] = -1;
      }
    }
  }
  for (int i = 0; i < 300 && srv->service().hub().subscribers() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(srv->service().hub().subscribers(), 0u) << "slow and vanished clients are dropped";
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
  EXPECT_EQ(Get("/healthz", "").status, 200);
  SseClient fresh(port(), "/api/live", tokens["officer"]);
  EXPECT_TRUE(fresh.WaitFor("hello", std::chrono::seconds(2)));
}

// A stream outlives every request and write timeout: it ends only when the client or the server
// closes it (once, every stream was cut after the 30 s write timeout).
TEST_F(Live, StreamsOutliveTheRequestAndWriteTimeouts) {
  config.request_timeout_s = 1;
  config.sse_write_timeout_s = 1;
  config.sse_heartbeat_s = 0.3;
  Start();
  SseClient client(port(), "/api/live", tokens["officer"]);
  ASSERT_TRUE(client.WaitFor("hello", std::chrono::seconds(2)));
  EXPECT_FALSE(client.WaitClosed(std::chrono::milliseconds(3500)));
  EXPECT_EQ(srv->service().hub().subscribers(), 1u);
  ASSERT_EQ(Post("/api/events", Events("late", 1), "analyst").status, 200);
  EXPECT_TRUE(client.WaitFor("events", std::chrono::seconds(2)));
}

}  // namespace
}  // namespace crimecast::testing
