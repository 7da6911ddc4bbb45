// core/storage/sqlite_layer_store.hpp
//
// The embedded LayerStore (storage/layer_store.hpp): tables area_sets, area_geometries,
// covariate_layers and covariate_values of schema migration 3 (storage/migrations.cpp), in the
// event store's SQLite file and on its connection (so the same threading rule holds: one
// thread at a time per connection).
//
// The layers version (LayerStore::LayersVersion) is a random 53-bit stamp in the `settings`
// table, rewritten in the same transaction as every change: another process's change is seen,
// and two databases (almost surely) never share a stamp, so caches keyed by it cannot mix them.
#pragma once

#include "core/storage/layer_store.hpp"

struct sqlite3;

namespace crimecast::storage {

class SqliteLayerStore final : public LayerStore {
 public:
  // `db` must outlive the store and have the schema at version 3 or later.
  explicit SqliteLayerStore(sqlite3* db) : db_(db) {}

  Result<std::optional<LayerInfo>> PutLayer(const LayerInfo& info, const AreaSetInfo& area_info,
                                            const std::vector<AreaGeometry>& areas,
                                            const std::vector<std::string>& codes,
                                            const std::vector<double>& values) override;
  Result<std::vector<LayerInfo>> ListLayers() override;
  Result<LayerInfo> RemoveLayer(const std::string& name) override;
  Result<LayerValues> GetLayerValues(const std::string& name) override;
  Result<LoadedLayers> LoadLayers(const std::array<double, 4>& bbox) override;
  Result<std::int64_t> LayersVersion() override;

 private:
  sqlite3* db_;
};

// ISO WKB (little-endian) of a MultiPolygon, and back. Decode fails with kBadGeometry on
// truncated or non-polygonal input.
std::string EncodeWkb(const spatial::MultiPolygon& geometry);
Result<spatial::MultiPolygon> DecodeWkb(std::string_view wkb);

}  // namespace crimecast::storage
