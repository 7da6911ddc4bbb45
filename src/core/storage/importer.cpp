#include "core/storage/importer.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/common/assert.hpp"
#include "core/ingest/area_check.hpp"
#include "core/spatial/projection.hpp"

namespace crimecast::storage {

// OpenSSL's SHA-256 uses the CPU's SHA extensions / AVX2 (a few instructions per byte);
// libsodium's portable one costs ~57 instructions per byte, 11,000 per data.police.uk row.
Result<std::string> Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kFileNotFound, fmt::format("cannot open '{}'", path));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Fail(ErrorCode::kInternal, "OpenSSL SHA-256 unavailable");
  }
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = in.gcount();
    if (n > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
  }
  if (in.bad()) return Fail(ErrorCode::kFileUnreadable, fmt::format("error reading '{}'", path));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

namespace {

// What the reader thread produces, in file order: one start item per file, then (when the file
// is read) its chunks, the last one marked.
struct Item {
  std::size_t file = 0;
  bool start = false;
  // Start items.
  std::optional<Error> pre_read_error;  // not a regular file, or unreadable for sha256
  std::string sha256;
  bool not_read = false;            // already imported when the reader asked: not read
  std::optional<Error> open_error;  // the reader could not be opened
  std::string source, format_name;  // of the opened reader
  // Chunk items.
  std::vector<Event> events;
  std::vector<RowHint> hints;  // EventStore::PrepareRows of `events`
  std::vector<ingest::RowError> errors;
  std::optional<Error> error;  // fatal read error: the file's last item
  bool last = false;
  double fraction = 0;
  std::int64_t rows_read = 0;
};

// The reader's question "was a file with this sha256 imported already?", answered by the
// calling thread (the only one that may use the store).
enum class Answer { kNone, kImport, kSkip, kAskAgainBetweenBatches };

// Why a pipeline over files, not one per file: each file's reading (sha256, CSV, validation,
// projection, area check) used to start only after the previous file's batch committed, so the
// writer idled while the next file's first chunk was parsed and the reader idled during every
// commit (fsync). Here one reader thread runs ahead through the files, bounded by kMaxQueued
// items, and the writer finds the next file's chunks waiting.
class Pipeline {
 public:
  Pipeline(EventStore& store, std::span<const std::string> paths, const ImportOptions& options)
      : store_(store), paths_(paths), options_(options) {}
  ~Pipeline() { Stop(); }

  void Start() {
    producer_ = std::jthread([this] {
      pthread_setname_np(pthread_self(), "cc-import-read");  // shown by top -H, perf, gdb
      Produce();
    });
  }

  // The next item (they come in file order). Answers the reader's questions while waiting.
  Item Pop() {
    std::unique_lock lock(mu_);
    for (;;) {
      ServeQuestion(lock);
      if (!queue_.empty()) {
        Item item = std::move(queue_.front());
        queue_.pop_front();
        cv_.notify_all();
        return item;
      }
      cv_.wait(lock);
    }
  }

  // Hands a consumed chunk's events back for reuse.
  void Recycle(std::vector<Event>&& events) {
    std::lock_guard lock(mu_);
    if (spares_.size() < kMaxQueued + 2) spares_.push_back(std::move(events));
  }

  // The batch the caller has open (0: none); questions about it wait until it is closed.
  void SetOpenBatch(std::int64_t id) {
    std::lock_guard lock(mu_);
    open_batch_ = id;
    cv_.notify_all();
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      cancel_ = true;
    }
    cv_.notify_all();
    if (producer_.joinable()) producer_.join();
  }

 private:
  static constexpr std::size_t kMaxQueued = 4;

  // Called with the lock held, on the calling thread (so open_batch_ cannot change meanwhile).
  void ServeQuestion(std::unique_lock<std::mutex>& lock) {
    if (!question_ || answer_ != Answer::kNone) return;
    const std::string sha = *question_;
    const std::int64_t open = open_batch_;
    lock.unlock();
    Answer a = Answer::kImport;  // a store error is reported when the file's turn comes
    if (auto prev = store_.FindBatchBySha256(sha); prev && prev->has_value()) {
      // The batch being written has this sha256 (the same file twice): whether the later copy
      // is skipped depends on whether that batch commits; ask again once it is closed.
      a = ((*prev)->id == open) ? Answer::kAskAgainBetweenBatches : Answer::kSkip;
    }
    lock.lock();
    answer_ = a;
    cv_.notify_all();
  }

  // Reader thread: asks whether the file was imported already; true to read it.
  bool ShouldRead(const std::string& sha) {
    std::unique_lock lock(mu_);
    for (;;) {
      question_ = sha;
      answer_ = Answer::kNone;
      cv_.notify_all();
      cv_.wait(lock, [&] { return answer_ != Answer::kNone || cancel_; });
      if (cancel_) return false;
      const Answer a = answer_;
      question_.reset();
      answer_ = Answer::kNone;
      if (a == Answer::kImport) return true;
      if (a == Answer::kSkip) return false;
      cv_.wait(lock, [&] { return open_batch_ == 0 || cancel_; });
      if (cancel_) return false;
    }
  }

  // Reader thread: queues an item; false when cancelled.
  bool Push(Item item) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < kMaxQueued || cancel_; });
    if (cancel_) return false;
    queue_.push_back(std::move(item));
    cv_.notify_all();
    return true;
  }

  std::vector<Event> TakeSpare() {
    std::lock_guard lock(mu_);
    if (spares_.empty()) return {};
    std::vector<Event> v = std::move(spares_.back());
    spares_.pop_back();
    return v;
  }

  void Produce() {
    std::vector<Event> pool;  // consumed events whose strings are reused
    for (std::size_t i = 0; i < paths_.size(); ++i) {
      const std::string& path = paths_[i];
      Item start;
      start.file = i;
      start.start = true;
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec)) {
        start.pre_read_error =
            Error{ErrorCode::kFileNotFound, fmt::format("'{}' is not a readable file", path)};
        if (!Push(std::move(start))) return;
        continue;
      }
      auto sha = Sha256File(path);
      if (!sha) {
        start.pre_read_error = sha.error();
        if (!Push(std::move(start))) return;
        continue;
      }
      start.sha256 = *sha;
      if (!options_.force && !ShouldRead(*sha)) {
        start.not_read = true;
        if (!Push(std::move(start))) return;
        continue;
      }
      auto reader = ingest::OpenEventReader(path, options_.reader);
      if (!reader) {
        start.open_error = reader.error();
        if (!Push(std::move(start))) return;
        continue;
      }
      ingest::EventReader& rd = **reader;
      rd.ReuseEvents(&pool);
      start.source = rd.source();
      start.format_name = rd.format_name();
      if (!Push(std::move(start))) return;
      bool more = true;
      while (more) {
        Item c;
        c.file = i;
        c.events = TakeSpare();
        pool.insert(pool.end(), std::make_move_iterator(c.events.begin()),
                    std::make_move_iterator(c.events.end()));
        c.events.clear();
        c.events.reserve(options_.chunk_rows);
        auto next = rd.Next(c.events, c.errors, options_.chunk_rows);
        if (!next) {
          c.error = next.error();
          more = false;
        } else {
          more = *next;
          // Checked per chunk: each chunk is a sample of thousands of rows of the same area.
          if (options_.flag_out_of_area) ingest::FlagOutOfArea(c.events);
          // The backend's per-row work that needs no database, off the writing thread.
          store_.PrepareRows(c.events, c.hints);
        }
        c.last = !more;
        c.fraction = rd.fraction_done();
        c.rows_read = rd.rows_read();
        if (!Push(std::move(c))) return;
      }
    }
  }

  EventStore& store_;
  std::span<const std::string> paths_;
  const ImportOptions& options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::vector<std::vector<Event>> spares_;
  std::optional<std::string> question_;
  Answer answer_ = Answer::kNone;
  std::int64_t open_batch_ = 0;
  bool cancel_ = false;
  std::jthread producer_;
};

// Skips the remaining items of a file whose start item was `start`.
void DiscardFile(Pipeline& pipeline, const Item& start) {
  if (start.pre_read_error || start.not_read || start.open_error) return;  // nothing follows
  for (;;) {
    Item c = pipeline.Pop();
    const bool last = c.last;
    pipeline.Recycle(std::move(c.events));
    if (last) return;
  }
}

// Writes one file's chunks as one batch; `start` is its start item, already checked.
Result<ImportReport> WriteFile(EventStore& store, Pipeline& pipeline, const std::string& path,
                               const Item& start, const ImportOptions& options) {
  BatchInfo info;
  info.source = start.source;
  info.format = start.format_name;
  info.file_name = std::filesystem::path(path).filename().string();
  info.sha256 = start.sha256;
  info.started_at = std::chrono::floor<Seconds>(std::chrono::system_clock::now());
  // Reported by ImportFiles once durable; meanwhile the next file is written.
  auto writer = store.BeginBatch(info, Durability::kDeferred);
  if (!writer) {
    DiscardFile(pipeline, start);
    return Unexpected(writer.error());
  }
  pipeline.SetOpenBatch((*writer)->batch_id());
  // Whatever happens below, the batch is closed (committed, or rolled back by the writer's
  // destructor) before the reader may ask about it again.
  struct CloseBatch {
    Pipeline& p;
    std::unique_ptr<BatchWriter>& w;
    ~CloseBatch() {
      w.reset();
      p.SetOpenBatch(0);
    }
  } close{pipeline, *writer};

  std::vector<WriteOutcome> outcomes;
  std::int64_t rows_read = 0;
  std::optional<Error> failure;
  for (bool last = false; !last;) {
    Item c = pipeline.Pop();
    last = c.last;
    rows_read = c.rows_read;
    if (failure) {  // the batch failed: only drain the file
      pipeline.Recycle(std::move(c.events));
      continue;
    }
    // A fatal error mid-file abandons the batch: the writer's destructor rolls it back.
    if (c.error) {
      failure = c.error;
      continue;
    }
    info.rejected += static_cast<std::int64_t>(c.errors.size());
    if (options.on_error) {
      for (const auto& e : c.errors) options.on_error(e);
    }
    if (auto w = (*writer)->WriteMany(c.events, outcomes, c.hints); !w) {
      failure = w.error();
      continue;
    }
    for (std::size_t i = 0; i < c.events.size(); ++i) {
      const Event& e = c.events[i];
      ++info.accepted;
      ++info.rows_by_category[static_cast<int>(e.category)];
      if (!e.Located()) ++info.unlocated;
      if (e.out_of_area) ++info.out_of_area;
      switch (outcomes[i]) {
        case WriteOutcome::kInserted:
          ++info.inserted;
          break;
        case WriteOutcome::kDuplicate:
          ++info.duplicate;
          break;
        case WriteOutcome::kMerged:
          ++info.merged;
          break;
      }
    }
    pipeline.Recycle(std::move(c.events));
    if (options.on_progress) options.on_progress(c.fraction, c.rows_read);
  }
  if (failure) return Unexpected(*failure);
  info.rows_read = rows_read;
  auto committed = (*writer)->Commit(info);
  if (!committed) return Unexpected(committed.error());
  ImportReport report;
  report.batch = *committed;
  return report;
}

}  // namespace

std::jthread WarmUpProjection(const ImportOptions& options) {
  const ingest::ReaderOptions& r = options.reader;
  if (r.input_epsg != 0 && r.input_epsg != spatial::kWgs84) return {};  // x/y input: two steps
  int to = r.store_epsg;
  if (to == 0 && r.format == ingest::InputFormat::kPoliceUk) to = spatial::kBritishNationalGrid;
  if (to == 0 || to == spatial::kWgs84) return {};
  return std::jthread([to] {
    pthread_setname_np(pthread_self(), "cc-proj-warmup");
    (void)spatial::LeaseProjection(spatial::kWgs84, to);
  });
}

void ImportFiles(EventStore& store, std::span<const std::string> paths,
                 const ImportOptions& options, const FileDone& on_file_done) {
  Pipeline pipeline(store, paths, options);
  pipeline.Start();
  // Files are reported in order, each once its batch is durable: committed batches wait here
  // while the store syncs them in the background and the next files are written (decision 0007,
  // fifth round: the writer no longer waits for the disk at every commit).
  struct Finished {
    std::size_t index;
    Result<ImportReport> report;
    std::uint64_t point;  // EventStore::CommitPoint after its commit; 0: nothing to wait for
  };
  std::deque<Finished> finished;
  auto report_durable = [&](bool wait) {
    while (!finished.empty()) {
      Finished& f = finished.front();
      if (f.point != 0 && f.report) {
        auto durable = store.Durable(f.point, wait);
        if (!durable) {
          f.report = Unexpected(Error{
              durable.error().code,
              fmt::format("committed, but not confirmed durable: {}", durable.error().message)});
        } else if (!*durable) {
          return;  // not yet; asked again after the next file
        }
      }
      if (on_file_done) on_file_done(f.index, f.report);
      finished.pop_front();
    }
  };
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const Item start = pipeline.Pop();
    CRIMECAST_ASSERT(start.start && start.file == i, "import pipeline items out of order");
    auto result = [&]() -> Result<ImportReport> {
      if (start.pre_read_error) return Unexpected(*start.pre_read_error);
      // Checked again now that the earlier files are committed (the reader's answer came
      // earlier, and another process may have imported the file since).
      if (!options.force) {
        auto prev = store.FindBatchBySha256(start.sha256);
        if (!prev) {
          DiscardFile(pipeline, start);
          return Unexpected(prev.error());
        }
        if (prev->has_value()) {
          DiscardFile(pipeline, start);
          ImportReport report;
          report.skipped = true;
          report.previous_batch = (*prev)->id;
          report.batch = **prev;
          report.batch.id = 0;
          return report;
        }
        // Batches are never deleted, so a file the reader skipped stays imported; should that
        // ever change, this file is read again on its own.
        if (start.not_read) return ImportFile(store, paths[i], options);
      }
      if (start.open_error) return Unexpected(*start.open_error);
      return WriteFile(store, pipeline, paths[i], start, options);
    }();
    const bool wrote = result && !result->skipped;
    const std::uint64_t point = wrote ? store.CommitPoint() : 0;
    finished.push_back({i, std::move(result), point});
    report_durable(false);
  }
  report_durable(true);
}

Result<ImportReport> ImportFile(EventStore& store, const std::string& path,
                                const ImportOptions& options) {
  Result<ImportReport> out = Fail(ErrorCode::kInternal, "import produced no result");
  ImportFiles(store, std::span<const std::string>(&path, 1), options,
              [&](std::size_t, const Result<ImportReport>& r) { out = r; });
  return out;
}

}  // namespace crimecast::storage
