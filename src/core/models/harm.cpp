#include "core/models/harm.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

namespace crimecast::models {

HarmWeights HarmWeights::Default() {
  // Order-of-magnitude CCHI-style days for each category's typical offence; the reasoning for
  // each value is in docs/models.md ("Harm weights"). Kept coarse on purpose: a category mixes
  // offences whose starting points differ by orders of magnitude, so more digits would be
  // false precision.
  HarmWeights h;
  h.name = "crimecast-default-v1 (CCHI-style category approximation)";
  auto set = [&](Category c, double w) { h.weight[static_cast<std::size_t>(c)] = w; };
  set(Category::kAntiSocialBehaviour, 1);
  set(Category::kBicycleTheft, 5);
  set(Category::kBurglary, 240);
  set(Category::kCriminalDamageArson, 5);
  set(Category::kDrugs, 3);
  set(Category::kOtherCrime, 30);
  set(Category::kOtherTheft, 5);
  set(Category::kPossessionOfWeapons, 90);
  set(Category::kPublicOrder, 10);
  set(Category::kRobbery, 1460);
  set(Category::kShoplifting, 2);
  set(Category::kTheftFromPerson, 30);
  set(Category::kVehicleCrime, 10);
  set(Category::kViolenceSexualOffences, 120);
  return h;
}

HarmWeights HarmWeights::Uniform() {
  HarmWeights h;
  h.name = "uniform";
  h.weight.fill(1.0);
  return h;
}

Result<HarmWeights> ParseHarmWeights(std::string_view toml_text, std::string_view origin) {
  toml::table root;
  // toml++ reports syntax errors by exception; this is the module boundary, so convert here.
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: not valid TOML: {} (line {})", origin,
                                                         e.description(), e.source().begin.line));
  }
  HarmWeights h;
  h.name = std::string(origin);
  for (auto&& [key, node] : root) {
    if (key.str() == "name") {
      auto v = node.value<std::string>();
      if (!v)
        return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: name must be a string", origin));
      h.name = *v;
    } else if (key.str() != "weights") {
      return Fail(
          ErrorCode::kInvalidArgument,
          fmt::format("{}: unknown key '{}' (expected name and [weights])", origin, key.str()));
    }
  }
  const toml::table* weights = root["weights"].as_table();
  if (weights == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: missing [weights] table", origin));
  }
  std::array<std::optional<double>, kCategoryCount> got{};
  std::optional<double> fallback;
  for (auto&& [key, node] : *weights) {
    const std::optional<double> v = node.value<double>();
    if (!v || !std::isfinite(*v) || *v < 0) {
      return Fail(
          ErrorCode::kInvalidArgument,
          fmt::format("{}: weight of '{}' must be a finite number >= 0", origin, key.str()));
    }
    if (key.str() == "default") {
      fallback = *v;
      continue;
    }
    const auto c = ParseCategory(key.str());
    if (!c) {
      return Fail(ErrorCode::kUnknownCategory,
                  fmt::format("{}: unknown category '{}' in [weights]", origin, key.str()));
    }
    got[static_cast<std::size_t>(*c)] = *v;
  }
  std::string missing;
  for (int i = 0; i < kCategoryCount; ++i) {
    const auto idx = static_cast<std::size_t>(i);
    if (got[idx]) {
      h.weight[idx] = *got[idx];
    } else if (fallback) {
      h.weight[idx] = *fallback;
    } else {
      missing += (missing.empty() ? "" : ", ") + std::string(Slug(static_cast<Category>(i)));
    }
  }
  if (!missing.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: no weight for {} (list them or give `default`)", origin, missing));
  }
  return h;
}

Result<HarmWeights> LoadHarmWeights(const std::string& path_or_default) {
  if (path_or_default == "default") return HarmWeights::Default();
  std::ifstream in(path_or_default, std::ios::binary);
  if (!in) {
    return Fail(ErrorCode::kFileNotFound,
                fmt::format("harm weight file '{}' cannot be opened", path_or_default));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseHarmWeights(ss.str(), path_or_default);
}

}  // namespace crimecast::models
