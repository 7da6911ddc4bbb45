// core/models/params.hpp
//
// Reading ModelOptions::params with defaults and ranges. The model.hpp contract says an unknown
// key is an error, never silently ignored: Finish() reports every key that no Get() asked for,
// and every value outside its range.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "core/common/error.hpp"
#include "core/models/model.hpp"

namespace crimecast::models {

class ParamReader {
 public:
  ParamReader(std::string_view model, const ModelOptions& options);

  // The value of `key`, or `fallback` when absent. Values outside [min, max] (or non-finite)
  // are recorded as errors and `fallback` is returned.
  double Get(const std::string& key, double fallback, double min, double max);
  // As Get, and the value must be a whole number.
  int GetInt(const std::string& key, int fallback, int min, int max);
  bool Has(const std::string& key) const;

  // kInvalidArgument naming the first problem: an unknown key (listing the known ones) or a
  // value out of range.
  Result<void> Finish() const;

 private:
  std::string model_;
  const ModelOptions& options_;
  std::set<std::string> known_;
  std::string first_error_;
};

}  // namespace crimecast::models
