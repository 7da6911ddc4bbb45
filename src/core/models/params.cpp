#include "core/models/params.hpp"

#include <fmt/format.h>

#include <cmath>

namespace crimecast::models {

ParamReader::ParamReader(std::string_view model, const ModelOptions& options)
    : model_(model), options_(options) {}

double ParamReader::Get(const std::string& key, double fallback, double min, double max) {
  known_.insert(key);
  auto it = options_.params.find(key);
  if (it == options_.params.end()) return fallback;
  const double v = it->second;
  if (!std::isfinite(v) || v < min || v > max) {
    if (first_error_.empty()) {
      first_error_ = fmt::format("model {}: {} = {} is outside [{}, {}]", model_, key, v, min, max);
    }
    return fallback;
  }
  return v;
}

int ParamReader::GetInt(const std::string& key, int fallback, int min, int max) {
  const double v = Get(key, fallback, min, max);
  if (v != std::floor(v)) {
    if (first_error_.empty()) {
      first_error_ = fmt::format("model {}: {} = {} must be a whole number", model_, key, v);
    }
    return fallback;
  }
  return static_cast<int>(v);
}

bool ParamReader::Has(const std::string& key) const { return options_.params.contains(key); }

Result<void> ParamReader::Finish() const {
  for (const auto& [key, value] : options_.params) {
    if (!known_.contains(key)) {
      std::string known;
      for (const auto& k : known_) known += (known.empty() ? "" : ", ") + k;
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("model {} has no parameter '{}' (known: {})", model_, key,
                              known.empty() ? "none" : known));
    }
  }
  if (!first_error_.empty()) return Fail(ErrorCode::kInvalidArgument, first_error_);
  return {};
}

}  // namespace crimecast::models
