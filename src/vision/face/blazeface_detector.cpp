#include "vision/face/blazeface_detector.h"

#include <algorithm>
#include <cmath>

#include "vision/face/detection_common.h"

namespace argus::vision::detail {
namespace {

// BlazeFace box -> SSD box convention: medians of matched SSD/BlazeFace box
// ratios on wider-dev, celeba-dev and utkface-dev faces.
constexpr float kToSsdW = 0.883f, kToSsdH = 1.107f, kToSsdDx = -0.011f, kToSsdDy = -0.060f;

class BlazeFaceDetector : public FaceDetector {
 public:
  explicit BlazeFaceDetector(std::shared_ptr<ml::Model> m) : pass_(std::move(m)) {}

  Result<std::vector<FaceBox>> Detect(const cv::Mat& bgr, float min_score, int max_faces) override {
    std::vector<FaceBox> cand;
    // Candidates down to the cascade's unsure score go into NMS, as there.
    ARGUS_RETURN_IF_ERROR(pass_.Run(bgr, std::min(min_score, kBlazeUnsure), &cand));
    cand = Nms(cand, 0.f, kBlazeNmsIoU);
    return Finish(std::move(cand), bgr.size(), min_score, max_faces, /*calibrate=*/true);
  }

 private:
  BlazeFacePass pass_;
};

}  // namespace

BlazeFacePass::BlazeFacePass(std::shared_ptr<ml::Model> m) : model_(std::move(m)) {
  for (auto [stride, per_cell] : {std::pair{16, 2}, std::pair{32, 6}}) {
    const int g = kInput / stride;
    for (int gy = 0; gy < g; ++gy)
      for (int gx = 0; gx < g; ++gx)
        for (int k = 0; k < per_cell; ++k)
          anchors_.emplace_back(stride * (gx + 0.5f), stride * (gy + 0.5f));
  }
}

Status BlazeFacePass::Run(const cv::Mat& bgr, float min_score, std::vector<FaceBox>* out) {
  const int side = std::max(bgr.cols, bgr.rows);
  const double k = double(kInput) / side;
  auto outs = model_->Run(model_->Blob(Letterbox(bgr, k, k, {0, 0}, kInput)));
  if (!outs.ok()) return outs.status();
  const auto& o = outs.value();  // classificators_1, _2, regressors_1, _2
  if (o.size() != 4 || o[0].total() + o[1].total() != anchors_.size() ||
      o[2].total() + o[3].total() != anchors_.size() * 16)
    return Internal("blazeface: unexpected output shapes");
  const float f = float(side) / kInput;
  for (size_t i = 0; i < anchors_.size(); ++i) {
    const bool first = i < o[0].total();
    const size_t j = first ? i : i - o[0].total();
    const float logit = (first ? o[0] : o[1]).ptr<float>()[j];
    const float score = 1.f / (1.f + std::exp(-std::clamp(logit, -50.f, 50.f)));
    if (score < min_score) continue;
    const float* r = (first ? o[2] : o[3]).ptr<float>() + j * 16;
    if (r[2] <= 0 || r[3] <= 0) continue;
    const float w = r[2] * kToSsdW, h = r[3] * kToSsdH;
    const float cx = anchors_[i].x + r[0] + kToSsdDx * r[2];
    const float cy = anchors_[i].y + r[1] + kToSsdDy * r[3];
    out->push_back({cv::Rect2f((cx - w / 2) * f, (cy - h / 2) * f, w * f, h * f), score});
  }
  return Status::Ok();
}

Result<std::unique_ptr<FaceDetector>> NewBlazeFaceDetector(ml::Registry& registry) {
  auto b = registry.Get("human_blazeface");
  if (!b.ok()) return b.status();
  return std::unique_ptr<FaceDetector>(new BlazeFaceDetector(b.value()));
}

}  // namespace argus::vision::detail
