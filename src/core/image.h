#pragma once
// Image decoding with Rekognition's rules: JPEG or PNG only, at most
// kMaxImageBytes of encoded bytes, a bounded pixel count, EXIF orientation
// applied so that coordinates refer to the upright image.
#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <string_view>

#include "core/status.h"

namespace argus {

inline constexpr size_t kMaxImageBytes = 5 * 1024 * 1024;  // Rekognition's Bytes limit
inline constexpr int64_t kMaxImagePixels = 50'000'000;
inline constexpr int kMinImageSide = 80;  // Rekognition: 80 pixels on each side

enum class ImageFormat { kJpeg, kPng };

// Bytes a decoded image of w x h pixels is counted as (8-bit BGR).
inline constexpr int64_t kDecodedBytesPerPixel = 3;

// Admission of decoded-image memory, shared by all requests of a process.
// DecodeImage reserves an image's decoded bytes before it decodes; the
// reservation is held while the Image (or a copy of it) lives.
class ImageMemory {
 public:
  virtual ~ImageMemory() = default;
  // Reserves `bytes`, waiting while they do not fit; the reservation ends when
  // the returned handle is destroyed. Errors: Throttling when they cannot fit.
  virtual Result<std::shared_ptr<void>> Reserve(int64_t bytes) = 0;
};

// Sets the process-wide admission DecodeImage uses (nullptr: none, the
// default). `m` must outlive every decode; call before serving.
void SetImageMemory(ImageMemory* m);

struct Image {
  cv::Mat bgr;  // 8-bit, 3 channels, upright (EXIF orientation applied)
  ImageFormat format = ImageFormat::kJpeg;
  std::shared_ptr<void> reservation;  // decoded bytes held in the ImageMemory, if any
  int width() const { return bgr.cols; }
  int height() const { return bgr.rows; }
};

// Decodes encoded bytes, its size read from the header first and reserved in
// the ImageMemory, when one is set. Errors: InvalidImageFormat (not JPEG/PNG,
// corrupt, too small), ImageTooLarge (bytes or pixel count over the limits),
// Throttling (decoded memory cannot be had).
Result<Image> DecodeImage(std::string_view bytes);

// Reads a whole file; InvalidParameter when it cannot be read.
Result<std::string> ReadFile(const std::string& path);

}  // namespace argus
