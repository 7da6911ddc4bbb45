// core/access/credentials.hpp
//
// Passwords and bearer tokens (libsodium).
//
// * Passwords are stored only as argon2id hashes in libsodium's self-describing string format
//   ("$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>"), so the cost parameters travel with each
//   hash and can be raised later (NeedsRehash). Default cost: libsodium's INTERACTIVE limits
//   (2 passes, 64 MiB), about 0.1 s per sign-in on one core; tests use the minimum cost.
// * Tokens are 256 random bits (randombytes_buf), written as a prefix plus 43 base64url
//   characters: "ccs_..." for session tokens, "cca_..." for API tokens of machine feeds.
//   The database stores only sha256(token) in hex, so a stolen database does not yield
//   usable tokens; a token is shown once, when it is created.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/error.hpp"

namespace crimecast::access {

struct PasswordCost {
  std::uint64_t ops_limit;
  std::size_t mem_limit_bytes;
  static PasswordCost Interactive();  // libsodium OPSLIMIT/MEMLIMIT_INTERACTIVE
  static PasswordCost Minimum();      // for tests only
};

// Password policy: 12..1024 bytes (NCSC favours long passphrases over composition rules; the
// upper bound stops hashing from being used for denial of service), not the user name.
Result<void> CheckPasswordPolicy(std::string_view user_name, std::string_view password);

Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost);
// Constant-time with respect to the password; false for a malformed hash.
bool VerifyPassword(const std::string& hash, std::string_view password);
bool NeedsRehash(const std::string& hash, const PasswordCost& cost);

inline constexpr std::string_view kSessionTokenPrefix = "ccs_";
inline constexpr std::string_view kApiTokenPrefix = "cca_";

// A fresh random token: prefix + base64url(32 random bytes) without padding.
std::string NewToken(std::string_view prefix);
// sha256 of the token's bytes, lowercase hex (what the database stores).
std::string TokenHash(std::string_view token);

using Sha256Digest = std::array<std::uint8_t, 32>;
Sha256Digest Sha256(std::string_view bytes);
std::string ToHex(const std::uint8_t* data, std::size_t size);
inline std::string ToHex(const Sha256Digest& d) { return ToHex(d.data(), d.size()); }
// Parses 64 hex characters; false on anything else.
bool FromHex(std::string_view hex, Sha256Digest& out);

// Initialises libsodium once (thread-safe, idempotent). Every function above calls it.
void EnsureSodium();

}  // namespace crimecast::access
