// crimecast user: manage the people and machine feeds that may use the server.
//
//   crimecast user add    --db DB --name N --role R     (password: --password-file, the
//                                                         CRIMECAST_PASSWORD variable or a prompt)
//   crimecast user list   --db DB [--json]
//   crimecast user disable|enable --db DB --name N
//   crimecast user reset  --db DB --name N               (new password; unlocks; ends sessions)
//   crimecast user role   --db DB --name N --role R
//   crimecast user token  --db DB --name N --label L [--days D]   (prints the token once)
//   crimecast user tokens --db DB
//   crimecast user revoke-token --db DB --id ID
//
// Whoever can write the database file administers it (as with a database superuser reached
// through the operating system's own login), so these commands ask for no admin password; each
// change is appended to the audit log under "cli:<login name>".
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cli_audit.hpp"
#include "cli/commands.hpp"
#include "cli/password_input.hpp"
#include "core/access/access_store.hpp"
#include "core/access/audit_log.hpp"
#include "core/common/time.hpp"

namespace crimecast::cli {
namespace {

struct Args {
  std::string db;
  std::string name;
  std::string role;
  std::string password_file;
  std::string label;
  double days = 0;
  std::int64_t id = 0;
  bool json = false;
};

std::string FormatMs(std::optional<std::int64_t> ms) {
  if (!ms) return "-";
  return FormatIso(TimePoint{Seconds{*ms / 1000}});
}

// Appends one audit record for a CLI action; a failure to audit fails the command, because an
// unaudited change is exactly what the log exists to prevent.
int Audit(access::AccessStore& store, access::AuditAction action, const std::string& object,
          const std::string& outcome, const std::string& detail) {
  access::AuditRecord r = CliAuditRecord(action, object, outcome, "user administration", detail);
  r.role = "admin";
  std::vector<access::AuditRecord> one{std::move(r)};
  if (auto a = access::AppendAudit(store.handle(), one); !a) return ReportError(a.error());
  return 0;
}

// Runs `op`; audits its outcome; reports.
template <class Op>
int Change(access::AccessStore& store, access::AuditAction action, const std::string& object,
           const std::string& detail, Op&& op) {
  Result<void> r = op();
  if (int rc = Audit(store, action, object, r ? "ok" : "error",
                     r ? detail : detail + " error=" + std::string(Name(r.error().code)));
      rc != 0) {
    return rc;
  }
  if (!r) return ReportError(r.error());
  return 0;
}

Result<access::Role> RoleArg(const std::string& text) {
  auto role = access::ParseRole(text);
  if (!role) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("unknown role '{}' (officer, analyst, partner, auditor, admin)", text));
  }
  return *role;
}

int Run(const std::string& sub, const Args& a) {
  access::AccessOptions options;
  auto opened = access::AccessStore::Open(a.db, options, /*create=*/sub == "add");
  if (!opened) return ReportError(opened.error());
  access::AccessStore& store = **opened;
  const std::string object = "user:" + a.name;

  if (sub == "add") {
    auto role = RoleArg(a.role);
    if (!role) return ReportError(role.error());
    auto pw = ReadPassword(a.password_file, fmt::format("password for {}: ", a.name), true);
    if (!pw) return ReportError(pw.error());
    return Change(store, access::AuditAction::kCollection, object,
                  fmt::format("role={}", access::Name(*role)), [&]() -> Result<void> {
                    auto u = store.CreateUser(a.name, *role, *pw);
                    if (!u) return Unexpected(u.error());
                    std::printf("user '%s' added with role %s\n", u->name.c_str(),
                                std::string(access::Name(u->role)).c_str());
                    return {};
                  });
  }
  if (sub == "list") {
    auto users = store.ListUsers();
    if (!users) return ReportError(users.error());
    if (int rc = Audit(store, access::AuditAction::kConsultation, "users", "ok",
                       fmt::format("rows={}", users->size()));
        rc != 0) {
      return rc;
    }
    if (a.json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& u : *users) {
        j.push_back({{"name", u.name},
                     {"role", access::Name(u.role)},
                     {"disabled", u.disabled},
                     {"locked", u.locked},
                     {"failed_logins", u.failed_logins},
                     {"active_sessions", u.active_sessions},
                     {"created_at", FormatMs(u.created_at)},
                     {"last_login_at", FormatMs(u.last_login_at)}});
      }
      std::printf("%s\n", j.dump(2).c_str());
      return 0;
    }
    std::printf("%-24s %-8s %-9s %8s %8s  %-20s\n", "name", "role", "state", "failed", "sessions",
                "last sign-in");
    for (const auto& u : *users) {
      const char* state = u.disabled ? "disabled" : (u.locked ? "LOCKED" : "active");
      std::printf("%-24s %-8s %-9s %8d %8lld  %-20s\n", u.name.c_str(),
                  std::string(access::Name(u.role)).c_str(), state, u.failed_logins,
                  static_cast<long long>(u.active_sessions), FormatMs(u.last_login_at).c_str());
    }
    return 0;
  }
  if (sub == "disable" || sub == "enable") {
    const bool disable = sub == "disable";
    return Change(store, access::AuditAction::kAlteration, object, disable ? "disabled" : "enabled",
                  [&]() -> Result<void> {
                    if (auto r = store.SetDisabled(a.name, disable); !r) return r;
                    std::printf("user '%s' %s\n", a.name.c_str(),
                                disable ? "disabled (sessions ended)" : "enabled");
                    return {};
                  });
  }
  if (sub == "reset") {
    if (auto u = store.GetUser(a.name); !u) return ReportError(u.error());
    auto pw = ReadPassword(a.password_file, fmt::format("new password for {}: ", a.name), true);
    if (!pw) return ReportError(pw.error());
    return Change(store, access::AuditAction::kAlteration, object, "password reset, unlocked",
                  [&]() -> Result<void> {
                    if (auto r = store.ResetPassword(a.name, *pw); !r) return r;
                    std::printf("user '%s': password reset, lock-out cleared, sessions ended\n",
                                a.name.c_str());
                    return {};
                  });
  }
  if (sub == "role") {
    auto role = RoleArg(a.role);
    if (!role) return ReportError(role.error());
    return Change(store, access::AuditAction::kAlteration, object,
                  fmt::format("role={}", access::Name(*role)), [&]() -> Result<void> {
                    if (auto r = store.SetRole(a.name, *role); !r) return r;
                    std::printf("user '%s' now has role %s (sessions ended)\n", a.name.c_str(),
                                std::string(access::Name(*role)).c_str());
                    return {};
                  });
  }
  if (sub == "token") {
    std::optional<std::int64_t> lifetime;
    if (a.days > 0) lifetime = static_cast<std::int64_t>(a.days * 86400.0);
    std::string token;
    std::int64_t id = 0;
    int rc = Change(store, access::AuditAction::kCollection, "api-token:" + a.label,
                    fmt::format("for={} days={:g}", a.name, a.days), [&]() -> Result<void> {
                      auto t = store.CreateApiToken(a.name, a.label, lifetime);
                      if (!t) return Unexpected(t.error());
                      token = t->first;
                      id = t->second.id;
                      return {};
                    });
    if (rc != 0) return rc;
    std::fprintf(stderr, "API token %lld for '%s' (shown once; store it securely):\n",
                 static_cast<long long>(id), a.name.c_str());
    std::printf("%s\n", token.c_str());
    return 0;
  }
  if (sub == "tokens") {
    auto tokens = store.ListApiTokens();
    if (!tokens) return ReportError(tokens.error());
    std::printf("%5s %-20s %-30s %-20s %-20s %s\n", "id", "user", "label", "expires", "last used",
                "state");
    for (const auto& t : *tokens) {
      std::printf("%5lld %-20s %-30.30s %-20s %-20s %s\n", static_cast<long long>(t.id),
                  t.user_name.c_str(), t.label.c_str(), FormatMs(t.expires_at).c_str(),
                  FormatMs(t.last_used_at).c_str(), t.revoked ? "revoked" : "active");
    }
    return 0;
  }
  if (sub == "revoke-token") {
    return Change(store, access::AuditAction::kAlteration, fmt::format("api-token:{}", a.id),
                  "revoked", [&]() -> Result<void> {
                    if (auto r = store.RevokeApiToken(a.id); !r) return r;
                    std::printf("API token %lld revoked\n", static_cast<long long>(a.id));
                    return {};
                  });
  }
  return ReportError({ErrorCode::kInvalidArgument, "unknown user command: " + sub});
}

CommandRegistrar reg("user", [](CLI::App& app) -> Action {
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("user", "Manage users, roles and API tokens.");
  cmd->require_subcommand(1);
  auto db = [&](CLI::App* s) { s->add_option("--db", args->db, "SQLite database")->required(); };
  auto name = [&](CLI::App* s) { s->add_option("--name", args->name, "user name")->required(); };
  auto pwfile = [&](CLI::App* s) {
    s->add_option("--password-file", args->password_file,
                  "read the password from the first line of this file (else CRIMECAST_PASSWORD, "
                  "else a prompt or standard input)");
  };
  CLI::App* add = cmd->add_subcommand("add", "Add a user.");
  db(add);
  name(add);
  add->add_option("--role", args->role, "officer, analyst, partner, auditor or admin")->required();
  pwfile(add);
  CLI::App* list = cmd->add_subcommand("list", "List users (no secrets).");
  db(list);
  list->add_flag("--json", args->json, "JSON output");
  for (const char* s : {"disable", "enable"}) {
    CLI::App* c = cmd->add_subcommand(s, std::string(s) == "disable"
                                             ? "Disable a user and end their sessions."
                                             : "Enable a disabled user.");
    db(c);
    name(c);
  }
  CLI::App* reset = cmd->add_subcommand(
      "reset", "Set a new password, clear a lock-out and end the user's sessions.");
  db(reset);
  name(reset);
  pwfile(reset);
  CLI::App* role = cmd->add_subcommand("role", "Change a user's role (ends their sessions).");
  db(role);
  name(role);
  role->add_option("--role", args->role, "officer, analyst, partner, auditor or admin")->required();
  CLI::App* token = cmd->add_subcommand("token", "Create an API token for a machine feed.");
  db(token);
  name(token);
  token->add_option("--label", args->label, "what the token is for")->required();
  token->add_option("--days", args->days, "lifetime in days (default: no expiry)");
  CLI::App* tokens = cmd->add_subcommand("tokens", "List API tokens (never the tokens).");
  db(tokens);
  CLI::App* revoke = cmd->add_subcommand("revoke-token", "Revoke an API token.");
  db(revoke);
  revoke->add_option("--id", args->id, "token id (from `user tokens`)")->required();
  return [cmd, args] {
    for (const CLI::App* s : cmd->get_subcommands()) return Run(s->get_name(), *args);
    return kExitInput;
  };
});

}  // namespace
}  // namespace crimecast::cli
