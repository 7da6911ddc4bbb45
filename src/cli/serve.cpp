// crimecast serve: the HTTP server (docs/api.md) on a crimecast database.
//
//   crimecast serve --db DB [--port 8080] [--bind 0.0.0.0] [--static web/dist]
//                   [--tls-cert cert.pem --tls-key key.pem] [limits, see --help]
//                   [--boundaries lsoa=lsoa.geojson ...] [--basemap-style URL]
//
// Stops gracefully on SIGTERM or SIGINT: stops accepting, finishes requests in flight, commits.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "server/http_server.hpp"

namespace crimecast::cli {
namespace {

struct Args {
  server::ServerConfig config;
  double idle_minutes = 30;
  double session_hours = 12;
  std::vector<std::string> boundaries;  // NAME=FILE
};

// Each live client and each keep-alive connection is a file descriptor: a force's whole shift on
// /api/live needs more than the usual soft limit of 1,024.
void RaiseFileLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

int Run(Args& a) {
  RaiseFileLimit();
  // Logs go to stderr: stdout carries only the "serving on" line that scripts read.
  spdlog::set_default_logger(spdlog::stderr_color_mt("crimecast"));
  a.config.handle_signals = true;
  a.config.access.idle_timeout_s = static_cast<std::int64_t>(a.idle_minutes * 60);
  a.config.access.session_lifetime_s = static_cast<std::int64_t>(a.session_hours * 3600);
  if (a.config.access.idle_timeout_s <= 0 || a.config.access.session_lifetime_s <= 0) {
    return ReportError({ErrorCode::kInvalidArgument, "session timeouts must be positive"});
  }
  // Boundary layers are read on first use; a typo in a name or path is caught here, at start.
  for (const auto& spec : a.boundaries) {
    const auto eq = spec.find('=');
    const std::string name = spec.substr(0, eq == std::string::npos ? 0 : eq);
    const std::string file = eq == std::string::npos ? "" : spec.substr(eq + 1);
    if (name.empty() || file.empty() ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos) {
      return ReportError({ErrorCode::kInvalidArgument,
                          "--boundaries wants NAME=FILE with a lower-case name, e.g. "
                          "lsoa=lsoa21.geojson; got '" +
                              spec + "'"});
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
      return ReportError({ErrorCode::kFileNotFound, "--boundaries " + name + ": no file " + file});
    }
    a.config.boundary_files.emplace_back(name, file);
  }
  auto server = server::Server::Start(a.config);
  if (!server) return ReportError(server.error());
  std::printf("crimecast: serving on %s://%s:%u\n", (*server)->tls() ? "https" : "http",
              a.config.bind_address.c_str(), static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);
  (*server)->Wait();
  return 0;
}

CommandRegistrar reg("serve", [](CLI::App& app) -> Action {
  auto args = std::make_shared<Args>();
  auto& c = args->config;
  CLI::App* cmd = app.add_subcommand(
      "serve", "Run the HTTP server: ingest, live stream, forecasts, access control, audit.");
  cmd->add_option("--db", c.db_path, "SQLite database")->required();
  cmd->add_option("--port", c.port, "TCP port (0: any free port)")->capture_default_str();
  cmd->add_option("--bind", c.bind_address, "address to listen on")->capture_default_str();
  cmd->add_option("--static", c.static_dir, "directory of the web client (web/dist)");
  cmd->add_option("--tls-cert", c.tls_cert, "PEM certificate chain (enables HTTPS)");
  cmd->add_option("--tls-key", c.tls_key, "PEM private key");
  cmd->add_option("--boundaries", args->boundaries,
                  "boundary overlay NAME=FILE (any polygon file GDAL reads); repeatable");
  cmd->add_option("--basemap-style", c.basemap_style,
                  "MapLibre style URL for the web map's basemap (default: offline, none)");
  cmd->add_option("--io-threads", c.io_threads, "network threads")->capture_default_str();
  cmd->add_option("--workers", c.worker_threads, "handler threads")->capture_default_str();
  cmd->add_option("--max-body", c.max_body_bytes, "request body limit in bytes")
      ->capture_default_str();
  cmd->add_option("--request-timeout", c.request_timeout_s, "seconds to read and start a request")
      ->capture_default_str();
  cmd->add_option("--rate-limit", c.rate_limit_per_s,
                  "requests per second per token or address (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--rate-burst", c.rate_burst, "burst allowance")->capture_default_str();
  cmd->add_option("--idle-minutes", args->idle_minutes, "idle session expiry")
      ->capture_default_str();
  cmd->add_option("--session-hours", args->session_hours, "maximum session lifetime")
      ->capture_default_str();
  cmd->add_option("--min-count", c.disclosure.min_count,
                  "partners: counts below this are suppressed")
      ->capture_default_str();
  cmd->add_option("--partner-min-cell", c.disclosure.min_cell_m,
                  "partners: smallest grid cell in metres")
      ->capture_default_str();
  cmd->add_option("--timezone", c.timezone, "zone of posted times without an offset")
      ->capture_default_str();
  cmd->add_option("--drain-timeout", c.drain_timeout_s, "graceful shutdown wait in seconds")
      ->capture_default_str();
  cmd->add_option("--cell", c.default_cell_m,
                  "forecast cell size in metres when a request has none")
      ->capture_default_str();
  cmd->add_option(
         "--horizon", c.default_horizon,
         "forecast horizon when a request has none (auto: 1M for month-only data, else 7d)")
      ->capture_default_str();
  cmd->add_option("--refit-every", c.refit_interval_s,
                  "seconds between background refits of forecasts whose data changed")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--live-update-every", c.live_update_interval_s,
                  "seconds over which posted events are coalesced into one live forecast update")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  return [args] { return Run(*args); };
});

}  // namespace
}  // namespace crimecast::cli
