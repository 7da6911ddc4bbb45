#include "core/spatial/gdal_api.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <mutex>
#include <optional>

#include "core/common/assert.hpp"

#ifndef CRIMECAST_GDAL_LIBRARY
#define CRIMECAST_GDAL_LIBRARY "libgdal.so"
#endif

namespace crimecast::spatial::internal {
namespace {

struct Loaded {
  GdalApi api;
  std::optional<Error> error;
  bool ok = false;
};

Loaded& State() {
  static Loaded state;
  return state;
}

void Load(Loaded& out) {
  // RTLD_GLOBAL: GDAL's drivers and plugins resolve symbols against the library itself. The
  // handle is never closed (GDAL keeps global state until exit).
  void* lib = dlopen(CRIMECAST_GDAL_LIBRARY, RTLD_NOW | RTLD_GLOBAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    out.error =
        Error{ErrorCode::kInternal, fmt::format("cannot load GDAL ({}): {}", CRIMECAST_GDAL_LIBRARY,
                                                why != nullptr ? why : "unknown reason")};
    return;
  }
#define CRIMECAST_GDAL_LOOKUP(name)                                                        \
  out.api.name = reinterpret_cast<decltype(&::name)>(dlsym(lib, #name));                   \
  if (out.api.name == nullptr) {                                                           \
    out.error = Error{ErrorCode::kInternal, fmt::format("GDAL ({}) lacks the function {}", \
                                                        CRIMECAST_GDAL_LIBRARY, #name)};   \
    return;                                                                                \
  }
  CRIMECAST_GDAL_FUNCTIONS(CRIMECAST_GDAL_LOOKUP)
#undef CRIMECAST_GDAL_LOOKUP
  out.api.GDALAllRegister();
  out.ok = true;
}

}  // namespace

Result<const GdalApi*> LoadGdal() {
  static std::once_flag once;
  Loaded& state = State();
  std::call_once(once, [&state] { Load(state); });
  if (!state.ok) return Unexpected(*state.error);
  return &state.api;
}

const GdalApi& Gdal() {
  CRIMECAST_ASSERT(State().ok, "Gdal() before a successful LoadGdal()");
  return State().api;
}

}  // namespace crimecast::spatial::internal
