#pragma once
// human's BlazeFace ("back" variant) face detector; internal to vision/face,
// where the cascade runs its pass first. Boxes are image pixels.
#include <memory>
#include <vector>

#include "ml/model.h"
#include "vision/face/detector.h"

namespace argus::vision::detail {

// One BlazeFace pass on the whole image padded to a square at 256x256: 896
// anchors on a 16x16 (2 per cell) and an 8x8 (6 per cell) grid; each
// regresses a box centre offset and size in input pixels. Its boxes are
// mapped to the SSD's (uncalibrated) box convention, so that CalibrateSsdBox
// applies and the landmark net gets the same crops from both detectors.
class BlazeFacePass {
 public:
  explicit BlazeFacePass(std::shared_ptr<ml::Model> m);
  // Appends the candidates scored min_score or more, before NMS.
  Status Run(const cv::Mat& bgr, float min_score, std::vector<FaceBox>* out);

 private:
  static constexpr int kInput = 256;
  std::shared_ptr<ml::Model> model_;
  std::vector<cv::Point2f> anchors_;  // input pixels
};

// IoU above which BlazeFace's NMS drops a candidate; candidates scored below
// kBlazeUnsure are not taken as a hint of a face.
inline constexpr float kBlazeNmsIoU = 0.3f, kBlazeUnsure = 0.3f;

// "blaze": BlazeFace alone (an evaluation baseline), boxes calibrated as the SSD's.
Result<std::unique_ptr<FaceDetector>> NewBlazeFaceDetector(ml::Registry& registry);

}  // namespace argus::vision::detail
