#pragma once
// Face detection and landmarking on decoded images. Everything is in pixels
// of the image given: boxes x,y,w,h; points x,y.
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/status.h"
#include "ml/model.h"

namespace argus::vision {

struct FaceBox {
  cv::Rect2f box;     // pixels, may extend past the image border
  float score = 0.f;  // 0..1
};

class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  // Faces with score >= min_score after NMS, largest first, at most max_faces.
  virtual Result<std::vector<FaceBox>> Detect(const cv::Mat& bgr, float min_score,
                                              int max_faces) = 0;
  // By name: "ssd" (face-api's SSD MobileNetV1 on the whole image padded to
  // a square), "ssd-wide" (plus the image widened 1.4x), "ssd-tiled" (plus
  // overlapping 2x2 tiles unless a close-up face was found), "blaze"
  // (human's BlazeFace alone), "cascade" (BlazeFace, then ssd-tiled unless
  // BlazeFace settled it with a confident close-up face and no hint of
  // others), "haar" (OpenCV's frontal-face cascade from Debian's
  // opencv-data). SSD and BlazeFace boxes are calibrated to the WIDER FACE
  // box convention; with no face found, SSD modes retry once on a
  // zoomed-out canvas.
  static Result<std::unique_ptr<FaceDetector>> Create(const std::string& name,
                                                      ml::Registry& registry);
};

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

// Intersection over union of two boxes.
float IoU(const cv::Rect2f& a, const cv::Rect2f& b);

}  // namespace argus::vision
