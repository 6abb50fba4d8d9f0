// Rekognition's QualityFilter over the face pipeline's measures.
#include <algorithm>
#include <cmath>

#include "service/collections.h"

namespace argus::service {
namespace {

struct QualityBar {
  float confidence, min_side_px, yaw, pitch, brightness, sharpness;
};

// Thresholds per QualityFilter level: detector confidence, smaller box side
// in pixels, |yaw| and |pitch| in degrees, brightness and sharpness (vision::
// MeasureQuality's 0..100). AUTO sits between LOW and MEDIUM: the pose
// estimate from 68 landmarks is coarse, so only clearly turned faces fail it.
QualityBar Bar(QualityFilter q) {
  switch (q) {
    case QualityFilter::kLow:
      return {50, 16, 85, 75, 3, 1};
    case QualityFilter::kMedium:
      return {80, 32, 60, 45, 10, 10};
    case QualityFilter::kHigh:
      return {95, 48, 40, 30, 20, 30};
    default:
      return {60, 20, 80, 65, 5, 2};
  }
}

}  // namespace

std::vector<std::string> QualityReasons(const FaceDetail& f, QualityFilter q) {
  std::vector<std::string> r;
  if (f.landmarks68.size() != 68) r.push_back("LOW_FACE_QUALITY");  // cannot be described
  if (q == QualityFilter::kNone) return r;
  QualityBar bar = Bar(q);
  if (f.confidence < bar.confidence) r.push_back("LOW_CONFIDENCE");
  if (std::min(f.box.width, f.box.height) < bar.min_side_px) r.push_back("SMALL_BOUNDING_BOX");
  if (f.landmarks68.size() == 68 &&
      (std::fabs(f.pose.yaw) > bar.yaw || std::fabs(f.pose.pitch) > bar.pitch)) {
    r.push_back("EXTREME_POSE");
  }
  if (f.quality.brightness < bar.brightness) r.push_back("LOW_BRIGHTNESS");
  if (f.quality.sharpness < bar.sharpness) r.push_back("LOW_SHARPNESS");
  return r;
}

Result<QualityFilter> ParseQualityFilter(const std::string& s) {
  if (s.empty() || s == "AUTO") return QualityFilter::kAuto;
  if (s == "NONE") return QualityFilter::kNone;
  if (s == "LOW") return QualityFilter::kLow;
  if (s == "MEDIUM") return QualityFilter::kMedium;
  if (s == "HIGH") return QualityFilter::kHigh;
  return InvalidParameter("QualityFilter must be one of NONE, AUTO, LOW, MEDIUM, HIGH.");
}

}  // namespace argus::service
