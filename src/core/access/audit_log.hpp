// core/access/audit_log.hpp
//
// The tamper-evident audit log.
//
// What is logged: every request that touches data appends one AuditRecord: when (UTC ms), who
// (user and role), what kind of processing (the six kinds of the UK Data Protection Act 2018
// s.62(1): collection, alteration, consultation, disclosure, combination, erasure; plus
// "authentication" for sign-in attempts, which s.62 does not list but an auditor needs), the
// object or query, the outcome (HTTP status), the client address and the stated purpose.
//
// How tampering is detected (a hash chain, as in Schneier & Kelsey 1999, "Secure audit logs to
// support computer forensics", without their forward-secure keys):
// * Records are numbered seq = 1, 2, 3, ... without gaps.
// * hash(n) = sha256( bytes(hash(n-1)) || Canonical(record n) ), with hash(0) = 32 zero bytes.
//   Canonical() is a length-prefixed serialisation of every field including seq, so no two
//   different records serialise alike and moving a record changes its hash.
// * audit_head holds the last seq and hash. Without it, deleting the LAST records would leave a
//   shorter chain that still verifies.
// VerifyAuditChain recomputes every hash and names the first record that fails: an edited field
// (hash mismatch), a deleted or inserted middle record (seq gap or prev_hash mismatch), deleted
// trailing records (head ahead of the last record).
//
// Limit: an attacker who can write the database AND recompute the whole chain and head is not
// detected by the chain alone. Anchoring closes that gap: `crimecast audit verify` prints the
// head (seq, hash); recording it elsewhere (a ticket, a print-out, another system) and passing it
// back as an anchor later proves that the log up to that point is unchanged.
//
// Appending is serialised by SQLite's write lock (BEGIN IMMEDIATE), so several connections and
// processes (the server, the CLI) can append to one chain. Cost: one sha256 per record; appends
// can be batched in one transaction (one fsync for many records).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"

struct sqlite3;

namespace crimecast::access {

enum class AuditAction : std::uint8_t {
  kCollection = 0,
  kAlteration = 1,
  kConsultation = 2,
  kDisclosure = 3,
  kCombination = 4,
  kErasure = 5,
  kAuthentication = 6,  // not an s.62 kind: sign-in and sign-out attempts
};
std::string_view Name(AuditAction action);  // "collection", ...
std::optional<AuditAction> ParseAuditAction(std::string_view text);

struct AuditRecord {
  std::int64_t seq = 0;    // assigned by Append
  std::int64_t at_ms = 0;  // UTC milliseconds
  std::string user;        // "" when unauthenticated
  std::string role;        // role name, "" when unauthenticated
  AuditAction action = AuditAction::kConsultation;
  std::string object;     // what was touched: "GET /api/events?bbox=...", "user:alice"
  std::string outcome;    // "ok", "denied", "error", "partial"
  int status = 0;         // HTTP status (0 for CLI actions)
  std::string client;     // remote address, or "cli:<os user>"
  std::string purpose;    // X-Purpose header or the session's purpose
  std::string detail;     // counts, e.g. "accepted=9 rejected=1"
  std::string prev_hash;  // hex; filled by Append
  std::string hash;       // hex; filled by Append

  // The bytes that are hashed (without prev_hash): "ccaudit1|" then, for each field in a fixed
  // order, "<decimal length>:<bytes>|".
  std::string Canonical() const;
};

inline constexpr std::string_view kZeroHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Appends inside a write transaction the CALLER holds (BEGIN IMMEDIATE on `db`), e.g. together
// with an event batch so that events and their collection record commit atomically. Fills seq,
// prev_hash and hash of each record.
Result<void> AppendAuditInTransaction(sqlite3* db, std::span<AuditRecord> records);
// Appends in its own transaction (one fsync for the whole span).
Result<void> AppendAudit(sqlite3* db, std::span<AuditRecord> records);

struct AuditAnchor {
  std::int64_t seq = 0;
  std::string hash;                                         // hex
  static Result<AuditAnchor> Parse(std::string_view text);  // "SEQ:HASH"
};

struct AuditVerifyReport {
  bool ok = true;
  std::int64_t records = 0;   // records checked
  std::int64_t head_seq = 0;  // from audit_head
  std::string head_hash;
  std::int64_t bad_seq = 0;  // the first record that fails (0 when ok or not record-specific)
  std::string problem;       // human-readable, names the record
};

// Walks the whole chain (streaming; memory O(1)). Err only on storage failure; a broken chain is
// a report with ok == false.
Result<AuditVerifyReport> VerifyAuditChain(sqlite3* db, std::span<const AuditAnchor> anchors = {});

struct AuditQuery {
  std::optional<std::int64_t> from_ms, to_ms;  // [from, to)
  std::optional<std::string> user;
  std::optional<AuditAction> action;
  std::int64_t after_seq = 0;  // paging: records with seq > after_seq
  std::int64_t limit = 100;
};
Result<std::vector<AuditRecord>> ReadAudit(sqlite3* db, const AuditQuery& query);
Result<std::int64_t> CountAudit(sqlite3* db);

}  // namespace crimecast::access
