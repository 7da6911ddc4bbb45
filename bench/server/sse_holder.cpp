// bench/server/sse_holder.cpp: holds N server-sent-event connections open against a crimecast
// server (GET /api/live) for the load benchmark, reads everything they receive with one epoll
// thread, and reports how many streams stayed open and how many messages each received.
//
//   sse_holder PORT TOKEN CLIENTS SECONDS
//
// Output (one line, key=value): connected, open_at_end, closed_early, http_errors,
// events_min, events_max, events_total, bytes_total.
// Standalone (POSIX only), built by bench/server_load.sh with g++.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct Conn {
  int fd = -1;
  bool header_done = false;
  bool ok = false;
  bool open = false;
  long events = 0;
  std::string tail;  // last bytes of the previous read, to find markers across reads
};

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: sse_holder PORT TOKEN CLIENTS SECONDS\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string token = argv[2];
  const int n = std::atoi(argv[3]);
  const double seconds = std::atof(argv[4]);
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  const std::string req =
      "GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
      "Authorization: Bearer " +
      token + "\r\n\r\n";
  std::vector<Conn> conns(static_cast<std::size_t>(n));
  const int ep = epoll_create1(0);
  int connected = 0;
  for (int i = 0; i < n; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
      close(fd);
      continue;
    }
    conns[i].fd = fd;
    conns[i].open = true;
    ++connected;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  std::vector<char> buf(1 << 16);
  std::vector<epoll_event> ready(256);
  long long bytes = 0;
  int closed_early = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  static const std::string kMarker = "event: events\n";
  while (std::chrono::steady_clock::now() < end) {
    const int k = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
    for (int j = 0; j < k; ++j) {
      Conn& c = conns[ready[j].data.u32];
      const ssize_t got = read(c.fd, buf.data(), buf.size());
      if (got <= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        close(c.fd);
        c.open = false;
        ++closed_early;
        continue;
      }
      bytes += got;
      std::string chunk = c.tail;
      chunk.append(buf.data(), static_cast<std::size_t>(got));
      if (!c.header_done) {
        const auto h = chunk.find("\r\n\r\n");
        if (h == std::string::npos) {
          c.tail = chunk;
          continue;
        }
        c.header_done = true;
        c.ok = chunk.compare(0, 12, "HTTP/1.1 200") == 0;
        chunk.erase(0, h + 4);
      }
      for (std::size_t p = chunk.find(kMarker); p != std::string::npos;
           p = chunk.find(kMarker, p + kMarker.size())) {
        ++c.events;
      }
      const std::size_t keep = kMarker.size() - 1;
      c.tail = chunk.size() > keep ? chunk.substr(chunk.size() - keep) : chunk;
    }
  }
  int open_at_end = 0, http_errors = 0;
  long mn = LONG_MAX, mx = 0, total = 0;
  for (const Conn& c : conns) {
    if (c.fd < 0) continue;
    if (c.header_done && !c.ok) ++http_errors;
    if (c.open) {
      ++open_at_end;
      close(c.fd);
    }
    mn = std::min(mn, c.events);
    mx = std::max(mx, c.events);
    total += c.events;
  }
  if (mn == LONG_MAX) mn = 0;
  std::printf(
      "connected=%d open_at_end=%d closed_early=%d http_errors=%d events_min=%ld "
      "events_max=%ld events_total=%ld bytes_total=%lld\n",
      connected, open_at_end, closed_early, http_errors, mn, mx, total, bytes);
  return 0;
}
