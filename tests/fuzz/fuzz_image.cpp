// libFuzzer target: image decoding (JPEG/PNG sniffing, EXIF orientation, limits).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto image = argus::DecodeImage(std::string_view(reinterpret_cast<const char*>(data), size));
  if (image.ok() && (image->bgr.empty() || image->bgr.channels() != 3)) std::abort();
  return 0;
}
