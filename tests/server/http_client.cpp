#include "server/http_client.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace crimecast::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

nlohmann::json HttpResult::Json() const { return nlohmann::json::parse(body, nullptr, false); }

namespace {

template <class Stream>
HttpResult Exchange(Stream& stream, beast::flat_buffer& buffer, const std::string& method,
                    const std::string& target, const std::string& body,
                    const HttpOptions& options) {
  HttpResult out;
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!options.token.empty()) req.set(http::field::authorization, "Bearer " + options.token);
  for (const auto& [k, v] : options.headers) req.set(k, v);
  if (!body.empty() || method == "POST") {
    req.set(http::field::content_type, options.content_type);
    req.body() = body;
    req.prepare_payload();
  }
  beast::error_code ec;
  http::write(stream, req, ec);
  if (ec) {
    out.error = "write: " + ec.message();
    return out;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(512u << 20);
  http::read(stream, buffer, parser, ec);
  if (ec) {
    out.error = "read: " + ec.message();
    return out;
  }
  auto res = parser.release();
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = std::move(res.body());
  return out;
}

}  // namespace

HttpResult Http(std::uint16_t port, const std::string& method, const std::string& target,
                const std::string& body, const HttpOptions& options) {
  net::io_context ioc;
  beast::error_code ec;
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  beast::flat_buffer buffer;
  const auto timeout = std::chrono::milliseconds(static_cast<int>(options.timeout_s * 1000));
  if (options.tls) {
    net::ssl::context ctx(net::ssl::context::tls_client);
    ctx.set_verify_mode(net::ssl::verify_none);  // self-signed test certificate
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    beast::get_lowest_layer(stream).expires_after(timeout);
    beast::get_lowest_layer(stream).socket().connect(ep, ec);
    if (ec) return HttpResult{0, {}, {}, "connect: " + ec.message()};
    stream.handshake(net::ssl::stream_base::client, ec);
    if (ec) return HttpResult{0, {}, {}, "handshake: " + ec.message()};
    auto r = Exchange(stream, buffer, method, target, body, options);
    stream.shutdown(ec);
    return r;
  }
  tcp::socket socket(ioc);
  socket.connect(ep, ec);
  if (ec) return HttpResult{0, {}, {}, "connect: " + ec.message()};
  // Blocking reads with a receive timeout so a hung server fails the test instead of hanging.
  const timeval tv{
      static_cast<time_t>(options.timeout_s),
      static_cast<suseconds_t>(
          (options.timeout_s - static_cast<double>(static_cast<time_t>(options.timeout_s))) * 1e6)};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto r = Exchange(socket, buffer, method, target, body, options);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  return r;
}

// ---------------------------------------------------------------------------------------------
struct SseClient::Impl {
  net::io_context ioc;
  tcp::socket socket{ioc};
  std::thread reader;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Message> messages;
  bool closed = false;
  bool connected = false;
  int status = 0;
};

SseClient::SseClient(std::uint16_t port, const std::string& target, const std::string& token,
                     const std::string& last_event_id)
    : impl_(std::make_unique<Impl>()) {
  beast::error_code ec;
  impl_->socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return;
  std::string req =
      "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  if (!last_event_id.empty()) req += "Last-Event-ID: " + last_event_id + "\r\n";
  req += "\r\n";
  net::write(impl_->socket, net::buffer(req), ec);
  if (ec) return;
  impl_->connected = true;
  impl_->reader = std::thread([p = impl_.get()] {
    std::string buf;
    bool in_body = false;
    char chunk[4096];
    for (;;) {
      beast::error_code e;
      const std::size_t n = p->socket.read_some(net::buffer(chunk), e);
      if (e) break;
      buf.append(chunk, n);
      if (!in_body) {
        const auto end = buf.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        std::lock_guard lock(p->mu);
        p->status = std::atoi(buf.c_str() + 9);
        buf.erase(0, end + 4);
        in_body = true;
        p->cv.notify_all();
      }
      for (;;) {
        const auto end = buf.find("\n\n");
        if (end == std::string::npos) break;
        const std::string frame = buf.substr(0, end);
        buf.erase(0, end + 2);
        Message m;
        std::size_t pos = 0;
        while (pos < frame.size()) {
          auto nl = frame.find('\n', pos);
          if (nl == std::string::npos) nl = frame.size();
          const std::string line = frame.substr(pos, nl - pos);
          pos = nl + 1;
          if (line.rfind("id: ", 0) == 0) m.id = line.substr(4);
          if (line.rfind("event: ", 0) == 0) m.event = line.substr(7);
          if (line.rfind("data: ", 0) == 0) m.data += line.substr(6);
        }
        if (m.event.empty() && m.data.empty()) continue;  // comments, retry
        std::lock_guard lock(p->mu);
        p->messages.push_back(std::move(m));
        p->cv.notify_all();
      }
    }
    std::lock_guard lock(p->mu);
    p->closed = true;
    p->cv.notify_all();
  });
}

SseClient::~SseClient() {
  beast::error_code ec;
  impl_->socket.shutdown(tcp::socket::shutdown_both, ec);
  impl_->socket.close(ec);
  if (impl_->reader.joinable()) impl_->reader.join();
}

bool SseClient::connected() const { return impl_->connected; }

int SseClient::status() const {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, std::chrono::seconds(5),
                     [this] { return impl_->status != 0 || impl_->closed; });
  return impl_->status;
}

std::optional<SseClient::Message> SseClient::WaitFor(const std::string& event,
                                                     std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  std::optional<Message> found;
  impl_->cv.wait_for(lock, timeout, [&] {
    for (const auto& m : impl_->messages) {
      if (m.event == event) {
        found = m;
        return true;
      }
    }
    return impl_->closed;
  });
  return found;
}

bool SseClient::WaitClosed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [this] { return impl_->closed; });
}

std::vector<SseClient::Message> SseClient::messages() {
  std::lock_guard lock(impl_->mu);
  return impl_->messages;
}

}  // namespace crimecast::testing
