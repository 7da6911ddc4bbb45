// crimecast audit: check and read the tamper-evident audit log (core/access/audit_log.hpp).
//
//   crimecast audit verify --db DB [--anchor SEQ:HASH ...]
//       Recomputes the hash chain. Exit 0 and prints the head "SEQ:HASH" (record it elsewhere:
//       passing it back later as --anchor proves the log up to there is unchanged); exit 4 and
//       names the first bad record when any record was altered or deleted.
//   crimecast audit show --db DB --user AUDITOR [--from T] [--to T] [--who U] [--action A]
//                        [--after SEQ] [--limit N] [--json]
//       Only auditors read the log: the auditor signs in with their password, and the reading
//       is itself appended to the log.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/password_input.hpp"
#include "core/access/access_store.hpp"
#include "core/access/audit_json.hpp"
#include "core/access/audit_log.hpp"
#include "core/access/sqlite_util.hpp"
#include "core/common/time.hpp"

namespace crimecast::cli {
namespace {

constexpr int kExitAuditBroken = 4;

struct Args {
  std::string db;
  std::vector<std::string> anchors;
  std::string user, password_file, from, to, who, action;
  std::int64_t after = 0;
  std::int64_t limit = 100;
  bool json = false;
};

int Verify(const Args& a) {
  std::vector<access::AuditAnchor> anchors;
  for (const auto& text : a.anchors) {
    auto anchor = access::AuditAnchor::Parse(text);
    if (!anchor) return ReportError(anchor.error());
    anchors.push_back(*anchor);
  }
  auto store = access::AccessStore::Open(a.db, {}, /*create=*/false);
  if (!store) return ReportError(store.error());
  auto rep = access::VerifyAuditChain((*store)->handle(), anchors);
  if (!rep) return ReportError(rep.error());
  if (!rep->ok) {
    std::printf("audit log BROKEN: %s\n", rep->problem.c_str());
    std::printf("checked %lld records before the problem; head claims %lld\n",
                static_cast<long long>(rep->records), static_cast<long long>(rep->head_seq));
    return kExitAuditBroken;
  }
  std::printf("audit log ok: %lld records, chain intact%s\n", static_cast<long long>(rep->records),
              anchors.empty() ? "" : ", anchors match");
  std::printf("head %lld:%s\n", static_cast<long long>(rep->head_seq), rep->head_hash.c_str());
  return 0;
}

int Show(const Args& a) {
  auto store = access::AccessStore::Open(a.db, {}, /*create=*/false);
  if (!store) return ReportError(store.error());
  access::AccessStore& s = **store;
  auto pw = ReadPassword(a.password_file, fmt::format("password for {}: ", a.user), false);
  if (!pw) return ReportError(pw.error());

  access::AuditRecord rec;
  rec.at_ms = access::SystemNowMs();
  rec.action = access::AuditAction::kConsultation;
  rec.client = CliClient();
  rec.purpose = "audit";
  rec.object = fmt::format("audit_log from={} to={} who={} action={} after={} limit={}", a.from,
                           a.to, a.who, a.action, a.after, a.limit);
  auto login = s.Login(a.user, *pw, CliClient(), "audit");
  const bool is_auditor = login && login->principal.role == access::Role::kAuditor;
  rec.user = a.user;
  rec.role = login ? std::string(access::Name(login->principal.role)) : "";
  rec.outcome = is_auditor ? "ok" : "denied";
  rec.detail = login ? "" : std::string(Name(login.error().code));
  std::vector<access::AuditRecord> one{rec};
  // Audit before reading: the consultation is on record even if printing fails.
  if (auto r = access::AppendAudit(s.handle(), one); !r) return ReportError(r.error());
  if (!login) return ReportError(login.error());
  (void)s.Logout(login->token);
  if (!is_auditor) {
    return ReportError({ErrorCode::kForbidden, "only auditors may read the audit log"});
  }

  access::AuditQuery q;
  q.after_seq = a.after;
  q.limit = a.limit;
  if (!a.from.empty()) {
    auto t = ParseInstant(a.from);
    if (!t) return ReportError(t.error());
    q.from_ms = t->time_since_epoch().count() * 1000;
  }
  if (!a.to.empty()) {
    auto t = ParseInstant(a.to);
    if (!t) return ReportError(t.error());
    q.to_ms = t->time_since_epoch().count() * 1000;
  }
  if (!a.who.empty()) q.user = a.who;
  if (!a.action.empty()) {
    q.action = access::ParseAuditAction(a.action);
    if (!q.action) {
      return ReportError({ErrorCode::kInvalidArgument,
                          fmt::format("unknown action '{}' (collection, alteration, consultation, "
                                      "disclosure, combination, erasure, authentication)",
                                      a.action)});
    }
  }
  auto recs = access::ReadAudit(s.handle(), q);
  if (!recs) return ReportError(recs.error());
  if (a.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : *recs) j.push_back(access::AuditRecordJson(r));
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  for (const auto& r : *recs) {
    std::printf("%6lld %s %-16s %-8s %-14s %-7s %3d %-15s %s%s%s%s\n",
                static_cast<long long>(r.seq), access::FormatAuditTime(r.at_ms).c_str(),
                r.user.c_str(), r.role.c_str(), std::string(access::Name(r.action)).c_str(),
                r.outcome.c_str(), r.status, r.client.c_str(), r.object.c_str(),
                r.purpose.empty() ? "" : " purpose=", r.purpose.c_str(),
                r.detail.empty() ? "" : (" [" + r.detail + "]").c_str());
  }
  return 0;
}

CommandRegistrar reg("audit", [](CLI::App& app) -> Action {
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("audit", "Verify or read the tamper-evident audit log.");
  cmd->require_subcommand(1);
  CLI::App* verify = cmd->add_subcommand(
      "verify", "Recompute the hash chain; exit 4 naming the first altered or deleted record.");
  verify->add_option("--db", args->db, "SQLite database")->required();
  verify->add_option("--anchor", args->anchors,
                     "SEQ:HASH printed by an earlier verify; checks the chain was not rewritten");
  CLI::App* show = cmd->add_subcommand("show", "Print audit records (auditors only; audited).");
  show->add_option("--db", args->db, "SQLite database")->required();
  show->add_option("--user", args->user, "your (auditor) user name")->required();
  show->add_option("--password-file", args->password_file,
                   "password file (else CRIMECAST_PASSWORD, else a prompt)");
  show->add_option("--from", args->from, "records at or after (YYYY-MM or ISO 8601, UTC)");
  show->add_option("--to", args->to, "records before");
  show->add_option("--who", args->who, "only this user's records");
  show->add_option("--action", args->action, "only this action kind");
  show->add_option("--after", args->after, "only records with seq greater than this");
  show->add_option("--limit", args->limit, "at most this many records (default 100)");
  show->add_flag("--json", args->json, "JSON output");
  return [cmd, args] {
    for (const CLI::App* s : cmd->get_subcommands()) {
      return s->get_name() == "verify" ? Verify(*args) : Show(*args);
    }
    return kExitInput;
  };
});

}  // namespace
}  // namespace crimecast::cli
