// libFuzzer target: base64 decoding (and the encode/decode round trip).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/base64.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto decoded = argus::Base64Decode(text, "Image.Bytes");
  if (decoded.ok()) {
    auto again = argus::Base64Decode(argus::Base64Encode(decoded.value()), "x");
    if (!again.ok() || again.value() != decoded.value()) std::abort();
  }
  return 0;
}
