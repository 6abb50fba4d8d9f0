#pragma once
// Object detection (COCO-80) and whole-image properties: quality and
// dominant colours. Everything is in pixels of the image given.
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "ml/model.h"

namespace argus::vision {

struct DetectedObject {
  cv::Rect2f box;     // pixels, clipped to the image
  float score = 0.f;  // detector score 0..1 (CenterNet heat map peak)
  int class_id = 0;   // 0-based COCO-80 index (CocoLabels())
};

// The 80 COCO class names in the detector's order ("person", "bicycle", ...).
const std::vector<std::string>& CocoLabels();

// CenterNet decode of the raw heads (models/human.json human_centernet):
// heat map [grid,grid,classes] and wh [grid,grid,4], both NHWC float.
// Peaks are cells equal to the 3x3 maximum of their class, top `top_k` by
// score, kept when score >= min_score, boxes scaled from the square input of
// `input_size` pixels to `image` and clipped; then per-class greedy NMS at
// `nms_iou`. Sorted by score, highest first.
std::vector<DetectedObject> DecodeCenterNet(const float* heatmap, const float* wh, int grid,
                                            int classes, int input_size, cv::Size image, int top_k,
                                            float min_score, float nms_iou);

class ObjectDetector {
 public:
  // human's CenterNet MobileNetV3 (512x512, whole image stretched).
  static Result<std::unique_ptr<ObjectDetector>> CreateCenterNet(ml::Registry& registry);
  // Objects with score >= min_score after NMS, highest score first.
  Result<std::vector<DetectedObject>> Detect(const cv::Mat& bgr, float min_score);

 private:
  std::shared_ptr<ml::Model> model_;
};

// Rekognition's DetectLabelsImageQuality, each 0..100: Brightness (mean
// luminance), Sharpness (Laplacian variance at a fixed scale, saturating),
// Contrast (standard deviation of luminance relative to its maximum, 127.5).
// `mask` (8-bit, same size, non-zero = included) restricts the pixels; empty
// means the whole image.
struct ImageQuality {
  float brightness = 0, sharpness = 0, contrast = 0;
};
ImageQuality MeasureImageQuality(const cv::Mat& bgr, const cv::Mat& mask = cv::Mat());

struct DominantColor {
  cv::Vec3b rgb;            // cluster centre, sRGB
  float pixel_percent = 0;  // 0..100 of the pixels considered
  std::string css_name;     // nearest CSS named colour (CIELAB distance), e.g. "darkslategray"
  std::string simplified;   // one of SimplifiedColorNames()
  std::string hex;          // "#RRGGBB"
};

// K-means (k-means++, fixed seed: deterministic) in CIELAB on a subsample of
// the pixels in `mask`; near-identical clusters are merged. At most
// `max_colors`, largest share first.
std::vector<DominantColor> DominantColors(const cv::Mat& bgr, int max_colors,
                                          const cv::Mat& mask = cv::Mat());

// Nearest CSS colour name, and the simplified colour (hue/saturation/value rules).
std::string CssColorName(cv::Vec3b rgb);
std::string SimplifiedColorName(cv::Vec3b rgb);
// The 12 simplified colour names.
const std::vector<std::string>& SimplifiedColorNames();

}  // namespace argus::vision
