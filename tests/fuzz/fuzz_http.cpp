// libFuzzer target: the HTTP request parser of the transport (Beast's parser
// under the server's limits, then the checks made on a head before its body
// is read). The first byte picks how the bytes arrive (one buffer or pieces
// of 1..255 bytes); small limits make every refusal reachable.
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/http_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using argus::server::HttpRefusal;
  if (size == 0) return 0;
  size_t piece = data[0] % 4 == 0 ? 0 : data[0];
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  argus::server::HttpLimits limits;
  limits.max_header_bytes = 2048;
  limits.max_header_count = 16;
  limits.max_target_bytes = 256;
  limits.max_body_bytes = 4096;
  auto out = argus::server::ParseHttpRequest(bytes, limits, piece);
  if (out.refusal) {
    if (out.refusal->message.empty() || out.complete) __builtin_trap();
    return 0;
  }
  if (!out.complete) return 0;
  // An accepted request is within every limit.
  const auto& r = out.request;
  if (r.body.size() > limits.max_body_bytes) __builtin_trap();
  if (r.target.size() > limits.max_target_bytes) __builtin_trap();
  if (r.headers.size() > limits.max_header_count) __builtin_trap();
  if (r.method.empty() || r.target.empty()) __builtin_trap();
  // Nothing encoded gets through.
  for (const auto& [name, value] : r.headers) {
    if (name != "Content-Encoding" && name != "content-encoding") continue;
    std::string v;
    for (char c : value) {
      if (c != ' ' && c != '\t') v += char(std::tolower(static_cast<unsigned char>(c)));
    }
    if (v != "identity") __builtin_trap();
  }
  return 0;
}
