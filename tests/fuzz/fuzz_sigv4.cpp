// libFuzzer target: SigV4 Authorization header parsing and verification.
// The input is "<Authorization header>\n<X-Amz-Date>\n<body>".
#include <cstdint>
#include <string>

#include "auth/sigv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  size_t a = in.find('\n');
  std::string header = in.substr(0, a);
  std::string date = "20150830T123600Z", body;
  if (a != std::string::npos) {
    size_t b = in.find('\n', a + 1);
    date = in.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
    if (b != std::string::npos) body = in.substr(b + 1);
  }
  (void)argus::auth::ParseAuthorization(header);
  argus::auth::HttpRequest r{
      "POST",
      "/?" + header.substr(0, 64),
      {{"Host", "localhost"}, {"X-Amz-Date", date}, {"Authorization", header}},
      body};
  auto lookup = [](const std::string& id) -> std::optional<std::string> {
    if (id.empty()) return std::nullopt;
    return std::string("secret");
  };
  (void)argus::auth::Verify(r, lookup, 1440938160);
  // Whatever was signed verifies.
  argus::auth::HttpRequest s{"POST", "/", {{"Host", header.substr(0, 32)}}, body};
  argus::auth::Sign(s, "AKAGFUZZ", "secret", "us-east-1", 1440938160);
  if (!argus::auth::Verify(s, lookup, 1440938160).ok()) __builtin_trap();
  return 0;
}
