#pragma once
// Face analysis free of HTTP and JSON: detection, landmarks, pose, quality.
// Thread-safe; models are shared through the registry's net pools.
#include <memory>
#include <vector>

#include "core/image.h"
#include "vision/face/face.h"

namespace argus::service {

struct FaceDetail {
  cv::Rect2f box;       // pixels of the upright image
  float confidence = 0; // 0..100
  std::vector<cv::Point2f> landmarks68;  // pixels; empty if landmarking failed
  vision::Pose pose;
  vision::Quality quality;
};

struct DetectOptions {
  float min_confidence = 0.5f;  // detector score, 0..1
  int max_faces = 100;
};

class FaceService {
 public:
  static Result<std::unique_ptr<FaceService>> Create(ml::Registry& registry);
  // Faces largest first.
  Result<std::vector<FaceDetail>> DetectFaces(const Image& image, const DetectOptions& opts = {});

 private:
  std::unique_ptr<vision::FaceDetector> detector_;
  std::unique_ptr<vision::Landmarker68> landmarker_;
};

}  // namespace argus::service
