// cli/common.hpp: small helpers shared by subcommands (argument parsing, store opening).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/ingest/event.hpp"
#include "core/storage/sqlite_event_store.hpp"

namespace crimecast::cli {

// Opens (creating if needed) the SQLite store at `path`.
Result<std::unique_ptr<storage::SqliteEventStore>> OpenStore(const std::string& path);
// Opens an existing store; a missing file is an error (read-only commands must not create one).
Result<std::unique_ptr<storage::SqliteEventStore>> OpenExistingStore(const std::string& path);

// "violence,burglary" -> categories; each item is anything ParseCategory accepts.
Result<std::vector<Category>> ParseCategoryList(const std::string& text);

// "minlon,minlat,maxlon,maxlat".
Result<std::array<double, 4>> ParseBbox(const std::string& text);

// The time/category part of an event filter from --from, --to (YYYY-MM or ISO 8601) and
// --category (comma-separated); empty strings leave that part unrestricted.
Result<storage::EventFilter> ParseTimeCategoryFilter(const std::string& from, const std::string& to,
                                                     const std::string& categories);

// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
std::string CsvField(const std::string& s);

// True when stderr is a terminal (progress bars redraw in place only then).
bool StderrIsTty();

}  // namespace crimecast::cli
