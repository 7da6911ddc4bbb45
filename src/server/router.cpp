#include "server/router.hpp"

namespace crimecast::server {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::vector<std::pair<std::string, std::string>>& params) {
  const auto p = Segments(pattern);
  const auto s = Segments(path);
  if (p.size() != s.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i].size() >= 2 && p[i].front() == '{' && p[i].back() == '}') {
      if (s[i].empty()) return false;
      params.emplace_back(std::string(p[i].substr(1, p[i].size() - 2)), std::string(s[i]));
    } else if (p[i] != s[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

void Router::Add(Route route) { routes_.push_back(std::move(route)); }

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match m;
  std::vector<std::pair<std::string, std::string>> params;
  for (const Route& r : routes_) {
    if (!MatchPattern(r.pattern, path, params)) continue;
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      m.route = &r;
      m.params = std::move(params);
      m.allow.clear();
      return m;
    }
    if (m.allow.find(r.method) == std::string::npos) {
      m.allow += m.allow.empty() ? r.method : ", " + r.method;
    }
  }
  return m;
}

}  // namespace crimecast::server
