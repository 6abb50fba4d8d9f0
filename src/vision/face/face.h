#pragma once
// Face detection (vision/face/detector.h), landmarks, pose, quality and
// alignment on decoded images. Everything is in pixels of the image given:
// boxes x,y,w,h; points x,y.
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/geometry.h"
#include "core/status.h"
#include "ml/model.h"
#include "vision/face/detector.h"

namespace argus::vision {

// 68 iBUG landmarks (pixels of the image) for a face box.
class Landmarker68 {
 public:
  static Result<std::unique_ptr<Landmarker68>> Create(ml::Registry& registry);
  Result<std::vector<cv::Point2f>> Run(const cv::Mat& bgr, const cv::Rect2f& box);

 private:
  std::shared_ptr<ml::Model> model_;
};

// Head pose in degrees (Rekognition's convention: Yaw positive when the face
// turns to the image's left, Pitch positive looking up, Roll positive
// clockwise) from 68 landmarks, by PnP against a generic 3-D face.
struct Pose {
  float roll = 0, yaw = 0, pitch = 0;
};
Pose EstimatePose(const std::vector<cv::Point2f>& lm68, cv::Size image_size);

// Brightness and sharpness of the face region, 0..100 (higher is brighter /
// sharper), as Rekognition's Quality.
struct Quality {
  float brightness = 0, sharpness = 0;
};
Quality MeasureQuality(const cv::Mat& bgr, const cv::Rect2f& box);

// A size x size face chip aligned as dlib's get_face_chip_details does: a
// least-squares similarity transform of landmarks 17..67 onto dlib's mean
// face shape, with `padding` (fraction of the face) around it.
cv::Mat AlignFaceChip(const cv::Mat& bgr, const std::vector<cv::Point2f>& lm68, int size,
                      double padding);

// A size chip of bgr by the least-squares similarity transform (rotation,
// uniform scale, translation) of `points` (image pixels) onto `to` (chip
// pixels); black outside the image.
cv::Mat AlignByTemplate(const cv::Mat& bgr, const std::vector<cv::Point2f>& points,
                        const std::vector<cv::Point2f>& to, cv::Size size);

// Intersection over union of two boxes (core/geometry.h).
using argus::IoU;

}  // namespace argus::vision
