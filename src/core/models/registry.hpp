// core/models/registry.hpp
//
// The catalogue behind CreateModel / ModelNames (model.hpp): every model crimecast can run,
// with a one-line summary and its parameters, in display order. docs/models.md has the full
// description of each.
#pragma once

#include <string>
#include <vector>

namespace crimecast::models {

struct ModelInfo {
  std::string name;
  std::string summary;
  std::string parameters;  // "key (default): meaning; ..." or empty
};

const std::vector<ModelInfo>& ModelCatalog();

// The model used when the user names none: "auto" once it is registered, else "naive-all".
std::string DefaultModelName();

}  // namespace crimecast::models
