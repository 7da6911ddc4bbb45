// server/routes/routes.hpp: one file per endpoint group; each adds its routes to the table.
// Registration is explicit (not static registrars): the server is a static library, and the
// linker drops unreferenced objects, registrars included.
#pragma once

#include "server/router.hpp"

namespace crimecast::server {

void AddSessionRoutes(Router& router);   // POST/GET/DELETE /api/session
void AddEventRoutes(Router& router);     // GET/POST /api/events
void AddStatsRoutes(Router& router);     // GET /api/stats
void AddLiveRoutes(Router& router);      // GET /api/live
void AddAuditRoutes(Router& router);     // GET /api/audit
void AddHealthRoutes(Router& router);    // /healthz, /metrics, /api/openapi.json
void AddForecastRoutes(Router& router);  // GET /api/forecast, /api/hotspots, /api/cells/{id}
void AddBacktestRoutes(Router& router);  // POST /api/backtests, GET /api/backtests/{id}
void AddBoundaryRoutes(Router& router);  // GET /api/boundaries, GET /api/config (web client)

// GET of a file under ServerConfig::static_dir (web/dist), index.html for unknown paths.
Response ServeStatic(const Service& service, const Request& request);

}  // namespace crimecast::server
