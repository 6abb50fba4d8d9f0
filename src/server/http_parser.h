#pragma once
// Request parsing for the HTTP transport: Beast's incremental parser held to
// HttpLimits, plus the checks made on a complete head before any body byte is
// read. Free of sockets, so the fuzz target runs exactly this code.
#include <boost/beast/http/basic_parser.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "server/http_server.h"

namespace argus::server {

struct Refusal {
  HttpRefusal kind;
  std::string message;
};

// One request: the head is checked as it is parsed (target length, field
// count, header bytes, declared body length), the body is decoded into
// request().body up to max_body_bytes. Not reusable: one per request.
class HttpRequestParser : public boost::beast::http::basic_parser<true> {
 public:
  explicit HttpRequestParser(const HttpLimits& limits);

  HttpRequest& request() { return request_; }
  const HttpRequest& request() const { return request_; }
  bool start_line_done() const { return start_line_done_; }
  bool head_done() const { return head_done_; }
  // A refusal found by a callback (the parse error that stopped it is then
  // only the means of stopping).
  const std::optional<Refusal>& refusal() const { return refusal_; }

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;
  void on_request_impl(boost::beast::http::verb, string_view method, string_view target,
                       int version, error_code& ec) override;
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code&) override { head_done_ = true; }
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override;
  std::size_t on_body_impl(string_view body, error_code&) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override;
  void on_finish_impl(error_code&) override {}

  HttpLimits limits_;
  HttpRequest request_;
  std::optional<Refusal> refusal_;
  size_t fields_ = 0;
  bool start_line_done_ = false;
  bool head_done_ = false;
};

// The refusal for a read that stopped with `ec`, or nullopt when the
// connection should just be closed (timeout, reset, end of stream).
std::optional<Refusal> RefusalForError(const boost::beast::error_code& ec,
                                       const HttpRequestParser& parser);

// Checks on a complete head, before the body is read: Content-Encoding
// (anything but identity → 415), Transfer-Encoding (only "chunked"), and a
// POST/PUT/PATCH without Content-Length or chunked framing → 411.
std::optional<Refusal> CheckHead(const HttpRequestParser& parser);

// Feeds `bytes` to a fresh parser (in pieces of `piece` bytes; 0 = one
// buffer) and applies CheckHead; for the fuzz target and tests.
struct HttpParseOutcome {
  std::optional<Refusal> refusal;
  bool complete = false;
  HttpRequest request;
};
HttpParseOutcome ParseHttpRequest(std::string_view bytes, const HttpLimits& limits,
                                  size_t piece = 0);

}  // namespace argus::server
