// crimecast stats: what a store holds: counts by month x category, unlocated, merged repeats,
// out-of-area, and every import batch.
#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace crimecast::cli {
namespace {

struct Args {
  std::string db;
  bool json = false;
  std::string from, to, categories;
};

int Run(const Args& a) {
  auto store = OpenExistingStore(a.db);
  if (!store) return ReportError(store.error());
  auto parsed = ParseTimeCategoryFilter(a.from, a.to, a.categories);
  if (!parsed) return ReportError(parsed.error());
  storage::EventFilter filter = *parsed;
  auto counts = (*store)->CountByMonthCategory(filter);
  if (!counts) return ReportError(counts.error());
  auto batches = (*store)->ListBatches();
  if (!batches) return ReportError(batches.error());

  std::map<std::string, std::array<std::int64_t, kCategoryCount>> table;
  std::array<std::int64_t, kCategoryCount> by_cat{};
  std::int64_t events = 0, unlocated = 0, out_of_area = 0;
  for (const auto& c : *counts) {
    table[c.month][static_cast<int>(c.category)] += c.events;
    by_cat[static_cast<int>(c.category)] += c.events;
    events += c.events;
    unlocated += c.unlocated;
    out_of_area += c.out_of_area;
  }
  std::int64_t rows_read = 0, merged = 0, rejected = 0, duplicate = 0, rows_unlocated = 0;
  std::array<std::int64_t, kCategoryCount> rows_by_cat{};
  for (const auto& b : *batches) {
    for (int c = 0; c < kCategoryCount; ++c) rows_by_cat[c] += b.rows_by_category[c];
    rows_read += b.rows_read;
    rows_unlocated += b.unlocated;
    merged += b.merged;
    rejected += b.rejected;
    duplicate += b.duplicate;
  }

  if (a.json) {
    nlohmann::json j;
    j["events"] = events;
    j["unlocated"] = unlocated;
    j["out_of_area"] = out_of_area;
    j["rows_read"] = rows_read;
    j["rows_unlocated"] = rows_unlocated;
    j["merged_repeats"] = merged;
    j["duplicates"] = duplicate;
    j["rejected"] = rejected;
    for (int c = 0; c < kCategoryCount; ++c) {
      if (by_cat[c]) j["by_category"][std::string(Slug(static_cast<Category>(c)))] = by_cat[c];
    }
    for (int c = 0; c < kCategoryCount; ++c) {
      if (rows_by_cat[c]) {
        j["rows_by_category"][std::string(DisplayName(static_cast<Category>(c)))] = rows_by_cat[c];
      }
    }
    for (const auto& [month, row] : table) {
      for (int c = 0; c < kCategoryCount; ++c) {
        if (row[c]) j["by_month"][month][std::string(Slug(static_cast<Category>(c)))] = row[c];
      }
    }
    j["batches"] = nlohmann::json::array();
    for (const auto& b : *batches) {
      j["batches"].push_back({{"id", b.id},
                              {"file", b.file_name},
                              {"source", b.source},
                              {"format", b.format},
                              {"sha256", b.sha256},
                              {"started_at", FormatIso(b.started_at)},
                              {"finished_at", FormatIso(b.finished_at)},
                              {"rows_read", b.rows_read},
                              {"accepted", b.accepted},
                              {"inserted", b.inserted},
                              {"duplicate", b.duplicate},
                              {"merged", b.merged},
                              {"rejected", b.rejected},
                              {"unlocated", b.unlocated},
                              {"out_of_area", b.out_of_area}});
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }

  std::printf("events: %lld (unlocated %lld, out-of-area %lld)\n", static_cast<long long>(events),
              static_cast<long long>(unlocated), static_cast<long long>(out_of_area));
  std::printf(
      "rows read: %lld in %zu batches (%lld unlocated); repeated ids merged into one event: %lld "
      "across months, %lld within a month or re-read; rejected %lld\n\n",
      static_cast<long long>(rows_read), batches->size(), static_cast<long long>(rows_unlocated),
      static_cast<long long>(merged), static_cast<long long>(duplicate),
      static_cast<long long>(rejected));
  // Month x category table; only categories present get a column.
  std::vector<int> cols;
  for (int c = 0; c < kCategoryCount; ++c) {
    if (by_cat[c]) cols.push_back(c);
  }
  std::string header = fmt::format("{:<8}", "month");
  for (int c : cols) header += fmt::format(" {:>8.8}", Slug(static_cast<Category>(c)));
  header += fmt::format(" {:>8}", "total");
  std::printf("%s\n", header.c_str());
  for (const auto& [month, row] : table) {
    std::string line = fmt::format("{:<8}", month);
    std::int64_t t = 0;
    for (int c : cols) {
      line += fmt::format(" {:>8}", row[c]);
      t += row[c];
    }
    line += fmt::format(" {:>8}", t);
    std::printf("%s\n", line.c_str());
  }
  std::string line = fmt::format("{:<8}", "all");
  for (int c : cols) line += fmt::format(" {:>8}", by_cat[c]);
  line += fmt::format(" {:>8}", events);
  std::printf("%s\n\nbatches:\n", line.c_str());
  std::printf("%5s %-36s %8s %8s %7s %7s %7s %7s %7s\n", "id", "file", "read", "accepted", "new",
              "merged", "reject", "unloc", "outside");
  for (const auto& b : *batches) {
    std::printf("%5lld %-36.36s %8lld %8lld %7lld %7lld %7lld %7lld %7lld\n",
                static_cast<long long>(b.id), b.file_name.c_str(),
                static_cast<long long>(b.rows_read), static_cast<long long>(b.accepted),
                static_cast<long long>(b.inserted), static_cast<long long>(b.merged),
                static_cast<long long>(b.rejected), static_cast<long long>(b.unlocated),
                static_cast<long long>(b.out_of_area));
  }
  return 0;
}

CommandRegistrar reg("stats", [](CLI::App& app) -> Action {
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "stats", "Counts by month x category, unlocated, merged repeats, out-of-area, batches.");
  cmd->add_option("--db", args->db, "SQLite database")->required();
  cmd->add_option("--from", args->from, "only events starting at or after (YYYY-MM or ISO 8601)");
  cmd->add_option("--to", args->to, "only events starting before (YYYY-MM or ISO 8601)");
  cmd->add_option("--category", args->categories, "comma-separated categories");
  cmd->add_flag("--json", args->json, "machine-readable JSON output");
  return [args] { return Run(*args); };
});

}  // namespace
}  // namespace crimecast::cli
