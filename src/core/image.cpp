#include "core/image.h"

#include <atomic>
#include <cstring>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

namespace argus {
namespace {

uint32_t Be32(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

// Reads width/height from the PNG IHDR or the JPEG SOFn header without
// decoding, so that decompression bombs are refused before any allocation.
bool PeekSize(std::string_view b, ImageFormat fmt, int64_t* w, int64_t* h) {
  auto u = reinterpret_cast<const unsigned char*>(b.data());
  if (fmt == ImageFormat::kPng) {
    if (b.size() < 24) return false;
    *w = Be32(u + 16);
    *h = Be32(u + 20);
    return true;
  }
  size_t i = 2;
  while (i + 9 < b.size()) {
    if (u[i] != 0xFF) return false;
    unsigned char marker = u[i + 1];
    if (marker == 0xFF) {
      ++i;
      continue;
    }
    size_t len = (size_t(u[i + 2]) << 8) | u[i + 3];
    bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      *h = (int64_t(u[i + 5]) << 8) | u[i + 6];
      *w = (int64_t(u[i + 7]) << 8) | u[i + 8];
      return true;
    }
    i += 2 + len;
  }
  return false;
}

// A complete JPEG ends its entropy-coded data with EOI (FF D9); inside that
// data 0xFF is always stuffed, so an EOI after the first SOS means the file
// was not cut short (libjpeg would otherwise pad a truncated file with grey).
bool JpegHasEnd(std::string_view b) {
  auto u = reinterpret_cast<const unsigned char*>(b.data());
  size_t i = 2;
  while (i + 4 < b.size()) {
    if (u[i] != 0xFF) return false;
    unsigned char marker = u[i + 1];
    if (marker == 0xFF) {
      ++i;
      continue;
    }
    if (marker == 0xDA) break;  // start of scan
    i += 2 + ((size_t(u[i + 2]) << 8) | u[i + 3]);
  }
  for (size_t k = b.size() - 1; k > i; --k)
    if (u[k] == 0xD9 && u[k - 1] == 0xFF) return true;
  return false;
}

std::atomic<ImageMemory*> g_image_memory{nullptr};

}  // namespace

void SetImageMemory(ImageMemory* m) { g_image_memory.store(m); }

Result<Image> DecodeImage(std::string_view bytes) {
  if (bytes.empty()) return InvalidParameter("Image bytes are empty.");
  if (bytes.size() > kMaxImageBytes) {
    return Status(Code::kImageTooLarge, "Image size " + std::to_string(bytes.size()) +
                                            " bytes exceeds the limit of 5242880 bytes.");
  }
  auto u = reinterpret_cast<const unsigned char*>(bytes.data());
  Image img;
  if (bytes.size() >= 3 && u[0] == 0xFF && u[1] == 0xD8 && u[2] == 0xFF) {
    img.format = ImageFormat::kJpeg;
  } else if (bytes.size() >= 8 && std::memcmp(u, "\x89PNG\r\n\x1a\n", 8) == 0) {
    // The full 8-byte signature: OpenCV picks its decoder by signature, and a
    // shorter match would hand the bytes to a decoder other than PNG's.
    img.format = ImageFormat::kPng;
  } else {
    return InvalidImageFormat(
        "Request has unsupported image format: only JPEG and PNG are "
        "supported.");
  }
  int64_t w = 0, h = 0;
  if (!PeekSize(bytes, img.format, &w, &h)) {
    return InvalidImageFormat("Request has invalid image format: the image header is corrupt.");
  }
  // Each side is bounded first so that the product cannot overflow.
  if (w <= 0 || h <= 0) {
    return InvalidImageFormat("Request has invalid image format: the image has no pixels.");
  }
  if (w > kMaxImagePixels || h > kMaxImagePixels || w * h > kMaxImagePixels) {
    return Status(Code::kImageTooLarge, "Image dimensions " + std::to_string(w) + "x" +
                                            std::to_string(h) + " exceed the limit of " +
                                            std::to_string(kMaxImagePixels) + " pixels.");
  }
  if (img.format == ImageFormat::kJpeg && !JpegHasEnd(bytes)) {
    return InvalidImageFormat("Request has invalid image format: the JPEG data is truncated.");
  }
  if (ImageMemory* memory = g_image_memory.load()) {
    auto reserved = memory->Reserve(w * h * kDecodedBytesPerPixel);
    if (!reserved.ok()) return reserved.status();
    img.reservation = std::move(reserved.value());
  }
  try {
    cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    img.bgr = cv::imdecode(buf, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return InvalidImageFormat(std::string("Request has invalid image format: ") + e.what());
  }
  if (img.bgr.empty()) {
    return InvalidImageFormat("Request has invalid image format: the image could not be decoded.");
  }
  if (img.width() < kMinImageSide || img.height() < kMinImageSide) {
    return InvalidImageFormat("Request has invalid image format: images must be at least " +
                              std::to_string(kMinImageSide) + " pixels on each side.");
  }
  return img;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidParameter("cannot read file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace argus
