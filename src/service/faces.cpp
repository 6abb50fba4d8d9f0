#include "service/faces.h"

namespace argus::service {

Result<std::unique_ptr<FaceService>> FaceService::Create(ml::Registry& registry) {
  auto det = vision::FaceDetector::CreateSsd(registry);
  if (!det.ok()) return det.status();
  auto lm = vision::Landmarker68::Create(registry);
  if (!lm.ok()) return lm.status();
  auto s = std::make_unique<FaceService>();
  s->detector_ = std::move(det.value());
  s->landmarker_ = std::move(lm.value());
  return s;
}

Result<std::vector<FaceDetail>> FaceService::DetectFaces(const Image& image,
                                                         const DetectOptions& opts) {
  auto boxes = detector_->Detect(image.bgr, opts.min_confidence, opts.max_faces);
  if (!boxes.ok()) return boxes.status();
  std::vector<FaceDetail> faces;
  for (const auto& fb : boxes.value()) {
    FaceDetail f;
    f.box = fb.box;
    f.confidence = fb.score * 100.f;
    auto lm = landmarker_->Run(image.bgr, fb.box);
    if (lm.ok()) {
      f.landmarks68 = std::move(lm.value());
      f.pose = vision::EstimatePose(f.landmarks68, image.bgr.size());
    }
    f.quality = vision::MeasureQuality(image.bgr, fb.box);
    faces.push_back(std::move(f));
  }
  return faces;
}

}  // namespace argus::service
