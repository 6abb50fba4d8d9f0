#include "vision/face/liveness.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

namespace argus::vision {

cv::Rect2f LivenessCropBox(const cv::Rect2f& face, float scale) {
  const float side = std::max(face.width, face.height) * scale;
  const float cx = face.x + face.width / 2, cy = face.y + face.height / 2;
  return {cx - side / 2, cy - side / 2, side, side};
}

cv::Mat CropResized(const cv::Mat& bgr, const cv::Rect2f& box, int size) {
  if (box.width <= 0 || box.height <= 0 || size <= 0) return {};
  // Crop → size x size as one affine warp: bilinear without anti-aliasing,
  // as tf.image.cropAndResize; border repeated.
  cv::Matx23d m(size / box.width, 0, -box.x * size / box.width,  //
                0, size / box.height, -box.y * size / box.height);
  cv::Mat out;
  cv::warpAffine(bgr, out, m, cv::Size(size, size), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

Result<std::unique_ptr<LivenessModels>> LivenessModels::Create(ml::Registry& registry) {
  auto m = std::make_unique<LivenessModels>();
  for (auto [name, slot] :
       {std::pair{"human_antispoof", &m->antispoof_}, std::pair{"human_liveness", &m->liveness_}}) {
    auto model = registry.Get(name);
    if (!model.ok()) return model.status();
    *slot = model.value();
  }
  return m;
}

Result<LivenessScores> LivenessModels::Score(const cv::Mat& bgr, const cv::Rect2f& face,
                                             float scale) const {
  if (bgr.empty() || bgr.type() != CV_8UC3) return InvalidParameter("liveness: not a BGR image");
  const cv::Rect2f box = LivenessCropBox(face, scale);
  if (box.width < 8) return InvalidParameter("liveness: face too small");
  LivenessScores s;
  const int a = antispoof_->spec().input.width(), l = liveness_->spec().input.width();
  auto out = antispoof_->Run(antispoof_->Blob(CropResized(bgr, box, a)));
  if (!out.ok()) return out.status();
  if (out.value()[0].total() != 1) return Internal("antispoof: unexpected output size");
  s.antispoof = out.value()[0].ptr<float>()[0];
  out = liveness_->Run(liveness_->Blob(CropResized(bgr, box, l)));
  if (!out.ok()) return out.status();
  if (out.value()[0].total() != 2) return Internal("liveness: unexpected output size");
  s.live = out.value()[0].ptr<float>()[0];
  return s;
}

}  // namespace argus::vision
