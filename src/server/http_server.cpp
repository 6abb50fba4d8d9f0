#include "server/http_server.h"

#include <sys/resource.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/log.h"
#include "server/http_parser.h"

namespace argus::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// How long a refused connection is drained (its unread request discarded) so
// that the client reads the answer instead of a reset.
constexpr std::chrono::seconds kLinger{2};
// The header deadline of a connection over the caps.
constexpr std::chrono::seconds kOverflowDeadline{2};

// A fixed set of threads running queued tasks; Stop() lets running tasks
// finish and drops queued ones.
class WorkerPool {
 public:
  void Start(int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
  }
  void Submit(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    std::deque<std::function<void()>> dropped;
    std::lock_guard lock(mu_);
    dropped.swap(tasks_);
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
        if (stopping_) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

}  // namespace

struct HttpServer::Impl {
  Impl(Options o, Handler h, DirectHandler d, RefusalHandler r)
      : opt(std::move(o)), handler(std::move(h)), direct(std::move(d)), refusal(std::move(r)) {}

  HttpResponse RefusalResponse(HttpRefusal kind, const std::string& message) {
    HttpResponse res = refusal(kind, message);
    res.status = HttpStatusOf(kind);
    return res;
  }
  void DoAccept();
  void OnAccept(tcp::socket socket);

  Options opt;
  Handler handler;
  DirectHandler direct;
  RefusalHandler refusal;
  WorkerPool pool;
  // Touched on the I/O thread only (and after it stopped).
  int served = 0;
  int overflow = 0;
  std::unordered_map<std::string, int> per_address;
  size_t body_bytes_in_flight = 0;
  // Declared last: destroyed first, while the counters above still exist
  // for the connections its pending handlers release.
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  net::steady_timer accept_retry{ioc};
};

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpServer::Impl* server, tcp::socket socket, std::string peer, bool overflow)
      : server_(server),
        stream_(std::move(socket)),
        buffer_(server->opt.limits.max_header_bytes + 64 * 1024),
        peer_(std::move(peer)),
        overflow_(overflow) {}

  ~Connection() {
    server_->body_bytes_in_flight -= budget_;
    if (overflow_) {
      --server_->overflow;
    } else {
      --server_->served;
      auto it = server_->per_address.find(peer_);
      if (it != server_->per_address.end() && --it->second <= 0) server_->per_address.erase(it);
    }
  }

  void Start() { ReadHead(); }

 private:
  const HttpServer::Options& opt() const { return server_->opt; }

  // Between keep-alive requests: wait for the first byte under the idle
  // timeout, then the whole head under the header deadline.
  void WaitForRequest() {
    if (buffer_.size() > 0) return ReadHead();
    stream_.expires_after(opt().idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHead();
                            });
  }

  void ReadHead() {
    parser_.emplace(opt().limits);
    stream_.expires_after(
        overflow_ ? std::min<std::chrono::seconds>(kOverflowDeadline, opt().header_timeout)
                  : opt().header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHead(ec); });
  }

  void OnHead(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    HttpRequest& req = parser_->request();
    req.peer = peer_;
    keep_alive_ = parser_->keep_alive();
    if (auto refused = CheckHead(*parser_)) return Refuse(*refused);
    bool has_body = parser_->chunked() || parser_->content_length().value_or(0) > 0;
    if (overflow_) {
      if (req.method == "GET" && req.path() == "/healthz" && !has_body) {
        if (auto res = server_->direct(req)) return Send(std::move(*res), /*close=*/true);
      }
      return Refuse({HttpRefusal::kServiceUnavailable,
                     "argus is serving the most connections it takes (" +
                         std::to_string(opt().max_connections_per_address) + " per address, " +
                         std::to_string(opt().max_connections) +
                         " in all). Close idle connections or try again."});
    }
    if (auto res = server_->direct(req)) {
      linger_ = has_body;  // the body is not read: drain it after the answer
      return Send(std::move(*res), /*close=*/has_body);
    }
    size_t need = parser_->chunked() ? opt().limits.max_body_bytes
                                     : size_t(parser_->content_length().value_or(0));
    if (server_->body_bytes_in_flight + need > opt().max_body_bytes_in_flight) {
      return Refuse({HttpRefusal::kServiceUnavailable,
                     "argus is reading as many request bodies as it takes. Try again."});
    }
    budget_ = need;
    server_->body_bytes_in_flight += need;
    if (parser_->is_done()) return Dispatch();
    if (IEquals100Continue(req.get_header_value("Expect"))) {
      stream_.expires_after(opt().write_timeout);
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      return net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                              [self = shared_from_this()](beast::error_code e, size_t) {
                                if (e) return self->Close();
                                self->ReadBody();
                              });
    }
    ReadBody();
  }

  static bool IEquals100Continue(const std::string& v) {
    std::string s;
    for (char c : v) s += char(std::tolower(static_cast<unsigned char>(c)));
    return s == "100-continue";
  }

  void ReadBody() {
    stream_.expires_after(opt().body_timeout);
    parser_->eager(true);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->OnReadError(ec);
                       self->Dispatch();
                     });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == beast::error::timeout || ec == net::error::operation_aborted) return Close();
    if (auto refused = RefusalForError(ec, *parser_)) return Refuse(*refused);
    Close();
  }

  // Hands the complete request to the handler pool; the answer is written
  // back on the I/O thread.
  void Dispatch() {
    auto req = std::make_shared<HttpRequest>(std::move(parser_->request()));
    req->peer = peer_;
    auto executor = stream_.get_executor();
    server_->pool.Submit([self = shared_from_this(), req, executor, server = server_]() mutable {
      HttpResponse res;
      try {
        res = server->handler(*req);
      } catch (const std::exception& e) {
        log::Error(std::string("request handler threw: ") + e.what());
        res = server->RefusalResponse(HttpRefusal::kInternal, "internal error");
      } catch (...) {
        res = server->RefusalResponse(HttpRefusal::kInternal, "internal error");
      }
      net::post(executor, [self = std::move(self), res = std::move(res)]() mutable {
        self->Send(std::move(res), /*close=*/false);
      });
    });
  }

  void Refuse(const Refusal& refused) {
    linger_ = true;  // the rest of the request is unread
    Send(server_->RefusalResponse(refused.kind, refused.message), /*close=*/true);
  }

  void Send(HttpResponse res, bool close) {
    close_ = close || !keep_alive_;
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(res.status));
    for (auto& [name, value] : res.headers) response_.insert(name, value);
    response_.body() = std::move(res.body);
    response_.keep_alive(!close_);
    response_.prepare_payload();
    stream_.expires_after(opt().write_timeout);
    http::async_write(
        stream_, response_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWritten(ec); });
  }

  void OnWritten(beast::error_code ec) {
    server_->body_bytes_in_flight -= budget_;
    budget_ = 0;
    response_ = {};
    parser_.reset();
    if (ec) return Close();
    if (!close_) return WaitForRequest();
    if (linger_) return Linger();
    Close();
  }

  // Half-closes and discards what the client still sends, for kLinger at
  // most, so the answer is read rather than lost to a reset.
  void Linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    drain_ = std::make_unique<std::array<char, 16384>>();
    stream_.expires_after(kLinger);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(net::buffer(*drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->Drain();
                            });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  HttpServer::Impl* server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<HttpRequestParser> parser_;
  http::response<http::string_body> response_;
  std::unique_ptr<std::array<char, 16384>> drain_;
  std::string peer_;
  bool overflow_;
  bool keep_alive_ = true;
  bool close_ = false;
  bool linger_ = false;
  size_t budget_ = 0;  // bytes of body_bytes_in_flight held by this request
};

}  // namespace

void HttpServer::Impl::DoAccept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors (or a transient error): the pending connection
      // stays in the backlog; retry shortly rather than spin.
      log::Warn("accept: " + ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](beast::error_code e) {
        if (!e) DoAccept();
      });
      return;
    }
    OnAccept(std::move(socket));
    DoAccept();
  });
}

void HttpServer::Impl::OnAccept(tcp::socket socket) {
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return;
  std::string peer = endpoint.address().to_string();
  socket.set_option(tcp::no_delay(true), ec);
  bool over = served >= opt.max_connections || per_address[peer] >= opt.max_connections_per_address;
  if (over) {
    if (per_address[peer] == 0) per_address.erase(peer);
    if (overflow >= opt.max_overflow_connections) return;  // closed at once
    ++overflow;
  } else {
    ++served;
    ++per_address[peer];
  }
  std::make_shared<Connection>(this, std::move(socket), std::move(peer), over)->Start();
}

HttpServer::HttpServer(Options options, Handler handler, DirectHandler direct,
                       RefusalHandler refusal)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(direct),
                                   std::move(refusal))) {}

HttpServer::~HttpServer() = default;

bool HttpServer::Listen(std::string* error) {
  // Every connection is a descriptor: allow as many as the hard limit.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  beast::error_code ec;
  tcp::resolver resolver(impl_->ioc);
  auto results = resolver.resolve(impl_->opt.host, std::to_string(impl_->opt.port),
                                  tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    *error = "cannot resolve " + impl_->opt.host + ": " + ec.message();
    return false;
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  auto& a = impl_->acceptor;
  // SO_REUSEADDR only: with SO_REUSEPORT a second server on the same port
  // would start silently and take half the connections.
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(impl_->opt.backlog, ec);
  if (ec) {
    *error = ec.message();
    beast::error_code ignored;
    a.close(ignored);
    return false;
  }
  return true;
}

void HttpServer::Run() {
  impl_->pool.Start(std::max(1, impl_->opt.handler_threads));
  impl_->DoAccept();
  impl_->ioc.run();
  impl_->pool.Stop();
}

void HttpServer::Stop() {
  net::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    impl->ioc.stop();
  });
}

}  // namespace argus::server
