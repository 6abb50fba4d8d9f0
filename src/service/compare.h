#pragma once
// CompareFaces without HTTP or JSON: the largest face of the source image
// against up to 100 faces of the target image.
#include <vector>

#include "core/image.h"
#include "service/collections.h"
#include "service/faces.h"

namespace argus::service {

inline constexpr int kMaxCompareTargetFaces = 100;

struct CompareFacesRequest {
  float similarity_threshold = 80.f;  // 0..100
  QualityFilter quality = QualityFilter::kNone;
};

struct ComparedFace {
  FaceDetail detail;
  float similarity = 0;  // to the source face
};

struct CompareFacesResult {
  FaceDetail source;
  std::vector<ComparedFace> matches;    // similarity >= threshold, highest first
  std::vector<ComparedFace> unmatched;  // the other target faces, largest first
};

// InvalidParameter when the source image has no (usable) face. Target faces
// that fail the quality filter are left out of both lists, as Rekognition
// does.
Result<CompareFacesResult> CompareFaces(FaceService& faces, const Image& source,
                                        const Image& target, const CompareFacesRequest& req);

}  // namespace argus::service
