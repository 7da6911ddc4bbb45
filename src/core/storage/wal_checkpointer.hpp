// core/storage/wal_checkpointer.hpp (internal to the storage module)
//
// Checkpoints a WAL-mode SQLite database on a thread of its own while a connection writes to it.
//
// Why: in WAL mode every committed page is written twice, once appended to the WAL and once,
// at a checkpoint, copied into the database file. SQLite's automatic checkpoint runs inside the
// COMMIT of whichever write crosses the threshold, and the last connection to close checkpoints
// whatever is left; either way the writer waits while tens of megabytes are read back and
// written again (about 15 % of importing the 24 Gwent files, all of it at the end; decision
// 0007, fifth round). Here the writer's commits only append to the WAL, and a second connection
// copies committed frames into the database on another core meanwhile (a PASSIVE checkpoint: it
// never blocks the writer nor waits for it).
//
// Durability is unchanged: a commit is durable once its WAL frames are synced
// (synchronous=FULL), whoever checkpoints them later; a process killed mid-checkpoint leaves a
// WAL that the next connection recovers from, as with SQLite's own checkpoints.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/common/error.hpp"

struct sqlite3;

namespace crimecast::storage::internal {

class WalCheckpointer {
 public:
  // Starts the thread on a new connection to `path`, and takes over `writer`'s checkpoints (its
  // automatic checkpoint is replaced by a WAL hook that wakes the thread whenever a commit leaves
  // `threshold_frames` or more frames in the WAL; the store passes
  // SqliteEventStore::kDefaultCheckpointFrames). Fails when the database cannot be opened a
  // second time.
  static Result<std::unique_ptr<WalCheckpointer>> Start(sqlite3* writer, const std::string& path,
                                                        int threshold_frames);
  // Stops the thread and closes its connection; `writer` keeps no hook. Call before `writer` is
  // closed (its close then checkpoints only what is left).
  ~WalCheckpointer();

  // Checkpoints completed so far (for tests and benchmarks).
  std::int64_t checkpoints() const;

 private:
  WalCheckpointer() = default;
  static int OnCommit(void* self, sqlite3* db, const char* name, int frames);
  void Run();

  sqlite3* writer_ = nullptr;
  sqlite3* db_ = nullptr;  // the checkpointer's own connection, used only by thread_
  int threshold_ = 0;      // frames; see Start
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;
  bool stop_ = false;
  std::int64_t done_ = 0;
  std::thread thread_;
};

}  // namespace crimecast::storage::internal
