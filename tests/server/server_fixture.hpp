// tests/server/server_fixture.hpp: an in-process server on 127.0.0.1 with a free port, a fresh
// database, and one user per role (password "<role> passphrase"), all at the minimum argon2id
// cost so that sign-in is fast.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "core/access/access_store.hpp"
#include "server/http_client.hpp"
#include "server/http_server.hpp"
#include "server/service.hpp"

namespace crimecast::testing {

class ServerTest : public ::testing::Test {
 public:
  // A JSON array of `n` valid events with ids prefix-0 .. prefix-(n-1).
  static std::string Events(const std::string& prefix, int n,
                            const std::string& category = "burglary",
                            const std::string& month = "");

 protected:
  // Tests adjust the configuration before Start().
  server::ServerConfig config;
  std::unique_ptr<server::Server> srv;
  std::string db_path;
  std::map<std::string, std::string> tokens;  // role name -> session token

  void SetUp() override;
  void TearDown() override;
  // Creates the users, starts the server, signs every user in.
  void Start();
  std::uint16_t port() const { return srv->port(); }

  HttpResult Get(const std::string& target, const std::string& role = "") const;
  HttpResult Post(const std::string& target, const std::string& body, const std::string& role,
                  const std::string& content_type = "application/json") const;
  // Signs in; returns the token or "" (the response in *out).
  std::string Login(const std::string& user, const std::string& password,
                    HttpResult* out = nullptr) const;
  // Rows in the audit log, read directly from the database.
  std::int64_t AuditCount() const;
  std::int64_t EventCount() const;
};

}  // namespace crimecast::testing
