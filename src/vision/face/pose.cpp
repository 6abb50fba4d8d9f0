#include <cmath>
#include <opencv2/calib3d.hpp>

#include "vision/face/face.h"

namespace argus::vision {

Pose EstimatePose(const std::vector<cv::Point2f>& lm, cv::Size image_size) {
  Pose pose;
  if (lm.size() != 68) return pose;
  // Generic 3-D face (millimetres, x right, y up, z towards the camera).
  static const std::vector<cv::Point3f> kModel = {
      {0.f, 0.f, 0.f},           // 30 nose tip
      {0.f, -63.6f, -12.5f},     // 8 chin
      {-43.3f, 32.7f, -26.f},    // 36 image-left eye outer corner
      {43.3f, 32.7f, -26.f},     // 45 image-right eye outer corner
      {-28.9f, -28.9f, -24.1f},  // 48 mouth left
      {28.9f, -28.9f, -24.1f},   // 54 mouth right
  };
  std::vector<cv::Point2f> img = {lm[30], lm[8], lm[36], lm[45], lm[48], lm[54]};
  double f = std::max(image_size.width, image_size.height);
  cv::Matx33d K(f, 0, image_size.width / 2.0, 0, f, image_size.height / 2.0, 0, 0, 1);
  // The model's y axis points up while image y points down: flip it.
  std::vector<cv::Point3f> model = kModel;
  for (auto& p : model) p.y = -p.y, p.z = -p.z;
  cv::Vec3d rvec, tvec;
  bool ok = false;
  try {
    ok = cv::solvePnP(model, img, K, cv::noArray(), rvec, tvec, false, cv::SOLVEPNP_ITERATIVE);
  } catch (const cv::Exception&) {
    ok = false;
  }
  const double kDeg = 180.0 / CV_PI;
  cv::Point2f d = lm[45] - lm[36];
  pose.roll = float(std::atan2(d.y, d.x) * kDeg);
  if (!ok) return pose;
  cv::Matx33d R;
  cv::Rodrigues(rvec, R);
  // Euler angles (x: pitch, y: yaw) of the head in the camera frame.
  double pitch = std::atan2(-R(2, 1), R(2, 2)) * kDeg;
  double yaw = std::asin(std::clamp(R(2, 0), -1.0, 1.0)) * kDeg;
  auto wrap = [](double a) {
    while (a > 90) a -= 180;
    while (a < -90) a += 180;
    return a;
  };
  pose.pitch = float(std::clamp(wrap(pitch), -90.0, 90.0));
  pose.yaw = float(std::clamp(-yaw, -90.0, 90.0));
  return pose;
}

}  // namespace argus::vision
