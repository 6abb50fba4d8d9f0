// CompareFaces: the largest source face against up to 100 target faces.
#include "api/rekognition/collection_shapes.h"
#include "api/rekognition/handlers.h"
#include "api/rekognition/shapes.h"
#include "service/compare.h"

namespace argus::api {
namespace {

// ComparedFace {BoundingBox, Confidence, Landmarks (the five), Pose, Quality}.
json ComparedFaceJson(const service::FaceDetail& f, cv::Size size) {
  json j = FaceDetailJson(f, size, /*all=*/false);
  return json{{"BoundingBox", j["BoundingBox"]},
              {"Confidence", j["Confidence"]},
              {"Landmarks", j["Landmarks"]},
              {"Pose", j["Pose"]},
              {"Quality", j["Quality"]}};
}

}  // namespace

Result<json> CompareFaces(const json& request, Services& services) {
  auto threshold = coll::Float(request, "SimilarityThreshold", 0.f, 100.f, 80.f);
  if (!threshold.ok()) return threshold.status();
  auto quality = coll::Quality(request, service::QualityFilter::kNone);
  if (!quality.ok()) return quality.status();
  auto source = ImageFromRequest(request, "SourceImage");
  if (!source.ok()) return source.status();
  auto target = ImageFromRequest(request, "TargetImage");
  if (!target.ok()) return target.status();
  service::CompareFacesRequest req;
  req.similarity_threshold = threshold.value();
  req.quality = quality.value();
  auto r = service::CompareFaces(*services.faces, source.value(), target.value(), req);
  if (!r.ok()) return r.status();
  const cv::Size tsize = target->bgr.size();
  json matches = json::array(), unmatched = json::array();
  for (const auto& m : r->matches) {
    matches.push_back({{"Similarity", m.similarity}, {"Face", ComparedFaceJson(m.detail, tsize)}});
  }
  for (const auto& u : r->unmatched) unmatched.push_back(ComparedFaceJson(u.detail, tsize));
  return json{{"SourceImageFace",
               {{"BoundingBox", BoundingBoxJson(r->source.box, source->bgr.size())},
                {"Confidence", r->source.confidence}}},
              {"FaceMatches", matches},
              {"UnmatchedFaces", unmatched}};
}

}  // namespace argus::api
