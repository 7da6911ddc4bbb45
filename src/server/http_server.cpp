#include "server/http_server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "server/error_response.hpp"
#include "server/service.hpp"

namespace crimecast::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct Server::Impl {
  ServerConfig config;
  std::unique_ptr<Service> service;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  net::thread_pool workers;
  std::optional<net::ssl::context> ssl;
  tcp::acceptor acceptor;
  std::optional<net::signal_set> signals;
  std::vector<std::thread> threads;
  std::uint16_t port = 0;

  std::mutex mu;
  std::condition_variable cv;
  bool shutdown_requested = false;
  bool shutdown_started = false;
  bool done = false;

  Impl(const ServerConfig& c)
      : config(c),
        ioc(std::max(1, c.io_threads)),
        workers(static_cast<std::size_t>(std::max(1, c.worker_threads))),
        acceptor(net::make_strand(ioc)) {}

  std::chrono::steady_clock::duration Seconds(double s) const {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(s));
  }
  void Accept();
  void RequestShutdown() {
    std::lock_guard lock(mu);
    shutdown_requested = true;
    cv.notify_all();
  }
};

namespace {

// ---------------------------------------------------------------------------------------------
// One connection. CRTP over the stream type so plain TCP and TLS share all of the logic.
template <class Derived>
class Session {
 public:
  explicit Session(Server::Impl& impl) : impl_(impl) {}

  void SetClient(const tcp::socket& socket) {
    boost::system::error_code ec;
    const auto ep = socket.remote_endpoint(ec);
    client_ = ec ? "unknown" : ep.address().to_string();
  }

  void DoRead() {
    parser_.emplace();
    parser_->body_limit(impl_.config.max_body_bytes);
    parser_->header_limit(16 * 1024);
    beast::get_lowest_layer(Self().stream())
        .expires_after(impl_.Seconds(requests_ == 0 ? impl_.config.request_timeout_s
                                                    : impl_.config.idle_timeout_s));
    http::async_read(Self().stream(), buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, Self().shared_from_this()));
  }

  // Public: the stream sinks and the derived sessions call these on the session's strand.
  Derived& Self() { return static_cast<Derived&>(*this); }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == beast::error::timeout ||
        ec == net::error::operation_aborted) {
      return Self().DoClose();
    }
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      return WriteError(
          ErrorCode::kPayloadTooLarge,
          fmt::format("the request body exceeds {} bytes", impl_.config.max_body_bytes));
    }
    if (ec == http::error::header_limit) {
      keep_alive_ = false;
      return WriteError(ErrorCode::kPayloadTooLarge, "the request headers are too large");
    }
    if (ec) {
      keep_alive_ = false;
      return WriteError(ErrorCode::kInvalidArgument, "malformed HTTP request: " + ec.message());
    }
    ++requests_;
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    head_ = msg.method() == http::verb::head;
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    ParseTarget(req.target, req.path, req.params);
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    req.body = std::move(msg.body());
    req.client = client_;
    req.tls = Derived::kTls;
    req.received = std::chrono::steady_clock::now();
    req.deadline = req.received + impl_.Seconds(impl_.config.request_timeout_s);

    Service& service = *impl_.service;
    service.AddInFlight(1);
    in_flight_ = true;
    auto self = Self().shared_from_this();
    auto exchange = std::make_shared<Exchange>(std::move(req), [self](Response r) {
      net::post(self->stream().get_executor(),
                [self, r = std::move(r)]() mutable { self->WriteResponse(std::move(r)); });
    });
    net::post(impl_.workers, [&service, exchange] { service.Handle(exchange); });
  }

  void WriteError(ErrorCode code, std::string message) {
    impl_.service->AddInFlight(1);
    in_flight_ = true;
    WriteResponse(ErrorResponse(code, std::move(message)));
  }

  std::string Head(const Response& r, bool stream) const {
    std::string h =
        fmt::format("HTTP/1.1 {} {}\r\nServer: crimecast\r\n", r.status, ReasonPhrase(r.status));
    if (!r.content_type.empty()) h += "Content-Type: " + r.content_type + "\r\n";
    if (!stream) h += fmt::format("Content-Length: {}\r\n", r.Body().size());
    h += "X-Content-Type-Options: nosniff\r\n";
    if (Derived::kTls) h += "Strict-Transport-Security: max-age=31536000\r\n";
    for (const auto& [k, v] : r.headers) h += k + ": " + v + "\r\n";
    const bool keep = stream || (keep_alive_ && !impl_.service->draining());
    h += keep ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    return h;
  }

  void WriteResponse(Response r) {
    if (r.event_stream && r.status == 200) return StartStream(std::move(r));
    if (impl_.service->draining()) keep_alive_ = false;
    out_head_ = Head(r, false);
    out_ = std::move(r);
    std::array<net::const_buffer, 2> bufs = {net::buffer(out_head_),
                                             net::buffer(head_ ? std::string_view() : out_.Body())};
    beast::get_lowest_layer(Self().stream())
        .expires_after(impl_.Seconds(impl_.config.request_timeout_s));
    net::async_write(Self().stream(), bufs,
                     beast::bind_front_handler(&Session::OnWrite, Self().shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t) {
    DoneInFlight();
    out_ = Response();
    out_head_.clear();
    if (ec || !keep_alive_) return Self().DoClose();
    DoRead();
  }

  void DoneInFlight() {
    if (in_flight_) {
      in_flight_ = false;
      impl_.service->AddInFlight(-1);
    }
  }

  // --- server-sent events ---------------------------------------------------------------------
  class Sink final : public LiveSubscriber {
   public:
    explicit Sink(std::weak_ptr<Derived> s) : s_(std::move(s)) {}
    void Deliver(Frame frame) override {
      if (auto s = s_.lock()) {
        net::post(s->stream().get_executor(),
                  [s, frame = std::move(frame)]() mutable { s->Enqueue(std::move(frame), false); });
      }
    }
    void Close(Frame frame) override {
      if (auto s = s_.lock()) {
        net::post(s->stream().get_executor(),
                  [s, frame = std::move(frame)]() mutable { s->Enqueue(std::move(frame), true); });
      }
    }

   private:
    std::weak_ptr<Derived> s_;
  };

  void StartStream(Response r) {
    streaming_ = true;
    beast::get_lowest_layer(Self().stream()).expires_never();
    auto first = std::make_shared<const std::string>(Head(r, true) + r.body);
    std::uint64_t last_id = 0;
    if (!r.last_event_id.empty()) {
      std::from_chars(r.last_event_id.data(), r.last_event_id.data() + r.last_event_id.size(),
                      last_id);
    }
    DoneInFlight();  // a stream is not a request in flight: shutdown does not wait for it
    // Subscribe before the headers and "hello" go out, so that a client which acts on "hello"
    // cannot miss a message. Ordering still holds: Sink::Deliver posts to this strand, so
    // anything published now is queued after `first`.
    sub_id_ = impl_.service->hub().Subscribe(
        std::make_shared<Sink>(std::weak_ptr<Derived>(Self().shared_from_this())),
        r.event_stream_record_level, last_id);
    // Start the close watch before the first write: a beast stream arms a new operation with
    // the expiry set at that moment, and WriteNext sets one for the write. A read started after
    // it would inherit that expiry and end every stream after 30 s.
    WatchForClose();
    Enqueue(std::move(first), false);
    heartbeat_.emplace(Self().stream().get_executor());
    ArmHeartbeat();
  }

  void ArmHeartbeat() {
    heartbeat_->expires_after(impl_.Seconds(impl_.config.sse_heartbeat_s));
    heartbeat_->async_wait([self = Self().shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      static const Frame kPing = std::make_shared<const std::string>(": ping\n\n");
      if (self->queue_.empty()) self->Enqueue(kPing, false);
      self->ArmHeartbeat();
    });
  }

  // The client never sends anything on an event stream; a completed read means it went away.
  void WatchForClose() {
    Self().stream().async_read_some(
        net::buffer(watch_), [self = Self().shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) return self->CloseStream();
          self->WatchForClose();
        });
  }

  void Enqueue(Frame frame, bool close_after) {
    if (closed_) return;
    if (close_after) close_after_flush_ = true;
    if (queue_.size() >= impl_.config.sse_max_queue) {
      spdlog::warn("live client {} is not reading; dropped after {} queued messages", client_,
                   queue_.size());
      return CloseStream();
    }
    queue_.push_back(std::move(frame));
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    writing_ = true;
    // A client that stops reading must not pin a write forever.
    beast::get_lowest_layer(Self().stream())
        .expires_after(impl_.Seconds(impl_.config.sse_write_timeout_s));
    net::async_write(Self().stream(), net::buffer(*queue_.front()),
                     [self = Self().shared_from_this()](beast::error_code ec, std::size_t) {
                       // The frame just written is still the front: CloseStream keeps it alive
                       // while a write is in flight (its buffer is in use).
                       if (!self->queue_.empty()) self->queue_.pop_front();
                       if (ec || self->closed_) {
                         self->writing_ = false;
                         self->queue_.clear();
                         return self->CloseStream();
                       }
                       if (!self->queue_.empty()) return self->WriteNext();
                       self->writing_ = false;
                       beast::get_lowest_layer(self->stream()).expires_never();
                       if (self->close_after_flush_) self->CloseStream();
                     });
  }

  void CloseStream() {
    if (closed_) return;
    closed_ = true;
    if (sub_id_) impl_.service->hub().Unsubscribe(sub_id_);
    if (heartbeat_) heartbeat_->cancel();
    // A write in flight still reads the front frame's buffer; its completion frees it.
    if (writing_) {
      queue_.erase(std::next(queue_.begin()), queue_.end());
    } else {
      queue_.clear();
    }
    Self().DoClose();
  }

  Server::Impl& impl_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string client_;
  bool keep_alive_ = false;
  bool head_ = false;
  bool in_flight_ = false;
  std::uint64_t requests_ = 0;
  Response out_;
  std::string out_head_;
  // Streaming state.
  bool streaming_ = false;
  bool writing_ = false;
  bool closed_ = false;
  bool close_after_flush_ = false;
  std::uint64_t sub_id_ = 0;
  std::deque<Frame> queue_;
  std::optional<net::steady_timer> heartbeat_;
  std::array<char, 64> watch_{};
};

class PlainSession final : public Session<PlainSession>,
                           public std::enable_shared_from_this<PlainSession> {
 public:
  static constexpr bool kTls = false;
  PlainSession(tcp::socket&& socket, Server::Impl& impl)
      : Session(impl), stream_(std::move(socket)) {
    SetClient(stream_.socket());
  }
  beast::tcp_stream& stream() { return stream_; }
  void Run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&PlainSession::DoRead, shared_from_this()));
  }
  void DoClose() {
    DoneInFlight();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

 private:
  friend class Session<PlainSession>;
  beast::tcp_stream stream_;
};

class TlsSession final : public Session<TlsSession>,
                         public std::enable_shared_from_this<TlsSession> {
 public:
  static constexpr bool kTls = true;
  TlsSession(tcp::socket&& socket, net::ssl::context& ctx, Server::Impl& impl)
      : Session(impl), stream_(std::move(socket), ctx) {
    SetClient(beast::get_lowest_layer(stream_).socket());
  }
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  void Run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      beast::get_lowest_layer(self->stream_)
          .expires_after(self->impl_.Seconds(self->impl_.config.request_timeout_s));
      self->stream_.async_handshake(
          net::ssl::stream_base::server, self->buffer_.data(),
          [self](beast::error_code ec, std::size_t used) {
            if (ec) return;  // not TLS, or a failed handshake: nothing to answer
            self->buffer_.consume(used);
            self->DoRead();
          });
    });
  }
  void DoClose() {
    DoneInFlight();
    if (shutting_down_) return;
    shutting_down_ = true;
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
      beast::get_lowest_layer(self->stream_).close();
    });
  }

 private:
  friend class Session<TlsSession>;
  beast::ssl_stream<beast::tcp_stream> stream_;
  bool shutting_down_ = false;
};

}  // namespace

void Server::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      if (ssl) {
        std::make_shared<TlsSession>(std::move(socket), *ssl, *this)->Run();
      } else {
        std::make_shared<PlainSession>(std::move(socket), *this)->Run();
      }
    } else if (ec == net::error::no_descriptors) {
      spdlog::error("accept: out of file descriptors (raise `ulimit -n`)");
    }
    Accept();
  });
}

// ---------------------------------------------------------------------------------------------
Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Server>> Server::Start(const ServerConfig& config) {
  auto impl = std::make_unique<Impl>(config);
  auto service = Service::Create(config);
  if (!service) return Unexpected(service.error());
  impl->service = std::move(*service);

  if (!config.tls_cert.empty() || !config.tls_key.empty()) {
    if (config.tls_cert.empty() || config.tls_key.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "TLS needs both --tls-cert and --tls-key");
    }
    impl->ssl.emplace(net::ssl::context::tls_server);
    boost::system::error_code ec;
    impl->ssl->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                               net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                               net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use,
                           ec);
    impl->ssl->use_certificate_chain_file(config.tls_cert, ec);
    if (ec) {
      return Fail(ErrorCode::kFileUnreadable,
                  fmt::format("TLS certificate '{}': {}", config.tls_cert, ec.message()));
    }
    impl->ssl->use_private_key_file(config.tls_key, net::ssl::context::pem, ec);
    if (ec) {
      return Fail(ErrorCode::kFileUnreadable,
                  fmt::format("TLS key '{}': {}", config.tls_key, ec.message()));
    }
  }

  boost::system::error_code ec;
  const auto address = net::ip::make_address(config.bind_address, ec);
  if (ec) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("bad bind address '{}': {}", config.bind_address, ec.message()));
  }
  const tcp::endpoint endpoint(address, config.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Fail(
        ErrorCode::kUnavailable,
        fmt::format("cannot listen on {}:{}: {}", config.bind_address, config.port, ec.message()));
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->work.emplace(impl->ioc.get_executor());
  if (config.handle_signals) {
    impl->signals.emplace(impl->ioc, SIGTERM, SIGINT);
    impl->signals->async_wait([p = impl.get()](beast::error_code e, int sig) {
      if (e) return;
      spdlog::info("signal {}: shutting down gracefully", sig);
      p->RequestShutdown();
    });
  }
  impl->Accept();
  for (int i = 0; i < std::max(1, config.io_threads); ++i) {
    impl->threads.emplace_back([p = impl.get()] { p->ioc.run(); });
  }
  spdlog::info("crimecast serving {} on {}://{}:{} ({} io, {} worker threads)", config.db_path,
               impl->ssl ? "https" : "http", config.bind_address, impl->port, config.io_threads,
               config.worker_threads);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::~Server() { Shutdown(); }

std::uint16_t Server::port() const { return impl_->port; }
bool Server::tls() const { return impl_->ssl.has_value(); }
Service& Server::service() { return *impl_->service; }

void Server::Shutdown() {
  Impl& s = *impl_;
  {
    std::unique_lock lock(s.mu);
    if (s.shutdown_started) {
      s.cv.wait(lock, [&] { return s.done; });
      return;
    }
    s.shutdown_started = true;
    s.shutdown_requested = true;
    s.cv.notify_all();
  }
  Service& service = *s.service;
  // 1. Stop accepting; refuse new requests on open connections.
  net::post(s.acceptor.get_executor(), [&s] {
    boost::system::error_code ec;
    s.acceptor.close(ec);
    if (s.signals) s.signals->cancel(ec);
  });
  service.BeginDrain();
  // 2. End the live streams (they would otherwise never finish).
  service.hub().CloseAll();
  // 3. Let requests in flight finish (their audit records and batches commit).
  const auto deadline = std::chrono::steady_clock::now() + s.Seconds(s.config.drain_timeout_s);
  while (service.in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (service.in_flight() > 0) {
    spdlog::warn("shutdown: {} requests still in flight after {} s", service.in_flight(),
                 s.config.drain_timeout_s);
  }
  // 4. Commit whatever the writer still holds, then stop the threads.
  s.workers.join();
  service.StopWriter();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let final writes flush
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) {
    if (t.joinable()) t.join();
  }
  spdlog::info("crimecast server stopped");
  std::lock_guard lock(s.mu);
  s.done = true;
  s.cv.notify_all();
}

void Server::Wait() {
  {
    std::unique_lock lock(impl_->mu);
    impl_->cv.wait(lock, [this] { return impl_->shutdown_requested || impl_->done; });
    if (impl_->done) return;
  }
  Shutdown();
}

}  // namespace crimecast::server
