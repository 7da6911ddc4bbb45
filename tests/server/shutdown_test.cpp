// Graceful shutdown (in process) and crash recovery (kill -9 of `crimecast serve`).
#include <fmt/format.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "core/access/audit_log.hpp"
#include "server/server_fixture.hpp"
#include "support/paths.hpp"

namespace crimecast::testing {
namespace {

// Ids of the events the server acknowledged (HTTP 200), collected by posting clients.
struct Acknowledged {
  std::mutex mu;
  std::set<std::string> ids;
  std::atomic<int> posts_ok{0};
  std::atomic<int> posts_failed{0};
};

void PostLoop(std::uint16_t port, const std::string& token, int client, Acknowledged& ack,
              const std::atomic<bool>& stop) {
  HttpOptions o;
  o.token = token;
  o.timeout_s = 5;
  for (int batch = 0; !stop; ++batch) {
    // (fmt rather than operator+: GCC 12 -O3 warns falsely on chained string concatenation.)
    const std::string prefix = fmt::format("c{}b{}", client, batch);
    auto r = Http(port, "POST", "/api/events", ServerTest::Events(prefix, 10), o);
    if (r.status == 200) {
      std::lock_guard lock(ack.mu);
      for (int i = 0; i < 10; ++i) ack.ids.insert(prefix + "-" + std::to_string(i));
      ++ack.posts_ok;
    } else {
      ++ack.posts_failed;
      if (r.status == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

std::set<std::string> StoredIds(const std::string& db_path) {
  std::set<std::string> out;
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT source_id FROM events", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    out.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

access::AuditVerifyReport VerifyChain(const std::string& db_path) {
  sqlite3* db = nullptr;
  sqlite3_open(db_path.c_str(), &db);
  auto rep = access::VerifyAuditChain(db);
  sqlite3_close(db);
  return rep ? *rep : access::AuditVerifyReport{false, 0, 0, "", 0, rep.error().message};
}

using Shutdown = ServerTest;

TEST_F(Shutdown, GracefulShutdownKeepsEveryAcknowledgedEvent) {
  Start();
  Acknowledged ack;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back(PostLoop, port(), tokens["analyst"], c, std::ref(ack), std::cref(stop));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  srv->Shutdown();
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GT(ack.posts_ok, 4);
  const auto stored = StoredIds(db_path);
  for (const auto& id : ack.ids) EXPECT_TRUE(stored.count(id)) << id << " acknowledged but lost";
  EXPECT_EQ(stored.size(), ack.ids.size());  // nothing half-written either
  const auto rep = VerifyChain(db_path);
  EXPECT_TRUE(rep.ok) << rep.problem;
  // New connections are refused once shut down.
  HttpOptions o;
  o.timeout_s = 1;
  EXPECT_EQ(Http(port(), "GET", "/healthz", "", o).status, 0);
}

// Starts `crimecast serve` on a free port; returns its pid and port.
std::pair<pid_t, std::uint16_t> SpawnServer(const std::string& db) {
  int out[2];
  if (pipe(out) != 0) return {-1, 0};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    const std::string cli = CliPath().string();
    execl(cli.c_str(), cli.c_str(), "serve", "--db", db.c_str(), "--port", "0", "--rate-limit", "0",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char c = 0;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  const auto colon = line.rfind(':');
  if (colon == std::string::npos) return {pid, 0};
  return {pid, static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)))};
}

TEST(CrashRecovery, Kill9WhileClientsPost) {
  const auto dir = TempDir("crash-kill9");
  const std::string db = (dir / "crash.db").string();
  {
    access::AccessOptions o;
    o.password_cost = access::PasswordCost::Minimum();
    auto store = access::AccessStore::Open(db, o);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->CreateUser("feed", access::Role::kAnalyst, "feed passphrase"));
  }
  auto [pid, port] = SpawnServer(db);
  ASSERT_GT(pid, 0);
  ASSERT_GT(port, 0) << "crimecast serve did not start (is the CLI built?)";
  HttpOptions none;
  auto login =
      Http(port, "POST", "/api/session", R"({"user":"feed","password":"feed passphrase"})", none);
  ASSERT_EQ(login.status, 201) << login.body;
  const std::string token = login.Json()["token"];

  Acknowledged ack;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 6; ++c) {
    clients.emplace_back(PostLoop, port, token, c, std::ref(ack), std::cref(stop));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_GT(ack.posts_ok, 6) << "too few posts acknowledged before the kill to mean anything";

  // Restart on the same database: it opens, and every acknowledged event is there.
  auto [pid2, port2] = SpawnServer(db);
  ASSERT_GT(port2, 0);
  EXPECT_EQ(Http(port2, "GET", "/healthz", "", none).status, 200);
  const auto stored = StoredIds(db);
  std::size_t lost = 0;
  for (const auto& id : ack.ids) lost += !stored.count(id);
  EXPECT_EQ(lost, 0u) << "of " << ack.ids.size() << " acknowledged events";
  // Unacknowledged posts may or may not have committed, but never partly: whole batches of 10.
  EXPECT_EQ(stored.size() % 10, 0u);
  const auto rep = VerifyChain(db);
  EXPECT_TRUE(rep.ok) << rep.problem;
  std::string out;
  EXPECT_EQ(RunCommand(CliPath().string() + " audit verify --db " + db, &out), 0) << out;
  kill(pid2, SIGTERM);
  waitpid(pid2, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "no graceful exit on SIGTERM: status " << status;
  std::printf(
      "[ crash    ] %d posts acknowledged (%zu events) before kill -9; %zu events "
      "stored after restart; audit chain of %lld records verifies\n",
      ack.posts_ok.load(), ack.ids.size(), stored.size(), static_cast<long long>(rep.records));
}

}  // namespace
}  // namespace crimecast::testing
