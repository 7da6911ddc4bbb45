#include "core/evaluation/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace crimecast::evaluation {
namespace {

using nlohmann::json;

json Num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json CoverageJson(const CoverageScore& c) {
  return json{{"coverage", c.coverage},
              {"cells", c.cells},
              {"area_fraction", Num(c.area_fraction)},
              {"area_km2", Num(c.area_km2)},
              {"hits", Num(c.hits)},
              {"hit_rate", Num(c.hit_rate)},
              {"pai", Num(c.pai)},
              {"perfect_hits", Num(c.perfect_hits)},
              {"perfect_cells", Num(c.perfect_cells)},
              {"pei", Num(c.pei)},
              {"pei_star", Num(c.pei_star)}};
}

json CalibrationJson(const std::vector<CalibrationBin>& bins) {
  json out = json::array();
  for (const auto& b : bins) {
    out.push_back({{"decile", b.decile},
                   {"cells", b.cells},
                   {"mean_predicted", Num(b.mean_predicted)},
                   {"mean_observed", Num(b.mean_observed)},
                   {"sum_predicted", Num(b.sum_predicted)},
                   {"sum_observed", Num(b.sum_observed)}});
  }
  return out;
}

bool IsNaive(const std::string& model) { return model.rfind("naive-", 0) == 0; }

// Index of the standard 5 % level in the configured coverages, or the middle one.
std::size_t FivePercentIndex(const std::vector<double>& coverages) {
  for (std::size_t i = 0; i < coverages.size(); ++i) {
    if (std::abs(coverages[i] - 0.05) < 1e-9) return i;
  }
  return coverages.size() / 2;
}

std::string Pct(double v) { return std::isfinite(v) ? fmt::format("{:.1f}", 100 * v) : "-"; }
std::string Fix(double v, int digits) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "-";
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string BacktestJson(const BacktestResult& r, int indent) {
  const BacktestConfig& c = r.config;
  json j;
  j["schema"] = "crimecast.backtest/1";
  json models = json::array();
  for (const auto& m : c.models) {
    json params = json::object();
    for (const auto& [k, v] : m.options.params) params[k] = v;
    models.push_back({{"name", m.name}, {"params", params}});
  }
  json cats = json::array();
  for (Category cat : c.categories) cats.push_back(std::string(Slug(cat)));
  j["config"] = {{"from", FormatIso(c.from)},
                 {"to", FormatIso(c.to)},
                 {"horizon", c.horizon.ToString()},
                 {"grid",
                  {{"epsg", c.grid.epsg()},
                   {"cell_m", c.grid.size_m()},
                   {"ix0", c.grid.ix0()},
                   {"iy0", c.grid.iy0()},
                   {"nx", c.grid.nx()},
                   {"ny", c.grid.ny()},
                   {"cells", c.grid.cell_count()}}},
                 {"categories", cats},
                 {"per_category", c.per_category},
                 {"harm_weights", c.harm ? json(c.harm->name) : json(nullptr)},
                 {"active_area", c.boundary_cells ? "boundary" : "cells with an event before T"},
                 {"coverages", c.coverages},
                 {"curve_coverages", c.curve_coverages},
                 {"models", models}};
  json origins = json::array();
  for (TimePoint t : r.origins) origins.push_back(FormatIso(t));
  j["origins"] = origins;
  json skipped = json::array();
  for (TimePoint t : r.skipped_origins) skipped.push_back(FormatIso(t));
  j["skipped_origins"] = skipped;
  json area = json::array();
  for (const auto& a : r.active_area) {
    area.push_back({{"origin", FormatIso(a.origin)}, {"cells", a.cells}, {"km2", a.km2}});
  }
  j["active_area"] = area;
  j["groups"] = r.groups;
  json summary = json::array();
  for (const auto& s : r.summaries) {
    json cov = json::array();
    for (const auto& x : s.coverage) cov.push_back(CoverageJson(x));
    summary.push_back({{"group", s.group},
                       {"model", s.model},
                       {"origins_scored", s.origins_scored},
                       {"origins_failed", s.origins_failed},
                       {"coverage", cov},
                       {"log_likelihood_mean", Num(s.log_likelihood_mean)},
                       {"log_likelihood_per_event_mean", Num(s.log_likelihood_per_event_mean)},
                       {"events_total", Num(s.events_total)},
                       {"predicted_total", Num(s.predicted_total)},
                       {"calibration", CalibrationJson(s.calibration)},
                       {"curve_hit_rate", s.curve},
                       {"seconds_mean", Num(s.seconds_mean)}});
  }
  j["summary"] = summary;
  json per = json::array();
  for (const auto& o : r.scores) {
    json e = {{"origin", FormatIso(o.origin)},
              {"group", o.group},
              {"model", o.model},
              {"model_used", o.model_used},
              {"ok", o.ok},
              {"seconds", Num(o.seconds)},
              {"notes", o.notes}};
    if (!o.ok) {
      e["error"] = o.error;
    } else {
      json cov = json::array();
      for (const auto& x : o.scores.coverage) cov.push_back(CoverageJson(x));
      e["events_total"] = Num(o.scores.events_total);
      e["events_active"] = Num(o.scores.events_active);
      e["predicted_total_grid"] = Num(o.scores.predicted_total_grid);
      e["predicted_total_active"] = Num(o.scores.predicted_total_active);
      e["coverage"] = cov;
      e["log_likelihood"] = Num(o.scores.log_likelihood);
      e["log_likelihood_per_event"] = Num(o.scores.log_likelihood_per_event);
      e["calibration"] = CalibrationJson(o.scores.calibration);
    }
    per.push_back(std::move(e));
  }
  j["per_origin"] = per;
  j["notes"] = r.notes;
  j["seconds_total"] = r.seconds_total;
  return j.dump(indent) + "\n";
}

std::string BacktestTable(const BacktestResult& r) {
  const BacktestConfig& c = r.config;
  std::string out;
  double mean_cells = 0;
  double mean_km2 = 0;
  for (const auto& a : r.active_area) {
    mean_cells += static_cast<double>(a.cells);
    mean_km2 += a.km2;
  }
  if (!r.active_area.empty()) {
    mean_cells /= static_cast<double>(r.active_area.size());
    mean_km2 /= static_cast<double>(r.active_area.size());
  }
  out +=
      fmt::format("Backtest: {} origins from {} (horizon {}), {} m cells, EPSG:{}, grid {} x {}\n",
                  r.origins.size(), r.origins.empty() ? "-" : FormatIso(r.origins.front()),
                  c.horizon.ToString(), c.grid.size_m(), c.grid.epsg(), c.grid.nx(), c.grid.ny());
  out += fmt::format(
      "Active area ({}): mean {:.0f} cells = {:.1f} km2 per origin{}\n",
      c.boundary_cells ? "boundary" : "cells with >= 1 event of any category before T", mean_cells,
      mean_km2, c.harm ? fmt::format("; harm weights: {}", c.harm->name) : "");
  const std::size_t i5 = FivePercentIndex(c.coverages);
  for (const auto& group : r.groups) {
    std::vector<const ModelSummary*> rows;
    for (const auto& s : r.summaries) {
      if (s.group == group) rows.push_back(&s);
    }
    double best_naive = 0;
    for (const auto* s : rows) {
      if (IsNaive(s->model) && s->origins_scored > 0 && !s->coverage.empty()) {
        best_naive = std::max(best_naive, s->coverage[i5].hit_rate);
      }
    }
    double events = rows.empty() ? 0 : rows.front()->events_total;
    out += fmt::format("\n[{}] {} events scored in all origins\n", group, Fix(events, 0));
    std::string header = fmt::format("{:<14}", "model");
    for (double cov : c.coverages)
      header += fmt::format(" {:>7}", fmt::format("HR@{:g}%", 100 * cov));
    header += fmt::format(" {:>7} {:>7} {:>8} {:>9} {:>8} {:>6}", "PAI@5%", "PEI*@5%", "LL/event",
                          "pred/obs", "vs naive", "ok");
    out += header + "\n";
    out += std::string(header.size(), '-') + "\n";
    for (const auto* s : rows) {
      std::string line = fmt::format("{:<14}", s->model);
      if (s->origins_scored == 0) {
        line += fmt::format(" all {} origins failed", s->origins_failed);
        out += line + "\n";
        continue;
      }
      for (const auto& cs : s->coverage) line += fmt::format(" {:>7}", Pct(cs.hit_rate));
      const CoverageScore& five = s->coverage[i5];
      const double ratio = best_naive > 0 ? five.hit_rate / best_naive : NAN;
      line += fmt::format(
          " {:>7} {:>7} {:>8} {:>9} {:>8} {:>6}", Fix(five.pai, 2), Fix(five.pei_star, 3),
          Fix(s->log_likelihood_per_event_mean, 3),
          Fix(s->events_total > 0 ? s->predicted_total / s->events_total : NAN, 3), Fix(ratio, 3),
          fmt::format("{}/{}", s->origins_scored, s->origins_scored + s->origins_failed));
      out += line + "\n";
    }
  }
  out +=
      "\nHR@c%: mean share of the horizon's events in the top c% of the active area's cells; "
      "PAI = HR / area share; PEI* = PAI / PAI of perfect foresight (fewest cells); "
      "LL/event: Poisson log-likelihood per event; pred/obs: total predicted / realised; "
      "vs naive: HR@5% / best naive-* HR@5%.\n";
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  return out;
}

std::string BacktestSvg(const BacktestResult& r) {
  const BacktestConfig& c = r.config;
  constexpr int kPanelW = 460;
  constexpr int kPanelH = 320;
  constexpr int kLeft = 56, kRight = 150, kTop = 36, kBottom = 44;
  constexpr const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  const int cols = r.groups.size() > 1 ? 3 : 1;
  const int rows_n = static_cast<int>((r.groups.size() + static_cast<std::size_t>(cols) - 1) /
                                      static_cast<std::size_t>(cols));
  const int width = cols * kPanelW;
  const int height = rows_n * kPanelH + 30;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"10\" y=\"18\" font-size=\"13\" font-weight=\"bold\">Hit rate against coverage "
      "(mean of {} origins, horizon {}, {} m cells)</text>\n",
      width, height, width, height, r.origins.size(), c.horizon.ToString(), c.grid.size_m());
  const double x_max = c.curve_coverages.empty() ? 0.2 : c.curve_coverages.back();
  for (std::size_t g = 0; g < r.groups.size(); ++g) {
    const int px = static_cast<int>(g % static_cast<std::size_t>(cols)) * kPanelW;
    const int py = 30 + static_cast<int>(g / static_cast<std::size_t>(cols)) * kPanelH;
    const int pw = kPanelW - kLeft - kRight;
    const int ph = kPanelH - kTop - kBottom;
    std::vector<const ModelSummary*> rows;
    double y_max = 0;
    for (const auto& s : r.summaries) {
      if (s.group != r.groups[g] || s.origins_scored == 0) continue;
      rows.push_back(&s);
      for (double v : s.curve) y_max = std::max(y_max, v);
    }
    // Round the y axis up to a tenth (a fifth above 60 %).
    y_max = std::max(0.1, std::ceil(y_max * 10.0 - 1e-9) / 10.0);
    if (y_max > 0.6) y_max = std::min(1.0, std::ceil(y_max * 5.0 - 1e-9) / 5.0);
    auto sx = [&](double v) { return px + kLeft + v / x_max * pw; };
    auto sy = [&](double v) { return py + kTop + ph - v / y_max * ph; };
    svg += fmt::format("<g>\n<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{}</text>\n", px + kLeft,
                       py + kTop - 10, XmlEscape(r.groups[g]));
    svg += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n",
        px + kLeft, py + kTop, pw, ph);
    for (int i = 0; i <= 4; ++i) {  // x ticks: 0, 5, 10, 15, 20 %
      const double v = x_max * i / 4.0;
      svg += fmt::format(
          "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>"
          "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4:g}%</text>\n",
          sx(v), py + kTop, py + kTop + ph, py + kTop + ph + 14, 100 * v);
    }
    // y ticks every 10 % (20 % above 60 %), so labels are round numbers.
    const double step = y_max > 0.6 ? 0.2 : 0.1;
    const int ticks = static_cast<int>(std::lround(y_max / step));
    for (int i = 0; i <= ticks; ++i) {
      const double v = step * i;
      svg += fmt::format(
          "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>"
          "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5:.0f}%</text>\n",
          px + kLeft, sy(v), px + kLeft + pw, px + kLeft - 4, sy(v) + 4, 100 * v);
    }
    svg += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">share of active area flagged</text>\n"
        "<text transform=\"translate({},{}) rotate(-90)\" text-anchor=\"middle\">share of "
        "events captured</text>\n",
        px + kLeft + pw / 2, py + kTop + ph + 30, px + 14, py + kTop + ph / 2);
    for (std::size_t m = 0; m < rows.size(); ++m) {
      const ModelSummary& s = *rows[m];
      const char* colour = kColours[m % std::size(kColours)];
      std::string points = fmt::format("{:.1f},{:.1f}", sx(0), sy(0));
      for (std::size_t i = 0; i < s.curve.size() && i < c.curve_coverages.size(); ++i) {
        points += fmt::format(" {:.1f},{:.1f}", sx(c.curve_coverages[i]), sy(s.curve[i]));
      }
      svg += fmt::format(
          "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\" points=\"{}\"/>\n", colour,
          points);
      for (const auto& cs : s.coverage) {
        if (cs.coverage > x_max) continue;
        svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.8\" fill=\"{}\"/>\n",
                           sx(cs.coverage), sy(cs.hit_rate), colour);
      }
      const int ly = py + kTop + 8 + static_cast<int>(m) * 16;
      svg += fmt::format(
          "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" stroke-width=\"2\"/>"
          "<text x=\"{4}\" y=\"{5}\">{6}</text>\n",
          px + kLeft + pw + 10, ly, px + kLeft + pw + 28, colour, px + kLeft + pw + 32, ly + 4,
          XmlEscape(s.model));
    }
    svg += "</g>\n";
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace crimecast::evaluation
