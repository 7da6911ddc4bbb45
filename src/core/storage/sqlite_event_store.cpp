#include "core/storage/sqlite_event_store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <span>
#include <variant>

#include "core/spatial/projection.hpp"
#include "core/spatial/zorder.hpp"
#include "core/storage/event_key_index.hpp"
#include "core/storage/migrations.hpp"
#include "core/storage/sqlite_common.hpp"
#include "core/storage/sqlite_layer_store.hpp"
#include "core/storage/wal_checkpointer.hpp"
#include "core/storage/wal_syncer.hpp"

namespace crimecast::storage {
namespace {

using internal::Exec;
using internal::SqlError;
using internal::Stmt;

constexpr std::uint64_t kKeyMask = (1ull << 63) - 1;
std::int64_t KeyHash(std::string_view source, std::string_view source_id) {
  return EventKeyHash(source, source_id);
}

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

BatchInfo ReadBatch(const Stmt& st) {
  BatchInfo b;
  b.id = st.Int(0);
  b.source = st.Text(1);
  b.format = st.Text(2);
  b.file_name = st.Text(3);
  b.sha256 = st.Text(4);
  b.started_at = TimePoint{Seconds{st.Int(5)}};
  b.finished_at = TimePoint{Seconds{st.Int(6)}};
  b.rows_read = st.Int(7);
  b.accepted = st.Int(8);
  b.inserted = st.Int(9);
  b.rejected = st.Int(10);
  b.duplicate = st.Int(11);
  b.merged = st.Int(12);
  b.unlocated = st.Int(13);
  b.out_of_area = st.Int(14);
  return b;
}
constexpr std::string_view kBatchColumns =
    "id, source, format, file_name, sha256, started_at, finished_at, rows_read, accepted, "
    "inserted, rejected, duplicate, merged, unlocated, out_of_area";

// The key of the spatial index events_tzkey (migration 4): the time bucket t_start >> 21 (2^21
// s, about 24 days) in the bits above the Z-order key. Written exactly as in the index's CREATE
// statement, or SQLite does not match it. It orders like (bucket, zkey) while zkey < 2^40 and
// |t_start| < 2^44 s (half a million years), so it cannot overflow.
constexpr std::string_view kSpaceTimeKeySql = "(((e.t_start >> 21) << 40) + e.zkey)";
static_assert(2 * spatial::kZOrderBits <= 40, "the Z-order key must fit below the time bucket");

// Builds a filter's WITH prefix, FROM clause and WHERE clause; the statement is
// "{with}SELECT ...{from}{where}". Parameters are bound in order by BindFilter.
struct FilterSql {
  std::string with;
  std::string from = " FROM events e";
  std::string where;
  std::vector<std::variant<std::int64_t, double, std::string>> params;
};
FilterSql BuildFilter(const EventFilter& f, bool force_located) {
  FilterSql out;
  std::vector<std::string> c;
  if (f.bbox) {
    // events_tzkey leads with the time bucket, so a Z-order range is one seek only within one
    // bucket: the statement enumerates the buckets of the filter's time range (else of the
    // store's first and last t_start, read by the statement itself, so in one snapshot) and
    // seeks each range in each bucket. Why a joined CTE and not "bucket IN (...)" on a
    // two-column index: SQLite cannot give an IN list of a subquery to each OR-ed range (it
    // scans the whole index; EXPLAIN QUERY PLAN, SQLite 3.40), and the one-integer key compares
    // faster on insert. The time bounds are our own integers, written as literals so
    // BindFilter's order is unchanged.
    std::string lo = "(SELECT MIN(t_start) FROM events) >> 21";
    std::string hi = "(SELECT MAX(t_start) FROM events) >> 21";
    if (f.from) lo = fmt::format("MAX({}, {} >> 21)", lo, f.from->time_since_epoch().count());
    if (f.to) hi = fmt::format("MIN({}, {} >> 21)", hi, f.to->time_since_epoch().count() - 1);
    out.with = fmt::format(
        "WITH RECURSIVE cc_bucket(v) AS (SELECT {} UNION ALL SELECT v + 1 FROM cc_bucket "
        "WHERE v < {}) ",
        lo, hi);
    out.from = " FROM cc_bucket b CROSS JOIN events e";
    c.push_back("e.zkey IS NOT NULL");  // lets SQLite use the partial index
  }
  // With a box, a unary + on every other column keeps SQLite from driving the query by another
  // index: it would otherwise pick events_time within each bucket (scanning the whole time range
  // once per bucket; it rates a time range as selective as the OR-ed spatial ranges) or build an
  // automatic index on out_of_area. The buckets already confine the spatial index to the time
  // range; the time terms trim its ends exactly.
  const std::string_view e = f.bbox ? "+e." : "e.";
  if (f.from) {
    c.push_back(fmt::format("{}t_start >= ?", e));
    out.params.emplace_back(f.from->time_since_epoch().count());
  }
  if (f.to) {
    c.push_back(fmt::format("{}t_start < ?", e));
    out.params.emplace_back(f.to->time_since_epoch().count());
  }
  if (!f.categories.empty()) {
    std::string in = fmt::format("{}category IN (", e);
    for (std::size_t i = 0; i < f.categories.size(); ++i) {
      in += i ? ",?" : "?";
      out.params.emplace_back(static_cast<std::int64_t>(f.categories[i]));
    }
    c.push_back(in + ")");
  }
  if (f.source) {
    c.push_back(fmt::format("{}source = ?", e));
    out.params.emplace_back(*f.source);
  }
  if (f.bbox) {
    // Z-order key ranges (within each bucket, above) use the index; the exact lon/lat test trims
    // the ranges' overshoot.
    const auto& b = *f.bbox;
    const auto ranges = spatial::ZRanges(b[0], b[1], b[2], b[3]);
    std::string any = "(";
    const std::string range =
        fmt::format("{} BETWEEN (b.v << 40) + ? AND (b.v << 40) + ?", kSpaceTimeKeySql);
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      any += i ? " OR " + range : range;
      out.params.emplace_back(static_cast<std::int64_t>(ranges[i].first));
      out.params.emplace_back(static_cast<std::int64_t>(ranges[i].second));
    }
    if (ranges.empty()) any += "0";
    c.push_back(any + ") AND e.lon BETWEEN ? AND ? AND e.lat BETWEEN ? AND ?");
    for (double v : {b[0], b[2], b[1], b[3]}) out.params.emplace_back(v);
  }
  if (f.located_only || force_located) c.push_back(fmt::format("{}quality != 2", e));
  if (!f.include_out_of_area) c.push_back(fmt::format("{}out_of_area = 0", e));
  for (std::size_t i = 0; i < c.size(); ++i) out.where += (i ? " AND " : " WHERE ") + c[i];
  return out;
}
void BindFilter(Stmt& st, const FilterSql& f, int first = 1) {
  int i = first;
  for (const auto& p : f.params) {
    if (const auto* v = std::get_if<std::int64_t>(&p)) st.Bind(i, *v);
    if (const auto* d = std::get_if<double>(&p)) st.Bind(i, *d);
    if (const auto* s = std::get_if<std::string>(&p)) st.Bind(i, std::string_view(*s));
    ++i;
  }
}
std::string LimitSql(const EventFilter& f) {
  if (f.limit < 0 && f.offset == 0) return {};
  return fmt::format(" LIMIT {} OFFSET {}", f.limit < 0 ? -1 : f.limit, f.offset);
}

// Parameters of the INSERT statements (SqliteBatchWriter::InsertSql): ?1 source and ?2 batch id
// are shared by all rows of a statement; each row has kRowParams of its own, its id first
// (outcome_as_of reuses t_start's). Why: a bound text costs about 180 instructions and the
// multi-row statement repeated the batch's source and id in every row.
constexpr int kSourceParam = 1;
constexpr int kBatchIdParam = 2;
constexpr int kRowParams = 20;

// An INSERT statement and the source its ?1 is bound to (text owned here: SQLITE_STATIC).
struct InsertStmt {
  Stmt st;
  std::string source;
  bool source_bound = false;
  void Reset() { st.Reset(); }
  void BindSource(std::string_view s) {
    if (source_bound && s == source) return;
    source.assign(s);
    st.Bind(kSourceParam, std::string_view(source));
    source_bound = true;
  }
};

}  // namespace

// The batch writer's prepared statements, kept by the store from one batch to the next. Why:
// compiling the 32-row INSERT (704 parameters) and the other five statements cost about 3.5
// million instructions a batch, 3 % of importing a data.police.uk file.
struct internal::WriterStatements {
  InsertStmt insert, insert_block;
  Stmt find, pub_has, pub_add, update;
  bool prepared = false;

  // Between batches no statement is active (COMMIT and ROLLBACK then never meet an open read
  // cursor) and no binding points into events that are gone.
  void Release() {
    for (Stmt* st : {&insert.st, &insert_block.st, &find, &pub_has, &pub_add, &update}) {
      if (st->get() == nullptr) continue;
      sqlite3_reset(st->get());
      sqlite3_clear_bindings(st->get());
    }
    insert.source_bound = insert_block.source_bound = false;
  }
};

namespace {

// ----------------------------------------------------------------------------------------------
class SqliteBatchWriter final : public BatchWriter {
 public:
  SqliteBatchWriter(sqlite3* db, std::int64_t batch_id, std::int64_t bulk_rows,
                    internal::WriterStatements& statements, internal::EventKeyIndex& keys,
                    bool deferred)
      : db_(db),
        batch_id_(batch_id),
        deferred_(deferred),
        bulk_rows_(bulk_rows),
        keys_(keys),
        statements_(statements),
        insert_(statements.insert),
        insert_block_(statements.insert_block),
        find_(statements.find),
        pub_has_(statements.pub_has),
        pub_add_(statements.pub_add),
        update_(statements.update) {}
  ~SqliteBatchWriter() override {
    // Not committed: roll back, so a failed or abandoned batch leaves nothing behind (the
    // rollback also restores secondary indexes a bulk batch dropped).
    if (!done_) {
      statements_.Release();
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      keys_.Invalidate();
      if (deferred_) RestoreSynchronous();
    }
  }

  Result<void> Prepare() {
    auto prepare = [this](Stmt& st, std::string_view sql) -> Result<void> {
      auto p = Stmt::Prepare(db_, sql);
      if (!p) return Unexpected(p.error());
      st = std::move(*p);
      return {};
    };
    if (!statements_.prepared) {
      if (auto r = PrepareStatements(prepare); !r) return r;
      statements_.prepared = true;
    }
    // The batch id is the same for every row: bound once (bindings survive sqlite3_reset).
    insert_.st.Bind(kBatchIdParam, batch_id_);
    insert_block_.st.Bind(kBatchIdParam, batch_id_);
    // The key index learns what other connections committed since this one's last batch.
    if (auto r = keys_.Sync(db_); !r) return r;
    max_id_ = keys_.max_id();
    start_max_id_ = max_id_;
    return {};
  }

  template <class PrepareFn>
  Result<void> PrepareStatements(PrepareFn& prepare) {
    if (auto r = prepare(insert_.st, InsertSql(1)); !r) return r;
    if (auto r = prepare(insert_block_.st, InsertSql(kBlockRows)); !r) return r;
    if (auto r = prepare(find_,
                         "SELECT t_start, t_end, outcome, outcome_as_of, source, source_id "
                         "FROM events WHERE id = ?");
        !r) {
      return r;
    }
    if (auto r = prepare(pub_has_,
                         "SELECT 1 FROM event_publications WHERE event_id = ? AND t_start = ?");
        !r) {
      return r;
    }
    if (auto r = prepare(pub_add_, "INSERT OR IGNORE INTO event_publications VALUES (?, ?)"); !r) {
      return r;
    }
    if (auto r = prepare(update_,
                         "UPDATE events SET t_start = ?, t_end = ?, outcome = ?, "
                         "outcome_as_of = ?, batch_id = ?, merged_count = merged_count + ? "
                         "WHERE id = ?");
        !r) {
      return r;
    }
    return {};
  }

  Result<WriteOutcome> Write(const Event& e) override {
    if (auto r = FlushBlock(); !r) return Unexpected(r.error());
    return WriteKeyed(e, static_cast<std::uint64_t>(KeyHash(e.source, e.source_id)));
  }

  // Rows whose key is free (the usual case: 99.4 % of Gwent's rows) are given their id at once
  // and collected into 32-row INSERT statements; a row whose key is taken first flushes the rows
  // collected before it (a row it repeats may be among them), then goes through WriteKeyed.
  // Outcomes, ids and merges are therefore exactly those of Write on each row in order.
  Result<void> WriteMany(std::span<const Event> events, std::vector<WriteOutcome>& out,
                         std::span<const RowHint> hints) override {
    out.clear();
    out.reserve(events.size());
    const bool hinted = hints.size() == events.size();
    for (std::size_t i = 0; i < events.size(); ++i) {
      const Event& e = events[i];
      const auto key =
          static_cast<std::uint64_t>(hinted ? hints[i].key : KeyHash(e.source, e.source_id));
      if (keys_.Find(key) >= 0) {
        if (auto r = FlushBlock(); !r) return r;
        auto w = WriteKeyed(e, key);
        if (!w) return Unexpected(w.error());
        out.push_back(*w);
        continue;
      }
      // One statement shares one source (?1).
      if (!block_.empty() && block_.front().event->source != e.source) {
        if (auto r = FlushBlock(); !r) return r;
      }
      block_.push_back({&e, key, NewId(key), hinted ? hints[i].spatial : kNoHint});
      out.push_back(WriteOutcome::kInserted);
      if (block_.size() == kBlockRows) {
        if (auto r = FlushBlock(); !r) return r;
      }
    }
    if (auto r = FlushBlock(); !r) return r;
    return MaybeEnterBulk();
  }

  Result<BatchInfo> Commit(BatchInfo b) override {
    b.id = batch_id_;
    b.finished_at = TimePoint{Seconds{NowSeconds()}};
    auto st = Stmt::Prepare(db_,
                            "UPDATE import_batches SET source=?, format=?, file_name=?, sha256=?, "
                            "started_at=?, finished_at=?, rows_read=?, accepted=?, inserted=?, "
                            "rejected=?, duplicate=?, merged=?, unlocated=?, out_of_area=? "
                            "WHERE id=?");
    if (!st) return Unexpected(st.error());
    st->Bind(1, std::string_view(b.source));
    st->Bind(2, std::string_view(b.format));
    st->Bind(3, std::string_view(b.file_name));
    st->Bind(4, std::string_view(b.sha256));
    st->Bind(5, static_cast<std::int64_t>(b.started_at.time_since_epoch().count()));
    st->Bind(6, static_cast<std::int64_t>(b.finished_at.time_since_epoch().count()));
    st->Bind(7, b.rows_read);
    st->Bind(8, b.accepted);
    st->Bind(9, b.inserted);
    st->Bind(10, b.rejected);
    st->Bind(11, b.duplicate);
    st->Bind(12, b.merged);
    st->Bind(13, b.unlocated);
    st->Bind(14, b.out_of_area);
    st->Bind(15, batch_id_);
    if (sqlite3_step(st->get()) != SQLITE_DONE) return SqlError(db_, "update batch");
    if (auto r = RebuildDroppedIndexes(); !r) return Unexpected(r.error());
    auto cat = Stmt::Prepare(db_, "INSERT INTO batch_category_rows VALUES (?, ?, ?)");
    if (!cat) return Unexpected(cat.error());
    for (int c = 0; c < kCategoryCount; ++c) {
      if (b.rows_by_category[c] == 0) continue;
      cat->Reset();
      cat->Bind(1, batch_id_);
      cat->Bind(2, c);
      cat->Bind(3, b.rows_by_category[c]);
      if (sqlite3_step(cat->get()) != SQLITE_DONE) return SqlError(db_, "insert category rows");
    }
    if (auto r = keys_.Persist(db_); !r) return Unexpected(r.error());
    // No statement may hold a read cursor open at COMMIT (they stay prepared for the next batch).
    statements_.Release();
    // A deferred batch (synchronous=NORMAL since BeginBatch) commits to the WAL without waiting
    // for the disk; the store's WalSyncer makes it durable (CommitPoint / Durable).
    auto committed = Exec(db_, "COMMIT");
    if (deferred_) RestoreSynchronous();
    if (!committed) {
      // Committed or not is unknown here: the key index starts afresh at the next batch.
      keys_.Invalidate();
      return Unexpected(committed.error());
    }
    keys_.Committed();
    done_ = true;
    return b;
  }

  std::int64_t batch_id() const override { return batch_id_; }

  // Back to the store's synchronous=FULL once the deferred batch's transaction is over (SQLite
  // refuses to change it inside a transaction).
  void RestoreSynchronous() {
    sqlite3_exec(db_, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
  }

 private:
  // Rows per multi-row INSERT. Why: SQLite's fixed cost of one INSERT statement (opening and
  // closing a cursor per B-tree, allocating record buffers, halting) is about a third of the
  // cost of inserting a row with three indexes; a 32-row statement pays it once per 32 rows.
  static constexpr std::size_t kBlockRows = 32;

  // Bulk path (decision 0007). Why: a batch that is large against the table (the national year
  // is one 7-million-row batch into an empty table) inserts into the random-order Z-order and
  // time indexes row by row; once they outgrow the page cache every insert reads and writes a
  // page of the WAL. Once this batch has inserted bulk_rows_ rows and at least as many as the
  // table held before it, the writer drops those two indexes inside the batch's transaction and
  // Commit re-creates them from their stored SQL (CREATE INDEX sorts, then writes each page once).
  // DDL is transactional in SQLite, so a batch killed or rolled back still has its indexes, and
  // a committed one has them complete. (Until schema 5 the page cache also grew to 512 MiB for
  // the batch, to keep SQLite's unique key index in memory; the keys are the store's own now,
  // and the national year imports as fast with the usual 64 MiB and 400 MB less memory.)
  static constexpr const char* kBulkDroppedIndexes[] = {"events_time", "events_tzkey"};

  Result<void> MaybeEnterBulk() {
    const std::int64_t inserted = max_id_ - start_max_id_;
    if (bulk_ || bulk_rows_ <= 0 || inserted < bulk_rows_ || inserted < start_max_id_) return {};
    bulk_ = true;
    auto sql =
        Stmt::Prepare(db_, "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?");
    if (!sql) return Unexpected(sql.error());
    for (const char* name : kBulkDroppedIndexes) {
      sql->Reset();
      sql->Bind(1, std::string_view(name));
      if (sqlite3_step(sql->get()) != SQLITE_ROW) continue;  // not there: nothing to rebuild
      dropped_indexes_.push_back(sql->Text(0));
      sqlite3_reset(sql->get());
      if (auto r = Exec(db_, fmt::format("DROP INDEX {}", name).c_str()); !r) return r;
    }
    return {};
  }

  // Why the sorter gets a second thread and a 64 MiB cache: CREATE INDEX sorts runs of up to the
  // page cache's size in memory; 64 MiB runs merged by two threads built the national year's time
  // index in 2.7 s instead of 4.2 s (sqlite3 shell, same file). `crimecast import` runs with a
  // smaller cache (SetCacheKiB), given back afterwards.
  Result<void> RebuildDroppedIndexes() {
    if (dropped_indexes_.empty()) return {};
    std::int64_t cache = -kSortCacheKiB;
    if (auto st = Stmt::Prepare(db_, "PRAGMA cache_size");
        st && sqlite3_step(st->get()) == SQLITE_ROW) {
      cache = st->Int(0);
    }
    // Negative: KiB; positive: pages (crimecast sets KiB; a page count is simply restored).
    const bool grow = cache >= 0 || -cache < kSortCacheKiB;
    if (grow) {
      if (auto r = Exec(db_, fmt::format("PRAGMA cache_size=-{}", kSortCacheKiB).c_str()); !r) {
        return r;
      }
    }
    if (auto r = Exec(db_, "PRAGMA threads=2"); !r) return r;
    for (const std::string& sql : dropped_indexes_) {
      if (auto r = Exec(db_, sql.c_str()); !r) return r;
    }
    dropped_indexes_.clear();
    if (grow) {
      if (auto r = Exec(db_, fmt::format("PRAGMA cache_size={}", cache).c_str()); !r) return r;
    }
    return Exec(db_, "PRAGMA threads=0");
  }
  static constexpr std::int64_t kSortCacheKiB = 64 * 1024;

  static std::string InsertSql(std::size_t rows) {
    std::string sql =
        "INSERT OR IGNORE INTO events (id, source, source_id, category, source_type, t_start, "
        "t_end, lon, lat, x, y, epsg, quality, location_text, area_code, force, outcome, "
        "outcome_as_of, origin, out_of_area, batch_id, zkey, key_hash) VALUES ";
    for (std::size_t r = 0; r < rows; ++r) {
      const int b = 2 + static_cast<int>(r) * kRowParams;
      sql += fmt::format(
          "{}(?{},?1,?{},?{},?{},?{},?{},?{},?{},?{},?{},?{},?{},?{},?{},?{},?{},?{},?{},?{},?2,?{}"
          ","
          "?{})",
          r ? "," : "", b + 20, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9,
          b + 10, b + 11, b + 12, b + 13, b + 14, b + 15, b + 4, b + 16, b + 17, b + 18, b + 19);
    }
    return sql;
  }

  // Binds one event's own columns as row `row` of st (source via BindSource; key_hash, then id,
  // last).
  void BindEvent(Stmt& st, int row, const Event& e, std::uint64_t key, std::int64_t id,
                 std::int64_t zkey) {
    const int base = 2 + row * kRowParams;
    const std::int64_t ts = e.when.start.time_since_epoch().count();
    const bool located = e.Located();
    constexpr double kNull = std::numeric_limits<double>::quiet_NaN();  // bound as NULL
    st.Bind(base + 1, std::string_view(e.source_id));
    st.Bind(base + 2, static_cast<int>(e.category));
    st.Bind(base + 3, std::string_view(e.source_type));
    st.Bind(base + 4, ts);  // t_start and outcome_as_of
    st.Bind(base + 5, static_cast<std::int64_t>(e.when.end.time_since_epoch().count()));
    st.Bind(base + 6, located ? e.lon : kNull);
    st.Bind(base + 7, located ? e.lat : kNull);
    st.Bind(base + 8, located ? e.x : kNull);
    st.Bind(base + 9, located ? e.y : kNull);
    st.Bind(base + 10, located ? e.epsg : 0);
    st.Bind(base + 11, static_cast<int>(e.quality));
    st.Bind(base + 12, std::string_view(e.location_text));
    st.Bind(base + 13, std::string_view(e.area_code));
    st.Bind(base + 14, std::string_view(e.force));
    st.Bind(base + 15, std::string_view(e.outcome));
    st.Bind(base + 16, static_cast<int>(e.origin));
    st.Bind(base + 17, e.out_of_area ? 1 : 0);
    if (located) {
      st.Bind(base + 18,
              zkey != kNoHint ? zkey : static_cast<std::int64_t>(spatial::ZKey(e.lon, e.lat)));
    } else {
      sqlite3_bind_null(st.get(), base + 18);
    }
    st.Bind(base + 19, static_cast<std::int64_t>(key));
    st.Bind(base + 20, id);
  }

  // The next event id, recorded in the key index under `key` (the row is inserted by the caller,
  // before anything else looks the id up in the store).
  std::int64_t NewId(std::uint64_t key) {
    const std::int64_t id = ++max_id_;
    keys_.AddPending(key, id);
    return id;
  }

  // Inserts the rows collected by WriteMany: one statement for a full block, else row by row.
  // Ids are explicit, so the insert cannot collide unless the key index is out of step with the
  // table; OR IGNORE (no statement journal needed, decision 0007) plus the change count turn
  // that, or a NOT NULL violation, into an error rather than a lost row.
  Result<void> FlushBlock() {
    if (block_.empty()) return {};
    const bool whole = block_.size() == kBlockRows;
    InsertStmt& st = whole ? insert_block_ : insert_;
    for (std::size_t r = 0; r < block_.size(); ++r) {
      const Pending& p = block_[r];
      if (!whole || r == 0) {
        st.Reset();
        st.BindSource(p.event->source);
      }
      BindEvent(st.st, whole ? static_cast<int>(r) : 0, *p.event, p.key, p.id, p.zkey);
      if (!whole && !StepInsert(st, 1)) return InsertError(p.id);
    }
    const bool ok = !whole || StepInsert(st, kBlockRows);
    const std::int64_t first = block_.front().id;
    block_.clear();
    if (!ok) return InsertError(first);
    return {};
  }
  bool StepInsert(InsertStmt& st, std::size_t rows) {
    return sqlite3_step(st.st.get()) == SQLITE_DONE &&
           sqlite3_changes(db_) == static_cast<int>(rows);
  }
  Unexpected InsertError(std::int64_t id) {
    if (sqlite3_errcode(db_) != SQLITE_OK && sqlite3_errcode(db_) != SQLITE_DONE) {
      return SqlError(db_, "insert events");
    }
    return Fail(ErrorCode::kStorage,
                fmt::format("insert events: a row was refused (event id {} taken, or a required "
                            "column empty); the key index may be out of step with the table",
                            id));
  }

  // Writes an event whose key may be taken. Walks the probe sequence from `key`: the stored
  // event with the same (source, source_id) is updated (duplicate or merge); a free key gets the
  // event inserted. Two different pairs with the same 63-bit hash (about one chance in 10^6
  // among 7 million events) take the next free key (linear probing; events are never deleted,
  // so a probe sequence never has holes).
  Result<WriteOutcome> WriteKeyed(const Event& e, std::uint64_t key) {
    for (std::uint64_t k = key;; k = (k + 1) & kKeyMask) {
      const std::int64_t id = keys_.Find(k);
      if (id < 0) {
        block_.push_back({&e, k, NewId(k), kNoHint});
        if (auto r = FlushBlock(); !r) return Unexpected(r.error());
        return WriteOutcome::kInserted;
      }
      auto found = Upsert(e, id);
      if (!found) return Unexpected(found.error());
      if (*found) return **found;
    }
  }

  // Looks at event `id`, which holds a key on e's probe sequence. Returns nullopt when it is
  // another (source, source_id) pair; otherwise decides between duplicate (this publication was
  // already stored) and merge (the same crime published for another period: data.police.uk
  // repeats Crime IDs) and applies it.
  Result<std::optional<WriteOutcome>> Upsert(const Event& e, std::int64_t id) {
    const std::int64_t ts = e.when.start.time_since_epoch().count();
    const std::int64_t te = e.when.end.time_since_epoch().count();
    find_.Reset();
    find_.Bind(1, id);
    const int rc = sqlite3_step(find_.get());
    if (rc == SQLITE_DONE) {
      sqlite3_reset(find_.get());
      return Fail(ErrorCode::kStorage,
                  fmt::format("the key index names event {}, which is not stored", id));
    }
    if (rc != SQLITE_ROW) return SqlError(db_, "find existing event");
    if (find_.TextView(4) != e.source || find_.TextView(5) != e.source_id) {
      sqlite3_reset(find_.get());
      return std::nullopt;
    }
    const std::int64_t old_start = find_.Int(0);
    const std::int64_t old_end = find_.Int(1);
    std::string outcome = find_.Text(2);
    const std::int64_t as_of = find_.Int(3);
    sqlite3_reset(find_.get());

    bool seen = (old_start == ts && old_end == te);
    if (!seen) {
      pub_has_.Reset();
      pub_has_.Bind(1, id);
      pub_has_.Bind(2, ts);
      seen = sqlite3_step(pub_has_.get()) == SQLITE_ROW;
      sqlite3_reset(pub_has_.get());
    }
    std::int64_t new_start = old_start;
    std::int64_t new_end = old_end;
    std::int64_t new_as_of = as_of;
    bool outcome_changed = false;
    if (ts >= as_of) {
      // The latest publication's outcome wins (outcomes of recent months change over time).
      outcome_changed = e.outcome != outcome;
      if (outcome_changed) outcome = e.outcome;
      new_as_of = ts;
    }
    if (!seen) {
      // Remember both publication periods, then keep the earliest occurrence.
      for (std::int64_t p : {old_start, ts}) {
        pub_add_.Reset();
        pub_add_.Bind(1, id);
        pub_add_.Bind(2, p);
        if (sqlite3_step(pub_add_.get()) != SQLITE_DONE) return SqlError(db_, "add publication");
      }
      if (ts < old_start) {
        new_start = ts;
        new_end = te;
      }
    }
    update_.Reset();
    update_.Bind(1, new_start);
    update_.Bind(2, new_end);
    update_.Bind(3, std::string_view(outcome));
    update_.Bind(4, new_as_of);
    update_.Bind(5, batch_id_);
    update_.Bind(6, static_cast<std::int64_t>(seen ? 0 : 1));
    update_.Bind(7, id);
    if (!seen || new_as_of != as_of || outcome_changed) {
      if (sqlite3_step(update_.get()) != SQLITE_DONE) return SqlError(db_, "merge event");
    }
    return seen ? WriteOutcome::kDuplicate : WriteOutcome::kMerged;
  }

  sqlite3* db_;
  std::int64_t batch_id_;
  bool deferred_;  // committed with synchronous=NORMAL (Durability::kDeferred, store has a
                   // WalSyncer)
  bool done_ = false;
  std::int64_t bulk_rows_ = 0;                // rows before the bulk path may start; 0: never
  bool bulk_ = false;                         // secondary indexes dropped, larger page cache
  std::vector<std::string> dropped_indexes_;  // CREATE INDEX statements to run at Commit
  std::int64_t max_id_ = 0;                   // largest event id (ids are given here, in order)
  std::int64_t start_max_id_ = 0;             // largest event id before this batch
  // Rows of WriteMany given an id but not inserted yet (at most kBlockRows).
  struct Pending {
    const Event* event;
    std::uint64_t key;
    std::int64_t id;
    std::int64_t zkey;  // from RowHint::spatial; kNoHint: computed when bound
  };
  static constexpr std::int64_t kNoHint = std::numeric_limits<std::int64_t>::min();
  std::vector<Pending> block_;
  internal::EventKeyIndex& keys_;           // the store's, kept from batch to batch
  internal::WriterStatements& statements_;  // owned by the store, reused batch after batch
  InsertStmt& insert_;
  InsertStmt& insert_block_;
  Stmt& find_;
  Stmt& pub_has_;
  Stmt& pub_add_;
  Stmt& update_;
};

}  // namespace

std::int64_t EventKeyHash(std::string_view source, std::string_view source_id) {
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  mix(source);
  h ^= 0;
  h *= 1099511628211ull;
  mix(source_id);
  return static_cast<std::int64_t>(h >> 1);
}

// ------------------------------------------------------------------------------------------------
Result<std::unique_ptr<SqliteEventStore>> SqliteEventStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Fail(ErrorCode::kStorage, fmt::format("cannot open database '{}': {}", path, msg));
  }
  std::unique_ptr<SqliteEventStore> store(new SqliteEventStore(db));
  sqlite3_db_config(db, SQLITE_DBCONFIG_LOOKASIDE, nullptr, 2048, 1024);
  sqlite3_busy_timeout(db, 30000);
  // WAL + synchronous=FULL: a committed batch survives kill -9 and power loss; readers never
  // block the writer.
  for (const char* pragma :
       {"PRAGMA page_size=8192", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
        "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY", "PRAGMA cache_size=-65536",
        "PRAGMA wal_autocheckpoint=16384"}) {
    if (auto r = Exec(db, pragma); !r) return Unexpected(r.error());
  }
  // All pending migrations, and the schema_migrations table itself, in one transaction. Why:
  // each commit costs an fsync (synchronous=FULL) and a new database needs every migration
  // (three commits were about a tenth of a one-file import's fixed cost); an upgrade is also
  // all-or-nothing this way. An up-to-date database takes no write lock here.
  auto too_new = [&](int version) {
    return Fail(ErrorCode::kSchemaVersion,
                fmt::format("database '{}' has schema version {}, newer than this crimecast ({}); "
                            "upgrade crimecast",
                            path, version, LatestSchemaVersion()));
  };
  int current = store->SchemaVersion();  // 0 while schema_migrations does not exist
  if (current > LatestSchemaVersion()) return too_new(current);
  if (current == LatestSchemaVersion()) return store;
  if (auto r = Exec(db, "BEGIN IMMEDIATE"); !r) return Unexpected(r.error());
  auto rollback = [db](auto error) {
    Exec(db, "ROLLBACK");
    return error;
  };
  if (auto r = Exec(db,
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                    "applied_at INTEGER NOT NULL, description TEXT NOT NULL)");
      !r) {
    return rollback(Unexpected(r.error()));
  }
  current = store->SchemaVersion();  // another process may have migrated meanwhile
  if (current > LatestSchemaVersion()) return rollback(too_new(current));
  for (const Migration& m : Migrations()) {
    if (m.version <= current) continue;
    const std::string sql(m.sql);
    if (auto r = Exec(db, sql.c_str()); !r) return rollback(Unexpected(r.error()));
    auto st = Stmt::Prepare(db, "INSERT INTO schema_migrations VALUES (?, ?, ?)");
    if (!st) return rollback(Unexpected(st.error()));
    st->Bind(1, m.version);
    st->Bind(2, NowSeconds());
    st->Bind(3, m.description);
    if (sqlite3_step(st->get()) != SQLITE_DONE) return rollback(SqlError(db, "record migration"));
  }
  if (auto r = Exec(db, "COMMIT"); !r) return rollback(Unexpected(r.error()));
  return store;
}

SqliteEventStore::SqliteEventStore(sqlite3* db) : db_(db) {}

SqliteEventStore::~SqliteEventStore() {
  // Statements are finalised before the connection closes.
  layers_.reset();
  writer_statements_.reset();
  syncer_.reset();        // finishes the syncs asked for
  checkpointer_.reset();  // joins its thread; the close below checkpoints what is left
  sqlite3_close_v2(db_);
}

void SqliteEventStore::PrepareRows(std::span<const Event> events,
                                   std::vector<RowHint>& hints) const {
  hints.resize(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    hints[i].key = EventKeyHash(e.source, e.source_id);
    hints[i].spatial = e.Located() ? static_cast<std::int64_t>(spatial::ZKey(e.lon, e.lat)) : -1;
  }
}

Result<void> SqliteEventStore::SetCacheKiB(std::int64_t kib) {
  return Exec(db_, fmt::format("PRAGMA cache_size=-{}", std::max<std::int64_t>(kib, 64)).c_str());
}

std::uint64_t SqliteEventStore::CommitPoint() { return syncer_ ? syncer_->Request() : 0; }

Result<bool> SqliteEventStore::Durable(std::uint64_t point, bool wait) {
  if (point == 0 || !syncer_) return true;
  return syncer_->Synced(point, wait);
}

std::int64_t SqliteEventStore::background_syncs() const { return syncer_ ? syncer_->syncs() : -1; }

std::int64_t SqliteEventStore::background_checkpoints() const {
  return checkpointer_ ? checkpointer_->checkpoints() : -1;
}

LayerStore* SqliteEventStore::layers() {
  if (!layers_) layers_ = std::make_unique<SqliteLayerStore>(db_);
  return layers_.get();
}

int SqliteEventStore::SchemaVersion() const {
  auto st = Stmt::Prepare(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!st || sqlite3_step(st->get()) != SQLITE_ROW) return 0;
  return static_cast<int>(st->Int(0));
}

Result<std::string> SqliteEventStore::IntegrityCheck() {
  auto st = Stmt::Prepare(db_, "PRAGMA integrity_check");
  if (!st) return Unexpected(st.error());
  std::string out;
  while (sqlite3_step(st->get()) == SQLITE_ROW) {
    if (!out.empty()) out += "\n";
    out += st->Text(0);
  }
  if (out != "ok") return out;
  // The key invariant SQLite no longer enforces (event_key_index.hpp).
  auto keys = internal::EventKeyIndex::Verify(db_);
  if (!keys) return Unexpected(keys.error());
  if (!keys->empty()) return *keys;
  return out;
}

Result<std::unique_ptr<BatchWriter>> SqliteEventStore::BeginBatch(const BatchInfo& info,
                                                                  Durability durability) {
  if (!checkpointer_tried_) {
    checkpointer_tried_ = true;
    const char* file = sqlite3_db_filename(db_, "main");
    if (file != nullptr && *file != '\0') {
      auto c = internal::WalCheckpointer::Start(db_, file, checkpoint_frames_);
      // Without one, SQLite's own automatic checkpoint (set at Open) goes on as before.
      if (c) checkpointer_ = std::move(*c);
      // Only in WAL mode (Open asks for it; a file system without shared memory could refuse):
      // deferring a commit relies on the WAL's checksummed frames and on syncing that file.
      const char* wal = sqlite3_filename_wal(file);
      auto mode = Stmt::Prepare(db_, "PRAGMA journal_mode");
      const bool wal_mode =
          mode && sqlite3_step(mode->get()) == SQLITE_ROW && mode->TextView(0) == "wal";
      if (wal_mode && wal != nullptr && *wal != '\0') {
        syncer_ = std::make_unique<internal::WalSyncer>(wal);
      }
    }
  }
  // Set before the transaction: SQLite refuses to change it inside one. The writer sets it back.
  const bool deferred = durability == Durability::kDeferred && syncer_ != nullptr;
  if (deferred) {
    if (auto r = Exec(db_, "PRAGMA synchronous=NORMAL"); !r) return Unexpected(r.error());
  }
  if (auto r = Exec(db_, "BEGIN IMMEDIATE"); !r) {
    if (deferred) Exec(db_, "PRAGMA synchronous=FULL");
    return Unexpected(r.error());
  }
  auto st = Stmt::Prepare(db_,
                          "INSERT INTO import_batches (source, format, file_name, sha256, "
                          "started_at, finished_at, rows_read, accepted, inserted, rejected, "
                          "duplicate, merged, unlocated, out_of_area) "
                          "VALUES (?,?,?,?,?,0,0,0,0,0,0,0,0,0)");
  if (!st) {
    Exec(db_, "ROLLBACK");
    if (deferred) Exec(db_, "PRAGMA synchronous=FULL");
    return Unexpected(st.error());
  }
  st->Bind(1, std::string_view(info.source));
  st->Bind(2, std::string_view(info.format));
  st->Bind(3, std::string_view(info.file_name));
  st->Bind(4, std::string_view(info.sha256));
  st->Bind(5, static_cast<std::int64_t>(info.started_at.time_since_epoch().count()));
  if (sqlite3_step(st->get()) != SQLITE_DONE) {
    auto err = SqlError(db_, "create batch");
    Exec(db_, "ROLLBACK");
    if (deferred) Exec(db_, "PRAGMA synchronous=FULL");
    return err;
  }
  if (!writer_statements_) writer_statements_ = std::make_unique<internal::WriterStatements>();
  if (!keys_) keys_ = std::make_unique<internal::EventKeyIndex>();
  auto writer = std::make_unique<SqliteBatchWriter>(db_, sqlite3_last_insert_rowid(db_), bulk_rows_,
                                                    *writer_statements_, *keys_, deferred);
  if (auto r = writer->Prepare(); !r) return Unexpected(r.error());  // destructor rolls back
  return std::unique_ptr<BatchWriter>(std::move(writer));
}

Result<std::optional<BatchInfo>> SqliteEventStore::FindBatchBySha256(const std::string& sha256) {
  auto st = Stmt::Prepare(
      db_, fmt::format("SELECT {} FROM import_batches WHERE sha256 = ? ORDER BY id LIMIT 1",
                       kBatchColumns));
  if (!st) return Unexpected(st.error());
  st->Bind(1, std::string_view(sha256));
  if (sqlite3_step(st->get()) == SQLITE_ROW) return std::optional<BatchInfo>(ReadBatch(*st));
  return std::optional<BatchInfo>();
}

Result<std::vector<BatchInfo>> SqliteEventStore::ListBatches() {
  auto st =
      Stmt::Prepare(db_, fmt::format("SELECT {} FROM import_batches ORDER BY id", kBatchColumns));
  if (!st) return Unexpected(st.error());
  std::vector<BatchInfo> out;
  std::map<std::int64_t, std::size_t> index;
  while (sqlite3_step(st->get()) == SQLITE_ROW) {
    index[st->Int(0)] = out.size();
    out.push_back(ReadBatch(*st));
  }
  auto cats = Stmt::Prepare(db_, "SELECT batch_id, category, rows FROM batch_category_rows");
  if (!cats) return Unexpected(cats.error());
  while (sqlite3_step(cats->get()) == SQLITE_ROW) {
    auto it = index.find(cats->Int(0));
    const auto c = cats->Int(1);
    if (it != index.end() && c >= 0 && c < kCategoryCount) {
      out[it->second].rows_by_category[c] = cats->Int(2);
    }
  }
  return out;
}

Result<std::int64_t> SqliteEventStore::Scan(const EventFilter& filter,
                                            const std::function<bool(const Event&)>& visit) {
  const FilterSql f = BuildFilter(filter, false);
  auto st = Stmt::Prepare(
      db_, fmt::format("{}SELECT e.source, e.source_id, e.category, e.source_type, e.t_start, "
                       "e.t_end, e.lon, e.lat, e.x, e.y, e.epsg, e.quality, e.location_text, "
                       "e.area_code, e.force, e.outcome, e.origin, e.out_of_area, e.batch_id"
                       "{}{} ORDER BY e.t_start, e.id{}",
                       f.with, f.from, f.where, LimitSql(filter)));
  if (!st) return Unexpected(st.error());
  BindFilter(*st, f);
  std::int64_t n = 0;
  Event e;
  int rc = 0;
  while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) {
    e.source = st->Text(0);
    e.source_id = st->Text(1);
    e.category = static_cast<Category>(st->Int(2));
    e.source_type = st->Text(3);
    e.when = {TimePoint{Seconds{st->Int(4)}}, TimePoint{Seconds{st->Int(5)}}};
    e.lon = st->Real(6);
    e.lat = st->Real(7);
    e.x = st->Real(8);
    e.y = st->Real(9);
    e.epsg = static_cast<int>(st->Int(10));
    e.quality = static_cast<LocationQuality>(st->Int(11));
    e.location_text = st->Text(12);
    e.area_code = st->Text(13);
    e.force = st->Text(14);
    e.outcome = st->Text(15);
    e.origin = static_cast<Origin>(st->Int(16));
    e.out_of_area = st->Int(17) != 0;
    e.batch_id = st->Int(18);
    ++n;
    if (!visit(e)) break;
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqlError(db_, "scan events");
  return n;
}

Result<std::int64_t> SqliteEventStore::Count(const EventFilter& filter) {
  const FilterSql f = BuildFilter(filter, false);
  auto st = Stmt::Prepare(db_, fmt::format("{}SELECT COUNT(*){}{}", f.with, f.from, f.where));
  if (!st) return Unexpected(st.error());
  BindFilter(*st, f);
  if (sqlite3_step(st->get()) != SQLITE_ROW) return SqlError(db_, "count events");
  return st->Int(0);
}

Result<PointColumns> SqliteEventStore::LoadPoints(const EventFilter& filter, int epsg) {
  EventFilter f2 = filter;
  f2.include_out_of_area = false;
  const FilterSql f = BuildFilter(f2, true);
  auto st = Stmt::Prepare(db_, fmt::format("{}SELECT e.x, e.y, e.epsg, e.lon, e.lat, e.t_start, "
                                           "e.t_end, e.category, e.id, e.quality{}{} "
                                           "ORDER BY e.t_start, e.id{}",
                                           f.with, f.from, f.where, LimitSql(filter)));
  if (!st) return Unexpected(st.error());
  BindFilter(*st, f);
  PointColumns p;
  std::vector<std::size_t> reproject;
  int rc = 0;
  while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) {
    const int e_epsg = static_cast<int>(st->Int(2));
    if (e_epsg != epsg) reproject.push_back(p.size());
    p.x.push_back(st->Real(0));
    p.y.push_back(st->Real(1));
    p.lon.push_back(st->Real(3));
    p.lat.push_back(st->Real(4));
    p.t_start.push_back(st->Int(5));
    p.t_end.push_back(st->Int(6));
    p.category.push_back(static_cast<Category>(st->Int(7)));
    p.id.push_back(st->Int(8));
    p.quality.push_back(static_cast<std::uint8_t>(st->Int(9)));
  }
  if (rc != SQLITE_DONE) return SqlError(db_, "load points");
  if (!reproject.empty()) {
    auto proj = spatial::Projection::Create(spatial::kWgs84, epsg);
    if (!proj) return Unexpected(proj.error());
    std::vector<double> xs(reproject.size());
    std::vector<double> ys(reproject.size());
    for (std::size_t i = 0; i < reproject.size(); ++i) {
      xs[i] = p.lon[reproject[i]];
      ys[i] = p.lat[reproject[i]];
    }
    proj->Forward(xs, ys);
    for (std::size_t i = 0; i < reproject.size(); ++i) {
      p.x[reproject[i]] = xs[i];
      p.y[reproject[i]] = ys[i];
    }
  }
  return p;
}

Result<std::vector<MonthCategoryCount>> SqliteEventStore::CountByMonthCategory(
    const EventFilter& filter) {
  const FilterSql f = BuildFilter(filter, false);
  // Month of the occurrence start, in UTC (month-only data starts on the 1st 00:00 UTC).
  auto st = Stmt::Prepare(
      db_, fmt::format("{}SELECT strftime('%Y-%m', e.t_start, 'unixepoch') AS m, e.category, "
                       "COUNT(*), SUM(e.quality = 2), SUM(e.out_of_area){}{} "
                       "GROUP BY m, e.category ORDER BY m, e.category",
                       f.with, f.from, f.where));
  if (!st) return Unexpected(st.error());
  BindFilter(*st, f);
  std::vector<MonthCategoryCount> out;
  while (sqlite3_step(st->get()) == SQLITE_ROW) {
    out.push_back(
        {st->Text(0), static_cast<Category>(st->Int(1)), st->Int(2), st->Int(3), st->Int(4)});
  }
  return out;
}

Result<TimeInterval> SqliteEventStore::Extent() {
  auto st = Stmt::Prepare(db_, "SELECT MIN(t_start), MAX(t_end), COUNT(*) FROM events");
  if (!st) return Unexpected(st.error());
  if (sqlite3_step(st->get()) != SQLITE_ROW) return SqlError(db_, "extent");
  if (st->Int(2) == 0) return Fail(ErrorCode::kNoData, "the database holds no events");
  return TimeInterval{TimePoint{Seconds{st->Int(0)}}, TimePoint{Seconds{st->Int(1)}}};
}

Result<int> SqliteEventStore::DominantEpsg() {
  auto st = Stmt::Prepare(db_,
                          "SELECT epsg, COUNT(*) AS n FROM events WHERE epsg != 0 GROUP BY epsg "
                          "ORDER BY n DESC LIMIT 1");
  if (!st) return Unexpected(st.error());
  if (sqlite3_step(st->get()) == SQLITE_ROW) return static_cast<int>(st->Int(0));
  return 0;
}

}  // namespace crimecast::storage
