#pragma once
// Face detection behind one interface: a detector takes a decoded BGR image
// and returns face boxes in its pixels (x, y, width, height), with scores
// 0..1. Implementations live in their own .cpp files and are made by name.
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

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
  // Faces with score >= min_score after NMS, largest first, at most max_faces
  // (0: no limit); boxes clipped to the image. Thread-safe.
  virtual Result<std::vector<FaceBox>> Detect(const cv::Mat& bgr, float min_score,
                                              int max_faces) = 0;
  // A video frame: Detect without the retries meant for a photo where
  // nothing was found (a dim portrait looked at again stretched), which in
  // a video would cost every empty frame twice. The default is Detect.
  virtual Result<std::vector<FaceBox>> DetectFrame(const cv::Mat& bgr, float min_score,
                                                   int max_faces) {
    return Detect(bgr, min_score, max_faces);
  }
  // A video frame shortly after one whose faces were at `known` (pixels of
  // this frame's size; empty: none): looks for them again only around
  // where they were, and over the whole frame only as far as a cheap pass
  // can, so it costs a fraction of DetectFrame. nullopt when that cheap
  // pass hints at a face away from the known ones, or when the known faces
  // are too many for it to be cheaper: the caller then runs DetectFrame.
  // Small faces that appear between two DetectFrame calls are missed until
  // the next one. The default is always nullopt.
  virtual Result<std::optional<std::vector<FaceBox>>> DetectNear(
      const cv::Mat& bgr, const std::vector<cv::Rect2f>& known, float min_score, int max_faces) {
    (void)bgr, (void)known, (void)min_score, (void)max_faces;
    return std::optional<std::vector<FaceBox>>();
  }
  // By name: "ssd" (face-api's SSD MobileNetV1 on the whole image padded to
  // a square), "ssd-wide" (plus the image widened 1.4x), "ssd-tiled" (plus
  // overlapping 2x2 tiles unless a close-up face was found), "blaze"
  // (human's BlazeFace alone), "cascade" (BlazeFace, then ssd-tiled unless
  // BlazeFace settled it with a confident close-up face and no hint of
  // others), "haar" (OpenCV's frontal-face cascade from Debian's
  // opencv-data). SSD and BlazeFace boxes are calibrated to the WIDER FACE
  // box convention; with no face found, SSD modes retry once on a
  // zoomed-out canvas. An unknown name is InvalidParameter.
  static Result<std::unique_ptr<FaceDetector>> Create(const std::string& name,
                                                      ml::Registry& registry);
};

}  // namespace argus::vision
