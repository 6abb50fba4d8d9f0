#pragma once
// DetectModerationLabels free of HTTP and JSON: nsfwjs scores mapped onto
// Rekognition's moderation taxonomy. Thread-safe.
#include <memory>
#include <string>
#include <vector>

#include "core/image.h"
#include "vision/moderation/moderation.h"

namespace argus::service {

struct ModerationLabel {
  std::string name;
  std::string parent;  // "" for top-level labels
  int taxonomy_level = 1;
  float confidence = 0;  // 0..100
};

struct ContentType {
  std::string name;      // "Illustrated"
  float confidence = 0;  // 0..100
};

struct ModerationResult {
  std::vector<ModerationLabel> labels;  // level 1 before its children, confidence descending
  std::vector<ContentType> content_types;
};

class ModerationService {
 public:
  static Result<std::unique_ptr<ModerationService>> Create(ml::Registry& registry);
  // Labels and content types with confidence >= min_confidence (0..100).
  Result<ModerationResult> Detect(const Image& image, float min_confidence);

  // The mapping alone (unit-testable): nsfwjs probabilities to labels.
  static ModerationResult FromScores(const vision::NsfwScores& scores, float min_confidence);
  static const char* ModerationModelVersion();

 private:
  std::unique_ptr<vision::NsfwClassifier> classifier_;
};

}  // namespace argus::service
