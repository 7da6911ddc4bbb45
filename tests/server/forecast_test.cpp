// Forecast endpoints: GET /api/forecast, /api/hotspots, /api/cells/{id}, the live near-repeat
// update, background refits, and backtest jobs.
#include <fmt/format.h>
#include <zlib.h>

#include <cmath>
#include <fstream>
#include <numbers>

#include "core/models/forecast_job.hpp"
#include "core/models/self_exciting_common.hpp"
#include "core/simulate/simulate.hpp"
#include "core/spatial/projection.hpp"
#include "core/storage/layer_import.hpp"
#include "core/storage/sqlite_event_store.hpp"
#include "server/forecasts.hpp"
#include "server/server_fixture.hpp"
#include "support/paths.hpp"

namespace crimecast::testing {
namespace {

// Writes a simulated city (grid ETAS-style self-exciting process, DefaultConfig: Newport,
// EPSG:27700) into the database, timestamped, one batch.
std::int64_t FillSimulated(const std::string& db_path, int days, std::uint64_t seed, double mu = 20,
                           double theta = 0.4) {
  auto config = simulate::DefaultConfig(seed);
  config.start = *ParseInstant("2024-01-01");
  config.end = config.start + std::chrono::days(days);
  config.mu_per_day = mu;
  config.theta = theta;
  auto sim = simulate::SimulateAll(config);
  EXPECT_TRUE(sim) << sim.error().message;
  auto store = storage::SqliteEventStore::Open(db_path);
  EXPECT_TRUE(store);
  auto proj = spatial::Projection::Create(27700, spatial::kWgs84);
  EXPECT_TRUE(proj);
  storage::BatchInfo info;
  info.source = "sim";
  info.format = "csv";
  info.file_name = "simulated";
  info.sha256 = fmt::format("{:064}", seed);
  auto writer = (*store)->BeginBatch(info);
  EXPECT_TRUE(writer);
  std::int64_t n = 0;
  for (const auto& s : sim->events) {
    Event e;
    e.source = "sim";
    e.source_id = std::to_string(s.id);
    e.category = s.category;
    e.source_type = std::string(DisplayName(s.category));
    const TimePoint t = s.Time(config.start);
    e.when = {t, t + Seconds{1}};
    e.x = s.x_m;
    e.y = s.y_m;
    e.epsg = 27700;
    auto ll = proj->Forward(s.x_m, s.y_m);
    if (!ll) continue;
    e.lon = ll->x;
    e.lat = ll->y;
    e.quality = LocationQuality::kExact;
    if (!(*writer)->Write(e)) return -1;
    ++n;
  }
  storage::BatchInfo counts = info;
  counts.rows_read = counts.accepted = counts.inserted = n;
  EXPECT_TRUE((*writer)->Commit(counts));
  return n;
}

std::string Gunzip(const std::string& gz) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  std::string out;
  char buf[1 << 16];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string("(corrupt gzip)");
}

// ---------------------------------------------------------------------------------------------
// The incremental update against the model's own formula, on a hand-built entry.
server::ForecastEntry HandEntry(server::ForecastEntry::Kernel kernel) {
  server::ForecastEntry e;
  e.spec.model = "etas-grid";
  e.spec.horizon = *ParseHorizon("7d");
  e.spec.cell_m = 100;
  e.job.horizon = e.spec.horizon;
  e.job.at = *ParseInstant("2024-06-01");
  e.effective_at = e.job.at;
  e.result.grid = *spatial::Grid::Create(27700, 100, 3300, 1880, 10, 10);
  auto& f = e.result.forecast;
  f.expected.assign(100, 0.5);
  f.background.assign(100, 0.3);
  f.recent.assign(100, 0.2);
  e.result.active = {0, 1, 2, 55};
  e.bands = models::RiskBands(f.expected, e.result.active);
  e.kernel = kernel;
  e.theta = 0.4;
  e.omega_per_day = 0.2;
  e.sigma_m = 80;
  e.time_cutoff_days = 60;
  return e;
}

Event PointEvent(double x, double y, const std::string& when) {
  auto ll = spatial::Projection::Create(27700, spatial::kWgs84)->Forward(x, y);
  Event e;
  e.source = "api";
  e.source_id = "new";
  e.category = Category::kBurglary;
  const TimePoint t = *ParseInstant(when);
  e.when = {t, t + Seconds{1}};
  e.lon = ll->x;
  e.lat = ll->y;
  e.quality = LocationQuality::kExact;
  return e;
}

TEST(NearRepeatUpdate, GridEtasMatchesThePredictFormula) {
  const auto e = HandEntry(server::ForecastEntry::Kernel::kCell);
  // One burglary in cell (3305, 1887) at 12:00 on 2 June: the origin moves to its end.
  const Event ev = PointEvent(330550, 188750, "2024-06-02T12:00:00Z");
  std::vector<std::int64_t> changed;
  auto next = server::ApplyNearRepeat(e, {ev}, &changed);
  EXPECT_EQ(FormatIso(next->effective_at), "2024-06-02T12:00:01Z");
  const double dt = 1.5 + 1.0 / 86400;       // days from the old origin
  const double decay = std::exp(-0.2 * dt);  // old excitation fades
  const double h = 7.0;
  const double add = models::self_exciting::RecentFactor(0.4, 0.2, h) *
                     models::self_exciting::MeanExp(0.2 / 86400);  // u = 0, L = 1 s
  const std::int64_t cell = e.result.grid.LocalOf(330550, 188750);
  ASSERT_EQ(cell, 75);
  const auto& f = next->result.forecast;
  EXPECT_NEAR(f.recent[75], 0.2 * decay + add, 1e-12);
  EXPECT_NEAR(f.expected[75], 0.3 + 0.2 * decay + add, 1e-12);
  EXPECT_NEAR(f.recent[10], 0.2 * decay, 1e-12);      // every other cell just decays
  EXPECT_NEAR(f.background[10], 0.3, 1e-15);          // the background is stationary
  EXPECT_EQ(changed, std::vector<std::int64_t>{75});  // only the excited cell is broadcast
  EXPECT_TRUE(std::binary_search(next->result.active.begin(), next->result.active.end(), 75));
  EXPECT_EQ(next->bands[75], 1);  // now the highest risk of the active cells
  EXPECT_EQ(next->live_events, 1);
  // Hand check of the cascade factor: theta (1 - e^{-k h}) / q, q = 1 - theta, k = omega q.
  EXPECT_NEAR(models::self_exciting::RecentFactor(0.4, 0.2, 7),
              0.4 * (1 - std::exp(-0.2 * 0.6 * 7)) / 0.6, 1e-12);
}

TEST(NearRepeatUpdate, SeppSpreadsTheRightMass) {
  auto e = HandEntry(server::ForecastEntry::Kernel::kGaussian);
  e.result.grid = *spatial::Grid::Create(27700, 50, 6500, 3700, 80, 80);  // 4 km square
  auto& f = e.result.forecast;
  f.expected.assign(6400, 0.0);
  f.background.assign(6400, 0.0);
  f.recent.assign(6400, 0.0);
  e.result.active = {0};
  e.bands = models::RiskBands(f.expected, e.result.active);
  const Event ev = PointEvent(327025, 187025, "2024-06-01T00:00:00Z");  // a cell centre
  auto next = server::ApplyNearRepeat(e, {ev}, nullptr);
  double total = 0;
  for (double v : next->result.forecast.recent) total += v;
  // u = 0: first generation theta zt (1 - e^{-omega min(h, tc)}), times the cascade factor.
  const double zt = 1 / (1 - std::exp(-0.2 * 60));
  const double first =
      0.4 * zt * (1 - std::exp(-0.2 * 7)) * models::self_exciting::MeanExp(0.2 / 86400);
  const double cascade =
      models::self_exciting::RecentFactor(0.4, 0.2, 7) / (0.4 * (1 - std::exp(-0.2 * 7)));
  EXPECT_NEAR(total, first * cascade, 1e-3 * first);  // the kernels lie well inside the grid
  // Symmetric around the event, highest in its own cell.
  const auto& g = next->result.grid;
  const auto centre = static_cast<std::size_t>(g.LocalOf(327025, 187025));
  double best = 0;
  for (double v : next->result.forecast.recent) best = std::max(best, v);
  EXPECT_DOUBLE_EQ(next->result.forecast.recent[centre], best);
}

TEST(NearRepeatUpdate, NonSelfExcitingForecastsWaitForTheRefit) {
  auto e = HandEntry(server::ForecastEntry::Kernel::kNone);
  auto next = server::ApplyNearRepeat(e, {PointEvent(330550, 188750, "2024-06-02")}, nullptr);
  EXPECT_EQ(next->result.forecast.expected, e.result.forecast.expected);
  EXPECT_EQ(next->live_events, 0);
}

// ---------------------------------------------------------------------------------------------
using Forecasts = ServerTest;

TEST_F(Forecasts, ForecastIsTheCliFormatAndIsCached) {
  ASSERT_GT(FillSimulated(db_path, 120, 3), 1000);
  Start();
  const std::string q = "/api/forecast?model=naive-all&at=2024-04-20&horizon=7d&cell=250";
  auto r = Get(q + "&format=csv", "officer");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(r.Header("x-crimecast-model-used"), "naive-all");
  EXPECT_EQ(r.Header("x-crimecast-origin"), "2024-04-20T00:00:00Z");
  // Exactly what `crimecast forecast` writes for the same job.
  auto store = storage::SqliteEventStore::Open(db_path);
  models::ForecastJob job;
  job.model = "naive-all";
  job.at = *ParseInstant("2024-04-20");
  job.horizon = *ParseHorizon("7d");
  job.cell_m = 250;
  auto direct = models::RunForecastJob(**store, job);
  ASSERT_TRUE(direct);
  EXPECT_EQ(r.body, *models::ForecastCsvText(*direct));
  EXPECT_TRUE(r.body.starts_with("cell_x,cell_y,size_m,crs,lon,lat,risk"));

  auto gj = Get(q, "officer");
  ASSERT_EQ(gj.status, 200);
  EXPECT_EQ(gj.Header("content-type"), "application/geo+json");
  auto j = gj.Json();
  EXPECT_EQ(j["type"], "FeatureCollection");
  EXPECT_EQ(j["crimecast"]["model"], "naive-all");
  const auto features = j["features"].size();
  EXPECT_GT(features, 100u);
  EXPECT_EQ(j["features"][0]["geometry"]["type"], "Polygon");
  EXPECT_EQ(srv->service().forecasts().entries(), 1u);  // one fit served both formats
  // Browsers get the cached gzip of the same text.
  HttpOptions gzip;
  gzip.token = tokens["officer"];
  gzip.headers = {{"Accept-Encoding", "gzip, deflate, br"}};
  auto zipped = Http(port(), "GET", q, "", gzip);
  EXPECT_EQ(zipped.Header("content-encoding"), "gzip");
  EXPECT_LT(zipped.body.size(), gj.body.size() / 4);
  EXPECT_EQ(Gunzip(zipped.body), gj.body);
  // bbox keeps the cells whose centre lies inside.
  auto sub = Get(q + "&bbox=-3.0,51.57,-2.98,51.59", "officer").Json();
  EXPECT_GT(sub["features"].size(), 0u);
  EXPECT_LT(sub["features"].size(), features);
  for (const auto& ft : sub["features"]) {
    EXPECT_GE(ft["properties"]["lon"].get<double>(), -3.0);
    EXPECT_LE(ft["properties"]["lat"].get<double>(), 51.59);
  }
  // Errors.
  EXPECT_EQ(Get("/api/forecast?model=crystal-ball", "officer").Json()["code"], "UnknownModel");
  EXPECT_EQ(Get("/api/forecast?horizon=30m", "officer").status, 400);
  EXPECT_EQ(Get("/api/forecast?cell=0", "officer").Json()["code"], "BadGrid");
  EXPECT_EQ(Get("/api/forecast?cell=20000", "officer").Json()["code"], "BadGrid");
  EXPECT_EQ(
      Get("/api/forecast?model=naive-all&at=2020-01&horizon=7d&cell=250", "officer").Json()["code"],
      "OutOfRange");
  EXPECT_EQ(Get("/api/forecast?format=xml", "officer").status, 400);
  EXPECT_EQ(Get("/api/forecast").status, 401);
  EXPECT_EQ(Get("/api/forecast", "auditor").status, 403);
}

TEST_F(Forecasts, PartnersGetCoarseCellsOnlyAndNoEventDetail) {
  ASSERT_GT(FillSimulated(db_path, 120, 4), 1000);
  Start();
  auto fine = Get("/api/forecast?model=naive-all&cell=150", "partner");
  EXPECT_EQ(fine.status, 403);
  EXPECT_NE(fine.body.find("at least 500 m"), std::string::npos);
  auto coarse = Get("/api/forecast?model=naive-all&cell=500&format=csv", "partner");
  EXPECT_EQ(coarse.status, 200);
  EXPECT_NE(coarse.body.find(",500,EPSG:27700,"), std::string::npos);
  // Without cell=, partners get the smallest allowed size.
  EXPECT_EQ(Get("/api/forecast?model=naive-all", "partner").status, 200);
  auto hot = Get("/api/hotspots?model=naive-all&cell=500&n=3", "partner").Json();
  ASSERT_EQ(hot["hotspots"].size(), 3u);
  EXPECT_FALSE(hot["hotspots"][0].contains("recent_events"));
  auto police = Get("/api/hotspots?model=naive-all&cell=500&n=3", "officer").Json();
  EXPECT_TRUE(police["hotspots"][0].contains("recent_events"));
  // Cell history: small monthly counts withheld for partners.
  const std::string cell_id = hot["hotspots"][2]["cell_id"];
  auto pc = Get("/api/cells/" + cell_id + "?model=naive-all", "partner").Json();
  auto oc = Get("/api/cells/" + cell_id + "?model=naive-all", "officer").Json();
  ASSERT_EQ(pc["history"]["months"].size(), oc["history"]["months"].size());
  for (std::size_t i = 0; i < pc["history"]["months"].size(); ++i) {
    const auto& p = pc["history"]["months"][i]["events"];
    const auto o = oc["history"]["months"][i]["events"].get<std::int64_t>();
    if (o > 0 && o < 5) {
      EXPECT_TRUE(p.is_null()) << i;
    }
    if (!p.is_null()) {
      EXPECT_EQ(p.get<std::int64_t>(), o) << i;
    }
  }
  EXPECT_FALSE(pc.contains("recent_events"));
  EXPECT_TRUE(oc.contains("recent_events"));
  EXPECT_EQ(Get("/api/cells/27700:150:2200:1250", "partner").status, 403);
}

TEST_F(Forecasts, HotspotsAndCellExplanations) {
  ASSERT_GT(FillSimulated(db_path, 150, 5), 1000);
  Start();
  auto hot = Get("/api/hotspots?model=naive-all&at=2024-05-20&horizon=7d&cell=200&n=5", "analyst");
  ASSERT_EQ(hot.status, 200) << hot.body;
  auto j = hot.Json();
  ASSERT_EQ(j["hotspots"].size(), 5u);
  for (std::size_t k = 1; k < 5; ++k) {
    EXPECT_GE(j["hotspots"][k - 1]["risk"].get<double>(), j["hotspots"][k]["risk"].get<double>());
  }
  const auto& top = j["hotspots"][0];
  EXPECT_EQ(top["rank"], 1);
  EXPECT_EQ(top["band"], 1);
  EXPECT_FALSE(top["reason"].get<std::string>().empty());
  for (const auto& ev : top["recent_events"]) {
    EXPECT_LE(ev["distance_m"].get<double>(), 400.0);
    EXPECT_LT(ev["time_start"].get<std::string>(), "2024-05-20");
    EXPECT_GE(ev["time_start"].get<std::string>(), "2024-04-22");
  }
  // The cell explanation agrees with the forecast and counts the cell's own history.
  const std::string id = top["cell_id"];
  auto cell = Get("/api/cells/" + id + "?model=naive-all&at=2024-05-20&horizon=7d", "analyst");
  ASSERT_EQ(cell.status, 200) << cell.body;
  auto c = cell.Json();
  EXPECT_NEAR(c["forecast"]["risk"].get<double>(), top["risk"].get<double>(), 1e-12);
  EXPECT_EQ(c["polygon"].size(), 5u);
  std::int64_t in_cell = 0;
  for (const auto& m : c["history"]["months"]) in_cell += m["events"].get<std::int64_t>();
  // Direct count: events of the five months before T whose projected point lies in the cell.
  auto parsed = *spatial::CellId::Parse(id);
  auto store = storage::SqliteEventStore::Open(db_path);
  storage::EventFilter f;
  f.to = *ParseInstant("2024-05-20");
  auto pts = (*store)->LoadPoints(f, 27700);
  std::int64_t direct = 0;
  for (std::size_t i = 0; i < pts->size(); ++i) {
    direct += std::floor(pts->x[i] / 200) == static_cast<double>(parsed.index.ix) &&
              std::floor(pts->y[i] / 200) == static_cast<double>(parsed.index.iy);
  }
  EXPECT_EQ(in_cell, direct);
  EXPECT_GT(direct, 0);
  EXPECT_EQ(c["history"]["total"], direct);
  // The parts add up to the risk for every kind of model: naive-all gives only a background,
  // naive-decay only a recent part, a self-exciting model both.
  for (const char* model : {"naive-all", "naive-decay", "etas-grid"}) {
    auto parts =
        Get(fmt::format("/api/cells/{}?model={}&at=2024-05-20&horizon=7d", id, model), "analyst")
            .Json()["forecast"];
    ASSERT_TRUE(parts.is_object()) << model;
    EXPECT_NEAR(parts["background"].get<double>() + parts["recent"].get<double>() +
                    parts["other"].get<double>(),
                parts["risk"].get<double>(), 1e-9 * (1 + parts["risk"].get<double>()))
        << model << ": " << parts.dump();
  }
  // Bad and far-away ids.
  EXPECT_EQ(Get("/api/cells/not-a-cell", "analyst").status, 400);
  auto far = Get("/api/cells/27700:200:1:1?model=naive-all&at=2024-05-20&horizon=7d", "analyst");
  EXPECT_EQ(far.status, 200);
  EXPECT_TRUE(far.Json()["forecast"].is_null());
}

TEST_F(Forecasts, LiveForecastFollowsPostedEventsWithoutRefit) {
  config.refit_interval_s = 3600;  // no scheduled refit during the test
  ASSERT_GT(FillSimulated(db_path, 180, 11, 20, 0.5), 2000);
  Start();
  const std::string q = "/api/forecast?model=etas-grid&horizon=7d&cell=250&format=csv";
  auto first = Get(q, "officer");
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(first.Header("x-crimecast-model-used"), "etas-grid")
      << "the simulated city should fit a self-exciting model";
  const std::string origin = first.Header("x-crimecast-origin");
  SseClient live(port(), "/api/live", tokens["officer"]);
  ASSERT_TRUE(live.WaitFor("hello", std::chrono::seconds(2)));

  // A burglary one hour after the data end, in a quiet corner of the city.
  const TimePoint t = *ParseInstant(origin) + std::chrono::hours(1);
  const std::string body = fmt::format(
      R"([{{"id":"live-x","category":"burglary","time":"{}","lon":-3.03,"lat":51.555}}])",
      FormatIso(t));
  ASSERT_EQ(Post("/api/events", body, "analyst").status, 200);
  srv->service().forecasts().FlushForTesting(/*refit=*/false);
  auto msg = live.WaitFor("forecast", std::chrono::seconds(3));
  ASSERT_TRUE(msg) << "no forecast message on the live stream";
  auto m = nlohmann::json::parse(msg->data);
  EXPECT_EQ(m["model_used"], "etas-grid");
  EXPECT_EQ(m["live_events"], 1);
  ASSERT_EQ(m["changed"].size(), 1u);
  const std::string cell = m["changed"][0]["cell_id"];

  auto after = Get(q, "officer");
  EXPECT_EQ(after.Header("x-crimecast-live-events"), "1");
  EXPECT_EQ(after.Header("x-crimecast-origin"), FormatIso(t + Seconds{1}));
  EXPECT_EQ(after.Header("x-crimecast-fitted-at"), first.Header("x-crimecast-fitted-at"));
  EXPECT_EQ(srv->service().forecasts().refits(), 0);  // no refit happened
  // The cell's risk rose by the model's near-repeat increment.
  auto cell_json = Get("/api/cells/" + cell + "?model=etas-grid&horizon=7d", "officer").Json();
  // The event ends at the new origin, so it adds RecentFactor(theta, omega, 7 d) of the fitted
  // model to its cell (plus the cell's earlier, decayed excitation: >= 0).
  const auto& params = cell_json["forecast"]["parameters"];
  ASSERT_TRUE(params.contains("theta") && params.contains("omega_per_day")) << cell_json.dump();
  const double increment = models::self_exciting::RecentFactor(
      params["theta"].get<double>(), params["omega_per_day"].get<double>(), 7.0);
  EXPECT_GT(increment, 0.05) << "the simulated city is clustered (theta 0.5)";
  EXPECT_GE(cell_json["forecast"]["recent"].get<double>(),
            increment * (1 - 1e-4));  // a 1 s event: MeanExp ~ 1
  EXPECT_LT(cell_json["forecast"]["recent"].get<double>(), increment + 0.05);
  // The refit (background, on demand here) replaces the live update and resets the counter.
  srv->service().forecasts().FlushForTesting(/*refit=*/true);
  EXPECT_EQ(srv->service().forecasts().refits(), 1);
  auto refit = Get(q, "officer");
  EXPECT_EQ(refit.Header("x-crimecast-live-events"), "0");
  EXPECT_EQ(refit.Header("x-crimecast-stale"), "false");
}

TEST_F(Forecasts, StaleForecastsAreServedAndRefitInTheBackground) {
  config.refit_interval_s = 3600;
  ASSERT_GT(FillSimulated(db_path, 120, 6), 1000);
  Start();
  const std::string q =
      "/api/forecast?model=naive-all&at=2024-04-15&horizon=7d&cell=250&format=csv";
  auto a = Get(q, "officer");
  EXPECT_EQ(a.Header("x-crimecast-stale"), "false");
  // A late-reported event before T changes that forecast: served stale until the refit.
  ASSERT_EQ(
      Post(
          "/api/events",
          R"([{"id":"late","category":"burglary","time":"2024-04-10T10:00:00Z","lon":-3.0,"lat":51.58}])",
          "analyst")
          .status,
      200);
  auto b = Get(q, "officer");
  EXPECT_EQ(b.Header("x-crimecast-stale"), "true");
  EXPECT_EQ(b.body, a.body);
  srv->service().forecasts().FlushForTesting(/*refit=*/true);
  auto c = Get(q, "officer");
  EXPECT_EQ(c.Header("x-crimecast-stale"), "false");
  EXPECT_NE(c.body, a.body);
  EXPECT_GE(srv->service().forecasts().refits(), 1);
  auto metrics = Get("/metrics").body;
  EXPECT_NE(metrics.find("crimecast_forecast_refits "), std::string::npos);
  EXPECT_NE(metrics.find("crimecast_model_age_seconds"), std::string::npos);
}

TEST_F(Forecasts, BacktestJobsReportProgressAndResults) {
  ASSERT_GT(FillSimulated(db_path, 120, 7), 1000);
  Start();
  const std::string body =
      R"({"models":["naive-all","naive-decay"],"from":"2024-03-01","to":"2024-03-22","horizon":"7d","cell":250})";
  auto r = Post("/api/backtests", body, "analyst");
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = r.Json()["id"];
  EXPECT_EQ(r.Header("location"), "/api/backtests/" + id);
  nlohmann::json job;
  for (int i = 0; i < 600; ++i) {
    job = Get("/api/backtests/" + id, "analyst").Json();
    if (job["status"] == "done" || job["status"] == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(job["status"], "done") << job.dump(2);
  EXPECT_EQ(job["progress"]["fraction"], 1.0);
  EXPECT_EQ(job["progress"]["total"], 6);  // 3 origins x 2 models
  EXPECT_EQ(job["report"]["summary"].size(), 2u);
  auto svg = Get("/api/backtests/" + id + "?format=svg", "analyst");
  EXPECT_EQ(svg.status, 200);
  EXPECT_EQ(svg.Header("content-type"), "image/svg+xml");
  EXPECT_NE(svg.body.find("<svg"), std::string::npos);
  // Errors and roles.
  EXPECT_EQ(Post("/api/backtests", body, "officer").status, 403);
  EXPECT_EQ(Post("/api/backtests", R"({"models":["nope"]})", "analyst").status, 400);
  EXPECT_EQ(Post("/api/backtests",
                 R"({"from":"2024-03-01","to":"2024-02-01","horizon":"7d","cell":250})", "analyst")
                .status,
            400);
  EXPECT_EQ(Get("/api/backtests/bt999-x", "analyst").status, 404);
  // A job whose window is outside the data fails with a reason.
  auto out = Post(
      "/api/backtests",
      R"({"models":["naive-all"],"from":"2023-01-01","to":"2023-02-01","horizon":"7d","cell":250})",
      "analyst");
  ASSERT_EQ(out.status, 202);
  for (int i = 0; i < 200; ++i) {
    job = Get("/api/backtests/" + out.Json()["id"].get<std::string>(), "analyst").Json();
    if (job["status"] == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(job["status"], "failed");
  EXPECT_NE(job["error"].get<std::string>().find("OutOfRange"), std::string::npos);
}

TEST_F(Forecasts, CellExplanationListsCovariates) {
  ASSERT_GT(FillSimulated(db_path, 120, 8), 1000);
  Start();
  auto hot = Get("/api/hotspots?model=naive-all&at=2024-04-01&horizon=7d&cell=200&n=1", "analyst");
  ASSERT_EQ(hot.status, 200) << hot.body;
  const std::string id = hot.Json()["hotspots"][0]["cell_id"];
  const std::string q = "/api/cells/" + id + "?model=naive-all&at=2024-04-01&horizon=7d";
  auto none = Get(q, "analyst").Json();
  ASSERT_TRUE(none["covariates"].is_array());
  EXPECT_TRUE(none["covariates"].empty());
  // A layer whose one area covers Great Britain: every cell of the grid gets its value.
  const auto dir = TempDir("server-cov");
  std::ofstream(dir / "gb.geojson") << R"({"type":"FeatureCollection",
"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::27700"}},"features":[
{"type":"Feature","properties":{"code":"GB"},"geometry":{"type":"Polygon","coordinates":
 [[[0,0],[700000,0],[700000,1300000],[0,1300000],[0,0]]]}}]})";
  std::ofstream(dir / "v.csv") << "code,score\nGB,42.5\n";
  {
    auto store = storage::SqliteEventStore::Open(db_path);
    ASSERT_TRUE(store);
    storage::LayerImportOptions o;
    o.name = "score";
    o.unit = "points";
    o.description = "a test layer";
    o.boundaries_file = (dir / "gb.geojson").string();
    o.table_file = (dir / "v.csv").string();
    o.key_column = "code";
    o.value_column = "score";
    auto r = storage::ImportLayer(*(*store)->layers(), o);
    ASSERT_TRUE(r) << r.error().ToString();
  }
  // A new origin: the cached forecast of the first request was fitted without the layer.
  const std::string q2 = "/api/cells/" + id + "?model=naive-all&at=2024-04-02&horizon=7d";
  auto c = Get(q2, "analyst");
  ASSERT_EQ(c.status, 200) << c.body;
  auto j = c.Json();
  ASSERT_EQ(j["covariates"].size(), 1u) << j.dump();
  EXPECT_EQ(j["covariates"][0]["name"], "score");
  EXPECT_DOUBLE_EQ(j["covariates"][0]["value"].get<double>(), 42.5);
  EXPECT_EQ(j["covariates"][0]["unit"], "points");
  EXPECT_EQ(j["covariates"][0]["description"], "a test layer");
  // Outside the forecast grid there is no cell value.
  auto far = Get("/api/cells/27700:200:1:1?model=naive-all&at=2024-04-02&horizon=7d", "analyst");
  ASSERT_EQ(far.status, 200);
  EXPECT_TRUE(far.Json()["covariates"].empty());
}

}  // namespace
}  // namespace crimecast::testing
