// core/storage/migrations.hpp
//
// Versioned schema migrations for the SQLite store. Each migration is applied once and recorded
// in schema_migrations(version, applied_at, description); all migrations a database lacks are
// applied in one transaction (SqliteEventStore::Open). Migrations are append-only: never edit
// one that has shipped; add a new version instead.
#pragma once

#include <string_view>
#include <vector>

struct sqlite3;

namespace crimecast::storage {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

const std::vector<Migration>& Migrations();
inline int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

}  // namespace crimecast::storage
