// core/storage/event_key_index.hpp (internal to the storage module)
//
// The SQLite event store's key index: which event id holds each key. A key is
// EventKeyHash(source, source_id), or, for the second record of a colliding pair, the next free
// value after it (linear probing; see sqlite_event_store.hpp). The writing connection keeps the
// whole index in memory (KeyMap) and persists it, append-only, in the table event_key_chunks
// (schema migration 5).
//
// Why not a UNIQUE index inside SQLite (schemas 2 to 4; decision 0007, fifth round): keys are
// hashes, so every import batch inserted into a random-order B-tree and dirtied nearly all of its
// pages; for the 24 Gwent files that index was 40 % of the WAL written and about 18 % of the
// import's wall time. Here a batch's keys are appended after the ones already stored, and
// looking a key up costs a probe of an in-memory hash table rather than a B-tree descent.
//
// Concepts:
// * Chunk c of event_key_chunks holds the keys of event ids [c * kChunkIds, (c + 1) *
//   kChunkIds), 8 bytes each, little-endian, kNoKey where no event has that id (id 0, and gaps,
//   which a store that never deletes events does not make). Only the last chunk may be short;
//   the chunks read on open are the longest run 0, 1, 2, ... that follows these rules.
// * The chunks are a cache of events.key_hash, written in the same transaction as the events
//   they describe. Whatever they lack (a database upgraded from schema 4, chunks deleted or
//   unreadable) is read back from events.key_hash by id range and persisted at the next commit,
//   so nothing is ever lost by discarding them.
// * Invariant: no two events share a key. SQLite no longer enforces it; the store does, because
//   every batch holds SQLite's write lock (BEGIN IMMEDIATE) from BeginBatch to Commit and first
//   brings this index up to date with what other connections committed (Sync: event ids only
//   grow and events are never deleted, so that is the ids above the largest one seen).
//   IntegrityCheck verifies the invariant and the chunks against the events table.
//
// Memory: 16 bytes a slot at a load factor of 3/8 to 3/4, so 21 to 43 bytes an event (268 MB for
// a national year of 7 million events), held by a connection from its first batch on.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.hpp"

struct sqlite3;

namespace crimecast::storage::internal {

// Open-addressing hash table from 63-bit keys to event ids (linear probing; keys are hashes
// already, mixed once more by a multiplicative hash to pick the slot). Not thread-safe.
class KeyMap {
 public:
  // Keys are below 2^63; this value marks an empty slot.
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};

  // The id stored under `key`, or -1.
  std::int64_t Find(std::uint64_t key) const {
    if (size_ == 0) return -1;
    for (std::size_t i = Slot(key);; i = (i + 1) & mask_) {
      const Entry& e = slots_[i];
      if (e.key == key) return e.id;
      if (e.key == kEmpty) return -1;
    }
  }
  // Stores `id` under `key`, replacing what was there.
  void Put(std::uint64_t key, std::int64_t id);
  void Clear();
  // Room for `n` keys without growing.
  void Reserve(std::size_t n);
  std::size_t size() const { return size_; }
  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(Entry); }

 private:
  struct Entry {
    std::uint64_t key = kEmpty;
    std::int64_t id = 0;
  };
  std::size_t Slot(std::uint64_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void Rehash(std::size_t capacity);

  std::vector<Entry> slots_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t size_ = 0;
};

// The key index of one connection: the keys of committed events and of the open transaction in
// one KeyMap, and what of them is persisted in event_key_chunks. Used by the batch writer inside
// its transaction.
class EventKeyIndex {
 public:
  // Event ids per chunk (8 KiB of keys).
  static constexpr std::int64_t kChunkIds = 1024;
  static constexpr std::uint64_t kNoKey = KeyMap::kEmpty;

  // Brings the index up to date with the database: on first use (or after Invalidate) reads the
  // chunks, then the keys of events above the largest id known (written by other connections,
  // or not yet in the chunks). Call inside the write transaction, with nothing pending.
  Result<void> Sync(sqlite3* db);
  // The largest event id known (committed or pending); 0 when there are none.
  std::int64_t max_id() const { return max_id_; }

  // The id holding `key` (committed or pending), or -1.
  std::int64_t Find(std::uint64_t key) const { return map_.Find(key); }
  // Records the key of an event inserted in the open transaction; ids must increase.
  void AddPending(std::uint64_t key, std::int64_t id);

  // Writes every key not yet persisted into event_key_chunks, inside the open transaction.
  Result<void> Persist(sqlite3* db);
  // The transaction committed: pending keys become committed, the chunks Persist wrote are the
  // persisted ones.
  void Committed();
  // The transaction rolled back, or its outcome is unknown (a failed COMMIT): forgets everything,
  // so the next Sync reloads. Why not undo the pending keys: removing from a linear-probing table
  // needs backward shifts, and a rollback is rare (a failed file) while every row is looked up.
  void Invalidate();

  std::size_t memory_bytes() const { return map_.memory_bytes(); }

  // Checks that no two events share key_hash and that every id the chunks cover holds the event
  // with that key_hash (or no event, for kNoKey). Returns "" when consistent, else the first
  // problem found.
  static Result<std::string> Verify(sqlite3* db);

 private:
  // Reads the chunks from the one holding persisted_end_ on, continuing the valid run.
  Result<void> LoadChunks(sqlite3* db, std::int64_t max_event_id);

  bool loaded_ = false;
  KeyMap map_;
  std::vector<std::pair<std::int64_t, std::uint64_t>> pending_;  // (id, key), increasing id
  // Committed keys not yet in the chunks (read back from events), increasing id.
  std::vector<std::pair<std::int64_t, std::uint64_t>> unpersisted_;
  std::int64_t synced_id_ = 0;  // every committed id <= this is in map_
  std::int64_t max_id_ = 0;     // largest id, pending included
  // Ids below persisted_end_ are in the chunks; last_chunk_ is the persisted content of the
  // chunk holding persisted_end_ (persisted_end_ % kChunkIds keys).
  std::int64_t persisted_end_ = 0;
  std::vector<std::uint64_t> last_chunk_;
  bool stale_rows_ = false;  // chunk rows past the valid run exist: Persist deletes them
  // What Persist wrote, adopted by Committed.
  std::int64_t written_end_ = -1;
  std::vector<std::uint64_t> written_last_chunk_;
};

}  // namespace crimecast::storage::internal
