// server/openapi.hpp: the OpenAPI 3 description of the HTTP API (docs/openapi.json), embedded
// at build time and served at GET /api/openapi.json.
#pragma once

#include <string_view>

namespace crimecast::server {
std::string_view OpenApiJson();
}  // namespace crimecast::server
