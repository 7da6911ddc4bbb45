#include "core/access/credentials.hpp"

#include <gtest/gtest.h>

#include <set>

namespace crimecast::access {
namespace {

TEST(Credentials, Argon2idHashVerifiesOnlyTheRightPassword) {
  auto hash = HashPassword("correct horse battery", PasswordCost::Minimum());
  ASSERT_TRUE(hash) << hash.error().message;
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse batterx"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
  EXPECT_FALSE(VerifyPassword("", "correct horse battery"));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "correct horse battery"));
  // Salted: two hashes of one password differ.
  auto again = HashPassword("correct horse battery", PasswordCost::Minimum());
  EXPECT_NE(*hash, *again);
  EXPECT_TRUE(NeedsRehash(*hash, PasswordCost::Interactive()));
  EXPECT_FALSE(NeedsRehash(*hash, PasswordCost::Minimum()));
}

TEST(Credentials, PasswordPolicy) {
  EXPECT_FALSE(CheckPasswordPolicy("alice", "short"));
  EXPECT_EQ(CheckPasswordPolicy("alice", "short").error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(CheckPasswordPolicy("alice.longname", "alice.longname"));
  EXPECT_FALSE(CheckPasswordPolicy("alice", std::string(1025, 'x')));
  EXPECT_TRUE(CheckPasswordPolicy("alice", "three random words"));
}

TEST(Credentials, TokensAreRandom256BitAndStoredHashed) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string t = NewToken(kSessionTokenPrefix);
    EXPECT_TRUE(t.starts_with("ccs_"));
    EXPECT_EQ(t.size(), 4u + 43u);  // 32 bytes -> 43 base64url characters without padding
    EXPECT_EQ(
        t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 4),
        std::string::npos);
    EXPECT_TRUE(seen.insert(t).second);
  }
  const std::string h = TokenHash("ccs_abc");
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(h, TokenHash("ccs_abc"));
  EXPECT_NE(h, TokenHash("ccs_abd"));
}

TEST(Credentials, Sha256KnownAnswerAndHexRoundTrip) {
  // FIPS 180-2 test vector.
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Digest d{};
  ASSERT_TRUE(FromHex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", d));
  EXPECT_EQ(ToHex(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_FALSE(FromHex("xx", d));
  EXPECT_FALSE(FromHex(std::string(64, 'g'), d));
}

}  // namespace
}  // namespace crimecast::access
