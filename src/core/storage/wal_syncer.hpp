// core/storage/wal_syncer.hpp (internal to the storage module)
//
// Makes commits durable on a thread of its own: fdatasync of a database's WAL file.
//
// Why (decision 0007, fifth round): with synchronous=FULL every COMMIT waits for the WAL to
// reach the disk; on the development machine the writer of an import of the 24 Gwent files spent
// 92 ms of its 480 ms in those 32 fdatasync calls, idle. A batch committed with synchronous=NORMAL
// is written to the WAL (so visible, atomic, and safe when the process is killed: the data is in
// the operating system's cache) but not synced; an fdatasync of the WAL file then makes it, and
// every commit before it, survive power loss too (WAL frames are checksummed: recovery keeps
// exactly the synced prefix of commits). Here that fdatasync runs beside the writer, which goes on
// with the next batch; the importer acknowledges a file only once its commit is synced.
//
// fdatasync on a descriptor of our own flushes the file's data whoever wrote it (Linux syncs
// the inode). The WAL file stays the same file while the writer's connection is open (SQLite
// deletes it only when the last connection closes).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/common/error.hpp"

namespace crimecast::storage::internal {

class WalSyncer {
 public:
  explicit WalSyncer(std::string wal_path);
  // Finishes the syncs requested so far, then stops the thread.
  ~WalSyncer();
  WalSyncer(const WalSyncer&) = delete;
  WalSyncer& operator=(const WalSyncer&) = delete;

  // Asks for an fdatasync covering everything written to the WAL before this call; returns its
  // ticket (1, 2, ...).
  std::uint64_t Request();
  // Whether the sync for `ticket` is done; with `wait`, blocks until it is. An fdatasync that
  // failed is reported for its ticket and every later one.
  Result<bool> Synced(std::uint64_t ticket, bool wait);
  // fdatasync calls made so far (for tests).
  std::int64_t syncs() const;

 private:
  void Run();

  const std::string path_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t requested_ = 0;
  std::uint64_t synced_ = 0;
  std::optional<Error> error_;  // the first failure; later tickets fail with it
  std::uint64_t failed_from_ = 0;
  std::int64_t syncs_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace crimecast::storage::internal
