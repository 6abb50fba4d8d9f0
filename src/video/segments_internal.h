#pragma once
// The per-frame measurements behind DetectSegments (internal; tested
// directly).
#include <array>
#include <deque>
#include <optional>

#include "video/video.h"

namespace argus::video::internal {

// Frames are measured on a thumbnail of this size.
inline constexpr int kThumbWidth = 64, kThumbHeight = 36;
// Consecutive frames whose Difference() is at least this start a new shot.
inline constexpr float kShotCutThreshold = 0.35f;
// A cut within one palette (a dark stage from another angle, one speaker
// then another): the thumbnails' PixelDifference at least this, and at
// least kLayoutCutRatio times its mean over the kLayoutWindow frames before
// (motion raises that mean; a cut stands out of it). On the development
// clips, frame to frame, the cuts read 0.106-0.115 at 7-63 times the mean,
// motion at most 0.052 and 2.4 times.
inline constexpr float kLayoutCutThreshold = 0.08f, kLayoutCutRatio = 4.f;
inline constexpr int kLayoutWindow = 8;
// A frame shows colour bars when at least this fraction of the 21 bar
// samples (7 bars x 3 heights) has the expected on/off channels.
inline constexpr float kColorBarsMatch = 0.9f;

struct FrameSignature {
  // Hue (16 bins), saturation (8) and value (8) histograms, each summing to 1.
  std::array<float, 32> hist{};
  float black_coverage = 0;  // fraction of pixels at or below the black threshold
  float bars_match = 0;      // fraction of colour-bar samples that match
  cv::Mat thumb;             // the BGR thumbnail
};

FrameSignature Signature(const cv::Mat& bgr, float black_threshold);
// 0 (same colour distribution) .. 1 (disjoint): half the L1 distance of the
// hue histograms weighted 1/2, of saturation and value 1/4 each.
float Difference(const FrameSignature& a, const FrameSignature& b);
// 0 (same thumbnail) .. 1: the mean absolute difference of the thumbnails'
// pixels over 255.
float PixelDifference(const FrameSignature& a, const FrameSignature& b);

// Hard cuts between consecutive frames (every frame of the video): a colour
// change (Difference) or a layout change (PixelDifference, see
// kLayoutCutThreshold).
class ShotCuts {
 public:
  // The confidence (50..100) that `sig` starts a new shot after the frame
  // given before; 0 when it does not (and for the first frame).
  float Next(const FrameSignature& sig);

 private:
  std::optional<FrameSignature> prev_;
  std::deque<float> recent_;  // PixelDifference of the last kLayoutWindow pairs
};

}  // namespace argus::video::internal
