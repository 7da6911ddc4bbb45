// GET /api/stats: counts by month x category (aggregates: partners receive them under
// disclosure control, see core/access/disclosure.hpp).
#include <fmt/format.h>

#include <map>
#include <set>

#include "core/access/disclosure.hpp"
#include "server/error_response.hpp"
#include "server/routes/params.hpp"
#include "server/routes/routes.hpp"
#include "server/service.hpp"

namespace crimecast::server {
namespace {

nlohmann::json Opt(const std::optional<std::int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

void GetStats(Service& s, const std::shared_ptr<Exchange>& ex) {
  storage::EventFilter filter;
  if (auto r = ParseEventFilter(ex->req, filter); !r)
    return ex->Finish(s, ErrorResponse(r.error()));
  if (filter.bbox) {
    return ex->Finish(s, ErrorResponse(ErrorCode::kInvalidArgument,
                                       "stats are for the whole area; bbox is not supported"));
  }
  auto lease = s.pool().Acquire();
  if (!lease) return ex->Finish(s, ErrorResponse(lease.error()));
  auto counts = (*lease)->events->CountByMonthCategory(filter);
  if (!counts) return ex->Finish(s, ErrorResponse(counts.error()));

  std::vector<std::string> months;
  std::set<int> cat_set;
  std::map<std::string, std::map<int, std::int64_t>> table;
  std::int64_t unlocated = 0, out_of_area = 0;
  for (const auto& c : *counts) {
    if (months.empty() || months.back() != c.month) months.push_back(c.month);
    cat_set.insert(static_cast<int>(c.category));
    table[c.month][static_cast<int>(c.category)] += c.events;
    unlocated += c.unlocated;
    out_of_area += c.out_of_area;
  }
  const std::vector<int> cats(cat_set.begin(), cat_set.end());
  std::vector<std::int64_t> cells;
  cells.reserve(months.size() * cats.size());
  for (const auto& m : months) {
    for (int c : cats) cells.push_back(table[m][c]);
  }
  const bool partner = access::AggregatesOnly(ex->principal->role);
  access::DisclosurePolicy policy = s.config().disclosure;
  if (!partner) policy.min_count = 1;  // police users see exact counts
  const auto t = access::SuppressTable(policy, static_cast<std::int64_t>(months.size()),
                                       static_cast<std::int64_t>(cats.size()), cells);
  nlohmann::json out;
  out["months"] = months;
  out["categories"] = nlohmann::json::array();
  for (int c : cats) out["categories"].push_back(Slug(static_cast<Category>(c)));
  out["counts"] = nlohmann::json::array();
  for (std::int64_t r = 0; r < t.rows; ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (std::int64_t c = 0; c < t.cols; ++c) row.push_back(Opt(t.At(r, c)));
    out["counts"].push_back(std::move(row));
  }
  out["month_totals"] = nlohmann::json::array();
  for (const auto& v : t.row_totals) out["month_totals"].push_back(Opt(v));
  out["category_totals"] = nlohmann::json::array();
  for (const auto& v : t.col_totals) out["category_totals"].push_back(Opt(v));
  out["total"] = Opt(t.total);
  if (partner) {
    out["disclosure_control"] = {{"min_count", policy.min_count},
                                 {"suppressed_cells", t.primary + t.secondary},
                                 {"note", "counts 1.." + std::to_string(policy.min_count - 1) +
                                              " and cells that would reveal them are null"}};
  } else {
    out["unlocated"] = unlocated;
    out["out_of_area"] = out_of_area;
    auto extent = (*lease)->events->Extent();
    if (extent) {
      out["extent"] = {{"from", FormatIso(extent->start)}, {"to", FormatIso(extent->end)}};
    }
    auto batches = (*lease)->events->ListBatches();
    if (batches) out["batches"] = batches->size();
  }
  ex->audit.detail =
      fmt::format("months={} categories={}{}", months.size(), cats.size(),
                  partner ? fmt::format(" suppressed={}", t.primary + t.secondary) : "");
  ex->Finish(s, JsonResponse(200, out));
}

}  // namespace

void AddStatsRoutes(Router& router) {
  router.Add({.method = "GET",
              .pattern = "/api/stats",
              .authenticate = true,
              .permission = access::Permission::kReadAggregates,
              .audited = true,
              .action = access::AuditAction::kConsultation,
              .rate_limited = true,
              .handler = GetStats});
}

}  // namespace crimecast::server
