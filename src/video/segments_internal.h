#pragma once
// The per-frame measurements behind DetectSegments (internal; tested
// directly).
#include <array>

#include "video/video.h"

namespace argus::video::internal {

// Frames are measured on a thumbnail of this size.
inline constexpr int kThumbWidth = 64, kThumbHeight = 36;
// Consecutive frames whose Difference() is at least this start a new shot.
inline constexpr float kShotCutThreshold = 0.35f;
// A frame shows colour bars when at least this fraction of the 21 bar
// samples (7 bars x 3 heights) has the expected on/off channels.
inline constexpr float kColorBarsMatch = 0.9f;

struct FrameSignature {
  // Hue (16 bins), saturation (8) and value (8) histograms, each summing to 1.
  std::array<float, 32> hist{};
  float black_coverage = 0;  // fraction of pixels at or below the black threshold
  float bars_match = 0;      // fraction of colour-bar samples that match
};

FrameSignature Signature(const cv::Mat& bgr, float black_threshold);
// 0 (same colour distribution) .. 1 (disjoint): half the L1 distance of the
// hue histograms weighted 1/2, of saturation and value 1/4 each.
float Difference(const FrameSignature& a, const FrameSignature& b);

}  // namespace argus::video::internal
