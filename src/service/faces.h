#pragma once
// Face analysis free of HTTP and JSON: detection, landmarks, pose, quality.
// Thread-safe; models are shared through the registry's net pools.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/image.h"
#include "vision/face/attributes.h"
#include "vision/face/face.h"

namespace argus::service {

struct FaceDetail {
  cv::Rect2f box;       // pixels of the upright image
  float confidence = 0; // 0..100
  std::vector<cv::Point2f> landmarks68;  // pixels; empty if landmarking failed
  vision::Pose pose;
  vision::Quality quality;
  // Filled by FaceService::Analyze when attributes are asked for.
  std::optional<vision::FaceAttributes> attributes;
};

struct DetectOptions {
  float min_confidence = 0.5f;  // detector score, 0..1
  int max_faces = 100;
};

struct FaceConfig {
  // "cascade" (default): BlazeFace (256x256, ~10-20 ms) first; a confident
  // close-up face with no hint of others settles it (portraits, selfies, ID
  // photos), anything else goes to "ssd-tiled". Same WIDER AP as ssd-tiled.
  // face-api's SSD MobileNetV1 (one 512x512 pass costs ~100-150 ms on 2 cores):
  // "ssd": the whole image only; "ssd-wide": plus a pass over the image
  // widened 1.4x (these weights under-score narrow faces); "ssd-tiled": plus
  // 2x2 upscaled tiles, skipped when a confident face is a quarter of the
  // image high. Every SSD mode retries a zoomed-out pass when nothing is
  // found. "blaze" (BlazeFace alone) and "haar" (OpenCV's Haar cascade) are
  // evaluation baselines. Measured in docs/MODEL_CARD.md.
  std::string detector = "cascade";
};

class FaceService {
 public:
  static Result<std::unique_ptr<FaceService>> Create(ml::Registry& registry,
                                                     const FaceConfig& config = {});
  // Faces largest first.
  Result<std::vector<FaceDetail>> DetectFaces(const Image& image, const DetectOptions& opts = {});

  // Detector boxes only (no landmarks), e.g. for detection benchmarks.
  Result<std::vector<vision::FaceBox>> DetectBoxes(const Image& image, float min_score,
                                                   int max_faces);
  const std::string& DetectorName() const { return config_.detector; }

  // L2-normalised descriptor of a detected face (needs its 68 landmarks).
  // The euclidean distance between two descriptors orders pairs the same
  // way as their inner product, so an inner-product index ranks correctly.
  Result<std::vector<float>> Describe(const Image& image, const FaceDetail& face);
  // Describe() of each face, side by side where ml::SideBySide says so.
  std::vector<Result<std::vector<float>>> DescribeAll(const Image& image,
                                                      const std::vector<const FaceDetail*>& faces);

  // Rekognition-style Similarity 0..100 of two descriptors from Describe(),
  // a decreasing function of their euclidean distance (calibration in
  // docs/MODEL_CARD.md).
  static float Similarity(const std::vector<float>& a, const std::vector<float>& b);
  static float SimilarityFromDistance(float euclidean_distance);

  // Identifies the descriptor model; descriptors of different versions are
  // not comparable (Rekognition's FaceModelVersion).
  static const char* FaceModelVersion();

  // Computes the attributes in `want` (vision::kAttrAll for all) into
  // face.attributes; needs the face's 68 landmarks. The attribute models
  // load on the first call, so detection alone stays as fast as before.
  Status Analyze(const Image& image, FaceDetail& face, vision::AttributeSet want);
  // Analyze() of each face, side by side where ml::SideBySide says so; the
  // first failure, if any.
  Status AnalyzeAll(const Image& image, const std::vector<FaceDetail*>& faces,
                    vision::AttributeSet want);

 private:
  FaceConfig config_;
  std::unique_ptr<vision::FaceDetector> detector_;
  std::unique_ptr<vision::Landmarker68> landmarker_;
  std::shared_ptr<ml::Model> embedder_;
  ml::Registry* registry_ = nullptr;  // outlives the service
  std::mutex attributes_mu_;          // guards the lazy load of attributes_
  std::unique_ptr<vision::FaceAttributeModels> attributes_;
};

}  // namespace argus::service
