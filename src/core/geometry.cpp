#include "core/geometry.h"

#include <cmath>

namespace argus {

float IoU(const cv::Rect2f& a, const cv::Rect2f& b) {
  float inter = (a & b).area();
  float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.f;
}

cv::Rect2f ClampBox(const cv::Rect2f& box, cv::Size image) {
  return box & cv::Rect2f(0, 0, float(image.width), float(image.height));
}

void L2Normalize(std::vector<float>& v) {
  double norm = 0;
  for (float x : v) norm += double(x) * x;
  norm = std::sqrt(norm);
  if (norm > 0)
    for (float& x : v) x = float(x / norm);
}

float Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) s += double(a[i]) * b[i];
  return float(s);
}

float EuclideanDistance(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d += double(a[i] - b[i]) * (a[i] - b[i]);
  return float(std::sqrt(d));
}

}  // namespace argus
