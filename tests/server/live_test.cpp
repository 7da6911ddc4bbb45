// GET /api/live: server-sent events.
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

}  // namespace
}  // namespace crimecast::testing
