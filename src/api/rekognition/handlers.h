#pragma once
// Operation handlers: parse the request shape, call one service function,
// write the response shape. Errors are returned as Status (errors.cpp maps
// them).
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "service/collections.h"
#include "service/faces.h"
#include "service/labels.h"
#include "service/moderation.h"
#include "service/text.h"

namespace argus::api {

// What the handlers may call. Owned by the server (or the CLI).
struct Services {
  service::FaceService* faces = nullptr;
  service::CollectionService* collections = nullptr;
  service::LabelService* labels = nullptr;
  service::TextService* text = nullptr;
  service::ModerationService* moderation = nullptr;
  // Per request: whether the caller may see a collection (tenancy); empty
  // when every collection is visible (no gate). ListCollections reads it.
  std::function<bool(const std::string& id)> may_see;
};

using json = nlohmann::json;

Result<json> DetectFaces(const json& request, Services& services);
// {BoundingBox, Landmarks, Pose, Quality, Confidence}; ALL adds landmarks;
// face.attributes, when set, adds the attributes it computed.
json FaceDetailJson(const service::FaceDetail& face, cv::Size image, bool all);
Result<json> CompareFaces(const json& request, Services& services);

// Collections, faces and users (collections.cpp, users.cpp).
Result<json> CreateCollection(const json& request, Services& services);
Result<json> DescribeCollection(const json& request, Services& services);
Result<json> ListCollections(const json& request, Services& services);
Result<json> DeleteCollection(const json& request, Services& services);
Result<json> IndexFaces(const json& request, Services& services);
Result<json> ListFaces(const json& request, Services& services);
Result<json> DeleteFaces(const json& request, Services& services);
Result<json> SearchFaces(const json& request, Services& services);
Result<json> SearchFacesByImage(const json& request, Services& services);
Result<json> CreateUser(const json& request, Services& services);
Result<json> DeleteUser(const json& request, Services& services);
Result<json> ListUsers(const json& request, Services& services);
Result<json> AssociateFaces(const json& request, Services& services);
Result<json> DisassociateFaces(const json& request, Services& services);
Result<json> SearchUsers(const json& request, Services& services);
Result<json> SearchUsersByImage(const json& request, Services& services);
// Collection tags (tags.cpp).
Result<json> TagResource(const json& request, Services& services);
Result<json> UntagResource(const json& request, Services& services);
Result<json> ListTagsForResource(const json& request, Services& services);
Result<json> DetectLabels(const json& request, Services& services);
Result<json> DetectText(const json& request, Services& services);
Result<json> DetectModerationLabels(const json& request, Services& services);

}  // namespace argus::api
