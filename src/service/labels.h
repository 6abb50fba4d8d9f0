#pragma once
// DetectLabels free of HTTP and JSON: COCO objects named by the label
// taxonomy, image-level labels derived from them, and image properties.
// Thread-safe; models are shared through the registry's net pools.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/image.h"
#include "vision/labels/labels.h"

namespace argus::service {

using DominantColor = vision::DominantColor;

struct LabelInstance {
  cv::Rect2f box;        // pixels of the upright image
  float confidence = 0;  // 0..100
};

struct Label {
  std::string name;
  float confidence = 0;                  // 0..100
  std::vector<LabelInstance> instances;  // empty for labels derived from others
  std::vector<std::string> parents, aliases, categories;
};

struct RegionProperties {
  vision::ImageQuality quality;
  std::vector<vision::DominantColor> colors;
};

struct ImageProperties {
  RegionProperties image;
  // Inside / outside the boxes of the detected objects; absent when none.
  std::optional<RegionProperties> foreground, background;
};

struct LabelOptions {
  bool general_labels = true;
  bool image_properties = false;
  int max_labels = 1000;        // <= 0: none
  float min_confidence = 55.f;  // 0..100
  // Exact label names / category names; empty lists filter nothing.
  std::vector<std::string> include_labels, exclude_labels;
  std::vector<std::string> include_categories, exclude_categories;
  int max_dominant_colors = 10;
};

struct LabelsResult {
  std::vector<Label> labels;  // confidence descending
  std::optional<ImageProperties> properties;
};

class LabelService {
 public:
  static Result<std::unique_ptr<LabelService>> Create(ml::Registry& registry);
  Result<LabelsResult> DetectLabels(const Image& image, const LabelOptions& opts);

  // Rekognition-style confidence 0..100 for a CenterNet score 0..1
  // (calibration in docs/API.md).
  static float ConfidenceFromScore(float score);
  static const char* LabelModelVersion();

 private:
  std::unique_ptr<vision::ObjectDetector> detector_;
};

}  // namespace argus::service
