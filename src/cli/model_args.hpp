// cli/model_args.hpp: parsing --param options shared by forecast and backtest.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/common/error.hpp"

namespace crimecast::cli {

// Each item is "key=value" (applies to every model in `models`) or "model.key=value" (one
// model, which must be in `models`). Values are numbers. Returns params per model name (every
// model in `models` has an entry, possibly empty).
Result<std::map<std::string, std::map<std::string, double>>> ParseModelParams(
    const std::vector<std::string>& items, const std::vector<std::string>& models);

}  // namespace crimecast::cli
