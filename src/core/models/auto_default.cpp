// The production wiring of "auto": candidates come from the model registry (CreateModel). Kept
// apart from auto_model.cpp so that code and tests using MakeAutoModel with their own factory
// do not need the registry.
#include "core/models/auto_model.hpp"
#include "core/models/learned.hpp"

namespace crimecast::models {

Result<std::unique_ptr<Model>> MakeAutoModel(const ModelOptions& options) {
  auto parsed = AutoOptions::FromModelOptions(options);
  if (!parsed) return Unexpected(parsed.error());
  return MakeAutoModel(std::move(*parsed), [](std::string_view name, const ModelOptions& mo) {
    return CreateModel(name, mo);
  });
}

}  // namespace crimecast::models
