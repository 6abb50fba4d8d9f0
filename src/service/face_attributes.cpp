// FaceService::Analyze: the face attributes behind DetectFaces' Attributes.
#include "service/faces.h"

namespace argus::service {

Status FaceService::Analyze(const Image& image, FaceDetail& face, vision::AttributeSet want) {
  if (want == 0) return Status();
  if (face.landmarks68.size() != 68) return InvalidParameter("face has no landmarks");
  vision::FaceAttributeModels* models;
  {
    std::lock_guard<std::mutex> lock(attributes_mu_);
    if (!attributes_) {
      if (!registry_) return Internal("face attributes: no model registry");
      auto m = vision::FaceAttributeModels::Create(*registry_);
      if (!m.ok()) return m.status();
      attributes_ = std::move(m.value());
    }
    models = attributes_.get();
  }
  auto a = models->Analyze(image.bgr, face.landmarks68, face.pose, want);
  if (!a.ok()) return a.status();
  face.attributes = std::move(a.value());
  return Status();
}

Status FaceService::AnalyzeAll(const Image& image, const std::vector<FaceDetail*>& faces,
                               vision::AttributeSet want) {
  return ml::AllSideBySide(faces.size(),
                           [&](size_t i) { return Analyze(image, *faces[i], want); });
}

}  // namespace argus::service
