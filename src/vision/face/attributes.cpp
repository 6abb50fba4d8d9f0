#include "vision/face/attributes.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace argus::vision {
namespace {

float Dist(cv::Point2f a, cv::Point2f b) { return float(cv::norm(a - b)); }

constexpr float kDeg = float(180.0 / CV_PI);

}  // namespace

cv::Rect2f LandmarkCropBox(const std::vector<cv::Point2f>& lm68) {
  if (lm68.empty()) return {};
  float x0 = lm68[0].x, y0 = lm68[0].y, x1 = x0, y1 = y0;
  for (const auto& p : lm68) {
    x0 = std::min(x0, p.x), y0 = std::min(y0, p.y);
    x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
  }
  const float w = x1 - x0, h = y1 - y0;
  return {x0 - 0.1f * w, y0 - 0.1f * h, 1.2f * w, 1.2f * h};
}

cv::Mat SquareCrop(const cv::Mat& bgr, const cv::Rect2f& box) {
  cv::Rect r =
      cv::Rect(cv::Point(int(std::floor(box.x)), int(std::floor(box.y))),
               cv::Point(int(std::ceil(box.x + box.width)), int(std::ceil(box.y + box.height)))) &
      cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (r.width < 2 || r.height < 2) return {};
  const int side = std::max(r.width, r.height);
  cv::Mat square(side, side, bgr.type(), cv::Scalar::all(0));
  bgr(r).copyTo(square(cv::Rect((side - r.width) / 2, (side - r.height) / 2, r.width, r.height)));
  return square;
}

float EyeAspectRatio(const std::vector<cv::Point2f>& p) {
  if (p.size() != 68) return 0;
  auto ear = [&](int o) {  // o = first index of the eye's 6 points
    const float w = Dist(p[o], p[o + 3]);
    if (w <= 0) return 0.f;
    return (Dist(p[o + 1], p[o + 5]) + Dist(p[o + 2], p[o + 4])) / (2 * w);
  };
  return 0.5f * (ear(36) + ear(42));
}

float MouthOpenRatio(const std::vector<cv::Point2f>& p) {
  if (p.size() != 68) return 0;
  const float w = Dist(p[60], p[64]);
  if (w <= 0) return 0;
  return (Dist(p[61], p[67]) + Dist(p[62], p[66]) + Dist(p[63], p[65])) / (3 * w);
}

cv::Point2f EyeInHeadAngles(cv::Point2f iris, cv::Point2f a, cv::Point2f b) {
  const float width = Dist(a, b);
  if (width <= 0) return {0, 0};
  // Express the iris offset in the eye's own axes (x along the corner line)
  // so that head roll does not read as gaze.
  cv::Point2f ax = (b - a) * (1.f / width);
  if (ax.x < 0) ax = -ax;             // x axis towards the image's right
  const cv::Point2f ay(-ax.y, ax.x);  // y axis down the image
  const cv::Point2f d = iris - (a + b) * 0.5f;
  const float radius = 0.45f * width;
  const float sx = std::clamp(d.dot(ax) / radius, -1.f, 1.f);
  const float sy = std::clamp(d.dot(ay) / radius, -1.f, 1.f);
  // Iris towards the image's left = yaw positive; iris up = pitch positive.
  return {-std::asin(sx) * kDeg, -std::asin(sy) * kDeg};
}

Result<std::unique_ptr<FaceAttributeModels>> FaceAttributeModels::Create(ml::Registry& registry) {
  auto m = std::make_unique<FaceAttributeModels>();
  for (auto [name, slot] :
       {std::pair{"faceapi_age_gender", &m->age_gender_},
        std::pair{"faceapi_expression", &m->expression_}, std::pair{"human_iris", &m->iris_}}) {
    auto model = registry.Get(name);
    if (!model.ok()) return model.status();
    *slot = model.value();
  }
  return m;
}

// MediaPipe's iris crop as human's getEyeBox: the eye corners' box grown
// 2.3x and squared, resized to 64x64 (0..1 RGB). The crop is also rotated so
// the corner line is level (FaceMesh's face crop is upright before the iris
// model sees it). The model expects the image-left eye; the other is mirrored.
Result<cv::Point2f> FaceAttributeModels::IrisCentre(const cv::Mat& bgr, cv::Point2f a,
                                                    cv::Point2f b, bool mirror) {
  const int n = iris_->spec().input.width();
  const float width = Dist(a, b);
  if (width < 2) return InvalidParameter("eye too small for the iris model");
  const cv::Point2f c = (a + b) * 0.5f;
  const float side = 2.3f * width;
  const double angle = std::atan2(b.y - a.y, b.x - a.x) * kDeg;
  const double level = std::abs(angle) > 90 ? angle - 180 * (angle > 0 ? 1 : -1) : angle;
  // Image -> crop: rotate by -level about c, scale n/side, centre in the crop.
  cv::Mat m = cv::getRotationMatrix2D(c, level, n / side);
  m.at<double>(0, 2) += n / 2.0 - c.x;
  m.at<double>(1, 2) += n / 2.0 - c.y;
  cv::Mat crop;
  cv::warpAffine(bgr, crop, m, cv::Size(n, n), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  if (mirror) cv::flip(crop, crop, 1);
  auto out = iris_->Run(iris_->Blob(crop));
  if (!out.ok()) return out.status();
  const cv::Mat& o = out.value()[0];
  if (o.total() != 228) return Internal("iris: unexpected output size");
  const float* v = o.ptr<float>();
  float x = v[71 * 3], y = v[71 * 3 + 1];
  if (mirror) x = n - x;
  cv::Mat inv;
  cv::invertAffineTransform(m, inv);
  return cv::Point2f(
      float(inv.at<double>(0, 0) * x + inv.at<double>(0, 1) * y + inv.at<double>(0, 2)),
      float(inv.at<double>(1, 0) * x + inv.at<double>(1, 1) * y + inv.at<double>(1, 2)));
}

Result<FaceAttributeEstimates> FaceAttributeModels::Analyze(const cv::Mat& bgr,
                                                            const std::vector<cv::Point2f>& lm,
                                                            const Pose& pose, AttributeSet want) {
  if (lm.size() != 68) return InvalidParameter("face has no landmarks");
  FaceAttributeEstimates fa;
  fa.eye_aspect_ratio = EyeAspectRatio(lm);
  fa.mouth_open_ratio = MouthOpenRatio(lm);
  cv::Mat square;
  if (want & (kAttrAgeRange | kAttrGender | kAttrEmotions | kAttrSmile)) {
    square = SquareCrop(bgr, LandmarkCropBox(lm));
    if (square.empty()) return InvalidParameter("face outside the image");
  }
  if (want & (kAttrAgeRange | kAttrGender)) {
    auto out = age_gender_->Run(age_gender_->BlobResized(square));
    if (!out.ok()) return out.status();
    const cv::Mat& age = out.value()[0];
    const cv::Mat& gender = out.value()[1];
    if (age.total() != 1 || gender.total() != 2) return Internal("age_gender: unexpected outputs");
    fa.age = std::max(0.f, age.ptr<float>()[0]);
    fa.p_male = gender.ptr<float>()[0];
    fa.computed |= want & (kAttrAgeRange | kAttrGender);
  }
  if (want & (kAttrEmotions | kAttrSmile)) {
    auto out = expression_->Run(expression_->BlobResized(square));
    if (!out.ok()) return out.status();
    const cv::Mat& e = out.value()[0];
    if (e.total() != 7) return Internal("expression: unexpected output size");
    std::copy(e.ptr<float>(), e.ptr<float>() + 7, fa.expressions.begin());
    fa.computed |= want & (kAttrEmotions | kAttrSmile);
  }
  fa.computed |= want & (kAttrEyesOpen | kAttrMouthOpen);
  if (want & kAttrEyeDirection) {
    auto left = IrisCentre(bgr, lm[36], lm[39], false);
    auto right = IrisCentre(bgr, lm[42], lm[45], true);
    if (left.ok() && right.ok()) {
      const cv::Point2f gl = EyeInHeadAngles(left.value(), lm[36], lm[39]);
      const cv::Point2f gr = EyeInHeadAngles(right.value(), lm[42], lm[45]);
      // Each eye weighs by its apparent width: with the head turned, the far
      // eye is foreshortened and its iris offset is the less reliable.
      const float wl = Dist(lm[36], lm[39]), wr = Dist(lm[42], lm[45]);
      const cv::Point2f eye = (gl * wl + gr * wr) * (1.f / std::max(wl + wr, 1e-3f));
      // Gaze in the camera's frame: head pose plus the eyes' turn in the head.
      fa.gaze_yaw = std::clamp(pose.yaw + eye.x, -180.f, 180.f);
      fa.gaze_pitch = std::clamp(pose.pitch + eye.y, -180.f, 180.f);
      fa.eye_disagreement = float(cv::norm(gl - gr));
      fa.computed |= kAttrEyeDirection;
    }
  }
  return fa;
}

}  // namespace argus::vision
