// server/config.hpp: everything `crimecast serve` can set, with the defaults documented in
// docs/api.md ("Limits").
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/access/access_store.hpp"
#include "core/access/disclosure.hpp"

namespace crimecast::server {

struct ServerConfig {
  std::string db_path;
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (tests)
  std::string static_dir;     // web/dist: served for GET paths outside /api
  std::string tls_cert;       // PEM certificate chain; TLS when both are set
  std::string tls_key;        // PEM private key

  int io_threads = 2;      // network (asio) threads
  int worker_threads = 2;  // handler threads (database reads, JSON)

  std::size_t max_body_bytes = 16u << 20;  // larger bodies: 413
  std::size_t max_items_per_post = 50000;  // events per POST
  std::int64_t events_page_max = 10000;    // GET /api/events limit cap
  double request_timeout_s = 30;           // to read a request, and to start handling it once read
  double idle_timeout_s = 60;              // keep-alive connection idle limit
  double rate_limit_per_s = 50;  // per token (or per address when unauthenticated); 0: off
  double rate_burst = 200;

  access::AccessOptions access;         // session lifetimes, lock-out, password cost
  access::DisclosurePolicy disclosure;  // partners: cell size and small-count threshold

  std::string timezone = "UTC";  // local zone of posted times without an offset
  int store_epsg = 0;            // projected CRS of posted events (0: the store's dominant one)

  double sse_heartbeat_s = 15;       // ": ping" comment interval on idle streams
  double sse_write_timeout_s = 30;   // a live client that accepts no bytes this long is dropped
  std::size_t sse_max_queue = 4096;  // frames queued for a slow client before it is dropped
  std::size_t max_sse_clients = 20000;
  // Forecasts (server/forecasts.hpp).
  double default_cell_m = 150;           // GET /api/forecast without cell= (partners: >= 500)
  std::string default_horizon = "auto";  // "auto": 1M for month-only data, else 7d
  double refit_interval_s = 300;         // background refits of forecasts whose data changed
  double live_update_interval_s = 0.25;  // live near-repeat updates are coalesced this long
  std::size_t max_forecasts = 16;        // cached forecasts (least recently used evicted)
  int backtest_threads = 1;              // cores a backtest job may use
  std::size_t max_queued_backtests = 8;

  double drain_timeout_s = 10;  // graceful shutdown: wait this long for in-flight requests
  bool handle_signals = false;  // SIGTERM/SIGINT start a graceful shutdown (`crimecast serve`)

  // Web client (GET /api/config, GET /api/boundaries). A MapLibre style URL for the basemap
  // ("": the client's offline default, no external tiles), and the boundary layers the server
  // offers as overlays: name -> polygon file GDAL reads (GeoJSON, GeoPackage, Shapefile, ...).
  std::string basemap_style;
  std::vector<std::pair<std::string, std::string>> boundary_files;
};

}  // namespace crimecast::server
