// Boundaries and point-in-polygon on the real files in ../shared/data:
//   ons-lsoa-boundaries-wales (LSOA 2011 and 2021, super generalised, WGS84),
//   police-force-areas-ew (43 police force areas, ultra generalised),
//   police-uk-gwent-street (131,216 crimes with the LSOA code data.police.uk assigned).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/spatial/boundaries.hpp"
#include "core/spatial/projection.hpp"
#include "support/paths.hpp"

namespace crimecast::spatial {
namespace {

using crimecast::testing::SharedDataDir;

std::filesystem::path Data(const std::string& relative) { return SharedDataDir() / relative; }

// One located street-level crime: its point and the LSOA data.police.uk gave it.
struct Crime {
  std::string month;
  double lon = 0;
  double lat = 0;
  std::string lsoa_code;
  std::string lsoa_name;
  // The local authority part of the LSOA name ("Newport 014D" -> "Newport").
  std::string LocalAuthority() const {
    const auto space = lsoa_name.rfind(' ');
    return space == std::string::npos ? lsoa_name : lsoa_name.substr(0, space);
  }
};

// A deliberately simple CSV split (the importer is tested elsewhere): commas outside quotes.
std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

struct GwentData {
  std::size_t rows = 0;
  std::size_t unlocated = 0;
  std::vector<Crime> located;
};

GwentData ReadGwent() {
  GwentData data;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(Data("police-uk-gwent-street"))) {
    if (entry.path().extension() == ".csv") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    const auto header = SplitCsv(line);
    auto column = [&](const std::string& name) {
      return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) -
                                      header.begin());
    };
    const std::size_t c_month = column("Month");
    const std::size_t c_lon = column("Longitude");
    const std::size_t c_lat = column("Latitude");
    const std::size_t c_code = column("LSOA code");
    const std::size_t c_name = column("LSOA name");
    EXPECT_LT(c_name, header.size()) << file;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      ++data.rows;
      const auto f = SplitCsv(line);
      if (f.size() <= c_name || f[c_lon].empty() || f[c_lat].empty()) {
        ++data.unlocated;
        continue;
      }
      data.located.push_back(
          Crime{f[c_month], std::stod(f[c_lon]), std::stod(f[c_lat]), f[c_code], f[c_name]});
    }
  }
  return data;
}

// Distance in metres from (x, y) to the nearest edge of a projected multipolygon.
double DistanceToBoundary(const MultiPolygon& geometry, double x, double y) {
  double best = INFINITY;
  for (const Polygon& polygon : geometry) {
    for (const Ring& ring : polygon.rings) {
      for (std::size_t i = 0; i + 3 < ring.xy.size(); i += 2) {
        const double ax = ring.xy[i], ay = ring.xy[i + 1];
        const double bx = ring.xy[i + 2], by = ring.xy[i + 3];
        const double dx = bx - ax, dy = by - ay;
        const double len2 = dx * dx + dy * dy;
        double t = len2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / len2 : 0;
        t = std::clamp(t, 0.0, 1.0);
        best = std::min(best, std::hypot(x - (ax + t * dx), y - (ay + t * dy)));
      }
    }
  }
  return best;
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

Boundaries LoadOrDie(const std::string& relative) {
  auto b = Boundaries::Load(Data(relative));
  EXPECT_TRUE(b) << (b ? "" : b.error().ToString());
  return b ? std::move(*b) : Boundaries{};
}

TEST(BoundariesReal, LoadsWelshLsoaBoundariesBothVintages) {
  CRIMECAST_REQUIRE_SHARED_DATA("ons-lsoa-boundaries-wales");
  const auto start = std::chrono::steady_clock::now();
  const Boundaries b21 = LoadOrDie("ons-lsoa-boundaries-wales/lsoa21_boundaries.geojson");
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Boundaries b11 = LoadOrDie("ons-lsoa-boundaries-wales/lsoa11_boundaries.geojson");
  ASSERT_EQ(b21.size(), 2696u);
  ASSERT_EQ(b11.size(), 2661u);
  EXPECT_EQ(b21.code_property(), "LSOA21CD");
  EXPECT_EQ(b21.name_property(), "LSOA21NM");
  EXPECT_EQ(b11.code_property(), "LSOA11CD");
  EXPECT_EQ(b11.name_property(), "LSOA11NM");
  EXPECT_EQ(b21.projected_epsg(), kBritishNationalGrid);
  EXPECT_EQ(b21.report().duplicate_codes, 0u);
  EXPECT_EQ(b21.report().skipped_empty + b21.report().skipped_not_polygon, 0u);
  auto welsh = [](const Boundaries& b) {
    return std::count_if(b.features().begin(), b.features().end(),
                         [](const BoundaryFeature& f) { return f.code.starts_with("W01"); });
  };
  EXPECT_EQ(welsh(b21), 1917);  // README: all of Wales
  EXPECT_EQ(welsh(b11), 1909);
  EXPECT_GE(b21.FindByCode("W01001440"), 0);  // Blaenau Gwent 001A
  std::printf(
      "[ measure ] lsoa21 loaded in %.2f s; repaired invalid polygons: 2021 %zu, 2011 %zu\n",
      load_s, b21.report().repaired_invalid, b11.report().repaired_invalid);

  // ONS publishes each LSOA's internal point twice, as LONG/LAT and as BNG_E/BNG_N (OSTN15,
  // rounded to 1 m). Our WGS84 -> BNG must agree to within PROJ's Helmert accuracy (~2 m).
  auto to_bng = Projection::Create(kWgs84, kBritishNationalGrid);
  ASSERT_TRUE(to_bng);
  double worst = 0;
  double sum = 0;
  for (std::size_t i = 0; i < b21.size(); ++i) {
    const double lon = std::stod(std::string(*b21.Property(i, "LONG")));
    const double lat = std::stod(std::string(*b21.Property(i, "LAT")));
    const double e = std::stod(std::string(*b21.Property(i, "BNG_E")));
    const double n = std::stod(std::string(*b21.Property(i, "BNG_N")));
    auto xy = to_bng->Forward(lon, lat);
    ASSERT_TRUE(xy);
    const double d = std::hypot(xy->x - e, xy->y - n);
    worst = std::max(worst, d);
    sum += d;
  }
  std::printf("[ measure ] ONS LONG/LAT -> BNG vs ONS BNG_E/BNG_N: mean %.2f m, max %.2f m\n",
              sum / static_cast<double>(b21.size()), worst);
  EXPECT_LT(worst, 4.0);

  // Each internal point lies in its own LSOA, in both frames (the generalised polygons may
  // move an edge past a point close to it, so allow a handful).
  for (Frame frame : {Frame::kLonLat, Frame::kProjected}) {
    auto locator = BoundaryLocator::Create(b21, frame);
    ASSERT_TRUE(locator);
    std::size_t own = 0;
    for (std::size_t i = 0; i < b21.size(); ++i) {
      double x = std::stod(std::string(*b21.Property(i, "LONG")));
      double y = std::stod(std::string(*b21.Property(i, "LAT")));
      if (frame == Frame::kProjected) {
        auto xy = to_bng->Forward(x, y);
        x = xy->x;
        y = xy->y;
      }
      own += locator->Find(x, y) == static_cast<int>(i);
    }
    const double rate = static_cast<double>(own) / static_cast<double>(b21.size());
    std::printf("[ measure ] ONS internal point inside its own LSOA (%s): %zu / %zu = %.2f%%\n",
                frame == Frame::kLonLat ? "lon/lat" : "BNG", own, b21.size(), 100 * rate);
    EXPECT_GT(rate, 0.99);
  }
}

// data.police.uk assigns each crime an LSOA from its (unpublished) true location and then snaps
// the published point to an anonymous "map point"; the boundaries are generalised (~200 m).
// So the LSOA we find for the published point can differ from the published code near
// boundaries. The README of ons-lsoa-boundaries-wales warns of this for points within ~100 m.
TEST(BoundariesReal, GwentCrimesFallInTheirPublishedLsoa) {
  CRIMECAST_REQUIRE_SHARED_DATA("ons-lsoa-boundaries-wales");
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-gwent-street");
  const Boundaries b21 = LoadOrDie("ons-lsoa-boundaries-wales/lsoa21_boundaries.geojson");
  const Boundaries b11 = LoadOrDie("ons-lsoa-boundaries-wales/lsoa11_boundaries.geojson");
  const GwentData gwent = ReadGwent();
  EXPECT_EQ(gwent.rows, 131216u);
  EXPECT_EQ(gwent.unlocated, 1256u);
  auto l21 = BoundaryLocator::Create(b21, Frame::kLonLat);
  auto l11 = BoundaryLocator::Create(b11, Frame::kLonLat);
  ASSERT_TRUE(l21 && l11);

  auto to_bng = Projection::Create(kWgs84, kBritishNationalGrid);
  ASSERT_TRUE(to_bng);
  ASSERT_EQ(b21.projected_epsg(), kBritishNationalGrid);
  ASSERT_EQ(b11.projected_epsg(), kBritishNationalGrid);
  std::vector<double> miss_distance;  // metres from a disagreeing point to its published LSOA
  std::size_t coded = 0;              // rows whose published code is in one of the two files
  std::size_t agree = 0;              // ... and whose point lies in that LSOA
  std::size_t not_found = 0;          // point inside no LSOA of either file
  std::size_t unknown_code = 0;
  std::size_t coded_2023 = 0;  // from 2023-01 every code is a 2021 code
  std::size_t agree_2023 = 0;
  for (const Crime& c : gwent.located) {
    const bool in21 = b21.FindByCode(c.lsoa_code) >= 0;
    const bool in11 = b11.FindByCode(c.lsoa_code) >= 0;
    if (!in21 && !in11) {
      ++unknown_code;
      continue;
    }
    ++coded;
    const int f21 = l21->Find(c.lon, c.lat);
    const int f11 = l11->Find(c.lon, c.lat);
    const bool ok = (f21 >= 0 && b21[static_cast<std::size_t>(f21)].code == c.lsoa_code) ||
                    (f11 >= 0 && b11[static_cast<std::size_t>(f11)].code == c.lsoa_code);
    agree += ok;
    not_found += (f21 < 0 && f11 < 0);
    if (!ok) {
      // How far is the point from the LSOA it was published with?
      const Boundaries& b = in21 ? b21 : b11;
      const BoundaryFeature& published = b[static_cast<std::size_t>(b.FindByCode(c.lsoa_code))];
      auto xy = to_bng->Forward(c.lon, c.lat);
      miss_distance.push_back(DistanceToBoundary(published.projected, xy->x, xy->y));
    }
    if (c.month >= "2023-01") {
      ++coded_2023;
      agree_2023 += ok;
    }
  }
  const double rate = static_cast<double>(agree) / static_cast<double>(coded);
  const double rate_2023 = static_cast<double>(agree_2023) / static_cast<double>(coded_2023);
  std::printf(
      "[ measure ] Gwent crimes whose point lies in the published LSOA: %zu / %zu = %.2f%% "
      "(2023-01 on, 2021 codes only: %.2f%%); %zu in no LSOA; %zu codes in neither file\n",
      agree, coded, 100 * rate, 100 * rate_2023, not_found, unknown_code);
  const auto within = [&](double m) {
    return static_cast<double>(std::count_if(miss_distance.begin(), miss_distance.end(),
                                             [m](double d) { return d <= m; })) /
           static_cast<double>(miss_distance.size());
  };
  std::printf(
      "[ measure ] disagreeing points: distance to the published LSOA median %.0f m, "
      "90%% %.0f m, 99%% %.0f m, max %.0f m; within 100 m: %.1f%%, within 250 m: %.1f%%\n",
      Quantile(miss_distance, 0.5), Quantile(miss_distance, 0.9), Quantile(miss_distance, 0.99),
      Quantile(miss_distance, 1.0), 100 * within(100), 100 * within(250));
  EXPECT_EQ(coded, 129731u);  // README: 99.82% of coded rows find a polygon by code
  // Measured 87.7%. Published points are snapped to street "map points", and LSOA boundaries
  // often run along streets, so many points sit within metres of a boundary; the generalised
  // (BSC) polygons then put them on either side. The disagreements are all such boundary cases:
  // every one is within ~260 m of its published LSOA (94% within 100 m), none deep inside
  // another LSOA, which a lookup bug would produce.
  EXPECT_GT(rate, 0.85);
  EXPECT_GT(rate_2023, 0.85);
  EXPECT_GT(within(100), 0.90);
  EXPECT_LT(Quantile(miss_distance, 1.0), 300.0);

  // On the real polygons too, the STRtree + prepared lookup equals the brute-force scan.
  std::size_t checked = 0;
  for (std::size_t i = 0; i < gwent.located.size(); i += 61) {
    const Crime& c = gwent.located[i];
    ASSERT_EQ(l21->Find(c.lon, c.lat), l21->FindBruteForce(c.lon, c.lat)) << c.lon << "," << c.lat;
    ++checked;
  }
  EXPECT_GT(checked, 2000u);

  // Aggregation: crimes per 2021 LSOA from points (CountPointsPerFeature) against the counts by
  // published code, for the months that use 2021 codes only.
  std::vector<double> xs;
  std::vector<double> ys;
  std::vector<std::int64_t> by_code(b21.size(), 0);
  for (const Crime& c : gwent.located) {
    if (c.month < "2023-01") continue;
    xs.push_back(c.lon);
    ys.push_back(c.lat);
    const int f = b21.FindByCode(c.lsoa_code);
    if (f >= 0) ++by_code[static_cast<std::size_t>(f)];
  }
  auto counts = CountPointsPerFeature(b21, Frame::kLonLat, xs, ys);
  ASSERT_TRUE(counts) << counts.error().message;
  std::int64_t total = 0;
  std::int64_t abs_diff = 0;
  for (std::size_t i = 0; i < b21.size(); ++i) {
    total += by_code[i];
    abs_diff += std::abs(counts->counts[i] - by_code[i]);
  }
  // Each disagreeing crime moves one count out of one LSOA and into another: sum|diff| / 2 is the
  // number of crimes counted in a different LSOA.
  const double moved = static_cast<double>(abs_diff) / 2.0 / static_cast<double>(total);
  std::printf(
      "[ measure ] crimes per LSOA (2023-01 on, %lld crimes): counts by point vs by "
      "published code differ by sum|diff|/2 = %.2f%% of crimes; %lld outside all LSOAs\n",
      static_cast<long long>(total), 100 * moved, static_cast<long long>(counts->outside));
  EXPECT_LT(moved, 0.10);
}

TEST(BoundariesReal, GwentCrimesFallInGwentPoliceForceArea) {
  CRIMECAST_REQUIRE_SHARED_DATA("police-force-areas-ew");
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-gwent-street");
  const Boundaries pfa = LoadOrDie("police-force-areas-ew/pfa_dec2020_ew_buc.geojson");
  ASSERT_EQ(pfa.size(), 43u);
  EXPECT_EQ(pfa.code_property(), "pfa20_code");
  EXPECT_EQ(pfa.name_property(), "pfa20_name");
  const int gwent_index = pfa.FindByCode("W15000002");
  ASSERT_GE(gwent_index, 0);
  EXPECT_EQ(pfa[static_cast<std::size_t>(gwent_index)].name, "Gwent");
  const GwentData gwent = ReadGwent();
  auto locator = BoundaryLocator::Create(pfa, Frame::kProjected);
  auto to_bng = Projection::Create(kWgs84, pfa.projected_epsg());
  ASSERT_TRUE(locator && to_bng);

  // Known out-of-area rows: those whose published LSOA is not in one of Gwent's five local
  // authorities (Cardiff, Rhondda Cynon Taf, ..., and the one Barnsley row).
  const std::set<std::string> gwent_las = {"Blaenau Gwent", "Caerphilly", "Monmouthshire",
                                           "Newport", "Torfaen"};
  std::size_t home = 0;
  std::size_t home_in = 0;
  std::size_t away = 0;
  std::size_t away_out = 0;
  std::map<std::string, std::size_t> home_elsewhere;
  for (const Crime& c : gwent.located) {
    auto xy = to_bng->Forward(c.lon, c.lat);
    ASSERT_TRUE(xy);
    const int f = locator->Find(xy->x, xy->y);
    const bool in_gwent = f == gwent_index;
    if (gwent_las.contains(c.LocalAuthority())) {
      ++home;
      home_in += in_gwent;
      if (!in_gwent) ++home_elsewhere[f >= 0 ? pfa[static_cast<std::size_t>(f)].name : "(none)"];
    } else {
      ++away;
      away_out += !in_gwent;
    }
    if (c.LocalAuthority() == "Barnsley") {
      EXPECT_GE(f, 0);
      if (f >= 0) {
        EXPECT_EQ(pfa[static_cast<std::size_t>(f)].name, "South Yorkshire");
      }
    }
  }
  const double home_rate = static_cast<double>(home_in) / static_cast<double>(home);
  const double away_rate = static_cast<double>(away_out) / static_cast<double>(away);
  std::printf(
      "[ measure ] crimes in Gwent's 5 LAs inside the Gwent PFA: %zu / %zu = %.3f%%; "
      "out-of-area rows (other LAs) outside Gwent: %zu / %zu = %.1f%%\n",
      home_in, home, 100 * home_rate, away_out, away, 100 * away_rate);
  for (const auto& [name, n] : home_elsewhere) {
    std::printf("[ measure ]   Gwent-LA crimes located in %s: %zu\n", name.c_str(), n);
  }
  EXPECT_GT(home_rate, 0.995);
  // Most of the out-of-area rows are just over the border (Cardiff, Caerphilly's neighbours);
  // BUC boundaries (~500 m) put some of those inside Gwent, but most must be outside.
  EXPECT_GT(away_rate, 0.5);
}

// Single-thread lookup speed on real polygons and real points, plus the parallel batch path.
TEST(BoundariesReal, LsoaLookupThroughput) {
  CRIMECAST_REQUIRE_SHARED_DATA("ons-lsoa-boundaries-wales");
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-gwent-street");
  const Boundaries b21 = LoadOrDie("ons-lsoa-boundaries-wales/lsoa21_boundaries.geojson");
  const GwentData gwent = ReadGwent();
  constexpr std::size_t kPoints = 100'000;
  std::vector<double> lons(kPoints);
  std::vector<double> lats(kPoints);
  for (std::size_t i = 0; i < kPoints; ++i) {
    // Every crime once (stride through the file order), not one hot point.
    const Crime& c = gwent.located[(i * 7919) % gwent.located.size()];
    lons[i] = c.lon;
    lats[i] = c.lat;
  }
  std::vector<double> xs = lons;
  std::vector<double> ys = lats;
  auto to_bng = Projection::Create(kWgs84, kBritishNationalGrid);
  ASSERT_TRUE(to_bng);
  to_bng->Forward(xs, ys);

  for (Frame frame : {Frame::kLonLat, Frame::kProjected}) {
    const auto t0 = std::chrono::steady_clock::now();
    auto locator = BoundaryLocator::Create(b21, frame);
    ASSERT_TRUE(locator);
    const auto t1 = std::chrono::steady_clock::now();
    std::size_t found = 0;
    const auto& px = frame == Frame::kLonLat ? lons : xs;
    const auto& py = frame == Frame::kLonLat ? lats : ys;
    for (std::size_t i = 0; i < kPoints; ++i) found += locator->Find(px[i], py[i]) >= 0;
    const auto t2 = std::chrono::steady_clock::now();
    const double build_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    const double secs = std::chrono::duration<double>(t2 - t1).count();
    const double rate = static_cast<double>(kPoints) / secs;
    std::printf(
        "[ measure ] %s: locator built in %.1f ms; %zu LSOA lookups in %.3f s = %.0f "
        "points/s on one thread (%zu found)\n",
        frame == Frame::kLonLat ? "lon/lat" : "BNG", build_ms, kPoints, secs, rate, found);
    EXPECT_GT(found, kPoints * 99 / 100);
#ifdef NDEBUG
    // The target is hundreds of thousands a second; the floor leaves room for a busy machine.
    // Only optimised builds are held to it (sanitizer builds run ~3x slower).
    EXPECT_GT(rate, 100'000.0);
#endif
  }

  const auto t0 = std::chrono::steady_clock::now();
  auto all = LocatePoints(b21, Frame::kProjected, xs, ys);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(all);
  std::printf(
      "[ measure ] LocatePoints (TBB, locators built per thread included): %zu points in "
      "%.3f s = %.0f points/s\n",
      kPoints, secs, static_cast<double>(kPoints) / secs);
}

}  // namespace
}  // namespace crimecast::spatial
