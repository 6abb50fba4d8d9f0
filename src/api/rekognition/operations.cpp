#include "api/rekognition/operations.h"

#include <algorithm>

#include "api/rekognition/media_analysis.h"

namespace argus::api {
namespace {

using enum policy::OpClass;
using Access = OpSpec::Access;

std::vector<OpSpec> Table() {
  // Sorted by name. Rows without a handler are operations of the model this
  // build does not implement; their class is what `argus policy test` shows.
  return {
      {.name = "AssociateFaces",
       .handler = &AssociateFaces,
       .op_class = kFaceEnrollment,
       .threshold = "UserMatchThreshold",
       .default_threshold = 75,
       .results = "AssociatedFaces",
       .collection = "CollectionId",
       .access = Access::kWrite},
      {.name = "CompareFaces",
       .handler = &CompareFaces,
       .op_class = kFaceVerification,
       .threshold = "SimilarityThreshold",
       .default_threshold = 80,
       .results = "FaceMatches",
       .similarity = "Similarity",
       .unmatched = "UnmatchedFaces"},
      {.name = "CopyProjectVersion", .handler = nullptr, .op_class = kAdmin},
      {.name = "CreateCollection",
       .handler = &CreateCollection,
       .op_class = kAdmin,
       .collection = "CollectionId",
       .access = Access::kCreate},
      {.name = "CreateDataset", .handler = nullptr, .op_class = kAdmin},
      {.name = "CreateFaceLivenessSession",
       .handler = &CreateFaceLivenessSession,
       .op_class = kFaceDetection},
      {.name = "CreateProject", .handler = nullptr, .op_class = kAdmin},
      {.name = "CreateProjectVersion", .handler = nullptr, .op_class = kAdmin},
      {.name = "CreateStreamProcessor",
       .handler = &CreateStreamProcessor,
       .op_class = kRealtimeIdentification,
       .access = Access::kRead,
       .stream_processor = true},
      {.name = "CreateUser",
       .handler = &CreateUser,
       .op_class = kAdmin,
       .collection = "CollectionId",
       .access = Access::kWrite},
      {.name = "DeleteCollection",
       .handler = &DeleteCollection,
       .op_class = kAdmin,
       .collection = "CollectionId",
       .erases = true,
       .access = Access::kDelete},
      {.name = "DeleteDataset", .handler = nullptr, .op_class = kAdmin},
      {.name = "DeleteFaces",
       .handler = &DeleteFaces,
       .op_class = kAdmin,
       .results = "DeletedFaces",
       .collection = "CollectionId",
       .erases = true,
       .access = Access::kWrite},
      {.name = "DeleteProject", .handler = nullptr, .op_class = kAdmin},
      {.name = "DeleteProjectPolicy", .handler = nullptr, .op_class = kAdmin},
      {.name = "DeleteProjectVersion", .handler = nullptr, .op_class = kAdmin},
      {.name = "DeleteStreamProcessor", .handler = &DeleteStreamProcessor, .op_class = kAdmin},
      {.name = "DeleteUser",
       .handler = &DeleteUser,
       .op_class = kAdmin,
       .collection = "CollectionId",
       .erases = true,
       .access = Access::kWrite},
      {.name = "DescribeCollection",
       .handler = &DescribeCollection,
       .op_class = kAdmin,
       .collection = "CollectionId",
       .access = Access::kRead},
      {.name = "DescribeDataset", .handler = nullptr, .op_class = kAdmin},
      {.name = "DescribeProjectVersions", .handler = nullptr, .op_class = kAdmin},
      {.name = "DescribeProjects", .handler = nullptr, .op_class = kAdmin},
      {.name = "DescribeStreamProcessor", .handler = &DescribeStreamProcessor, .op_class = kAdmin},
      {.name = "DetectCustomLabels", .handler = nullptr, .op_class = kLabels},
      {.name = "DetectFaces",
       .handler = &DetectFaces,
       .op_class = kFaceDetection,
       .attributes_class = kFaceAttributes,
       .attributes = "Attributes"},
      {.name = "DetectLabels", .handler = &DetectLabels, .op_class = kLabels},
      {.name = "DetectModerationLabels",
       .handler = &DetectModerationLabels,
       .op_class = kModeration},
      {.name = "DetectProtectiveEquipment", .handler = nullptr, .op_class = kLabels},
      {.name = "DetectText", .handler = &DetectText, .op_class = kText},
      {.name = "DisassociateFaces",
       .handler = &DisassociateFaces,
       .op_class = kAdmin,
       .collection = "CollectionId",
       .access = Access::kWrite},
      {.name = "DistributeDatasetEntries", .handler = nullptr, .op_class = kAdmin},
      {.name = "GetCelebrityInfo", .handler = nullptr, .op_class = kFaceIdentification},
      {.name = "GetCelebrityRecognition",
       .handler = &RefuseCelebrityRecognition,
       .op_class = kFaceIdentification,
       .max_results = "MaxResults"},
      {.name = "GetContentModeration",
       .handler = &GetContentModeration,
       .op_class = kModeration,
       .job_id = "JobId"},
      {.name = "GetFaceDetection",
       .handler = &GetFaceDetection,
       .op_class = kFaceDetection,
       .job_id = "JobId"},
      {.name = "GetFaceLivenessSessionResults",
       .handler = &GetFaceLivenessSessionResults,
       .op_class = kFaceDetection},
      {.name = "GetFaceSearch",
       .handler = &GetFaceSearch,
       .op_class = kFaceIdentification,
       .max_results = "MaxResults",
       .results = "Persons",
       .similarity = "Similarity",
       .nested_results = "FaceMatches",
       .job_id = "JobId"},
      {.name = "GetLabelDetection",
       .handler = &GetLabelDetection,
       .op_class = kLabels,
       .job_id = "JobId"},
      {.name = "GetMediaAnalysisJob", .handler = &GetMediaAnalysisJob, .op_class = kModeration},
      {.name = "GetPersonTracking",
       .handler = &GetPersonTracking,
       .op_class = kLabels,
       .job_id = "JobId"},
      {.name = "GetSegmentDetection",
       .handler = &GetSegmentDetection,
       .op_class = kLabels,
       .job_id = "JobId"},
      {.name = "GetTextDetection",
       .handler = &GetTextDetection,
       .op_class = kText,
       .job_id = "JobId"},
      {.name = "IndexFaces",
       .handler = &IndexFaces,
       .op_class = kFaceEnrollment,
       .results = "FaceRecords",
       .collection = "CollectionId",
       .attributes = "DetectionAttributes",
       .counts_faces_indexed = true,
       .access = Access::kWrite},
      {.name = "ListCollections",
       .handler = &ListCollections,
       .op_class = kAdmin,
       .access = Access::kList},
      {.name = "ListDatasetEntries", .handler = nullptr, .op_class = kAdmin},
      {.name = "ListDatasetLabels", .handler = nullptr, .op_class = kAdmin},
      {.name = "ListFaces",
       .handler = &ListFaces,
       .op_class = kAdmin,
       .collection = "CollectionId",
       .access = Access::kRead},
      {.name = "ListMediaAnalysisJobs", .handler = &ListMediaAnalysisJobs, .op_class = kModeration},
      {.name = "ListProjectPolicies", .handler = nullptr, .op_class = kAdmin},
      {.name = "ListStreamProcessors", .handler = &ListStreamProcessors, .op_class = kAdmin},
      {.name = "ListTagsForResource",
       .handler = &ListTagsForResource,
       .op_class = kAdmin,
       .collection = "ResourceArn",
       .access = Access::kRead},
      {.name = "ListUsers",
       .handler = &ListUsers,
       .op_class = kAdmin,
       .collection = "CollectionId",
       .access = Access::kRead},
      // An argus extension: the face liveness upload path (docs/API.md).
      {.name = "PutFaceLivenessFrames",
       .handler = &PutFaceLivenessFrames,
       .op_class = kFaceDetection},
      {.name = "PutProjectPolicy", .handler = nullptr, .op_class = kAdmin},
      {.name = "RecognizeCelebrities", .handler = nullptr, .op_class = kFaceIdentification},
      {.name = "SearchFaces",
       .handler = &SearchFaces,
       .op_class = kFaceIdentification,
       .threshold = "FaceMatchThreshold",
       .default_threshold = 80,
       .max_results = "MaxFaces",
       .results = "FaceMatches",
       .similarity = "Similarity",
       .collection = "CollectionId",
       .access = Access::kRead},
      {.name = "SearchFacesByImage",
       .handler = &SearchFacesByImage,
       .op_class = kFaceIdentification,
       .threshold = "FaceMatchThreshold",
       .default_threshold = 80,
       .max_results = "MaxFaces",
       .results = "FaceMatches",
       .similarity = "Similarity",
       .collection = "CollectionId",
       .access = Access::kRead},
      {.name = "SearchUsers",
       .handler = &SearchUsers,
       .op_class = kFaceIdentification,
       .threshold = "UserMatchThreshold",
       .default_threshold = 80,
       .max_results = "MaxUsers",
       .results = "UserMatches",
       .similarity = "Similarity",
       .collection = "CollectionId",
       .access = Access::kRead},
      {.name = "SearchUsersByImage",
       .handler = &SearchUsersByImage,
       .op_class = kFaceIdentification,
       .threshold = "UserMatchThreshold",
       .default_threshold = 80,
       .max_results = "MaxUsers",
       .results = "UserMatches",
       .similarity = "Similarity",
       .collection = "CollectionId",
       .access = Access::kRead},
      {.name = "StartCelebrityRecognition",
       .handler = &RefuseCelebrityRecognition,
       .op_class = kFaceIdentification},
      {.name = "StartContentModeration",
       .handler = &StartContentModeration,
       .op_class = kModeration,
       .job_id = "JobId"},
      {.name = "StartFaceDetection",
       .handler = &StartFaceDetection,
       .op_class = kFaceDetection,
       .job_id = "JobId"},
      {.name = "StartFaceSearch",
       .handler = &StartFaceSearch,
       .op_class = kFaceIdentification,
       .threshold = "FaceMatchThreshold",
       .default_threshold = 80,
       .collection = "CollectionId",
       .access = Access::kRead,
       .job_id = "JobId"},
      {.name = "StartLabelDetection",
       .handler = &StartLabelDetection,
       .op_class = kLabels,
       .job_id = "JobId"},
      {.name = "StartMediaAnalysisJob", .handler = &StartMediaAnalysisJob, .op_class = kModeration},
      {.name = "StartPersonTracking",
       .handler = &StartPersonTracking,
       .op_class = kLabels,
       .job_id = "JobId"},
      {.name = "StartProjectVersion", .handler = nullptr, .op_class = kAdmin},
      {.name = "StartSegmentDetection",
       .handler = &StartSegmentDetection,
       .op_class = kLabels,
       .job_id = "JobId"},
      {.name = "StartStreamProcessor",
       .handler = &StartStreamProcessor,
       .op_class = kRealtimeIdentification,
       .access = Access::kRead,
       .stream_processor = true},
      {.name = "StartTextDetection",
       .handler = &StartTextDetection,
       .op_class = kText,
       .job_id = "JobId"},
      {.name = "StopProjectVersion", .handler = nullptr, .op_class = kAdmin},
      {.name = "StopStreamProcessor", .handler = &StopStreamProcessor, .op_class = kAdmin},
      {.name = "TagResource",
       .handler = &TagResource,
       .op_class = kAdmin,
       .collection = "ResourceArn",
       .access = Access::kWrite},
      {.name = "UntagResource",
       .handler = &UntagResource,
       .op_class = kAdmin,
       .collection = "ResourceArn",
       .access = Access::kWrite},
      {.name = "UpdateDatasetEntries", .handler = nullptr, .op_class = kAdmin},
      {.name = "UpdateStreamProcessor",
       .handler = &UpdateStreamProcessor,
       .op_class = kRealtimeIdentification,
       .access = Access::kRead,
       .stream_processor = true},
  };
}

const json* Member(const json& j, const char* name) {
  if (!name || !j.is_object()) return nullptr;
  auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

// A stream processor request: the settings it sends, or those of the stored
// processor it names. ConnectedHome (no face search) is label detection.
void ReadStreamProcessorFacts(const json& request, Services& services, RequestFacts& f) {
  json settings = json::object();
  if (const json* s = Member(request, "Settings"); s && s->is_object()) {
    settings = *s;
  } else if (const json* n = Member(request, "Name"); n && n->is_string() && services.documents) {
    auto d = services.documents->Get("stream-processor", n->get<std::string>());
    if (!d.ok()) return;  // the handler answers
    json body = json::parse(d->body, nullptr, false);
    if (body.is_object() && body.contains("Settings")) settings = body["Settings"];
  } else {
    return;
  }
  if (!settings.is_object()) return;
  const json* face = Member(settings, "FaceSearch");
  if (face && face->is_object()) {
    if (const json* c = Member(*face, "CollectionId"); c && c->is_string())
      f.collection = c->get<std::string>();
    const json* t = Member(*face, "FaceMatchThreshold");
    f.threshold = t && t->is_number() ? t->get<double>() : 80.0;
  } else if (Member(settings, "ConnectedHome")) {
    f.op_class = policy::OpClass::kLabels;
  }
}

}  // namespace

const std::vector<OpSpec>& Operations() {
  static const std::vector<OpSpec> table = [] {
    auto t = Table();
    std::sort(t.begin(), t.end(), [](const OpSpec& a, const OpSpec& b) {
      return std::string_view(a.name) < std::string_view(b.name);
    });
    return t;
  }();
  return table;
}

const OpSpec* FindOperation(std::string_view name) {
  const auto& t = Operations();
  auto it = std::lower_bound(t.begin(), t.end(), name, [](const OpSpec& a, std::string_view n) {
    return std::string_view(a.name) < n;
  });
  return it != t.end() && it->name == name ? &*it : nullptr;
}

std::set<std::string> RequestedAttributes(const OpSpec& op, const json& request) {
  std::set<std::string> out;
  const json* a = Member(request, op.attributes);
  if (!a || !a->is_array()) return out;
  for (const auto& v : *a) {
    if (v.is_string()) out.insert(v.get<std::string>());
  }
  return out;
}

policy::OpClass ClassOf(const OpSpec& op, const json& request) {
  if (op.attributes_class) {
    for (const auto& a : RequestedAttributes(op, request)) {
      if (a != "DEFAULT") return *op.attributes_class;
    }
  }
  return op.op_class;
}

RequestFacts ReadRequestFacts(const OpSpec& op, const json& request, Services& services) {
  RequestFacts f;
  f.op = &op;
  f.op_class = ClassOf(op, request);
  f.attributes = RequestedAttributes(op, request);
  if (const json* c = Member(request, op.collection); c && c->is_string()) {
    if (std::string_view(op.collection) == "ResourceArn") {
      // The collection an ARN names, when it names one that exists; otherwise
      // the handler answers as it would for any unknown resource.
      if (services.collections) {
        auto id = services.collections->CollectionOfArn(c->get<std::string>());
        if (id.ok()) f.collection = id.value();
      }
    } else {
      f.collection = c->get<std::string>();
    }
  }
  if (op.stream_processor) ReadStreamProcessorFacts(request, services, f);
  if (op.threshold) {
    const json* t = Member(request, op.threshold);
    f.threshold = t && t->is_number() ? t->get<double>() : op.default_threshold;
  }
  if (const json* m = Member(request, op.max_results); m && m->is_number_integer()) {
    f.max_results = m->get<int64_t>();
  }
  if (const json* j = Member(request, op.job_id); j && j->is_string()) {
    f.job_id = j->get<std::string>();
  }
  return f;
}

void ApplyRequestFacts(const RequestFacts& f, json& request) {
  if (f.threshold_changed && f.op->threshold && f.threshold) {
    request[f.op->threshold] = *f.threshold;
  }
  if (f.threshold_changed && f.op->stream_processor && f.threshold) {
    // A policy's floor: into the settings sent, or for the session started.
    json* face = request.contains("Settings") && request["Settings"].is_object() &&
                         request["Settings"].contains("FaceSearch")
                     ? &request["Settings"]["FaceSearch"]
                     : nullptr;
    if (face && face->is_object())
      (*face)["FaceMatchThreshold"] = *f.threshold;
    else
      request[kStreamThresholdFloor] = *f.threshold;
  }
  if (f.max_results_changed && f.op->max_results && f.max_results) {
    request[f.op->max_results] = *f.max_results;
  }
}

ResultFacts ReadResultFacts(const OpSpec& op, const json& answer) {
  ResultFacts r;
  if (const json* l = Member(answer, op.results); l && l->is_array()) {
    r.count = int64_t(l->size());
    if (op.nested_results) r.count = 0;
    for (const auto& m : *l) {
      if (op.nested_results) {
        const json* n = Member(m, op.nested_results);
        if (!n || !n->is_array()) continue;
        *r.count += int64_t(n->size());
        for (const auto& x : *n) {
          const json* s = Member(x, op.similarity);
          if (s && s->is_number()) r.similarities.push_back(s->get<double>());
        }
        continue;
      }
      const json* s = Member(m, op.similarity);
      if (s && s->is_number()) r.similarities.push_back(s->get<double>());
    }
  }
  if (const json* j = Member(answer, op.job_id); j && j->is_string()) {
    r.job_id = j->get<std::string>();
  }
  if (const json* u = Member(answer, op.unmatched); u && u->is_array()) {
    r.unmatched = int64_t(u->size());
  }
  return r;
}

void DropResultsUnder(const OpSpec& op, double floor, json& answer) {
  if (!op.results || !op.similarity || !op.unmatched || !answer.is_object()) return;
  auto it = answer.find(op.results);
  if (it == answer.end() || !it->is_array()) return;
  json kept = json::array(), dropped = json::array();
  for (auto& m : *it) {
    const json* s = Member(m, op.similarity);
    if (s && s->is_number() && s->get<double>() < floor) {
      if (const json* face = Member(m, "Face")) dropped.push_back(*face);
    } else {
      kept.push_back(m);
    }
  }
  if (dropped.empty()) return;
  *it = std::move(kept);
  json& unmatched = answer[op.unmatched];
  if (!unmatched.is_array()) unmatched = json::array();
  for (auto& d : dropped) unmatched.push_back(std::move(d));
}

}  // namespace argus::api
