#include "cli/model_args.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace crimecast::cli {

Result<std::map<std::string, std::map<std::string, double>>> ParseModelParams(
    const std::vector<std::string>& items, const std::vector<std::string>& models) {
  std::map<std::string, std::map<std::string, double>> out;
  for (const auto& m : models) out[m];
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("--param '{}' must be key=value or model.key=value", item));
    }
    std::string lhs = item.substr(0, eq);
    const std::string value_text = item.substr(eq + 1);
    double value = 0;
    auto [p, ec] = std::from_chars(value_text.data(), value_text.data() + value_text.size(), value);
    if (ec != std::errc() || p != value_text.data() + value_text.size() || !std::isfinite(value)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("--param '{}': '{}' is not a number", item, value_text));
    }
    const auto dot = lhs.find('.');
    if (dot == std::string::npos) {
      for (auto& [name, params] : out) params[lhs] = value;
      continue;
    }
    const std::string model = lhs.substr(0, dot);
    const std::string key = lhs.substr(dot + 1);
    if (std::find(models.begin(), models.end(), model) == models.end()) {
      return Fail(
          ErrorCode::kUnknownModel,
          fmt::format("--param '{}' names model '{}', which is not being run", item, model));
    }
    if (key.empty()) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("--param '{}' has no key", item));
    }
    out[model][key] = value;
  }
  return out;
}

}  // namespace crimecast::cli
