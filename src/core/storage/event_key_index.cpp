#include "core/storage/event_key_index.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "core/common/assert.hpp"
#include "core/storage/sqlite_common.hpp"

namespace crimecast::storage::internal {
namespace {

Result<std::int64_t> MaxEventId(sqlite3* db) {
  auto q = Stmt::Prepare(db, "SELECT COALESCE(MAX(id), 0) FROM events");
  if (!q) return Unexpected(q.error());
  if (sqlite3_step(q->get()) != SQLITE_ROW) return SqlError(db, "read the largest event id");
  return q->Int(0);
}

// Keys are stored little-endian whatever the machine, so a database file moves between machines.
std::uint64_t LoadKey(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = std::byteswap(v);
  return v;
}
void StoreKeys(const std::vector<std::uint64_t>& keys, std::vector<unsigned char>& out) {
  out.resize(keys.size() * 8);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::uint64_t v = keys[i];
    if constexpr (std::endian::native == std::endian::big) v = std::byteswap(v);
    std::memcpy(out.data() + i * 8, &v, 8);
  }
}

// One row of event_key_chunks as read by a statement selecting (chunk, keys); `data` is valid
// until the statement moves on.
struct ChunkRow {
  std::int64_t chunk = 0;
  const unsigned char* data = nullptr;
  int bytes = 0;

  static ChunkRow Read(const Stmt& st) {
    return {st.Int(0), static_cast<const unsigned char*>(sqlite3_column_blob(st.get(), 1)),
            sqlite3_column_bytes(st.get(), 1)};
  }
  // Whole keys, at least one, at most a chunk's worth.
  bool WellFormed() const {
    return bytes % 8 == 0 && bytes > 0 && bytes <= EventKeyIndex::kChunkIds * 8;
  }
  std::int64_t ids() const { return bytes / 8; }
  std::uint64_t key(std::int64_t i) const { return LoadKey(data + i * 8); }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
void KeyMap::Put(std::uint64_t key, std::int64_t id) {
  CRIMECAST_ASSERT(key != kEmpty, "key map: the empty marker is not a key");
  // Starts at 65,536 slots (1 MiB): a first import grows it a few times rather than seven.
  if ((size_ + 1) * 4 > slots_.size() * 3) Rehash(std::max<std::size_t>(65536, slots_.size() * 2));
  for (std::size_t i = Slot(key);; i = (i + 1) & mask_) {
    Entry& e = slots_[i];
    if (e.key == key) {
      e.id = id;
      return;
    }
    if (e.key == kEmpty) {
      e = {key, id};
      ++size_;
      return;
    }
  }
}

void KeyMap::Clear() {
  // Freed rather than emptied: after a national batch the table has millions of slots, and a
  // rebuilt one is sized to what it then holds.
  std::vector<Entry>().swap(slots_);
  mask_ = 0;
  shift_ = 64;
  size_ = 0;
}

void KeyMap::Reserve(std::size_t n) {
  std::size_t capacity = 65536;
  while (n * 4 > capacity * 3) capacity *= 2;
  if (capacity > slots_.size()) Rehash(capacity);
}

void KeyMap::Rehash(std::size_t capacity) {
  std::vector<Entry> old;
  old.swap(slots_);
  slots_.assign(capacity, Entry{});
  mask_ = capacity - 1;
  shift_ = 64 - std::countr_zero(capacity);
  for (const Entry& e : old) {
    if (e.key == kEmpty) continue;
    std::size_t i = Slot(e.key);
    while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
    slots_[i] = e;
  }
}

// ---------------------------------------------------------------------------------------------
Result<void> EventKeyIndex::Sync(sqlite3* db) {
  CRIMECAST_ASSERT(pending_.empty(), "key index synced with keys pending");
  auto max_id = MaxEventId(db);
  if (!max_id) return Unexpected(max_id.error());
  const std::int64_t max_event_id = *max_id;
  // Ids only grow and events are never deleted; a smaller maximum means another file.
  if (loaded_ && max_event_id < synced_id_) Invalidate();
  if (!loaded_ || max_event_id > synced_id_) {
    if (!loaded_) map_.Reserve(static_cast<std::size_t>(max_event_id));
    // What other connections persisted since (or everything, on first load). Should the
    // chunks this connection knows have changed underneath (only by hand), start afresh.
    if (auto r = LoadChunks(db, max_event_id); !r) {
      const bool incremental = loaded_;
      Invalidate();
      if (!incremental) return r;
      map_.Reserve(static_cast<std::size_t>(max_event_id));
      if (auto again = LoadChunks(db, max_event_id); !again) {
        Invalidate();
        return again;
      }
    }
    std::erase_if(unpersisted_, [&](const auto& p) { return p.first < persisted_end_; });
    // The rest from the events themselves: written by other connections and not chunked yet
    // (a database upgraded from schema 4 has no chunks at all).
    auto q = Stmt::Prepare(db, "SELECT id, key_hash FROM events WHERE id > ? ORDER BY id");
    if (!q) {
      Invalidate();
      return Unexpected(q.error());
    }
    const std::int64_t from = std::max(synced_id_, persisted_end_ - 1);
    q->Bind(1, from);
    int rc;
    while ((rc = sqlite3_step(q->get())) == SQLITE_ROW) {
      const std::int64_t id = q->Int(0);
      const auto key = static_cast<std::uint64_t>(q->Int(1));
      map_.Put(key, id);
      unpersisted_.emplace_back(id, key);
    }
    if (rc != SQLITE_DONE) {
      Invalidate();
      return SqlError(db, "read event keys");
    }
    synced_id_ = max_event_id;
    loaded_ = true;
  }
  max_id_ = synced_id_;
  return {};
}

Result<void> EventKeyIndex::LoadChunks(sqlite3* db, std::int64_t max_event_id) {
  auto q =
      Stmt::Prepare(db, "SELECT chunk, keys FROM event_key_chunks WHERE chunk >= ? ORDER BY chunk");
  if (!q) return Unexpected(q.error());
  std::int64_t next = persisted_end_ / kChunkIds;
  q->Bind(1, next);
  bool run = true;
  int rc;
  while ((rc = sqlite3_step(q->get())) == SQLITE_ROW) {
    const ChunkRow row = ChunkRow::Read(*q);
    // The chunk this connection last persisted is gone, or holds fewer ids than it wrote: the
    // chunks were changed behind its back (Sync then starts afresh).
    if (run && loaded_ && row.chunk != next && persisted_end_ % kChunkIds != 0) {
      return Fail(ErrorCode::kStorage, "event key chunk missing");
    }
    const std::int64_t first = row.chunk * kChunkIds;
    const std::int64_t ids = row.ids();
    // The run stops at a gap, a malformed blob, a chunk after a short one, or a chunk that
    // covers ids beyond the largest event (chunks are written with their events, so a
    // consistent database cannot have one).
    if (!run || row.chunk != next || !row.WellFormed() || first + ids > max_event_id + 1) {
      run = false;
      stale_rows_ = true;
      continue;
    }
    const std::int64_t known = persisted_end_;  // ids below were read before (or are ours)
    if (first + ids < known) return Fail(ErrorCode::kStorage, "event key chunks shrank");
    for (std::int64_t i = 0; i < ids; ++i) {
      const std::int64_t id = first + i;
      const std::uint64_t key = row.key(i);
      if (id < known || id <= synced_id_ || key == kNoKey) continue;
      map_.Put(key, id);
    }
    last_chunk_.clear();
    if (ids < kChunkIds) {
      last_chunk_.reserve(kChunkIds);
      for (std::int64_t i = 0; i < ids; ++i) last_chunk_.push_back(row.key(i));
      run = false;  // a short chunk is the last one
    }
    persisted_end_ = first + ids;
    synced_id_ = std::max(synced_id_, persisted_end_ - 1);
    ++next;
  }
  if (rc != SQLITE_DONE) return SqlError(db, "read event key chunks");
  return {};
}

void EventKeyIndex::AddPending(std::uint64_t key, std::int64_t id) {
  CRIMECAST_ASSERT(id > max_id_, "key index: pending ids must increase");
  map_.Put(key, id);
  pending_.emplace_back(id, key);
  max_id_ = id;
}

Result<void> EventKeyIndex::Persist(sqlite3* db) {
  written_end_ = persisted_end_;
  written_last_chunk_ = last_chunk_;
  if (unpersisted_.empty() && pending_.empty() && !stale_rows_) return {};
  std::int64_t chunk = persisted_end_ / kChunkIds;
  if (stale_rows_) {
    auto del = Stmt::Prepare(db, "DELETE FROM event_key_chunks WHERE chunk >= ?");
    if (!del) return Unexpected(del.error());
    del->Bind(1, chunk);
    if (sqlite3_step(del->get()) != SQLITE_DONE) return SqlError(db, "delete stale key chunks");
  }
  auto put =
      Stmt::Prepare(db, "INSERT OR REPLACE INTO event_key_chunks (chunk, keys) VALUES (?, ?)");
  if (!put) return Unexpected(put.error());
  std::vector<std::uint64_t> keys = last_chunk_;
  std::vector<unsigned char> blob;
  bool dirty = stale_rows_ && !keys.empty();  // the partial chunk was deleted with the rest
  auto write = [&]() -> Result<void> {
    StoreKeys(keys, blob);
    put->Reset();
    put->Bind(1, chunk);
    sqlite3_bind_blob(put->get(), 2, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
    if (sqlite3_step(put->get()) != SQLITE_DONE) return SqlError(db, "write key chunk");
    return {};
  };
  auto add = [&](std::int64_t id, std::uint64_t key) -> Result<void> {
    while (id / kChunkIds > chunk) {
      keys.resize(kChunkIds, kNoKey);
      if (auto r = write(); !r) return r;
      ++chunk;
      keys.clear();
    }
    keys.resize(static_cast<std::size_t>(id % kChunkIds), kNoKey);
    keys.push_back(key);
    dirty = true;
    return {};
  };
  // unpersisted_ holds committed ids and pending_ ids above them: together in increasing order.
  for (const auto& [id, key] : unpersisted_) {
    if (auto r = add(id, key); !r) return r;
  }
  for (const auto& [id, key] : pending_) {
    if (auto r = add(id, key); !r) return r;
  }
  if (dirty) {
    if (auto r = write(); !r) return r;
  }
  if (static_cast<std::int64_t>(keys.size()) == kChunkIds) {
    written_end_ = (chunk + 1) * kChunkIds;
    written_last_chunk_.clear();
  } else {
    written_end_ = chunk * kChunkIds + static_cast<std::int64_t>(keys.size());
    written_last_chunk_ = std::move(keys);
  }
  return {};
}

void EventKeyIndex::Committed() {
  CRIMECAST_ASSERT(written_end_ >= 0, "key index: commit without Persist");
  persisted_end_ = written_end_;
  last_chunk_ = std::move(written_last_chunk_);
  written_end_ = -1;
  written_last_chunk_.clear();
  unpersisted_.clear();
  pending_.clear();
  stale_rows_ = false;
  synced_id_ = max_id_;
}

void EventKeyIndex::Invalidate() {
  loaded_ = false;
  map_.Clear();
  pending_.clear();
  unpersisted_.clear();
  synced_id_ = 0;
  max_id_ = 0;
  persisted_end_ = 0;
  last_chunk_.clear();
  stale_rows_ = false;
  written_end_ = -1;
  written_last_chunk_.clear();
}

Result<std::string> EventKeyIndex::Verify(sqlite3* db) {
  {
    auto dup = Stmt::Prepare(
        db, "SELECT key_hash, COUNT(*) FROM events GROUP BY key_hash HAVING COUNT(*) > 1 LIMIT 1");
    if (!dup) return Unexpected(dup.error());
    const int rc = sqlite3_step(dup->get());
    if (rc == SQLITE_ROW)
      return fmt::format("{} events share the key {}", dup->Int(1), dup->Int(0));
    if (rc != SQLITE_DONE) return SqlError(db, "check event keys");
  }
  // Merge-join of the chunks (in chunk order) with the events (in id order).
  auto ev = Stmt::Prepare(db, "SELECT id, key_hash FROM events ORDER BY id");
  if (!ev) return Unexpected(ev.error());
  auto ch = Stmt::Prepare(db, "SELECT chunk, keys FROM event_key_chunks ORDER BY chunk");
  if (!ch) return Unexpected(ch.error());
  int ev_rc = sqlite3_step(ev->get());
  std::int64_t next = 0;
  bool last_seen = false;
  int rc;
  while ((rc = sqlite3_step(ch->get())) == SQLITE_ROW) {
    const ChunkRow row = ChunkRow::Read(*ch);
    if (last_seen || row.chunk != next || !row.WellFormed()) {
      return fmt::format("key chunk {} is malformed or out of sequence", row.chunk);
    }
    for (std::int64_t i = 0; i < row.ids(); ++i) {
      const std::int64_t id = row.chunk * kChunkIds + i;
      const std::uint64_t key = row.key(i);
      if (ev_rc == SQLITE_ROW && ev->Int(0) < id) {
        return fmt::format("event {} is missing from the key chunks", ev->Int(0));
      }
      const bool has_event = ev_rc == SQLITE_ROW && ev->Int(0) == id;
      if (!has_event && key != kNoKey) {
        return fmt::format("key chunk {} has a key for id {}, which holds no event", row.chunk, id);
      }
      if (has_event) {
        const auto stored = static_cast<std::uint64_t>(ev->Int(1));
        if (key != stored) {
          return fmt::format("key chunk {} gives event {} the key {}, the event has {}", row.chunk,
                             id, key, stored);
        }
        ev_rc = sqlite3_step(ev->get());
      }
    }
    if (row.ids() < kChunkIds) last_seen = true;
    ++next;
  }
  if (rc != SQLITE_DONE) return SqlError(db, "check event key chunks");
  if (ev_rc != SQLITE_ROW && ev_rc != SQLITE_DONE) return SqlError(db, "check event keys");
  return std::string();  // events above the chunks are read back by the next writer
}

}  // namespace crimecast::storage::internal
