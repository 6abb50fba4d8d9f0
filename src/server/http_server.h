#pragma once
// The HTTP/1.1 transport (Boost.Beast over Asio): one I/O thread accepts and
// reads every connection asynchronously under size limits, deadlines and
// connection caps; complete requests run on a fixed pool of handler threads.
// It knows nothing of Rekognition: the caller supplies the handlers and the
// shape of transport error answers.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace argus::server {

// A request as the handlers see it; header names keep the client's case.
struct HttpRequest {
  std::string method;  // "POST"
  std::string target;  // raw request target, e.g. "/" or "/healthz?x=1"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // decoded (chunked framing removed)
  std::string peer;  // the client's IP address

  // The first value of header `name` (case-insensitive), or "" when absent.
  std::string get_header_value(std::string_view name) const;
  // The target without its query string.
  std::string_view path() const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  void set_header(std::string name, std::string value);
  void set_content(std::string content, std::string content_type);
};

// What a transport refusal means, for the caller's error body.
enum class HttpRefusal {
  kBadRequest,          // 400: malformed request line, header or framing
  kLengthRequired,      // 411: a body without Content-Length or chunked framing
  kPayloadTooLarge,     // 413: declared or decoded body over max_body_bytes
  kUriTooLong,          // 414: request target over max_target_bytes
  kUnsupportedCoding,   // 415: any Content-Encoding other than identity
  kHeadersTooLarge,     // 431: header bytes or field count over their limits
  kServiceUnavailable,  // 503: connection caps or the body memory budget are full
  kInternal,            // 500: the handler threw
};
int HttpStatusOf(HttpRefusal refusal);

// The limits one parsed request is held to (http_parser.h applies them).
struct HttpLimits {
  size_t max_header_bytes = 16 * 1024;      // request line plus all header lines
  size_t max_header_count = 100;            // header fields (chunked trailers included)
  size_t max_target_bytes = 8 * 1024;       // request target
  size_t max_body_bytes = 8 * 1024 * 1024;  // after chunked decoding
};

class HttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 8080;
    HttpLimits limits;
    int backlog = 1024;
    int handler_threads = 64;  // requests handled at once (handlers may block)
    // A new connection must send a whole request head within header_timeout;
    // the body must arrive within body_timeout of the head; between requests
    // a keep-alive connection may stay silent for idle_timeout; a response
    // must be taken within write_timeout.
    std::chrono::seconds header_timeout{10};
    std::chrono::seconds body_timeout{60};
    std::chrono::seconds idle_timeout{60};
    std::chrono::seconds write_timeout{30};
    int max_connections = 1024;            // served at once, all addresses
    int max_connections_per_address = 32;  // served at once from one address
    // Beyond the caps a connection gets a short deadline and an answer to
    // GET /healthz or a 503; beyond this many on top it is closed at once.
    int max_overflow_connections = 1024;
    // Bodies being read or handled, summed over connections (Content-Length,
    // or max_body_bytes for chunked); a request that would exceed it gets 503.
    size_t max_body_bytes_in_flight = 256 * 1024 * 1024;
  };

  // Runs on a handler thread for every request that `direct` does not answer.
  using Handler = std::function<HttpResponse(HttpRequest&)>;
  // Runs on the I/O thread with the request head only (empty body); answers
  // cheap requests (health, metrics, unknown paths) without the handler pool.
  // Must not block. Also the only handler an over-the-cap connection reaches.
  using DirectHandler = std::function<std::optional<HttpResponse>(const HttpRequest&)>;
  // The answer to a refusal (status already set from HttpStatusOf).
  using RefusalHandler = std::function<HttpResponse(HttpRefusal, const std::string& message)>;

  HttpServer(Options options, Handler handler, DirectHandler direct, RefusalHandler refusal);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (SO_REUSEADDR, not SO_REUSEPORT). False with `error` set.
  bool Listen(std::string* error);
  // Serves until Stop(); returns after in-flight handlers have finished.
  void Run();
  // Thread-safe; Run() returns soon after.
  void Stop();

  struct Impl;  // defined in http_server.cpp

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace argus::server
