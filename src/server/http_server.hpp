// server/http_server.hpp
//
// The HTTP/1.1 transport of `crimecast serve` (Boost.Beast on Boost.Asio; see
// docs/decisions/0005-http-server.md for why not a thread per connection).
//
// Threads:
// * `io_threads` run the network: accepting, TLS handshakes, reading requests, writing
//   responses and server-sent-event streams. They never block on the database.
// * `worker_threads` run the handlers (Service::Handle: authentication, database reads, JSON).
// * one writer thread (server/writer.hpp) makes every durable write.
// An open /api/live stream is only a socket with a small queue of shared frames: 500 streams
// cost memory, not threads.
//
// Limits: request bodies above `max_body_bytes` get 413; a request not fully read within
// `request_timeout_s` is dropped; a keep-alive connection idle for `idle_timeout_s` is closed;
// a live client whose queue exceeds `sse_max_queue` frames (it stopped reading) is dropped.
//
// Graceful shutdown (Shutdown(), or SIGTERM/SIGINT with handle_signals): stop accepting, answer
// new requests on open connections with 503, send "shutdown" to live streams and close them,
// wait up to `drain_timeout_s` for requests in flight, commit everything queued with the writer,
// then stop the threads. Requests acknowledged before shutdown are durable.
#pragma once

#include <cstdint>
#include <memory>

#include "core/common/error.hpp"
#include "server/config.hpp"

namespace crimecast::server {

class Service;

class Server {
 public:
  // Opens the database, binds the port and starts the threads.
  static Result<std::unique_ptr<Server>> Start(const ServerConfig& config);
  ~Server();  // Shutdown() when still running

  std::uint16_t port() const;
  bool tls() const;
  Service& service();

  // Graceful shutdown; blocks until done. Idempotent; callable from any non-server thread.
  void Shutdown();
  // Blocks until the server has shut down. With handle_signals, a SIGTERM/SIGINT makes the
  // waiting thread perform the graceful shutdown.
  void Wait();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crimecast::server
