// server/routes/params.hpp: query-parameter parsing shared by the endpoints, with the errors
// the API documents (400 InvalidArgument / BadTime / UnknownCategory, naming the parameter).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/common/error.hpp"
#include "core/ingest/event.hpp"
#include "core/storage/event_store.hpp"
#include "server/http_types.hpp"

namespace crimecast::server {

// bbox=minlon,minlat,maxlon,maxlat; from, to (YYYY-MM or ISO 8601, UTC unless an offset is
// given); category=slug,slug,...; source.
Result<void> ParseEventFilter(const Request& req, storage::EventFilter& filter);
// An integer parameter in [min, max]; `fallback` when absent.
Result<std::int64_t> IntParam(const Request& req, const std::string& name, std::int64_t fallback,
                              std::int64_t min, std::int64_t max);
Result<std::optional<double>> DoubleParam(const Request& req, const std::string& name);

// One event as a JSON object: the wire format of GET /api/events. `compact` (the /api/live
// "events" message, sent to every subscriber) leaves out empty text fields, source_type, origin
// and out_of_area: a live map needs where, when and what; the rest is one GET away.
void AppendEventJson(std::string& out, const Event& e, bool compact = false);

}  // namespace crimecast::server
