#include "server/http_parser.h"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <cctype>
#include <limits>

namespace argus::server {
namespace {

namespace http = boost::beast::http;

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Printable, bounded echo of client input for error messages.
std::string Quote(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (s.size() > 64) out += "...";
  return out;
}

}  // namespace

int HttpStatusOf(HttpRefusal refusal) {
  switch (refusal) {
    case HttpRefusal::kBadRequest:
      return 400;
    case HttpRefusal::kLengthRequired:
      return 411;
    case HttpRefusal::kPayloadTooLarge:
      return 413;
    case HttpRefusal::kUriTooLong:
      return 414;
    case HttpRefusal::kUnsupportedCoding:
      return 415;
    case HttpRefusal::kHeadersTooLarge:
      return 431;
    case HttpRefusal::kServiceUnavailable:
      return 503;
    case HttpRefusal::kInternal:
      return 500;
  }
  return 500;
}

std::string HttpRequest::get_header_value(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return v;
  }
  return "";
}

std::string_view HttpRequest::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

void HttpResponse::set_header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
}

void HttpResponse::set_content(std::string content, std::string content_type) {
  body = std::move(content);
  set_header("Content-Type", std::move(content_type));
}

HttpRequestParser::HttpRequestParser(const HttpLimits& limits) : limits_(limits) {
  header_limit(static_cast<std::uint32_t>(
      std::min<size_t>(limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  body_limit(limits.max_body_bytes);
}

void HttpRequestParser::on_request_impl(http::verb, string_view method, string_view target, int,
                                        error_code& ec) {
  start_line_done_ = true;
  if (target.size() > limits_.max_target_bytes) {
    refusal_ =
        Refusal{HttpRefusal::kUriTooLong, "The request target is " + std::to_string(target.size()) +
                                              " bytes; the limit is " +
                                              std::to_string(limits_.max_target_bytes) + "."};
    ec = http::error::bad_target;
    return;
  }
  request_.method.assign(method.data(), method.size());
  request_.target.assign(target.data(), target.size());
}

void HttpRequestParser::on_field_impl(http::field, string_view name, string_view value,
                                      error_code& ec) {
  if (++fields_ > limits_.max_header_count) {
    refusal_ = Refusal{HttpRefusal::kHeadersTooLarge, "The request has more than " +
                                                          std::to_string(limits_.max_header_count) +
                                                          " header fields."};
    ec = http::error::header_limit;
    return;
  }
  if (head_done_) return;  // chunked trailers are counted, not kept
  request_.headers.emplace_back(std::string(name.data(), name.size()),
                                std::string(value.data(), value.size()));
}

void HttpRequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& length,
                                          error_code&) {
  // The declared length is already within body_limit.
  if (length) request_.body.reserve(static_cast<size_t>(*length));
}

std::size_t HttpRequestParser::on_body_impl(string_view body, error_code&) {
  request_.body.append(body.data(), body.size());
  return body.size();
}

std::size_t HttpRequestParser::on_chunk_body_impl(std::uint64_t, string_view body, error_code&) {
  request_.body.append(body.data(), body.size());
  return body.size();
}

std::optional<Refusal> RefusalForError(const boost::beast::error_code& ec,
                                       const HttpRequestParser& parser) {
  if (parser.refusal()) return parser.refusal();
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    if (!parser.start_line_done()) {
      return Refusal{HttpRefusal::kUriTooLong, "The request line is too long."};
    }
    if (!parser.head_done()) {
      return Refusal{HttpRefusal::kHeadersTooLarge,
                     "The request header is too large: header fields may total at most the "
                     "header limit."};
    }
    return Refusal{HttpRefusal::kBadRequest, "A chunk header or trailer is too large."};
  }
  if (ec == http::error::body_limit) {
    return Refusal{HttpRefusal::kPayloadTooLarge, "Request body exceeds the size limit."};
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
  if (ec.category() == make_error_code(http::error::bad_method).category()) {
    return Refusal{HttpRefusal::kBadRequest, "Malformed HTTP request: " + ec.message() + "."};
  }
  return std::nullopt;  // a socket error or timeout: nobody to answer
}

std::optional<Refusal> CheckHead(const HttpRequestParser& parser) {
  const HttpRequest& r = parser.request();
  bool has_te = false;
  for (const auto& [name, value] : r.headers) {
    if (IEquals(name, "Content-Encoding") && !IEquals(Trim(value), "identity")) {
      return Refusal{HttpRefusal::kUnsupportedCoding,
                     "Content-Encoding '" + Quote(value) +
                         "' is not accepted: send the request body unencoded."};
    }
    if (IEquals(name, "Transfer-Encoding")) {
      has_te = true;
      if (!IEquals(Trim(value), "chunked")) {
        return Refusal{HttpRefusal::kBadRequest,
                       "Transfer-Encoding '" + Quote(value) +
                           "' is not supported: use Content-Length or chunked alone."};
      }
    }
  }
  if (has_te && !parser.chunked()) {
    return Refusal{HttpRefusal::kBadRequest, "Malformed Transfer-Encoding."};
  }
  bool may_have_body = r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
  if (may_have_body && !parser.chunked() && !parser.content_length()) {
    return Refusal{HttpRefusal::kLengthRequired,
                   "A " + r.method +
                       " request needs a Content-Length header (or chunked "
                       "Transfer-Encoding)."};
  }
  return std::nullopt;
}

HttpParseOutcome ParseHttpRequest(std::string_view bytes, const HttpLimits& limits, size_t piece) {
  HttpParseOutcome out;
  HttpRequestParser parser(limits);
  parser.eager(false);  // the head first, as the server reads it
  std::string pending;
  size_t given = 0;
  boost::beast::error_code ec;
  bool checked = false;
  while (!parser.is_done()) {
    if (given < bytes.size()) {
      size_t n = piece == 0 ? bytes.size() - given : std::min(piece, bytes.size() - given);
      pending.append(bytes.substr(given, n));
      given += n;
    }
    size_t used = parser.put(boost::asio::buffer(pending.data(), pending.size()), ec);
    pending.erase(0, used);
    if (ec == http::error::need_more) {
      if (given == bytes.size() && used == 0) return out;  // incomplete
      ec = {};
      continue;
    }
    if (ec) {
      out.refusal = RefusalForError(ec, parser);
      return out;
    }
    if (used == 0 && given == bytes.size() && !parser.is_done()) return out;  // incomplete
    if (parser.is_header_done() && !checked) {
      checked = true;
      if ((out.refusal = CheckHead(parser))) return out;
      parser.eager(true);
    }
  }
  out.complete = true;
  out.request = std::move(parser.request());
  return out;
}

}  // namespace argus::server
