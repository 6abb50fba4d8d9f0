#pragma once
// Image-level content classification for moderation.
#include <array>
#include <memory>
#include <opencv2/core.hpp>

#include "core/status.h"
#include "ml/model.h"

namespace argus::vision {

// nsfwjs probabilities (0..1, summing to 1) in its class order.
struct NsfwScores {
  enum Class { kDrawing = 0, kHentai, kNeutral, kPorn, kSexy, kCount };
  std::array<float, kCount> p{};
};

class NsfwClassifier {
 public:
  // nsfwjs MobileNetV2 "mid" (224x224, whole image stretched).
  static Result<std::unique_ptr<NsfwClassifier>> Create(ml::Registry& registry);
  Result<NsfwScores> Classify(const cv::Mat& bgr);

 private:
  std::shared_ptr<ml::Model> model_;
};

}  // namespace argus::vision
