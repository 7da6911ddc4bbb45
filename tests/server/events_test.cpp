// POST /api/events (ingest) and GET /api/events, GET /api/stats over HTTP.
#include <sqlite3.h>

#include "server/server_fixture.hpp"

namespace crimecast::testing {
namespace {

using EventsApi = ServerTest;

TEST_F(EventsApi, PostJsonArrayReportsEveryItemAndIsIdempotent) {
  Start();
  const std::string body = R"([
    {"id": "e1", "category": "burglary", "time": "2024-03-05T14:30:00Z", "lon": -3.0, "lat": 51.6},
    {"id": "e2", "category": "violence", "time": "2024-03", "lon": -3.01, "lat": 51.61,
     "quality": "snapped", "location": "On or near High Street", "area_code": "W01001234"},
    {"id": "e3", "category": "not-a-crime", "time": "2024-03"},
    {"id": "e4", "category": "asb", "time": "2024-03-06", "lat": 95, "lon": 0},
    {"id": "e5", "category": "asb", "time": "2024-03-07"},
    {"id": "e6", "category": "drugs", "time": "2024-03-07", "x": 300000, "y": 170000, "crs": "EPSG:27700"},
    {"id": "e7", "category": "drugs", "time": "2024-03-07", "lng": 1}
  ])";
  auto r = Post("/api/events", body, "analyst");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.Json();
  EXPECT_EQ(j["received"], 7);
  EXPECT_EQ(j["accepted"], 4);
  EXPECT_EQ(j["inserted"], 4);
  EXPECT_EQ(j["rejected"], 3);
  const auto& items = j["items"];
  ASSERT_EQ(items.size(), 7u);
  EXPECT_EQ(items[0]["status"], "inserted");
  EXPECT_EQ(items[2]["status"], "rejected");
  EXPECT_EQ(items[2]["code"], "UnknownCategory");
  EXPECT_EQ(items[2]["field"], "category");
  EXPECT_EQ(items[3]["code"], "BadCoordinate");
  EXPECT_EQ(items[3]["field"], "lat");
  EXPECT_NE(items[3]["reason"].get<std::string>().find("latitude 95"), std::string::npos);
  EXPECT_EQ(items[4]["status"], "inserted");  // unlocated events are kept
  EXPECT_EQ(items[5]["status"], "inserted");  // projected input
  EXPECT_EQ(items[6]["field"], "lng");        // unknown fields are refused, not ignored
  EXPECT_EQ(EventCount(), 4);

  // The same post again changes nothing.
  auto again = Post("/api/events", body, "analyst").Json();
  EXPECT_EQ(again["inserted"], 0);
  EXPECT_EQ(again["duplicate"], 4);
  EXPECT_EQ(EventCount(), 4);

  // Read back, with filters.
  auto all = Get("/api/events", "officer").Json();
  EXPECT_EQ(all["count"], 4);
  auto burglary = Get("/api/events?category=burglary", "officer").Json();
  ASSERT_EQ(burglary["count"], 1);
  EXPECT_EQ(burglary["events"][0]["id"], "e1");
  EXPECT_EQ(burglary["events"][0]["time_start"], "2024-03-05T14:30:00Z");
  auto located = Get("/api/events?bbox=-3.02,51.59,-2.99,51.62", "officer").Json();
  EXPECT_EQ(located["count"], 2);  // e1, e2 (e5 unlocated, e6 elsewhere)
  auto month = Get("/api/events?from=2024-03-06&to=2024-04", "officer").Json();
  EXPECT_EQ(month["count"], 2);  // e5 and e6 (the 7th); e1 (the 5th) and e2 (month) start earlier
  auto e2 = Get("/api/events?category=violence", "officer").Json()["events"][0];
  EXPECT_EQ(e2["quality"], "snapped");
  EXPECT_EQ(e2["area_code"], "W01001234");
  EXPECT_EQ(e2["time_end"], "2024-04-01T00:00:00Z");  // month-only: the whole month
}

TEST_F(EventsApi, NdjsonAndSingleObject) {
  Start();
  const std::string nd =
      "{\"id\":\"n1\",\"category\":\"robbery\",\"time\":\"2024-05-01T10:00:00Z\"}\n"
      "\n"
      "{\"id\":\"n2\",\"category\":\"robbery\",\"time\":\"2024-05-01T11:00:00Z\"}\r\n"
      "this is not json\n";
  auto r = Post("/api/events", nd, "analyst", "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["inserted"], 2);
  EXPECT_EQ(r.Json()["items"][2]["reason"], "line 3 is not valid JSON");
  auto one = Post("/api/events",
                  R"({"id":"s1","category":"robbery","time":"2024-05-02T10:00:00Z"})", "admin");
  EXPECT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.Json()["inserted"], 1);
  // ?report=rejected keeps big replies small.
  auto short_reply = Post("/api/events?report=rejected", Events("rep", 50), "analyst").Json();
  EXPECT_EQ(short_reply["inserted"], 50);
  EXPECT_EQ(short_reply["items"].size(), 0u);
  // Per-request source: idempotency is by (source, id).
  auto other = Post("/api/events?source=rms-east",
                    R"({"id":"s1","category":"robbery","time":"2024-05-02T10:00:00Z"})", "admin");
  EXPECT_EQ(other.Json()["inserted"], 1);
}

TEST_F(EventsApi, BadRequestsGetClearErrors) {
  config.max_body_bytes = 64 * 1024;
  config.max_items_per_post = 100;
  Start();
  auto wrong_type = Post("/api/events", Events("x", 1), "analyst", "text/csv");
  EXPECT_EQ(wrong_type.status, 415);
  EXPECT_EQ(wrong_type.Json()["code"], "UnsupportedMediaType");
  auto bad_json = Post("/api/events", "[{\"id\": ", "analyst");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.Json()["code"], "BadField");
  auto deep = Post("/api/events", std::string(5000, '[') + std::string(5000, ']'), "analyst");
  EXPECT_EQ(deep.status, 400);
  EXPECT_NE(deep.body.find("nested too deeply"), std::string::npos);
  auto scalar = Post("/api/events", "42", "analyst");
  EXPECT_EQ(scalar.status, 400);
  auto empty = Post("/api/events", "[]", "analyst");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.Json()["code"], "EmptyInput");
  auto too_many = Post("/api/events", Events("many", 101), "analyst");
  EXPECT_EQ(too_many.status, 413);
  auto huge = Post("/api/events", std::string(100 * 1024, ' '), "analyst");
  EXPECT_EQ(huge.status, 413);
  EXPECT_EQ(huge.Json()["code"], "PayloadTooLarge");
  auto all_bad = Post("/api/events", R"([{"id":"b1","category":"x","time":"2024-01"},{"id":"b2"}])",
                      "analyst");
  EXPECT_EQ(all_bad.status, 422);
  EXPECT_EQ(all_bad.Json()["rejected"], 2);
  EXPECT_EQ(all_bad.Json()["code"], "BadField");
  EXPECT_EQ(EventCount(), 0);
  // Query parameters.
  EXPECT_EQ(Get("/api/events?bbox=1,2,3", "officer").status, 400);
  EXPECT_EQ(Get("/api/events?bbox=1,2,0,3", "officer").status, 400);  // min > max
  EXPECT_EQ(Get("/api/events?from=2024-13", "officer").Json()["code"], "BadTime");
  EXPECT_EQ(Get("/api/events?category=foo", "officer").Json()["code"], "UnknownCategory");
  EXPECT_EQ(Get("/api/events?limit=0", "officer").status, 400);
  EXPECT_EQ(Get("/api/events?limit=abc", "officer").status, 400);
  EXPECT_EQ(Get("/api/events?format=xml", "officer").status, 400);
}

TEST_F(EventsApi, PagingAndGeoJson) {
  Start();
  ASSERT_EQ(Post("/api/events", Events("p", 25), "analyst").status, 200);
  auto p1 = Get("/api/events?limit=10", "officer").Json();
  EXPECT_EQ(p1["count"], 10);
  EXPECT_EQ(p1["next_offset"], 10);
  auto p3 = Get("/api/events?limit=10&offset=20", "officer").Json();
  EXPECT_EQ(p3["count"], 5);
  EXPECT_TRUE(p3["next_offset"].is_null());
  auto gj = Get("/api/events?format=geojson&limit=3", "officer");
  EXPECT_EQ(gj.Header("content-type"), "application/geo+json");
  auto j = gj.Json();
  EXPECT_EQ(j["type"], "FeatureCollection");
  ASSERT_EQ(j["features"].size(), 3u);
  EXPECT_EQ(j["features"][0]["geometry"]["type"], "Point");
  EXPECT_EQ(j["features"][0]["geometry"]["coordinates"].size(), 2u);
}

TEST_F(EventsApi, StatsAreExactForPoliceAndSuppressedForPartners) {
  Start();
  // March: 12 burglary, 3 robbery; April: 7 burglary, 9 robbery.
  ASSERT_EQ(Post("/api/events", Events("b3", 12, "burglary", "2024-03"), "analyst").status, 200);
  ASSERT_EQ(Post("/api/events", Events("r3", 3, "robbery", "2024-03"), "analyst").status, 200);
  ASSERT_EQ(Post("/api/events", Events("b4", 7, "burglary", "2024-04"), "analyst").status, 200);
  ASSERT_EQ(Post("/api/events", Events("r4", 9, "robbery", "2024-04"), "analyst").status, 200);
  auto police = Get("/api/stats", "officer").Json();
  EXPECT_EQ(police["months"], nlohmann::json({"2024-03", "2024-04"}));
  EXPECT_EQ(police["categories"], nlohmann::json({"burglary", "robbery"}));
  EXPECT_EQ(police["counts"], nlohmann::json({{12, 3}, {7, 9}}));
  EXPECT_EQ(police["total"], 31);
  EXPECT_FALSE(police.contains("disclosure_control"));

  // Partner: 3 is withheld (primary). With totals published, a line with one withheld entry
  // gives it away, so: row March (12, [3] | 15) also withholds 12; column burglary ([12], 7 | 19)
  // then withholds 7; column robbery ([3], 9 | 12) withholds 9. Every line now has two withheld
  // entries; the totals (all >= 5) stay.
  auto partner = Get("/api/stats", "partner").Json();
  EXPECT_EQ(partner["counts"], nlohmann::json({{nullptr, nullptr}, {nullptr, nullptr}}));
  EXPECT_EQ(partner["month_totals"], nlohmann::json({15, 16}));
  EXPECT_EQ(partner["category_totals"], nlohmann::json({19, 12}));
  EXPECT_EQ(partner["total"], 31);
  EXPECT_EQ(partner["disclosure_control"]["min_count"], 5);
  EXPECT_FALSE(partner.contains("unlocated"));  // small loose numbers are not given to partners
  EXPECT_EQ(Get("/api/stats?category=burglary", "partner").Json()["counts"],
            nlohmann::json({{12}, {7}}));
  EXPECT_EQ(Get("/api/stats?bbox=0,0,1,1", "officer").status, 400);
}

}  // namespace
}  // namespace crimecast::testing
