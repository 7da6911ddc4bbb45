#include "core/ingest/text.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <mutex>

namespace crimecast::ingest {
namespace {

// True when any byte of w is zero (the classic "haszero" bit trick).
constexpr bool HasZeroByte(std::uint64_t w) {
  return ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL) != 0;
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

void EnsureSodium() {
  // sodium_init picks the fastest BLAKE2b implementation for this CPU; it is idempotent and
  // thread-safe, but call_once keeps it off the per-row path.
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) {
      // Without init libsodium still hashes with its portable implementation; nothing to do.
    }
  });
}

}  // namespace

bool IsPlainAscii(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    if ((w & 0x8080808080808080ULL) != 0 || HasZeroByte(w)) return false;
  }
  for (; i < n; ++i) {
    if (p[i] == 0 || p[i] >= 0x80) return false;
  }
  return true;
}

TextCheck CheckText(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    // Fast path: 8 ASCII, non-NUL bytes at a time (almost every byte of a crime file).
    if (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ULL) == 0 && !HasZeroByte(w)) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    if (c == 0) return {TextProblem::kNulByte, i};
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return {TextProblem::kInvalidUtf8, i};  // continuation byte, overlong lead, or > U+10FFFF
    }
    if (i + len > n) return {TextProblem::kInvalidUtf8, i};
    for (std::size_t k = 1; k < len; ++k) {
      const unsigned char cc = p[i + k];
      if ((cc & 0xC0u) != 0x80u) return {TextProblem::kInvalidUtf8, i};
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    if (overlong || surrogate || cp > 0x10FFFF) return {TextProblem::kInvalidUtf8, i};
    i += len;
  }
  return {};
}

std::string DescribeTextProblem(const TextCheck& check, std::string_view s) {
  switch (check.problem) {
    case TextProblem::kNone:
      return "ok";
    case TextProblem::kNulByte:
      return fmt::format("embedded NUL byte at offset {}", check.offset);
    case TextProblem::kInvalidUtf8:
      return fmt::format("invalid UTF-8 (byte 0x{:02X} at offset {}); the file must be UTF-8",
                         static_cast<unsigned char>(s[check.offset]), check.offset);
  }
  return "unknown text problem";
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool ParseFiniteDouble(std::string_view s, double& out) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  // from_chars accepts "inf"/"nan"; only digits, sign, '.', and exponents are numbers here.
  const char c0 = s.front() == '-' && s.size() > 1 ? s[1] : s.front();
  if (!((c0 >= '0' && c0 <= '9') || c0 == '.')) return false;
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return false;
  out = v;
  return true;
}

bool ParseInt64(std::string_view s, std::int64_t& out) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return false;
  out = v;
  return true;
}

std::string Excerpt(std::string_view s, std::size_t max_chars) {
  std::string out;
  const std::size_t n = std::min(s.size(), max_chars);
  out.reserve(n + 8);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7F || c == '\\') {
      out += fmt::format("\\x{:02X}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max_chars) out += "...";
  return out;
}

DerivedIdGenerator::DerivedIdGenerator(std::string_view domain) : domain_(domain) {
  EnsureSodium();
}

std::string DerivedIdGenerator::Next(std::initializer_list<std::string_view> parts) {
  return Next(std::span<const std::string_view>(parts.begin(), parts.size()));
}

std::string DerivedIdGenerator::Next(std::span<const std::string_view> parts) {
  message_.assign(domain_);
  for (std::string_view part : parts) {
    const auto len = static_cast<std::uint32_t>(part.size());
    char prefix[4] = {static_cast<char>(len & 0xFF), static_cast<char>((len >> 8) & 0xFF),
                      static_cast<char>((len >> 16) & 0xFF), static_cast<char>(len >> 24)};
    message_.append(prefix, 4);
    message_.append(part);
  }
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(message_.data()),
                     message_.size(), nullptr, 0);
  return Finish(digest);
}

std::uint32_t DerivedIdGenerator::Bump(std::uint64_t a, std::uint64_t b) {
  if (2 * (used_ + 1) > slots_.size()) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<std::size_t>(1024, old.size() * 2), Slot{});
    used_ = 0;
    for (const Slot& s : old) {
      if (s.count == 0) continue;
      std::size_t i = static_cast<std::size_t>(s.a) & (slots_.size() - 1);
      while (slots_[i].count != 0) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = s;
      ++used_;
    }
  }
  // The digest is uniformly random, so its first word is a perfect hash.
  std::size_t i = static_cast<std::size_t>(a) & (slots_.size() - 1);
  while (slots_[i].count != 0) {
    if (slots_[i].a == a && slots_[i].b == b) return ++slots_[i].count;
    i = (i + 1) & (slots_.size() - 1);
  }
  slots_[i] = Slot{a, b, 1};
  ++used_;
  return 1;
}

std::string DerivedIdGenerator::Finish(const unsigned char* digest) {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::memcpy(&a, digest, 8);
  std::memcpy(&b, digest + 8, 8);
  const std::uint32_t ordinal = Bump(a, b);
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[64 + 1 + 10];
  for (int i = 0; i < 32; ++i) {
    buf[2 * i] = kHex[digest[i] >> 4];
    buf[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  buf[64] = '#';
  auto [end, ec] = std::to_chars(buf + 65, buf + sizeof buf, ordinal);
  return std::string(buf, end);
}

}  // namespace crimecast::ingest
