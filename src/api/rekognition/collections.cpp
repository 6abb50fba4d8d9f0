// CreateCollection, DescribeCollection, ListCollections, DeleteCollection,
// IndexFaces, ListFaces, DeleteFaces, SearchFaces, SearchFacesByImage.
#include "api/rekognition/collection_shapes.h"
#include "api/rekognition/handlers.h"
#include "api/rekognition/shapes.h"
#include "core/log.h"

namespace argus::api {

using namespace coll;

namespace {

json MatchesJson(const std::vector<service::FaceMatch>& matches) {
  json out = json::array();
  for (const auto& m : matches) {
    out.push_back({{"Similarity", m.similarity}, {"Face", FaceJson(m.face, false)}});
  }
  return out;
}

}  // namespace

Result<json> CreateCollection(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_ASSIGN(tags, Tags(request));
  ARGUS_ASSIGN(c, svc->CreateCollection(id, tags));
  return json{{"StatusCode", 200},
              {"CollectionArn", svc->CollectionArn(id)},
              {"FaceModelVersion", c.face_model_version}};
}

Result<json> DescribeCollection(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_ASSIGN(c, svc->DescribeCollection(id));
  return json{{"FaceCount", c.face_count},
              {"UserCount", c.user_count},
              {"FaceModelVersion", c.face_model_version},
              {"CollectionARN", svc->CollectionArn(id)},
              {"CreationTimestamp", double(c.created_ms) / 1000.0}};
}

Result<json> ListCollections(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(token, String(request, "NextToken", Kind::kPagination, false));
  ARGUS_ASSIGN(max, Int(request, "MaxResults", 0, 4096, 1000));
  if (max == 0) max = 1000;
  std::string after;
  if (!token.empty()) {
    ARGUS_ASSIGN(a, ParseCollectionToken(token));
    after = a;
  }
  // The collections the caller may see, one more than asked when there are
  // more; the next page starts after the last one returned.
  std::vector<service::Collection> page;
  for (bool more = true; more && int(page.size()) <= max;) {
    ARGUS_ASSIGN(batch, svc->ListCollections(after, max + 1));
    more = int(batch.size()) == max + 1;
    for (auto& c : batch) {
      after = c.id;
      if (services.may_see && !services.may_see(c.id)) continue;
      page.push_back(std::move(c));
      if (int(page.size()) > max) break;
    }
  }
  json ids = json::array(), versions = json::array();
  for (int i = 0; i < int(page.size()) && i < max; ++i) {
    ids.push_back(page[i].id);
    versions.push_back(page[i].face_model_version);
  }
  json out = {{"CollectionIds", ids}, {"FaceModelVersions", versions}};
  if (int(page.size()) > max) out["NextToken"] = CollectionToken(page[max - 1].id);
  return out;
}

Result<json> DeleteCollection(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_RETURN_IF_ERROR(svc->DeleteCollection(id));
  return json{{"StatusCode", 200}};
}

Result<json> IndexFaces(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  service::IndexFacesRequest req;
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_ASSIGN(ext, String(request, "ExternalImageId", Kind::kExternalImageId, false));
  ARGUS_ASSIGN(max, Int(request, "MaxFaces", 1, 1 << 30, service::kMaxFacesPerImage));
  ARGUS_ASSIGN(quality, Quality(request, service::QualityFilter::kAuto));
  ARGUS_ASSIGN(attrs, ParseAttributes(request, "DetectionAttributes"));
  req.collection_id = id;
  req.external_image_id = ext;
  req.max_faces = std::min(max, service::kMaxFacesPerImage);
  req.quality = quality;
  ARGUS_ASSIGN(image, ImageFromRequest(request));
  ARGUS_ASSIGN(r, svc->IndexFaces(image, req));
  const cv::Size size = image.bgr.size();
  // The faces are stored by now: an attribute model that fails leaves that
  // face's attributes out of the answer rather than failing the request.
  auto detail_json = [&](service::FaceDetail detail) {
    if (services.faces) services.faces->AnalyzeOrOmit(image, detail, attrs.want, "IndexFaces");
    return DetailJson(detail, size, attrs.all);
  };
  json records = json::array(), unindexed = json::array();
  for (const auto& [face, detail] : r.indexed) {
    json f = FaceJson(face, false);
    f.erase("IndexFacesModelVersion");
    records.push_back({{"Face", f}, {"FaceDetail", detail_json(detail)}});
  }
  for (const auto& u : r.unindexed) {
    unindexed.push_back({{"Reasons", u.reasons}, {"FaceDetail", detail_json(u.detail)}});
  }
  return json{{"FaceRecords", records},
              {"FaceModelVersion", r.model_version},
              {"UnindexedFaces", unindexed}};
}

Result<json> ListFaces(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_ASSIGN(token, String(request, "NextToken", Kind::kPagination, false));
  ARGUS_ASSIGN(max, Int(request, "MaxResults", 0, 4096, 1000));
  ARGUS_ASSIGN(user, String(request, "UserId", Kind::kUserId, false));
  ARGUS_ASSIGN(ids, FaceIds(request, "FaceIds", 0, 4096));
  if (max == 0) max = 1000;
  service::FaceFilter f;
  if (!token.empty()) {
    ARGUS_ASSIGN(after, ParseFaceToken(id, token));
    f.after_label = after;
  }
  f.limit = max + 1;
  f.user_id = user;
  f.face_ids = ids;
  ARGUS_ASSIGN(faces, svc->ListFaces(id, f));
  json list = json::array();
  for (int i = 0; i < int(faces.size()) && i < max; ++i) list.push_back(FaceJson(faces[i], true));
  ARGUS_ASSIGN(c, svc->DescribeCollection(id));
  json out = {{"Faces", list}, {"FaceModelVersion", c.face_model_version}};
  if (int(faces.size()) > max) out["NextToken"] = FaceToken(id, faces[max - 1].label);
  return out;
}

Result<json> DeleteFaces(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_ASSIGN(ids, FaceIds(request, "FaceIds", 1, 4096));
  ARGUS_ASSIGN(r, svc->DeleteFaces(id, ids));
  json failed = json::array();
  for (const auto& f : r.failed) {
    json j = {{"FaceId", f.face_id}, {"Reasons", f.reasons}};
    if (!f.user_id.empty()) j["UserId"] = f.user_id;
    failed.push_back(j);
  }
  return json{{"DeletedFaces", r.done}, {"UnsuccessfulFaceDeletions", failed}};
}

Result<json> SearchFaces(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_ASSIGN(face, String(request, "FaceId", Kind::kFaceId, true));
  ARGUS_ASSIGN(max, Int(request, "MaxFaces", 1, 4096, 4096));
  ARGUS_ASSIGN(threshold, Float(request, "FaceMatchThreshold", 0, 100, 80));
  ARGUS_ASSIGN(matches, svc->SearchFaces(id, face, max, threshold));
  ARGUS_ASSIGN(c, svc->DescribeCollection(id));
  return json{{"SearchedFaceId", face},
              {"FaceMatches", MatchesJson(matches)},
              {"FaceModelVersion", c.face_model_version}};
}

Result<json> SearchFacesByImage(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_ASSIGN(max, Int(request, "MaxFaces", 1, 4096, 4096));
  ARGUS_ASSIGN(threshold, Float(request, "FaceMatchThreshold", 0, 100, 80));
  ARGUS_ASSIGN(quality, Quality(request, service::QualityFilter::kNone));
  ARGUS_ASSIGN(image, ImageFromRequest(request));
  ARGUS_ASSIGN(r, svc->SearchFacesByImage(id, image, max, threshold, quality));
  return json{{"SearchedFaceBoundingBox", BoundingBoxJson(r.searched.box, image.bgr.size())},
              {"SearchedFaceConfidence", r.searched.confidence},
              {"FaceMatches", MatchesJson(r.matches)},
              {"FaceModelVersion", service::FaceService::FaceModelVersion()}};
}

}  // namespace argus::api
