// Static files of the web client (web/dist), for GET paths outside /api. Single-page-app rule:
// a path without a file extension that names no file gets index.html, so client-side routes
// survive a reload. Paths are resolved strictly inside the directory (no "..", no symlink
// escapes).
#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/error_response.hpp"
#include "server/routes/routes.hpp"
#include "server/service.hpp"

namespace crimecast::server {
namespace {

std::string_view ContentType(const std::filesystem::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".geojson") return "application/geo+json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".pbf") return "application/x-protobuf";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace

Response ServeStatic(const Service& service, const Request& request) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root = fs::canonical(service.config().static_dir, ec);
  if (ec) return ErrorResponse(ErrorCode::kNotFound, "no web client installed");
  std::string rel = request.path;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  if (rel.find('\0') != std::string::npos) {
    return ErrorResponse(ErrorCode::kInvalidArgument, "bad path");
  }
  for (const auto& part : fs::path(rel)) {
    if (part == "..") return ErrorResponse(ErrorCode::kNotFound, "no such file");
  }
  fs::path file = rel.empty() ? root / "index.html" : root / rel;
  if (fs::is_directory(file, ec)) file /= "index.html";
  if (!fs::is_regular_file(file, ec)) {
    if (fs::path(rel).has_extension()) return ErrorResponse(ErrorCode::kNotFound, "no such file");
    file = root / "index.html";
  }
  const fs::path real = fs::canonical(file, ec);
  if (ec) return ErrorResponse(ErrorCode::kNotFound, "no such file");
  const auto [mismatch, end] = std::mismatch(root.begin(), root.end(), real.begin(), real.end());
  if (mismatch != root.end()) return ErrorResponse(ErrorCode::kNotFound, "no such file");
  std::ifstream in(real, std::ios::binary);
  if (!in) return ErrorResponse(ErrorCode::kNotFound, "no such file");
  std::ostringstream ss;
  ss << in.rdbuf();
  Response r;
  r.content_type = std::string(ContentType(real));
  r.body = std::move(ss).str();
  // Vite fingerprints the names of files under assets/: those can be cached for good; anything
  // else (index.html names the assets) is revalidated.
  r.headers.emplace_back("Cache-Control", rel.starts_with("assets/")
                                              ? "public, max-age=31536000, immutable"
                                              : "no-cache");
  return r;
}

}  // namespace crimecast::server
