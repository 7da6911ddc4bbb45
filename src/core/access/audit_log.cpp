#include "core/access/audit_log.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/access/credentials.hpp"
#include "core/access/sqlite_util.hpp"

namespace crimecast::access {
namespace {

constexpr std::string_view kActionNames[] = {"collection",    "alteration",  "consultation",
                                             "disclosure",    "combination", "erasure",
                                             "authentication"};

void AppendField(std::string& out, std::string_view v) {
  out += std::to_string(v.size());
  out += ':';
  out += v;
  out += '|';
}

std::string ChainHash(const std::string& prev_hex, const std::string& canonical) {
  Sha256Digest prev{};
  FromHex(prev_hex, prev);  // prev_hex was produced by us; a malformed value hashes as zeros
  std::string bytes(reinterpret_cast<const char*>(prev.data()), prev.size());
  bytes += canonical;
  return ToHex(Sha256(bytes));
}

constexpr std::string_view kColumns =
    "seq, at_ms, user_name, role, action, object, outcome, status, client, purpose, detail, "
    "prev_hash, hash";

// Reads a row. The action is kept as stored text in `raw_action` so that a tampered, unknown
// action still hashes as written (and fails verification) instead of being normalised.
AuditRecord ReadRecord(const sql::Stmt& st, std::string* raw_action) {
  AuditRecord r;
  r.seq = st.Int(0);
  r.at_ms = st.Int(1);
  r.user = st.Text(2);
  r.role = st.Text(3);
  const std::string action = st.Text(4);
  if (auto a = ParseAuditAction(action)) r.action = *a;
  if (raw_action) *raw_action = action;
  r.object = st.Text(5);
  r.outcome = st.Text(6);
  r.status = static_cast<int>(st.Int(7));
  r.client = st.Text(8);
  r.purpose = st.Text(9);
  r.detail = st.Text(10);
  r.prev_hash = st.Text(11);
  r.hash = st.Text(12);
  return r;
}

std::string CanonicalWithAction(const AuditRecord& r, std::string_view action) {
  std::string out = "ccaudit1|";
  out.reserve(128 + r.object.size() + r.detail.size());
  AppendField(out, std::to_string(r.seq));
  AppendField(out, std::to_string(r.at_ms));
  AppendField(out, r.user);
  AppendField(out, r.role);
  AppendField(out, action);
  AppendField(out, r.object);
  AppendField(out, r.outcome);
  AppendField(out, std::to_string(r.status));
  AppendField(out, r.client);
  AppendField(out, r.purpose);
  AppendField(out, r.detail);
  return out;
}

}  // namespace

std::string_view Name(AuditAction action) {
  const auto i = static_cast<std::size_t>(action);
  return i < std::size(kActionNames) ? kActionNames[i] : "unknown";
}

std::optional<AuditAction> ParseAuditAction(std::string_view text) {
  for (std::size_t i = 0; i < std::size(kActionNames); ++i) {
    if (text == kActionNames[i]) return static_cast<AuditAction>(i);
  }
  return std::nullopt;
}

std::string AuditRecord::Canonical() const { return CanonicalWithAction(*this, Name(action)); }

Result<void> AppendAuditInTransaction(sqlite3* db, std::span<AuditRecord> records) {
  if (records.empty()) return {};
  auto head = sql::Stmt::Prepare(db, "SELECT seq, hash FROM audit_head WHERE id = 1");
  if (!head) return Unexpected(head.error());
  auto row = head->Step();
  if (!row) return Unexpected(row.error());
  if (!*row) return Fail(ErrorCode::kAuditChainBroken, "the audit chain head is missing");
  std::int64_t seq = head->Int(0);
  std::string prev = head->Text(1);
  head->Reset();

  auto ins = sql::Stmt::Prepare(
      db, fmt::format("INSERT INTO audit_log ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", kColumns));
  if (!ins) return Unexpected(ins.error());
  for (AuditRecord& r : records) {
    r.seq = ++seq;
    r.prev_hash = prev;
    r.hash = ChainHash(prev, r.Canonical());
    ins->Reset();
    ins->Bind(1, r.seq)
        .Bind(2, r.at_ms)
        .Bind(3, r.user)
        .Bind(4, r.role)
        .Bind(5, Name(r.action))
        .Bind(6, r.object)
        .Bind(7, r.outcome)
        .Bind(8, r.status)
        .Bind(9, r.client)
        .Bind(10, r.purpose)
        .Bind(11, r.detail)
        .Bind(12, r.prev_hash)
        .Bind(13, r.hash);
    if (auto res = ins->Run(); !res) return res;
    prev = r.hash;
  }
  auto up = sql::Stmt::Prepare(db, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1");
  if (!up) return Unexpected(up.error());
  up->Bind(1, seq).Bind(2, prev);
  return up->Run();
}

Result<void> AppendAudit(sqlite3* db, std::span<AuditRecord> records) {
  if (records.empty()) return {};
  auto txn = sql::Transaction::Begin(db);
  if (!txn) return Unexpected(txn.error());
  if (auto r = AppendAuditInTransaction(db, records); !r) return r;
  return txn->Commit();
}

Result<AuditAnchor> AuditAnchor::Parse(std::string_view text) {
  const auto colon = text.find(':');
  AuditAnchor a;
  Sha256Digest d{};
  if (colon == std::string_view::npos ||
      std::from_chars(text.data(), text.data() + colon, a.seq).ptr != text.data() + colon ||
      a.seq <= 0 || !FromHex(text.substr(colon + 1), d)) {
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("anchor '{}' is not SEQ:HASH (a positive number and 64 hex digits)", text));
  }
  a.hash = ToHex(d);
  return a;
}

Result<AuditVerifyReport> VerifyAuditChain(sqlite3* db, std::span<const AuditAnchor> anchors) {
  AuditVerifyReport rep;
  {
    auto head = sql::Stmt::Prepare(db, "SELECT seq, hash FROM audit_head WHERE id = 1");
    if (!head) return Unexpected(head.error());
    auto row = head->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) {
      rep.ok = false;
      rep.problem = "the chain head (audit_head) is missing: it was deleted";
      return rep;
    }
    rep.head_seq = head->Int(0);
    rep.head_hash = head->Text(1);
  }
  const auto fail = [&rep](std::int64_t seq, std::string problem) {
    rep.ok = false;
    rep.bad_seq = seq;
    rep.problem = std::move(problem);
    return rep;
  };

  auto st = sql::Stmt::Prepare(db, fmt::format("SELECT {} FROM audit_log ORDER BY seq", kColumns));
  if (!st) return Unexpected(st.error());
  std::string prev(kZeroHash);
  std::int64_t expected_seq = 1;
  std::string raw_action;
  for (;;) {
    auto row = st->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    const AuditRecord r = ReadRecord(*st, &raw_action);
    if (r.seq != expected_seq) {
      return fail(expected_seq,
                  r.seq > expected_seq
                      ? fmt::format("record {} is missing (deleted): the chain jumps from {} to {}",
                                    expected_seq, expected_seq - 1, r.seq)
                      : fmt::format("record {} is out of order", r.seq));
    }
    if (r.prev_hash != prev) {
      return fail(r.seq, fmt::format("record {}: prev_hash does not match record {}'s hash (a "
                                     "record before it was replaced or removed)",
                                     r.seq, r.seq - 1));
    }
    const std::string recomputed = ChainHash(prev, CanonicalWithAction(r, raw_action));
    if (recomputed != r.hash) {
      return fail(r.seq, fmt::format("record {} was altered: its contents no longer match its "
                                     "hash (at {} ms, user '{}', action '{}', object '{}')",
                                     r.seq, r.at_ms, r.user, raw_action, r.object));
    }
    for (const AuditAnchor& a : anchors) {
      if (a.seq == r.seq && a.hash != r.hash) {
        return fail(r.seq, fmt::format("record {} does not match the anchor {}:{} (the chain was "
                                       "rewritten from this record or earlier)",
                                       r.seq, a.seq, a.hash));
      }
    }
    prev = r.hash;
    ++rep.records;
    ++expected_seq;
  }
  const std::int64_t last = expected_seq - 1;
  if (rep.head_seq != last) {
    return fail(last + 1,
                rep.head_seq > last
                    ? fmt::format("records {}..{} are missing: the head says the chain has {} "
                                  "records but only {} remain (trailing records deleted)",
                                  last + 1, rep.head_seq, rep.head_seq, last)
                    : fmt::format("the head says {} records but {} exist (head rewound)",
                                  rep.head_seq, last));
  }
  if (rep.head_hash != prev) {
    return fail(last, fmt::format("the head hash does not match record {} (the last record was "
                                  "replaced)",
                                  last));
  }
  for (const AuditAnchor& a : anchors) {
    if (a.seq > last) {
      return fail(a.seq, fmt::format("anchor {} is beyond the end of the chain ({} records): "
                                     "records were deleted",
                                     a.seq, last));
    }
  }
  return rep;
}

Result<std::vector<AuditRecord>> ReadAudit(sqlite3* db, const AuditQuery& q) {
  std::string where = " WHERE seq > ?";
  if (q.from_ms) where += " AND at_ms >= ?";
  if (q.to_ms) where += " AND at_ms < ?";
  if (q.user) where += " AND user_name = ?";
  if (q.action) where += " AND action = ?";
  auto st = sql::Stmt::Prepare(
      db, fmt::format("SELECT {} FROM audit_log{} ORDER BY seq LIMIT ?", kColumns, where));
  if (!st) return Unexpected(st.error());
  int i = 1;
  st->Bind(i++, q.after_seq);
  if (q.from_ms) st->Bind(i++, *q.from_ms);
  if (q.to_ms) st->Bind(i++, *q.to_ms);
  if (q.user) st->Bind(i++, *q.user);
  if (q.action) st->Bind(i++, Name(*q.action));
  st->Bind(i, q.limit < 0 ? std::int64_t{-1} : q.limit);
  std::vector<AuditRecord> out;
  for (;;) {
    auto row = st->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    out.push_back(ReadRecord(*st, nullptr));
  }
  return out;
}

Result<std::int64_t> CountAudit(sqlite3* db) {
  auto st = sql::Stmt::Prepare(db, "SELECT COUNT(*) FROM audit_log");
  if (!st) return Unexpected(st.error());
  auto row = st->Step();
  if (!row) return Unexpected(row.error());
  return st->Int(0);
}

}  // namespace crimecast::access
