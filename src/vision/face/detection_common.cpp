#include "vision/face/detection_common.h"

#include <algorithm>
#include <cmath>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "core/geometry.h"

namespace argus::vision::detail {

// The SSD's boxes against the WIDER FACE box convention (hairline to chin,
// ear to ear), by the box's height in pixels: small boxes come out about 12%
// too large, large ones too short and slightly high. Medians of matched
// ground-truth/detection ratios on wider-dev, linearly interpolated.
cv::Rect2f CalibrateSsdBox(const cv::Rect2f& b) {
  static constexpr float kH[] = {8, 20, 45, 100};
  static constexpr float kW[] = {0.88f, 0.94f, 0.99f, 1.0f};    // width factor
  static constexpr float kHt[] = {0.90f, 0.99f, 1.06f, 1.18f};  // height factor
  static constexpr float kDy[] = {0, 0.025f, 0.05f, 0};         // centre shift / height
  auto interp = [&](const float* v) {
    if (b.height <= kH[0]) return v[0];
    for (int i = 1; i < 4; ++i)
      if (b.height <= kH[i]) {
        float t = (b.height - kH[i - 1]) / (kH[i] - kH[i - 1]);
        return v[i - 1] + t * (v[i] - v[i - 1]);
      }
    return v[3];
  };
  const float cx = b.x + b.width / 2, cy = b.y + b.height / 2 + interp(kDy) * b.height;
  const float w = b.width * interp(kW), h = b.height * interp(kHt);
  return {cx - w / 2, cy - h / 2, w, h};
}

// What a net with a size x size input sees of img scaled by (kx, ky) and
// placed at `at` on a black canvas (face-api and human pad to a square at the
// top left, then resize): the scaled image is made first, so a large photo
// never gets a canvas of its own size.
cv::Mat Letterbox(const cv::Mat& img, double kx, double ky, cv::Point at, int size) {
  cv::Mat canvas(size, size, CV_8UC3, cv::Scalar(0, 0, 0));
  const int w = std::clamp(int(std::lround(img.cols * kx)), 1, size - at.x);
  const int h = std::clamp(int(std::lround(img.rows * ky)), 1, size - at.y);
  cv::Mat scaled;
  cv::resize(img, scaled, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
  scaled.copyTo(canvas(cv::Rect(at.x, at.y, w, h)));
  return canvas;
}

// Non-maximum suppression: the candidates kept, best first.
std::vector<FaceBox> Nms(const std::vector<FaceBox>& cand, float min_score, float iou) {
  std::vector<cv::Rect2d> rects;
  std::vector<float> scores;
  for (const auto& c : cand) rects.emplace_back(c.box), scores.push_back(c.score);
  std::vector<int> keep;
  cv::dnn::NMSBoxes(rects, scores, min_score, iou, keep);
  std::vector<FaceBox> kept;
  for (int i : keep) kept.push_back(cand[i]);
  return kept;
}

// NMS over candidates, (SSD) box calibration, clip to the image, largest
// first, at most max_faces.
std::vector<FaceBox> Finish(std::vector<FaceBox> cand, cv::Size size, float min_score,
                            int max_faces, bool calibrate) {
  std::vector<FaceBox> faces;
  for (const auto& c : Nms(cand, min_score, kNmsIoU)) {
    cv::Rect2f r = ClampBox(calibrate ? CalibrateSsdBox(c.box) : c.box, size);
    if (r.width < 1 || r.height < 1) continue;
    faces.push_back({r, c.score});
  }
  std::stable_sort(faces.begin(), faces.end(),
                   [](const FaceBox& a, const FaceBox& b) { return a.box.area() > b.box.area(); });
  if (max_faces > 0 && int(faces.size()) > max_faces) faces.resize(max_faces);
  return faces;
}

Status RunSideBySide(const std::vector<PassFn>& passes, std::vector<std::vector<FaceBox>>* found) {
  found->assign(passes.size(), {});
  return ml::AllSideBySide(passes.size(), [&](size_t i) { return passes[i](&(*found)[i]); });
}

Status RunPasses(const std::vector<PassFn>& passes, std::vector<FaceBox>* out) {
  std::vector<std::vector<FaceBox>> found;
  ARGUS_RETURN_IF_ERROR(RunSideBySide(passes, &found));
  for (const auto& f : found) out->insert(out->end(), f.begin(), f.end());
  return Status::Ok();
}

cv::Mat NormaliseDimImage(const cv::Mat& bgr) {
  if (bgr.empty()) return {};
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::Scalar mean, sd;
  cv::meanStdDev(grey, mean, sd);
  if (mean[0] >= 100 && sd[0] >= 40) return {};
  int hist[256] = {0};
  for (int y = 0; y < grey.rows; ++y) {
    const uchar* p = grey.ptr<uchar>(y);
    for (int x = 0; x < grey.cols; ++x) ++hist[p[x]];
  }
  const double total = double(grey.total());
  int lo = 0, hi = 255;
  for (double run = 0; lo < 255 && (run += hist[lo]) <= 0.005 * total;) ++lo;
  for (double run = 0; hi > 0 && (run += hist[hi]) <= 0.005 * total;) --hi;
  if (hi - lo < 8) return {};  // one flat colour: nothing to find
  // The stretched mean, then the gamma that brings it to about 120.
  const double m = std::clamp((mean[0] - lo) / (hi - lo), 0.02, 0.98);
  const double gamma = std::clamp(std::log(120.0 / 255.0) / std::log(m), 0.3, 1.5);
  cv::Mat lut(1, 256, CV_8U);
  for (int i = 0; i < 256; ++i) {
    const double v = std::clamp((i - lo) / double(hi - lo), 0.0, 1.0);
    lut.at<uchar>(i) = cv::saturate_cast<uchar>(255.0 * std::pow(v, gamma));
  }
  cv::Mat out;
  cv::LUT(bgr, lut, out);
  return out;
}

}  // namespace argus::vision::detail
