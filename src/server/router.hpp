// server/router.hpp
//
// The route table: method + path pattern -> handler, with the access rules of each route in one
// place (authentication, the permission checked, whether and how it is audited). Patterns are
// literal segments and "{name}" captures: "/api/cells/{id}". A path that matches a pattern with
// another method gives 405 with an Allow header; no match gives 404.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/access/audit_log.hpp"
#include "core/access/roles.hpp"
#include "server/http_types.hpp"

namespace crimecast::server {

class Exchange;
class Service;
using Handler = std::function<void(Service& service, const std::shared_ptr<Exchange>& exchange)>;

struct Route {
  std::string method;
  std::string pattern;
  bool authenticate = true;                      // 401 without a valid token
  std::optional<access::Permission> permission;  // 403 when the role lacks it
  bool audited = true;                           // data-touching: one audit record per request
  access::AuditAction action = access::AuditAction::kConsultation;
  bool rate_limited = true;
  Handler handler;
};

class Router {
 public:
  void Add(Route route);
  struct Match {
    const Route* route = nullptr;
    std::vector<std::pair<std::string, std::string>> params;
    std::string allow;  // methods allowed on the path when route == nullptr but it exists
  };
  Match Find(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace crimecast::server
