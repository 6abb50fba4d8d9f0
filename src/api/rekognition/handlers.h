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
#include "service/documents.h"
#include "service/faces.h"
#include "service/labels.h"
#include "service/liveness.h"
#include "service/moderation.h"
#include "service/text.h"
#include "stream/processor.h"
#include "video/video.h"

namespace argus::api {

// Stream processors as the server configures them (stream_processors.cpp;
// docs/API.md#stream-processors). Owned by the server.
struct StreamConfig {
  stream::Manager* manager = nullptr;  // null: stream processors are unavailable
  // Kinesis video stream name (the last part of Input.KinesisVideoStream.Arn)
  // -> what stream::Settings::source reads.
  std::map<std::string, std::string> sources;
  // Kinesis data stream name (of Output.KinesisDataStream.Arn) -> an
  // http(s):// webhook URL or the path of a JSON Lines file.
  std::map<std::string, std::string> sinks;
  // Delivers one record to a sink target (a URL or a path); set by the server.
  std::function<void(const std::string& target, const std::string& record)> deliver;
  // Publishes an SNS message (JSON text) to a topic ARN; null when none.
  std::function<void(const std::string& topic_arn, const std::string& message)> publish;
  std::string region = "us-east-1", account_id = "000000000000";
  double fps = 5;  // frames analysed per second
};

// What the handlers may call. Owned by the server (or the CLI).
struct Services {
  service::FaceService* faces = nullptr;
  service::CollectionService* collections = nullptr;
  service::LabelService* labels = nullptr;
  service::TextService* text = nullptr;
  service::ModerationService* moderation = nullptr;
  // Face liveness (liveness.cpp); null when its models are missing.
  service::LivenessService* liveness = nullptr;
  // Per request: whether the caller may see a collection (tenancy); empty
  // when every collection is visible (no gate). ListCollections reads it.
  std::function<bool(const std::string& id)> may_see;
  // The resources the API keeps as documents (stream processors, face
  // liveness sessions); null when none. (api/ may not use store/ records:
  // tools/check_layers.py; service::Documents wraps the store's resources.)
  service::Documents* documents = nullptr;
  // Stream processors; null when the server runs none.
  StreamConfig* streams = nullptr;
  // Per request, for the audit records a handler writes itself (stream
  // processor matches): the caller's organisation type, purpose, case id and
  // authorisation reference ("" without policies).
  std::string org_type, purpose, case_id, authorisation;
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
// Face liveness sessions (liveness.cpp), kept in `documents` and owned by the
// principal that created them. PutFaceLivenessFrames is an argus extension
// (docs/API.md#face-liveness): the session's one upload of frames, analysed
// before the answer.
Result<json> CreateFaceLivenessSession(const json& request, Services& services);
Result<json> PutFaceLivenessFrames(const json& request, Services& services);
Result<json> GetFaceLivenessSessionResults(const json& request, Services& services);
// Stream processors (stream_processors.cpp): kept as documents, run by
// StreamConfig::manager on the node that started them.
Result<json> CreateStreamProcessor(const json& request, Services& services);
Result<json> DescribeStreamProcessor(const json& request, Services& services);
Result<json> ListStreamProcessors(const json& request, Services& services);
Result<json> StartStreamProcessor(const json& request, Services& services);
Result<json> StopStreamProcessor(const json& request, Services& services);
Result<json> UpdateStreamProcessor(const json& request, Services& services);
Result<json> DeleteStreamProcessor(const json& request, Services& services);
// The tag operations on a stream processor's ARN (TagResource and the rest
// hand them over when IsStreamProcessorArn).
bool IsStreamProcessorArn(const std::string& arn);
Result<json> TagStreamProcessor(const json& request, Services& services);
Result<json> UntagStreamProcessor(const json& request, Services& services);
Result<json> ListStreamProcessorTags(const json& request, Services& services);
// Processors left RUNNING in the store by a server that stopped: started
// again (an embedded store) or marked STOPPED with a message (a shared one).
void ResumeStreamProcessors(Services& services, bool restart);
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
