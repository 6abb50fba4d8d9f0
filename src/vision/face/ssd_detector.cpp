#include <algorithm>
#include <numeric>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "vision/face/face.h"

namespace argus::vision {

float IoU(const cv::Rect2f& a, const cv::Rect2f& b) {
  float inter = (a & b).area();
  float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.f;
}

namespace {

constexpr float kNmsIoU = 0.5f;  // face-api's default for SSD

// outputs: boxes [1,N,4] as (ymin, xmin, ymax, xmax) relative to the padded
// square input; scores [1,N] face probability (models/faceapi.json).
class SsdDetector : public FaceDetector {
 public:
  explicit SsdDetector(std::shared_ptr<ml::Model> m) : model_(std::move(m)) {}

  Result<std::vector<FaceBox>> Detect(const cv::Mat& bgr, float min_score,
                                      int max_faces) override {
    // Pad to a square at the bottom/right (as face-api does), then resize.
    int side = std::max(bgr.cols, bgr.rows);
    cv::Mat square(side, side, CV_8UC3, cv::Scalar(0, 0, 0));
    bgr.copyTo(square(cv::Rect(0, 0, bgr.cols, bgr.rows)));
    auto outs = model_->Run(model_->BlobResized(square));
    if (!outs.ok()) return outs.status();
    const cv::Mat& boxes = outs.value()[0];
    const cv::Mat& scores = outs.value()[1];
    const int n = static_cast<int>(scores.total());
    if (boxes.total() != size_t(n) * 4) return Internal("ssd: unexpected output shapes");
    const float* b = boxes.ptr<float>();
    const float* s = scores.ptr<float>();
    std::vector<cv::Rect2d> rects;
    std::vector<float> confs;
    for (int i = 0; i < n; ++i) {
      if (s[i] < min_score) continue;
      float y0 = std::max(0.f, b[4 * i]), x0 = std::max(0.f, b[4 * i + 1]);
      float y1 = std::min(1.f, b[4 * i + 2]), x1 = std::min(1.f, b[4 * i + 3]);
      if (x1 <= x0 || y1 <= y0) continue;
      rects.emplace_back(x0 * side, y0 * side, (x1 - x0) * side, (y1 - y0) * side);
      confs.push_back(s[i]);
    }
    std::vector<int> keep;
    cv::dnn::NMSBoxes(rects, confs, min_score, kNmsIoU, keep);
    std::vector<FaceBox> faces;
    for (int i : keep) {
      cv::Rect2f r(rects[i]);
      r &= cv::Rect2f(0, 0, bgr.cols, bgr.rows);
      if (r.width < 1 || r.height < 1) continue;
      faces.push_back({r, confs[i]});
    }
    std::stable_sort(faces.begin(), faces.end(), [](const FaceBox& a, const FaceBox& c) {
      return a.box.area() > c.box.area();
    });
    if (max_faces > 0 && int(faces.size()) > max_faces) faces.resize(max_faces);
    return faces;
  }

 private:
  std::shared_ptr<ml::Model> model_;
};

}  // namespace

Result<std::unique_ptr<FaceDetector>> FaceDetector::CreateSsd(ml::Registry& registry) {
  auto m = registry.Get("faceapi_ssd_mobilenetv1");
  if (!m.ok()) return m.status();
  return std::unique_ptr<FaceDetector>(new SsdDetector(m.value()));
}

}  // namespace argus::vision
