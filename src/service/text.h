#pragma once
// DetectText free of HTTP and JSON: lines and words with their geometry,
// filtered as Rekognition's DetectTextFilters. Thread-safe.
#include <memory>
#include <string>
#include <vector>

#include "core/image.h"
#include "vision/text/text.h"

namespace argus::service {

using Quad = vision::Quad;  // pixels, reading order

// A region of interest in ratios of the image size (0..1): a box, or a
// polygon of at least 3 points when `polygon` is non-empty.
struct TextRegion {
  cv::Rect2f box;
  std::vector<cv::Point2f> polygon;
};

struct TextOptions {
  float min_confidence = 0;         // words below (0..100) are dropped
  float min_box_height = 0;         // ratio of the image height
  float min_box_width = 0;          // ratio of the image width
  std::vector<TextRegion> regions;  // a word is kept when more than half of it lies in one
  int max_words = 100;
};

struct TextDetection {
  enum class Type { kLine, kWord };
  Type type = Type::kLine;
  std::string text;
  int id = 0;
  int parent_id = -1;    // the line of a word; -1 for lines
  float confidence = 0;  // 0..100
  vision::Quad quad;     // pixels, reading order (top-left, top-right, bottom-right, bottom-left)
};

class TextService {
 public:
  static Result<std::unique_ptr<TextService>> Create(ml::Registry& registry);
  // Lines first (reading order, ids 0..L-1), then their words (ids from L,
  // parent_id = their line). At most opts.max_words words; a line is kept
  // when at least one of its words is, with its text made of those words.
  Result<std::vector<TextDetection>> DetectText(const Image& image, const TextOptions& opts);

  // The filtering alone (unit-testable).
  static std::vector<TextDetection> Filter(const std::vector<vision::TextLine>& lines,
                                           cv::Size image, const TextOptions& opts);
  static const char* TextModelVersion();

 private:
  std::unique_ptr<vision::TextReader> reader_;
};

}  // namespace argus::service
