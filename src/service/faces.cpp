#include "service/faces.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <set>

#include "core/geometry.h"

namespace argus::service {
namespace {

// Model versions ever set, so that the pointers FaceModelVersion hands out
// stay valid for the life of the process.
const char* Intern(const std::string& v) {
  static std::mutex mu;
  static std::set<std::string> interned;
  std::lock_guard<std::mutex> lock(mu);
  return interned.insert(v).first->c_str();
}

std::atomic<const char*> g_model_version{nullptr};

void SetDeploymentModelVersion(const std::string& v) { g_model_version.store(Intern(v)); }

}  // namespace

Result<std::unique_ptr<FaceService>> FaceService::Create(ml::Registry& registry,
                                                         const FaceConfig& config) {
  auto det = vision::FaceDetector::Create(config.detector, registry);
  if (!det.ok()) return det.status();
  auto lm = vision::Landmarker68::Create(registry);
  if (!lm.ok()) return lm.status();
  auto emb = vision::FaceEmbedder::Create(config.embedder, registry);
  if (!emb.ok()) return emb.status();
  auto s = std::make_unique<FaceService>();
  s->embedder_ = std::move(emb.value());
  SetDeploymentModelVersion(s->embedder_->model_version());
  s->registry_ = &registry;
  s->config_ = config;
  s->detector_ = std::move(det.value());
  s->landmarker_ = std::move(lm.value());
  return s;
}

Result<std::vector<FaceDetail>> FaceService::DetectFaces(const Image& image,
                                                         const DetectOptions& opts) {
  auto boxes = opts.video_frame
                   ? detector_->DetectFrame(image.bgr, opts.min_confidence, opts.max_faces)
                   : detector_->Detect(image.bgr, opts.min_confidence, opts.max_faces);
  if (!boxes.ok()) return boxes.status();
  return Details(image, boxes.value());
}

Result<std::optional<std::vector<FaceDetail>>> FaceService::DetectFacesNear(
    const Image& image, const std::vector<cv::Rect2f>& known, const DetectOptions& opts) {
  auto boxes = detector_->DetectNear(image.bgr, known, opts.min_confidence, opts.max_faces);
  if (!boxes.ok()) return boxes.status();
  if (!boxes->has_value()) return std::optional<std::vector<FaceDetail>>();
  return std::optional<std::vector<FaceDetail>>(Details(image, **boxes));
}

std::vector<FaceDetail> FaceService::Details(const Image& image,
                                             const std::vector<vision::FaceBox>& boxes) {
  // Each face's landmarks, pose and quality; the faces side by side where
  // there are at least as many as inference threads (small nets leave a
  // core idle when run one after the other).
  std::vector<FaceDetail> faces(boxes.size());
  ml::ForEachSideBySide(faces.size(), [&](size_t i) {
    const vision::FaceBox& fb = boxes[i];
    FaceDetail& f = faces[i];
    f.box = fb.box;
    f.confidence = fb.score * 100.f;
    auto lm = landmarker_->Run(image.bgr, fb.box);
    if (lm.ok()) {
      f.landmarks68 = std::move(lm.value());
      f.pose = vision::EstimatePose(f.landmarks68, image.bgr.size());
    }
    f.quality = vision::MeasureQuality(image.bgr, fb.box);
  });
  return faces;
}

Result<std::vector<vision::FaceBox>> FaceService::DetectBoxes(const Image& image, float min_score,
                                                              int max_faces) {
  return detector_->Detect(image.bgr, min_score, max_faces);
}

Result<std::vector<float>> FaceService::Describe(const Image& image, const FaceDetail& face) {
  if (face.landmarks68.size() != 68) return InvalidParameter("face has no landmarks");
  return embedder_->Embed(image.bgr, face.landmarks68);
}

std::vector<Result<std::vector<float>>> FaceService::DescribeAll(
    const Image& image, const std::vector<const FaceDetail*>& faces) {
  std::vector<Result<std::vector<float>>> out(faces.size(), Internal("not described"));
  ml::ForEachSideBySide(faces.size(), [&](size_t i) { out[i] = Describe(image, *faces[i]); });
  return out;
}

float FaceService::Similarity(const std::vector<float>& a, const std::vector<float>& b) {
  return SimilarityFromDistance(EuclideanDistance(a, b));
}

// SimilarityFromDistance's logistic (see there).
constexpr float kSimilarityMid = 0.4415f, kSimilaritySlope = 32.3f;

float FaceService::SimilarityFromDistance(float distance) {
  // Logistic in the euclidean distance between unit descriptors, calibrated
  // on celeba-dev's impostor pairs (docs/MODEL_CARD.md): a normal fit of
  // their distances (mean 0.564, sd 0.071) puts a false match rate of 1e-2
  // at distance 0.399 and 1e-4 at 0.299; those distances map to Similarity
  // 80 (CompareFaces' default threshold) and 99 (the public-safety one).
  return 100.f / (1.f + std::exp(kSimilaritySlope * (distance - kSimilarityMid)));
}

float FaceService::DistanceAtSimilarity(float similarity) {
  const float s = std::clamp(similarity, 1e-3f, 100.f - 1e-3f);
  return kSimilarityMid + std::log(100.f / s - 1.f) / kSimilaritySlope;
}

const std::string& FaceService::ModelVersion() const { return embedder_->model_version(); }

int FaceService::DescriptorDimension() const { return embedder_->dimension(); }

const char* FaceService::FaceModelVersion() {
  const char* v = g_model_version.load();
  if (v) return v;
  const ml::ModelSpec* spec = ml::Manifest::Embedded().DefaultEmbedder();
  return spec ? Intern(spec->embedder->model_version) : "";
}

}  // namespace argus::service
