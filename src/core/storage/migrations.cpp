#include "core/storage/migrations.hpp"

namespace crimecast::storage {

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "events, import batches, publications, Z-order spatial and time indexes", R"sql(
CREATE TABLE import_batches (
  id           INTEGER PRIMARY KEY,
  source       TEXT NOT NULL,
  format       TEXT NOT NULL,
  file_name    TEXT NOT NULL,
  sha256       TEXT NOT NULL,
  started_at   INTEGER NOT NULL,   -- UTC seconds
  finished_at  INTEGER NOT NULL,
  rows_read    INTEGER NOT NULL,
  accepted     INTEGER NOT NULL,
  inserted     INTEGER NOT NULL,
  rejected     INTEGER NOT NULL,
  duplicate    INTEGER NOT NULL,
  merged       INTEGER NOT NULL,
  unlocated    INTEGER NOT NULL,
  out_of_area  INTEGER NOT NULL
);
CREATE INDEX import_batches_sha256 ON import_batches(sha256);

-- Accepted rows per batch and category (rows as read, before de-duplication).
CREATE TABLE batch_category_rows (
  batch_id  INTEGER NOT NULL REFERENCES import_batches(id),
  category  INTEGER NOT NULL,
  rows      INTEGER NOT NULL,
  PRIMARY KEY (batch_id, category)
) WITHOUT ROWID;

CREATE TABLE events (
  id             INTEGER PRIMARY KEY,
  source         TEXT NOT NULL,
  source_id      TEXT NOT NULL,
  category       INTEGER NOT NULL,       -- crimecast::Category
  source_type    TEXT NOT NULL,
  t_start        INTEGER NOT NULL,       -- UTC seconds, occurrence interval [t_start, t_end)
  t_end          INTEGER NOT NULL,
  lon            REAL,                   -- WGS84 degrees; NULL when unlocated
  lat            REAL,
  x              REAL,                   -- metres in epsg
  y              REAL,
  epsg           INTEGER NOT NULL,       -- 0 when unlocated
  quality        INTEGER NOT NULL,       -- crimecast::LocationQuality
  location_text  TEXT NOT NULL,
  area_code      TEXT NOT NULL,
  force          TEXT NOT NULL,
  outcome        TEXT NOT NULL,
  outcome_as_of  INTEGER NOT NULL,       -- publication period start of `outcome`
  origin         INTEGER NOT NULL,       -- crimecast::Origin
  out_of_area    INTEGER NOT NULL,
  batch_id       INTEGER NOT NULL,
  merged_count   INTEGER NOT NULL DEFAULT 0,
  zkey           INTEGER,                -- spatial::ZKey(lon, lat); NULL when unlocated
  key_hash       INTEGER NOT NULL,       -- KeyHash(source, source_id): cheap integer compares
  -- Unique on (source, source_id); key_hash leads so index probes compare integers, not 64-char
  -- ids (key_hash is a function of the pair, so this is exactly the pair's uniqueness).
  UNIQUE (key_hash, source, source_id)
);
CREATE INDEX events_time ON events(t_start);
CREATE INDEX events_zkey ON events(zkey) WHERE zkey IS NOT NULL;

-- Periods in which a merged event was published (only for events seen more than once), so a
-- re-import recognises a publication it has already merged.
CREATE TABLE event_publications (
  event_id  INTEGER NOT NULL,
  t_start   INTEGER NOT NULL,
  PRIMARY KEY (event_id, t_start)
) WITHOUT ROWID;

CREATE TABLE settings (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);
)sql"},
      {2, "events keyed by a unique 63-bit key hash alone (smaller, integer-only key index)",
       R"sql(
-- Why: the v1 unique key (key_hash, source, source_id) made every index entry carry the 64-char
-- id (about 90 bytes), so each import batch rewrote a 12 MB random-order index. key_hash alone is
-- unique now (about 17 bytes an entry); the store resolves the rare hash collision by probing the
-- next free key and compares (source, source_id) on the row (see sqlite_event_store.cpp).
-- SQLite cannot drop a UNIQUE table constraint, hence the rebuild (ids are kept).
CREATE TABLE events_v2 (
  id             INTEGER PRIMARY KEY,
  source         TEXT NOT NULL,
  source_id      TEXT NOT NULL,
  category       INTEGER NOT NULL,       -- crimecast::Category
  source_type    TEXT NOT NULL,
  t_start        INTEGER NOT NULL,       -- UTC seconds, occurrence interval [t_start, t_end)
  t_end          INTEGER NOT NULL,
  lon            REAL,                   -- WGS84 degrees; NULL when unlocated
  lat            REAL,
  x              REAL,                   -- metres in epsg
  y              REAL,
  epsg           INTEGER NOT NULL,       -- 0 when unlocated
  quality        INTEGER NOT NULL,       -- crimecast::LocationQuality
  location_text  TEXT NOT NULL,
  area_code      TEXT NOT NULL,
  force          TEXT NOT NULL,
  outcome        TEXT NOT NULL,
  outcome_as_of  INTEGER NOT NULL,       -- publication period start of `outcome`
  origin         INTEGER NOT NULL,       -- crimecast::Origin
  out_of_area    INTEGER NOT NULL,
  batch_id       INTEGER NOT NULL,
  merged_count   INTEGER NOT NULL DEFAULT 0,
  zkey           INTEGER,                -- spatial::ZKey(lon, lat); NULL when unlocated
  key_hash       INTEGER NOT NULL        -- KeyHash(source, source_id), or a probed free key
);
INSERT INTO events_v2 SELECT id, source, source_id, category, source_type, t_start, t_end, lon, lat,
  x, y, epsg, quality, location_text, area_code, force, outcome, outcome_as_of, origin, out_of_area,
  batch_id, merged_count, zkey, key_hash FROM events ORDER BY id;
DROP TABLE events;
ALTER TABLE events_v2 RENAME TO events;
CREATE UNIQUE INDEX events_key ON events(key_hash);
CREATE INDEX events_time ON events(t_start);
CREATE INDEX events_zkey ON events(zkey) WHERE zkey IS NOT NULL;
)sql"},
      {3, "area covariate layers: area sets (polygons), layers and their values per area", R"sql(
-- Additive: touches no existing table. IF NOT EXISTS so that the step stays harmless if it is
-- ever renumbered behind another migration (it creates only its own tables).
-- One boundary file + code column, stored once however many layers use it.
CREATE TABLE IF NOT EXISTS area_sets (
  id          INTEGER PRIMARY KEY,
  file_name   TEXT NOT NULL,
  sha256      TEXT NOT NULL,             -- of the file's bytes
  id_field    TEXT NOT NULL,             -- code column
  source_crs  TEXT NOT NULL,
  area_count  INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,          -- UTC seconds
  UNIQUE (sha256, id_field)
);
CREATE TABLE IF NOT EXISTS area_geometries (
  id        INTEGER PRIMARY KEY,
  set_id    INTEGER NOT NULL REFERENCES area_sets(id) ON DELETE CASCADE,
  code      TEXT NOT NULL,
  name      TEXT NOT NULL,
  area_km2  REAL NOT NULL,
  min_lon   REAL NOT NULL,               -- envelope, WGS84 degrees
  min_lat   REAL NOT NULL,
  max_lon   REAL NOT NULL,
  max_lat   REAL NOT NULL,
  wkb       BLOB NOT NULL,               -- ISO WKB MultiPolygon, little-endian, lon/lat
  UNIQUE (set_id, code)
);
CREATE INDEX IF NOT EXISTS area_geometries_box ON area_geometries(set_id, min_lon, max_lon);
CREATE TABLE IF NOT EXISTS covariate_layers (
  id                   INTEGER PRIMARY KEY,
  name                 TEXT NOT NULL UNIQUE,
  description          TEXT NOT NULL,
  source               TEXT NOT NULL,
  unit                 TEXT NOT NULL,
  per_km2              INTEGER NOT NULL,
  set_id               INTEGER NOT NULL REFERENCES area_sets(id),
  table_file           TEXT NOT NULL,
  key_column           TEXT NOT NULL,
  value_column         TEXT NOT NULL,
  created_at           INTEGER NOT NULL,  -- UTC seconds
  value_count          INTEGER NOT NULL,
  table_rows           INTEGER NOT NULL,
  codes_without_area   INTEGER NOT NULL,
  areas_without_value  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS covariate_values (
  layer_id  INTEGER NOT NULL REFERENCES covariate_layers(id) ON DELETE CASCADE,
  code      TEXT NOT NULL,
  value     REAL NOT NULL,
  PRIMARY KEY (layer_id, code)
) WITHOUT ROWID;
)sql"},
      {4, "spatial index keyed by time bucket (about 24 days) and Z-order key", R"sql(
-- Why (decision 0007, fourth round): an index on zkey alone is in random order against the
-- import order, so every batch (one month of data.police.uk) rewrote nearly every leaf page of
-- it, about a quarter of the WAL an import writes. Keyed by the bucket t_start >> 21 (2^21 s,
-- about 24 days) above the 40-bit Z-order key, in one integer so that SQLite compares index
-- entries with its integer fast path (two columns cost 1,000 instructions a row more), a
-- month's rows go to their own key range at the end of the index. Bounding-box queries give the
-- buckets explicitly (sqlite_event_store.cpp, BuildFilter); the expression must stay written
-- exactly like this there (kSpaceTimeKeySql) or the index is not used.
DROP INDEX IF EXISTS events_zkey;
CREATE INDEX IF NOT EXISTS events_tzkey ON events((((t_start >> 21) << 40) + zkey))
  WHERE zkey IS NOT NULL;
)sql"},
      {5, "event keys kept by the store (event_key_chunks) instead of a unique index", R"sql(
-- Why (decision 0007, fifth round): the unique index events_key was in random (hash) order, so
-- every import batch dirtied nearly all of its pages: 40 % of the WAL an import of the Gwent
-- files wrote. The store now keeps the keys in memory while it writes and persists them here,
-- appended in event id order; the invariant "no two events share key_hash" is the store's
-- (storage/event_key_index.hpp), checked by IntegrityCheck. The chunks are filled by the next
-- write from events.key_hash (the column stays), so this step only drops and creates.
DROP INDEX IF EXISTS events_key;
CREATE TABLE IF NOT EXISTS event_key_chunks (
  chunk  INTEGER PRIMARY KEY,  -- holds the keys of event ids [chunk * 1024, chunk * 1024 + 1024)
  keys   BLOB NOT NULL         -- 8 bytes an id, little-endian; all bits set where no event has it
);
)sql"},
  };
  return kMigrations;
}

}  // namespace crimecast::storage
