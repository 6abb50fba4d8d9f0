#pragma once
// Face analysis free of HTTP and JSON: detection, landmarks, pose, quality.
// Thread-safe; models are shared through the registry's net pools.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/image.h"
#include "service/face_attributes.h"
#include "vision/face/embedder.h"
#include "vision/face/face.h"

namespace argus::service {

struct FaceDetail {
  cv::Rect2f box;                        // pixels of the upright image
  float confidence = 0;                  // 0..100
  std::vector<cv::Point2f> landmarks68;  // pixels; empty if landmarking failed
  vision::Pose pose;
  vision::Quality quality;
  // Filled by FaceService::Analyze when attributes are asked for.
  std::optional<FaceAttributes> attributes;
};

struct DetectOptions {
  float min_confidence = 0.5f;  // detector score, 0..1
  int max_faces = 100;
  // A video frame: no retry of the kind a photo gets when nothing was found
  // (vision::FaceDetector::DetectFrame).
  bool video_frame = false;
};

struct FaceConfig {
  // "cascade" (default): BlazeFace (256x256) first; a confident close-up
  // face with no hint of others settles it (portraits, selfies, ID photos),
  // anything else goes to "ssd-tiled", with the same WIDER AP.
  // face-api's SSD MobileNetV1 (512x512): "ssd": the whole image only;
  // "ssd-wide": plus a pass over the image widened 1.4x (these weights
  // under-score narrow faces); "ssd-tiled": plus 2x2 upscaled tiles, skipped
  // when a confident face is a quarter of the image high. Every SSD mode
  // retries a zoomed-out pass when nothing is found. "blaze" (BlazeFace
  // alone) and "haar" (OpenCV's Haar cascade) are evaluation baselines.
  // Costs and accuracy in docs/MODEL_CARD.md.
  std::string detector = "cascade";
  // The face embedder: a manifest model with an "embedder" entry
  // (models/README.md); "" for the manifest's default (faceapi_recognition).
  std::string embedder;
};

class FaceService {
 public:
  static Result<std::unique_ptr<FaceService>> Create(ml::Registry& registry,
                                                     const FaceConfig& config = {});
  // Faces largest first.
  Result<std::vector<FaceDetail>> DetectFaces(const Image& image, const DetectOptions& opts = {});
  // A video frame shortly after one whose faces were at `known`:
  // vision::FaceDetector::DetectNear, nullopt where it leaves the frame to
  // DetectFaces (with video_frame).
  Result<std::optional<std::vector<FaceDetail>>> DetectFacesNear(
      const Image& image, const std::vector<cv::Rect2f>& known, const DetectOptions& opts = {});

  // Detector boxes only (no landmarks), e.g. for detection benchmarks.
  Result<std::vector<vision::FaceBox>> DetectBoxes(const Image& image, float min_score,
                                                   int max_faces);
  const std::string& DetectorName() const { return config_.detector; }

  // L2-normalised descriptor of a detected face (needs its 68 landmarks), of
  // the configured embedder (vision/face/embedder.h). The euclidean distance
  // between two descriptors orders pairs the same way as their inner
  // product, so an inner-product index ranks correctly.
  Result<std::vector<float>> Describe(const Image& image, const FaceDetail& face);
  // Describe() of each face, side by side where ml::SideBySide says so.
  std::vector<Result<std::vector<float>>> DescribeAll(const Image& image,
                                                      const std::vector<const FaceDetail*>& faces);

  // Rekognition-style Similarity 0..100 of two descriptors from Describe(),
  // a decreasing function of their euclidean distance (calibration in
  // docs/MODEL_CARD.md).
  static float Similarity(const std::vector<float>& a, const std::vector<float>& b);
  static float SimilarityFromDistance(float euclidean_distance);
  // The inverse: the euclidean distance at which two unit descriptors are
  // `similarity` (0 < similarity < 100) similar.
  static float DistanceAtSimilarity(float similarity);

  // Identifies this service's descriptors (its embedder's manifest
  // model_version); descriptors of different versions are not comparable
  // (Rekognition's FaceModelVersion).
  const std::string& ModelVersion() const;
  // The deployment's FaceModelVersion: that of the most recently created
  // FaceService, else of the embedded manifest's default embedder. New
  // collections take it, and collections of another version refuse faces.
  static const char* FaceModelVersion();
  // Descriptor length of the configured embedder.
  int DescriptorDimension() const;

  // Computes the attributes in `want` (vision::kAttrAll for all) into
  // face.attributes; needs the face's 68 landmarks. The attribute models
  // load on the first call, so detection alone does not load them.
  Status Analyze(const Image& image, FaceDetail& face, vision::AttributeSet want);
  // Analyze() of each face, side by side where ml::SideBySide says so; the
  // first failure, if any.
  Status AnalyzeAll(const Image& image, const std::vector<FaceDetail*>& faces,
                    vision::AttributeSet want);
  // Analyze() for a face already stored (IndexFaces): a face without 68
  // landmarks, or whose attribute models fail, keeps no attributes (the
  // failure logged under `operation`) rather than failing the request.
  void AnalyzeOrOmit(const Image& image, FaceDetail& face, vision::AttributeSet want,
                     const char* operation);

 private:
  // Landmarks, pose and quality of each detected box.
  std::vector<FaceDetail> Details(const Image& image, const std::vector<vision::FaceBox>& boxes);

  FaceConfig config_;
  std::unique_ptr<vision::FaceDetector> detector_;
  std::unique_ptr<vision::Landmarker68> landmarker_;
  std::unique_ptr<vision::FaceEmbedder> embedder_;
  ml::Registry* registry_ = nullptr;  // outlives the service
  std::mutex attributes_mu_;          // guards the lazy load of attributes_
  std::unique_ptr<vision::FaceAttributeModels> attributes_;
};

}  // namespace argus::service
