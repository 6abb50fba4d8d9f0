#pragma once
// Passive face liveness models of @vladmandic/human (models/human.json):
// human_antispoof (128x128 face crop, sigmoid "real" score) and
// human_liveness (32x32 face crop, softmax whose element 0 is "live"). Both
// read the face crop human cuts for FaceMesh: the face box squared and
// enlarged, 0..1 RGB. Boxes are pixels of the image given (x, y, w, h).
#include <memory>
#include <opencv2/core.hpp>

#include "core/status.h"
#include "ml/model.h"

namespace argus::vision {

// The two models' scores for one face, each 0..1, higher = more likely a
// live face (human's face.real and face.live).
struct LivenessScores {
  float antispoof = 0;
  float live = 0;
};

// How much the face box is enlarged (about its centre, after squaring to its
// longer side) before the crop: FaceMesh's crop is the face box enlarged,
// and this scale gave the most sensible scores on real frames
// (docs/MODEL_CARD.md#face-liveness).
inline constexpr float kLivenessCropScale = 1.4f;

// The square crop box for a face box: side = max(w, h) * scale, same centre.
cv::Rect2f LivenessCropBox(const cv::Rect2f& face, float scale = kLivenessCropScale);

// The crop of `box` from `bgr` resized to size x size; pixels outside the
// image repeat the border (as tf.image.cropAndResize extrapolates).
cv::Mat CropResized(const cv::Mat& bgr, const cv::Rect2f& box, int size);

// Both liveness models. Thread-safe (models are net pools); they load on Create.
class LivenessModels {
 public:
  static Result<std::unique_ptr<LivenessModels>> Create(ml::Registry& registry);

  // Scores of the face with box `face` (pixels of the 8-bit BGR `bgr`);
  // `scale` as LivenessCropBox.
  Result<LivenessScores> Score(const cv::Mat& bgr, const cv::Rect2f& face,
                               float scale = kLivenessCropScale) const;

 private:
  std::shared_ptr<ml::Model> antispoof_, liveness_;
};

}  // namespace argus::vision
