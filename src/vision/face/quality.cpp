#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "vision/face/face.h"

namespace argus::vision {

Quality MeasureQuality(const cv::Mat& bgr, const cv::Rect2f& box) {
  Quality q;
  cv::Rect r = cv::Rect(box) & cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (r.width < 4 || r.height < 4) return q;
  cv::Mat gray, face;
  cv::cvtColor(bgr(r), gray, cv::COLOR_BGR2GRAY);
  // Normalise the scale so sharpness does not depend on face size.
  cv::resize(gray, face, cv::Size(112, 112), 0, 0, cv::INTER_AREA);
  q.brightness = float(cv::mean(face)[0] / 255.0 * 100.0);
  cv::Mat lap;
  cv::Laplacian(face, lap, CV_32F, 3);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  double var = stddev[0] * stddev[0];
  // Maps Laplacian variance to 0..100: ~0 for a flat patch, ~50 at var 300,
  // saturating for very crisp images.
  q.sharpness = float(100.0 * (1.0 - std::exp(-var / 430.0)));
  return q;
}

}  // namespace argus::vision
