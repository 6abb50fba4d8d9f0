#pragma once
// Internal to the video module: libav frames to BGR images.
#include <opencv2/core.hpp>

#include "core/status.h"

extern "C" {
struct AVFrame;
struct SwsContext;
}

namespace argus::video::internal {

// Converts decoded frames to 8-bit BGR with swscale, full-range frames kept
// full range. One per decoder; not thread-safe.
class BgrConverter {
 public:
  BgrConverter() = default;
  BgrConverter(const BgrConverter&) = delete;
  BgrConverter& operator=(const BgrConverter&) = delete;
  ~BgrConverter();
  // A fresh continuous image (the caller may keep the previous one).
  // InvalidParameter for a pixel format swscale cannot convert.
  Status Convert(const AVFrame& frame, cv::Mat& bgr);

 private:
  SwsContext* sws_ = nullptr;
  cv::Mat scratch_;  // padded BGR rows for swscale
};

}  // namespace argus::video::internal
