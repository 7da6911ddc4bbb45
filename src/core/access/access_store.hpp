// core/access/access_store.hpp
//
// Users, sign-in, sessions and API tokens, kept in the access tables of the crimecast database
// (access/schema.hpp).
//
// Concepts and rules:
// * A user has one Role (access/roles.hpp) and an argon2id password hash
//   (access/credentials.hpp). User names are 1..64 characters of [A-Za-z0-9._@-], compared
//   case-insensitively.
// * Sign-in (Login) checks the password and opens a SESSION: a random 256-bit token returned
//   once and stored hashed. A session ends at the first of: logout, `expires_at` (absolute
//   lifetime, default 12 h: one shift), or `idle_timeout` without a request (default 30 min).
// * Lock-out: after `max_failed_logins` (5) consecutive wrong passwords the account is locked
//   until an admin resets it (`crimecast user reset`); a locked account refuses even the right
//   password. Wrong user name and wrong password give the same error, in about the same time,
//   so sign-in does not reveal which user names exist.
// * API TOKENS are long-lived bearer tokens for machine feeds, bound to a user (and so to a
//   role); they may carry an expiry and can be revoked. They are not subject to idle expiry.
// * Disabling a user or resetting a password revokes all of the user's sessions.
//
// Times are UTC milliseconds from the injectable clock (tests move time forward).
// Thread-safety: an AccessStore uses one SQLite connection and is not thread-safe; give each
// thread its own (several connections and processes may share the database: writes use SQLite's
// locking, read-modify-writes run in BEGIN IMMEDIATE transactions or single UPDATE statements).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/access/credentials.hpp"
#include "core/access/roles.hpp"
#include "core/common/error.hpp"

struct sqlite3;

namespace crimecast::access {

using Clock = std::function<std::int64_t()>;  // UTC milliseconds
std::int64_t SystemNowMs();

struct AccessOptions {
  std::int64_t idle_timeout_s = 30 * 60;
  std::int64_t session_lifetime_s = 12 * 3600;
  int max_failed_logins = 5;
  // A session's last_seen_at is written at most this often (reads would otherwise each cost a
  // durable write); idle expiry is therefore accurate to this many seconds.
  std::int64_t touch_interval_s = 60;
  PasswordCost password_cost = PasswordCost::Interactive();
  Clock clock = SystemNowMs;
};

struct UserInfo {
  std::int64_t id = 0;
  std::string name;
  Role role = Role::kOfficer;
  bool disabled = false;
  bool locked = false;
  int failed_logins = 0;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> last_login_at;
  std::int64_t active_sessions = 0;
};

// The authenticated caller of a request.
struct Principal {
  std::int64_t user_id = 0;
  std::string user_name;
  Role role = Role::kOfficer;
  enum class Kind { kSession, kApiToken } kind = Kind::kSession;
  std::string token_hash;       // hex sha256 of the bearer token (rate limiting, logout)
  std::string purpose;          // stated at sign-in (sessions); "" for API tokens
  std::int64_t expires_at = 0;  // absolute expiry (0: none)
};

struct LoginResult {
  std::string token;  // shown once
  Principal principal;
};

struct ApiTokenInfo {
  std::int64_t id = 0;
  std::string user_name;
  std::string label;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> expires_at;
  std::optional<std::int64_t> last_used_at;
  bool revoked = false;
};

class AccessStore {
 public:
  // Opens the database file (creating it when `create`) and brings the access tables up to date.
  static Result<std::unique_ptr<AccessStore>> Open(const std::string& path, AccessOptions options,
                                                   bool create = true);
  // Uses a connection owned by someone else (e.g. the event store's), which must outlive this.
  static Result<std::unique_ptr<AccessStore>> Attach(sqlite3* db, AccessOptions options);
  ~AccessStore();
  AccessStore(const AccessStore&) = delete;
  AccessStore& operator=(const AccessStore&) = delete;

  // --- users (admin operations) ---
  Result<UserInfo> CreateUser(const std::string& name, Role role, const std::string& password);
  Result<std::vector<UserInfo>> ListUsers();
  Result<UserInfo> GetUser(const std::string& name);
  // Disabling revokes the user's sessions and API tokens stop working until re-enabled.
  Result<void> SetDisabled(const std::string& name, bool disabled);
  // New password; clears lock-out and failed count; revokes the user's sessions.
  Result<void> ResetPassword(const std::string& name, const std::string& password);
  Result<void> SetRole(const std::string& name, Role role);

  // --- sessions ---
  // Errors: kUnauthenticated (unknown user or wrong password: one message for both),
  // kAccountLocked, kAccountDisabled.
  Result<LoginResult> Login(const std::string& name, const std::string& password,
                            const std::string& client, const std::string& purpose);
  // Revokes the session of this token (no error when already ended).
  Result<void> Logout(const std::string& token);
  // Resolves a bearer token (session or API token). Errors: kUnauthenticated (unknown or
  // revoked), kSessionExpired (idle or past its lifetime), kAccountDisabled, kAccountLocked.
  Result<Principal> Authenticate(const std::string& token);
  // Deletes sessions that ended more than `keep_s` ago; returns how many.
  Result<std::int64_t> PurgeEndedSessions(std::int64_t keep_s = 7 * 24 * 3600);

  // --- API tokens ---
  // Returns the token (shown once) and its id.
  Result<std::pair<std::string, ApiTokenInfo>> CreateApiToken(
      const std::string& user_name, const std::string& label,
      std::optional<std::int64_t> lifetime_s = std::nullopt);
  Result<std::vector<ApiTokenInfo>> ListApiTokens();
  Result<void> RevokeApiToken(std::int64_t id);

  const AccessOptions& options() const { return options_; }
  sqlite3* handle() { return db_; }

 private:
  AccessStore(sqlite3* db, bool owned, AccessOptions options)
      : db_(db), owned_(owned), options_(std::move(options)) {}
  std::int64_t Now() const { return options_.clock(); }
  Result<void> RevokeSessionsOf(std::int64_t user_id);

  sqlite3* db_;
  bool owned_;
  AccessOptions options_;
  std::string dummy_hash_;  // verified against when the user is unknown (equal timing)
};

// Checks a user name: 1..64 of [A-Za-z0-9._@-].
Result<void> CheckUserName(const std::string& name);

}  // namespace crimecast::access
