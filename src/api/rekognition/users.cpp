// CreateUser, DeleteUser, ListUsers, AssociateFaces, DisassociateFaces,
// SearchUsers, SearchUsersByImage.
#include "api/rekognition/collection_shapes.h"
#include "api/rekognition/handlers.h"
#include "api/rekognition/shapes.h"

namespace argus::api {

using namespace coll;

namespace {

// Users exist once created; their faces make them searchable.
const char* kActive = "ACTIVE";

json UserMatchesJson(const std::vector<service::UserMatch>& users) {
  json out = json::array();
  for (const auto& u : users) {
    out.push_back({{"Similarity", u.similarity},
                   {"User", {{"UserId", u.user.user_id}, {"UserStatus", kActive}}}});
  }
  return out;
}

json FailuresJson(const std::vector<service::FaceFailure>& failed) {
  json out = json::array();
  for (const auto& f : failed) {
    json j = {{"FaceId", f.face_id}, {"Reasons", f.reasons}};
    if (!f.user_id.empty()) j["UserId"] = f.user_id;
    if (f.confidence >= 0) j["Confidence"] = f.confidence;
    out.push_back(j);
  }
  return out;
}

json FaceIdObjects(const std::vector<std::string>& ids) {
  json out = json::array();
  for (const auto& id : ids) out.push_back({{"FaceId", id}});
  return out;
}

}  // namespace

Result<json> CreateUser(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_ASSIGN(user, String(request, "UserId", Kind::kUserId, true));
  ARGUS_ASSIGN(token, String(request, "ClientRequestToken", Kind::kToken, false));
  ARGUS_RETURN_IF_ERROR(svc->CreateUser(id, user, token));
  return json::object();
}

Result<json> DeleteUser(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_ASSIGN(user, String(request, "UserId", Kind::kUserId, true));
  ARGUS_ASSIGN(token, String(request, "ClientRequestToken", Kind::kToken, false));
  ARGUS_RETURN_IF_ERROR(svc->DeleteUser(id, user));
  return json::object();
}

Result<json> ListUsers(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_ASSIGN(max, Int(request, "MaxResults", 1, 500, 100));
  ARGUS_ASSIGN(token, String(request, "NextToken", Kind::kPagination, false));
  std::string after;
  if (!token.empty()) {
    ARGUS_ASSIGN(a, ParseUserToken(id, token));
    after = a;
  }
  ARGUS_ASSIGN(users, svc->ListUsers(id, after, max + 1));
  json list = json::array();
  for (int i = 0; i < int(users.size()) && i < max; ++i) {
    list.push_back({{"UserId", users[i].user_id}, {"UserStatus", kActive}});
  }
  json out = {{"Users", list}};
  if (int(users.size()) > max) out["NextToken"] = UserToken(id, users[max - 1].user_id);
  return out;
}

Result<json> AssociateFaces(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_ASSIGN(user, String(request, "UserId", Kind::kUserId, true));
  ARGUS_ASSIGN(ids, FaceIds(request, "FaceIds", 1, 100));
  ARGUS_ASSIGN(threshold, Float(request, "UserMatchThreshold", 0, 100, 75));
  ARGUS_ASSIGN(token, String(request, "ClientRequestToken", Kind::kToken, false));
  ARGUS_ASSIGN(r, svc->AssociateFaces(id, user, ids, threshold));
  return json{{"AssociatedFaces", FaceIdObjects(r.done)},
              {"UnsuccessfulFaceAssociations", FailuresJson(r.failed)},
              {"UserStatus", kActive}};
}

Result<json> DisassociateFaces(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_ASSIGN(user, String(request, "UserId", Kind::kUserId, true));
  ARGUS_ASSIGN(ids, FaceIds(request, "FaceIds", 1, 100));
  ARGUS_ASSIGN(token, String(request, "ClientRequestToken", Kind::kToken, false));
  ARGUS_ASSIGN(r, svc->DisassociateFaces(id, user, ids));
  return json{{"DisassociatedFaces", FaceIdObjects(r.done)},
              {"UnsuccessfulFaceDisassociations", FailuresJson(r.failed)},
              {"UserStatus", kActive}};
}

Result<json> SearchUsers(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_ASSIGN(user, String(request, "UserId", Kind::kUserId, false));
  ARGUS_ASSIGN(face, String(request, "FaceId", Kind::kFaceId, false));
  ARGUS_ASSIGN(threshold, Float(request, "UserMatchThreshold", 0, 100, 80));
  ARGUS_ASSIGN(max, Int(request, "MaxUsers", 1, 500, 10));
  ARGUS_ASSIGN(users, svc->SearchUsers(id, user, face, max, threshold));
  json out = {{"UserMatches", UserMatchesJson(users)},
              {"FaceModelVersion", service::FaceService::FaceModelVersion()}};
  if (!face.empty()) out["SearchedFace"] = {{"FaceId", face}};
  if (!user.empty()) out["SearchedUser"] = {{"UserId", user}};
  return out;
}

Result<json> SearchUsersByImage(const json& request, Services& services) {
  ARGUS_ASSIGN(svc, Collections(services));
  ARGUS_ASSIGN(id, String(request, "CollectionId", Kind::kCollectionId, true));
  ARGUS_ASSIGN(threshold, Float(request, "UserMatchThreshold", 0, 100, 80));
  ARGUS_ASSIGN(max, Int(request, "MaxUsers", 1, 500, 10));
  ARGUS_ASSIGN(quality, Quality(request, service::QualityFilter::kNone));
  ARGUS_ASSIGN(image, ImageFromRequest(request));
  std::vector<service::UserMatch> users;
  ARGUS_ASSIGN(r, svc->SearchUsersByImage(id, image, max, threshold, quality, &users));
  const cv::Size size = image.bgr.size();
  json unsearched = json::array();
  for (const auto& u : r.unsearched) {
    unsearched.push_back(
        {{"FaceDetails", DetailJson(u.detail, size, false)}, {"Reasons", u.reasons}});
  }
  return json{{"UserMatches", UserMatchesJson(users)},
              {"FaceModelVersion", service::FaceService::FaceModelVersion()},
              {"SearchedFace", {{"FaceDetail", DetailJson(r.searched, size, false)}}},
              {"UnsearchedFaces", unsearched}};
}

}  // namespace argus::api
