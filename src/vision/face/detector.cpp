// FaceDetector::Create: the face detectors by name.
#include "vision/face/detector.h"

#include "vision/face/blazeface_detector.h"
#include "vision/face/detectors.h"
#include "vision/face/ssd_detector.h"

namespace argus::vision {

Result<std::unique_ptr<FaceDetector>> FaceDetector::Create(const std::string& name,
                                                           ml::Registry& registry) {
  if (name == "haar") return detail::NewHaarDetector();
  if (name == "cascade") return detail::NewCascadeDetector(registry);
  if (name == "blaze") return detail::NewBlazeFaceDetector(registry);
  auto ssd = detail::SsdDetector::Create(name, registry);
  if (!ssd.ok()) return ssd.status();
  return std::unique_ptr<FaceDetector>(std::move(ssd.value()));
}

}  // namespace argus::vision
