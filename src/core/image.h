#pragma once
// Image decoding with Rekognition's rules: JPEG or PNG only, at most
// kMaxImageBytes of encoded bytes, a bounded pixel count, EXIF orientation
// applied so that coordinates refer to the upright image.
#include <cstdint>
#include <string_view>

#include <opencv2/core.hpp>

#include "core/status.h"

namespace argus {

inline constexpr size_t kMaxImageBytes = 5 * 1024 * 1024;  // Rekognition's Bytes limit
inline constexpr int64_t kMaxImagePixels = 50'000'000;
inline constexpr int kMinImageSide = 80;  // Rekognition: 80 pixels on each side

enum class ImageFormat { kJpeg, kPng };

struct Image {
  cv::Mat bgr;  // 8-bit, 3 channels, upright (EXIF orientation applied)
  ImageFormat format = ImageFormat::kJpeg;
  int width() const { return bgr.cols; }
  int height() const { return bgr.rows; }
};

// Decodes encoded bytes. Errors: InvalidImageFormat (not JPEG/PNG, corrupt,
// too small), ImageTooLarge (bytes or pixel count over the limits).
Result<Image> DecodeImage(std::string_view bytes);

// Reads a whole file; InvalidParameter when it cannot be read.
Result<std::string> ReadFile(const std::string& path);

}  // namespace argus
