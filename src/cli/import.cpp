// crimecast import: load data.police.uk downloads, canonical CSV or mapped feeds into a store.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "cli/cli_audit.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/spatial/projection.hpp"
#include "core/storage/importer.hpp"

namespace crimecast::cli {
namespace {

struct Args {
  std::string db;
  std::vector<std::string> files;
  std::string format = "police-uk";
  std::string mapping;
  std::string timezone;
  std::string crs;
  std::string store_crs;
  std::string source;
  std::string errors_path;
  bool strict = false;
  bool force = false;
  bool quiet = false;
  bool no_area_check = false;
};

int Run(const Args& a) {
  auto format = ingest::ParseInputFormat(a.format);
  if (!format) return ReportError(format.error());
  storage::ImportOptions opt;
  opt.reader.format = *format;
  opt.reader.mapping_path = a.mapping;
  opt.reader.timezone = a.timezone;
  opt.reader.source = a.source;
  opt.force = a.force;
  opt.flag_out_of_area = !a.no_area_check;
  if (*format == ingest::InputFormat::kMapped && a.mapping.empty()) {
    return ReportError({ErrorCode::kInvalidArgument, "--format mapped needs --mapping FILE.toml"});
  }
  if (!a.crs.empty()) {
    auto epsg = spatial::ParseEpsg(a.crs);
    if (!epsg) return ReportError(epsg.error());
    opt.reader.input_epsg = *epsg;
  }
  if (!a.store_crs.empty()) {
    auto epsg = spatial::ParseEpsg(a.store_crs);
    if (!epsg) return ReportError(epsg.error());
    opt.reader.store_epsg = *epsg;
  }
  // PROJ's set-up for the likely projection runs while the store is opened (decision 0007).
  std::jthread warm_up = storage::WarmUpProjection(opt);
  auto store = OpenStore(a.db);
  if (!store) return ReportError(store.error());
  if (auto r = (*store)->SetCacheKiB(storage::SqliteEventStore::kImportCacheKiB); !r) {
    return ReportError(r.error());
  }
  if (warm_up.joinable()) warm_up.join();

  std::ofstream errors_out;
  if (!a.errors_path.empty()) {
    errors_out.open(a.errors_path, std::ios::trunc);
    if (!errors_out) {
      return ReportError({ErrorCode::kFileUnreadable,
                          fmt::format("cannot write errors file '{}'", a.errors_path)});
    }
    errors_out << "file,line,field,code,reason\n";
  }
  std::int64_t shown_errors = 0;
  constexpr std::int64_t kMaxShown = 20;
  opt.on_error = [&](const ingest::RowError& e) {
    if (errors_out.is_open()) {
      errors_out << CsvField(e.file) << ',' << e.line << ',' << CsvField(e.field) << ','
                 << Name(e.code) << ',' << CsvField(e.reason) << '\n';
    }
    if (shown_errors++ < kMaxShown && !a.quiet) {
      std::fprintf(stderr, "%s\n", e.ToString().c_str());
    }
  };
  const bool tty = StderrIsTty();
  std::string current;
  auto last = std::chrono::steady_clock::now();
  opt.on_progress = [&](double frac, std::int64_t rows) {
    if (a.quiet) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::milliseconds(tty ? 200 : 5000) && frac < 1.0) return;
    last = now;
    std::fprintf(stderr, tty ? "\r  %s: %5.1f%% (%lld rows)" : "  %s: %5.1f%% (%lld rows)\n",
                 current.c_str(), frac * 100.0, static_cast<long long>(rows));
  };

  storage::BatchInfo total;
  int files_ok = 0;
  int files_failed = 0;
  // One audit record per file (collection, s.62 DPA 2018), appended when the import is over.
  std::vector<access::AuditRecord> audit;
  auto audit_file = [&](const std::string& file, const std::string& outcome,
                        const std::string& detail) {
    audit.push_back(CliAuditRecord(access::AuditAction::kCollection, "import " + file, outcome,
                                   "import", detail));
  };
  // One batch per file, in order; the next files are read while one is written.
  if (!a.files.empty()) current = a.files.front();
  auto done = [&](std::size_t index, const Result<storage::ImportReport>& report) {
    const std::string& file = a.files[index];
    if (index + 1 < a.files.size()) current = a.files[index + 1];
    if (tty && !a.quiet) std::fputs("\r\033[K", stderr);
    if (!report) {
      audit_file(file, "error", std::string(Name(report.error().code)));
      ++files_failed;
      std::fprintf(stderr, "%s: not imported: %s\n", file.c_str(),
                   report.error().ToString().c_str());
      if (errors_out.is_open()) {
        errors_out << CsvField(file) << ",0,," << Name(report.error().code) << ','
                   << CsvField(report.error().message) << '\n';
      }
      return;
    }
    const auto& b = report->batch;
    audit_file(file, report->skipped ? "ok" : (b.accepted == 0 && b.rows_read > 0 ? "error" : "ok"),
               report->skipped
                   ? fmt::format("skipped: already imported as batch {} sha256={}",
                                 report->previous_batch, b.sha256)
                   : fmt::format("batch={} sha256={} rows_read={} accepted={} new={} duplicate={} "
                                 "merged={} rejected={} unlocated={} out_of_area={}",
                                 b.id, b.sha256, b.rows_read, b.accepted, b.inserted, b.duplicate,
                                 b.merged, b.rejected, b.unlocated, b.out_of_area));
    if (report->skipped) {
      ++files_ok;
      if (!a.quiet) {
        std::printf("%s: already imported as batch %lld (sha256 %s); 0 added\n", file.c_str(),
                    static_cast<long long>(report->previous_batch), b.sha256.substr(0, 12).c_str());
      }
      return;
    }
    if (b.accepted > 0 || b.rows_read == 0) ++files_ok;
    if (b.accepted == 0 && b.rows_read > 0) ++files_failed;
    if (!a.quiet) {
      std::printf(
          "%s: batch %lld: %lld rows read, %lld accepted (%lld new, %lld duplicate, %lld merged "
          "repeats), %lld rejected, %lld unlocated, %lld out-of-area\n",
          file.c_str(), static_cast<long long>(b.id), static_cast<long long>(b.rows_read),
          static_cast<long long>(b.accepted), static_cast<long long>(b.inserted),
          static_cast<long long>(b.duplicate), static_cast<long long>(b.merged),
          static_cast<long long>(b.rejected), static_cast<long long>(b.unlocated),
          static_cast<long long>(b.out_of_area));
    }
    total.rows_read += b.rows_read;
    total.accepted += b.accepted;
    total.inserted += b.inserted;
    total.duplicate += b.duplicate;
    total.merged += b.merged;
    total.rejected += b.rejected;
    total.unlocated += b.unlocated;
    total.out_of_area += b.out_of_area;
  };
  storage::ImportFiles(**store, a.files, opt, done);
  // Audited in one transaction (one fsync) on the same database. A failure to audit fails the
  // command, as for `crimecast user`: an unaudited change is what the log exists to prevent.
  if (auto r = AppendCliAudit(a.db, audit); !r) return ReportError(r.error());
  if (!a.quiet && a.files.size() > 1) {
    std::printf(
        "total: %zu files (%d failed): %lld rows read, %lld accepted, %lld new, %lld duplicate, "
        "%lld merged, %lld rejected, %lld unlocated, %lld out-of-area\n",
        a.files.size(), files_failed, static_cast<long long>(total.rows_read),
        static_cast<long long>(total.accepted), static_cast<long long>(total.inserted),
        static_cast<long long>(total.duplicate), static_cast<long long>(total.merged),
        static_cast<long long>(total.rejected), static_cast<long long>(total.unlocated),
        static_cast<long long>(total.out_of_area));
  }
  if (shown_errors > kMaxShown && !a.quiet) {
    std::fprintf(stderr, "... %lld more row errors%s\n",
                 static_cast<long long>(shown_errors - kMaxShown),
                 a.errors_path.empty() ? " (use --errors FILE.csv to keep them all)" : "");
  }
  if (files_ok == 0) return kExitInput;  // nothing could be imported
  if (a.strict && (files_failed > 0 || total.rejected > 0)) return kExitPartial;
  return 0;
}

CommandRegistrar reg("import", [](CLI::App& app) -> Action {
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "import",
      "Import crime records into a store. One file = one atomic batch; re-importing changes "
      "nothing; bad rows are reported (file, line, field, reason) and good rows kept.");
  cmd->add_option("--db", args->db, "SQLite database (created if missing)")->required();
  cmd->add_option("files", args->files, "CSV files to import")->required();
  cmd->add_option("--format", args->format,
                  "police-uk (data.police.uk street CSV), csv (canonical id,category,time,lon,lat "
                  "or x,y) or mapped (any CSV through --mapping)")
      ->capture_default_str();
  cmd->add_option("--mapping", args->mapping, "TOML column mapping for --format mapped");
  cmd->add_option("--timezone", args->timezone,
                  "time zone of times without an offset (e.g. Europe/London); default UTC");
  cmd->add_option("--crs", args->crs, "CRS of x,y columns in canonical CSV, e.g. EPSG:27700");
  cmd->add_option("--store-crs", args->store_crs,
                  "projected CRS to store (default: EPSG:27700 for UK data, else UTM zone)");
  cmd->add_option("--source", args->source, "feed name to record (default from the format)");
  cmd->add_option("--errors", args->errors_path, "write every rejected row to this CSV");
  cmd->add_flag("--strict", args->strict, "exit with status 2 if any row was rejected");
  cmd->add_flag("--force", args->force, "re-read files already imported byte-for-byte");
  cmd->add_flag("--no-area-check", args->no_area_check, "do not flag out-of-area points");
  cmd->add_flag("-q,--quiet", args->quiet, "print nothing but errors");
  return [args] { return Run(*args); };
});

}  // namespace
}  // namespace crimecast::cli
