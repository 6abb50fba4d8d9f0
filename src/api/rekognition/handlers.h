#pragma once
// Operation handlers: parse the request shape, call one service function,
// write the response shape. Errors are returned as Status (errors.cpp maps
// them).
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "jobs/jobs.h"
#include "policy/audit.h"
#include "policy/policy.h"
#include "service/collections.h"
#include "service/faces.h"
#include "service/labels.h"
#include "service/moderation.h"
#include "service/text.h"
#include "video/video.h"

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
  // Stored-video jobs (Start*/Get*); null when the server runs none.
  jobs::JobManager* jobs = nullptr;
  // Checked when a Start request opens its video.
  video::Limits video_limits;
  // Per request: the caller, who owns the jobs it starts ("" under
  // --no-auth), and whether it sees every principal's jobs.
  std::string principal;
  bool admin = true;
  // The governance views of the ArgusAdmin operations (admin.h): the
  // policies in force and the audit log (null when the server runs without
  // them), and the demographics report file (`argus eval demographics`'
  // report.json; "" when none was given).
  const policy::PolicySet* policies = nullptr;
  policy::AuditLog* audit = nullptr;
  std::string demographics_report;
};

// The image services of `s` as the video analyses take them.
video::Services VideoServices(const Services& s);

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
// Geometry {BoundingBox, Polygon} of a text quad in pixels of an image of `size`.
json TextGeometryJson(const service::Quad& q, cv::Size size);
Result<json> DetectModerationLabels(const json& request, Services& services);
// Shared with the video operations: DetectText's Filters and DetectLabels'
// Features and Settings, parsed as those operations parse them.
Status ParseTextFilters(const json& request, service::TextOptions& options);
Status ParseLabelFeatures(const json& request, service::LabelOptions& options);

// Stored video (video_ops.cpp): each Start* answers {JobId} for a job the
// JobManager runs; each Get* answers the job's state and a page of its
// results. Jobs belong to the principal that started them.
Result<json> StartFaceDetection(const json& request, Services& services);
Result<json> GetFaceDetection(const json& request, Services& services);
Result<json> StartFaceSearch(const json& request, Services& services);
Result<json> GetFaceSearch(const json& request, Services& services);
Result<json> StartPersonTracking(const json& request, Services& services);
Result<json> GetPersonTracking(const json& request, Services& services);
Result<json> StartLabelDetection(const json& request, Services& services);
Result<json> GetLabelDetection(const json& request, Services& services);
Result<json> StartContentModeration(const json& request, Services& services);
Result<json> GetContentModeration(const json& request, Services& services);
Result<json> StartTextDetection(const json& request, Services& services);
Result<json> GetTextDetection(const json& request, Services& services);
Result<json> StartSegmentDetection(const json& request, Services& services);
Result<json> GetSegmentDetection(const json& request, Services& services);
// Celebrity recognition is refused: argus has no consent basis for
// identifying people who never enrolled.
Result<json> RefuseCelebrityRecognition(const json& request, Services& services);

// ArgusAdmin operations (admin.cpp); the router lets administrators only.
Result<json> AdminGetPolicies(const json& request, Services& services);
Result<json> AdminTestPolicy(const json& request, Services& services);
Result<json> AdminListAuditRecords(const json& request, Services& services);
Result<json> AdminVerifyAudit(const json& request, Services& services);
Result<json> AdminGetTransparencyReport(const json& request, Services& services);
Result<json> AdminGetDemographicsReport(const json& request, Services& services);

}  // namespace argus::api
