// Stream processors: Create / Describe / List / Start / Stop / Update /
// Delete, kept as documents (kind "stream-processor", id = Name) whose body
// is the DescribeStreamProcessor answer plus an "Argus" member this server
// keeps for itself (the owner's audit identity and the running session).
// A started processor runs in StreamConfig::manager on this node; its
// results go to the sink its output names (face search) or to S3 objects
// under --s3-root and SNS notifications (connected home), and every face
// match is appended to the audit log.
#include <set>

#include "api/rekognition/collection_shapes.h"
#include "api/rekognition/handlers.h"
#include "api/rekognition/operations.h"
#include "api/rekognition/s3_object.h"
#include "api/rekognition/stream_processor_run.h"
#include "core/base64.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/uuid.h"

namespace argus::api {
namespace {

using streams::OnFaceResult;
using streams::OnHomeResult;
using streams::Publish;
using streams::RunContext;
using streams::SessionEvent;

constexpr const char* kKind = "stream-processor";
constexpr int kMaxProcessors = 1000;

Status Unavailable() {
  return Status(Code::kServiceUnavailable,
                "Stream processors are not enabled on this server (argus serve --stream-source).");
}

Result<StreamConfig*> Config(Services& s) {
  if (!s.streams || !s.streams->manager || !s.documents) return Unavailable();
  return s.streams;
}

std::string ProcessorArn(const StreamConfig& c, const std::string& name) {
  return "arn:aws:rekognition:" + c.region + ":" + c.account_id + ":streamprocessor/" + name;
}

// The stream name of a Kinesis ARN: NAME of "...:stream/NAME" (data
// streams) or "...:stream/NAME/CREATION_TIME" (video streams), else the
// ARN's last part.
std::string ArnName(const std::string& arn) {
  size_t at = arn.find(":stream/");
  if (at != std::string::npos) {
    std::string rest = arn.substr(at + 8);
    return rest.substr(0, rest.find('/'));
  }
  size_t cut = arn.find_last_of(':');
  return cut == std::string::npos ? arn : arn.substr(cut + 1);
}

Status NoSuchProcessor(const std::string& name) {
  return Status(Code::kResourceNotFound, "The stream processor " + name + " does not exist.");
}

// The stored processor `name`, when the caller may see it.
Result<service::Document> Find(Services& s, const std::string& name) {
  auto d = s.documents->Get(kKind, name);
  if (!d.ok()) {
    if (d.status().code() == Code::kResourceNotFound) return NoSuchProcessor(name);
    return d.status();
  }
  if (!s.admin && d->owner != s.principal) return NoSuchProcessor(name);
  return d;
}

Result<std::string> NameOf(const json& request) {
  auto it = request.find("Name");
  if (it == request.end() || !it->is_string() || it->get<std::string>().empty())
    return InvalidParameter("Name is required.");
  return it->get<std::string>();
}

json Body(const service::Document& d) {
  json b = json::parse(d.body, nullptr, false);
  return b.is_object() ? b : json::object();
}

// Applies `change` to the stored body of `name` (compare-and-set, retried).
Status Mutate(service::Documents& docs, const std::string& name,
              const std::function<Status(json&)>& change) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    ARGUS_ASSIGN(d, docs.Get(kKind, name));
    json body = Body(d);
    ARGUS_RETURN_IF_ERROR(change(body));
    const int64_t now = NowMs();
    body["LastUpdateTimestamp"] = double(now) / 1000.0;
    d.body = body.dump();
    d.updated_ms = now;
    ARGUS_ASSIGN(done, docs.Update(d, d.version));
    if (done) return Status::Ok();
  }
  return Status(Code::kResourceInUse, "The stream processor " + name +
                                          " is being changed by another request; try again.");
}

// Sets Status and StatusMessage of `name` (a processor deleted meanwhile is
// left alone).
void SetStatus(service::Documents& docs, const std::string& name, const std::string& status,
               const std::string& message, const std::string& session = "") {
  Status st = Mutate(docs, name, [&](json& b) {
    if (!session.empty() && b.value("/Argus/SessionId"_json_pointer, std::string()) != session)
      return Status::Ok();  // a later session owns the status now
    b["Status"] = status;
    b["StatusMessage"] = message;
    return Status::Ok();
  });
  if (!st.ok() && st.code() != Code::kResourceNotFound)
    log::Warn("stream processor " + name + ": cannot record status " + status + ": " +
              st.message());
}

// Regions of interest as ratios; InvalidParameter for an empty region or one
// outside the frame.
Status ParseRegions(const json& regions, stream::Settings& out) {
  if (!regions.is_array()) return Status::Ok();
  for (const auto& r : regions) {
    const bool has_box = r.contains("BoundingBox"), has_poly = r.contains("Polygon");
    if (has_box == has_poly)
      return InvalidParameter("Each region of interest has either a BoundingBox or a Polygon.");
    if (has_box) {
      const json& b = r["BoundingBox"];
      cv::Rect2f box(b.value("Left", 0.f), b.value("Top", 0.f), b.value("Width", 0.f),
                     b.value("Height", 0.f));
      if (box.width <= 0 || box.height <= 0 || box.x < 0 || box.y < 0 ||
          box.x + box.width > 1.001f || box.y + box.height > 1.001f)
        return InvalidParameter(
            "A region of interest's BoundingBox must have a positive size and lie inside the "
            "frame (ratios 0..1).");
      out.boxes.push_back(box);
    } else {
      std::vector<cv::Point2f> poly;
      for (const auto& p : r["Polygon"]) poly.emplace_back(p.value("X", 0.f), p.value("Y", 0.f));
      if (poly.size() < 3 || poly.size() > 10)
        return InvalidParameter("A region of interest's Polygon has 3 to 10 points.");
      for (const auto& p : poly)
        if (p.x < 0 || p.x > 1 || p.y < 0 || p.y > 1)
          return InvalidParameter("Polygon points are ratios of the frame (0..1).");
      out.polygons.push_back(std::move(poly));
    }
  }
  return Status::Ok();
}

// ConnectedHome.Labels: PERSON, PET or ALL (both).
Result<std::set<std::string>> ParseHomeLabels(const json& labels) {
  std::set<std::string> out;
  for (const auto& l : labels) {
    std::string v = l.get<std::string>();
    if (v == "ALL") {
      out.insert({"PERSON", "PET"});
    } else if (v == "PERSON" || v == "PET") {
      out.insert(v);
    } else if (v == "PACKAGE") {
      return InvalidParameter(
          "ConnectedHome label PACKAGE is not supported: the label model this server ships has "
          "no package class. Use PERSON, PET or ALL (PERSON and PET).");
    } else {
      return InvalidParameter("ConnectedHome labels are PERSON, PET or ALL, not " + v + ".");
    }
  }
  if (out.empty()) return InvalidParameter("ConnectedHome.Labels needs at least one label.");
  return out;
}

// What a stored processor runs with.
Result<stream::Settings> SettingsOf(const json& b, const StreamConfig& cfg) {
  stream::Settings s;
  const std::string source = ArnName(b.value("/Input/KinesisVideoStream/Arn"_json_pointer, ""));
  auto src = cfg.sources.find(source);
  if (src == cfg.sources.end())
    return InvalidParameter("No stream source named '" + source +
                            "' is configured on this server (argus serve --stream-source " +
                            source + "=URL).");
  s.source = src->second;
  s.fps = cfg.fps;
  const json& settings = b.value("Settings", json::object());
  if (settings.contains("FaceSearch")) {
    s.collection = settings["FaceSearch"].value("CollectionId", "");
    s.face_match_threshold = settings["FaceSearch"].value("FaceMatchThreshold", 80.f);
    // A policy's floor for this session (operations.h).
    s.face_match_threshold = std::max(s.face_match_threshold,
                                      b.value("/Argus/FaceMatchThresholdFloor"_json_pointer, 0.f));
  }
  if (settings.contains("ConnectedHome")) {
    ARGUS_ASSIGN(labels, ParseHomeLabels(settings["ConnectedHome"].value("Labels", json::array())));
    s.labels = std::move(labels);
    s.min_confidence = settings["ConnectedHome"].value("MinConfidence", 50.f);
  }
  ARGUS_RETURN_IF_ERROR(ParseRegions(b.value("RegionsOfInterest", json::array()), s));
  if (b.contains("Argus") && b["Argus"].contains("MaxDurationInSeconds"))
    s.max_duration_ms = b["Argus"]["MaxDurationInSeconds"].get<int64_t>() * 1000;
  return s;
}

// Checks a request's Input, Output, Settings and regions against what this
// server can run (shapes were checked against the model before).
Status CheckRunnable(const json& b, Services& services, const StreamConfig& cfg) {
  const json& settings = b.value("Settings", json::object());
  const bool face = settings.contains("FaceSearch"), home = settings.contains("ConnectedHome");
  if (face == home)
    return InvalidParameter("Settings needs exactly one of FaceSearch and ConnectedHome.");
  ARGUS_ASSIGN(parsed, SettingsOf(b, cfg));
  const json& out = b.value("Output", json::object());
  if (face) {
    if (parsed.collection.empty())
      return InvalidParameter("Settings.FaceSearch.CollectionId is required.");
    ARGUS_ASSIGN(collections, coll::Collections(services));
    ARGUS_RETURN_IF_ERROR(collections->DescribeCollection(parsed.collection).status());
    if (!out.contains("KinesisDataStream"))
      return InvalidParameter("A FaceSearch stream processor writes to Output.KinesisDataStream.");
    const std::string sink = ArnName(out["KinesisDataStream"].value("Arn", ""));
    if (!cfg.sinks.count(sink))
      return InvalidParameter("No stream sink named '" + sink +
                              "' is configured on this server (argus serve --stream-sink " + sink +
                              "=URL-or-path).");
  } else {
    if (!out.contains("S3Destination"))
      return InvalidParameter("A ConnectedHome stream processor writes to Output.S3Destination.");
    ARGUS_RETURN_IF_ERROR(CheckS3Bucket(out["S3Destination"].value("Bucket", "")));
    if (!ValidS3KeyPrefix(out["S3Destination"].value("KeyPrefix", "")))
      return InvalidParameter("Output.S3Destination.KeyPrefix is not a valid key prefix.");
  }
  return Status::Ok();
}

// The caller's audit identity, kept with the processor for its matches.
json Identity(const Services& s) {
  return {{"Owner", s.principal},
          {"OrgType", s.org_type},
          {"Purpose", s.purpose},
          {"CaseId", s.case_id},
          {"Authorisation", s.authorisation}};
}

}  // namespace

Result<json> CreateStreamProcessor(const json& request, Services& services) {
  ARGUS_ASSIGN(cfg, Config(services));
  ARGUS_ASSIGN(name, NameOf(request));
  if (request.contains("KmsKeyId"))
    return InvalidParameter("KmsKeyId is not supported: argus keeps results on this machine.");
  json body = json::object();
  for (const char* k : {"Input", "Output", "RoleArn", "Settings", "NotificationChannel",
                        "RegionsOfInterest", "DataSharingPreference"})
    if (request.contains(k)) body[k] = request[k];
  if (body.value("Settings", json::object()).contains("ConnectedHome") &&
      !body["Settings"]["ConnectedHome"].contains("MinConfidence"))
    body["Settings"]["ConnectedHome"]["MinConfidence"] = 50;
  if (body.value("Settings", json::object()).contains("FaceSearch") &&
      !body["Settings"]["FaceSearch"].contains("FaceMatchThreshold"))
    body["Settings"]["FaceSearch"]["FaceMatchThreshold"] = 80;
  ARGUS_RETURN_IF_ERROR(CheckRunnable(body, services, *cfg));
  ARGUS_ASSIGN(existing, services.documents->List(kKind, "", kMaxProcessors + 1));
  if (existing.size() >= size_t(kMaxProcessors))
    return Status(Code::kLimitExceeded, "This server keeps at most " +
                                            std::to_string(kMaxProcessors) + " stream processors.");
  const int64_t now = NowMs();
  body["Name"] = name;
  body["StreamProcessorArn"] = ProcessorArn(*cfg, name);
  body["Status"] = "STOPPED";
  body["StatusMessage"] = "";
  body["CreationTimestamp"] = body["LastUpdateTimestamp"] = double(now) / 1000.0;
  body["Tags"] = request.value("Tags", json::object());
  body["Argus"] = Identity(services);
  service::Document d{kKind, name, services.principal, body.dump(), 0, now, now};
  Status st = services.documents->Insert(d);
  if (st.code() == Code::kResourceAlreadyExists)
    return Status(Code::kResourceInUse, "A stream processor named " + name + " already exists.");
  ARGUS_RETURN_IF_ERROR(st);
  return json{{"StreamProcessorArn", body["StreamProcessorArn"]}};
}

Result<json> DescribeStreamProcessor(const json& request, Services& services) {
  ARGUS_RETURN_IF_ERROR(Config(services).status());
  ARGUS_ASSIGN(name, NameOf(request));
  ARGUS_ASSIGN(d, Find(services, name));
  json b = Body(d);
  b.erase("Argus");
  b.erase("Tags");
  if (b.value("StatusMessage", "").empty()) b.erase("StatusMessage");
  return b;
}

Result<json> ListStreamProcessors(const json& request, Services& services) {
  ARGUS_RETURN_IF_ERROR(Config(services).status());
  int limit = 1000;
  if (request.contains("MaxResults"))
    limit = int(std::min<int64_t>(request["MaxResults"].get<int64_t>(), 1000));
  std::string after;
  if (request.contains("NextToken")) {
    auto raw = Base64Decode(request["NextToken"].get<std::string>(), "NextToken");
    if (!raw.ok() || raw->rfind("sp|", 0) != 0)
      return Status(Code::kInvalidPaginationToken, "Invalid pagination token.");
    after = raw->substr(3);
  }
  json list = json::array();
  std::string last;
  bool more = false;
  while (true) {
    ARGUS_ASSIGN(page, services.documents->List(kKind, after, 200));
    for (const auto& d : page) {
      after = d.id;
      if (!services.admin && d.owner != services.principal) continue;
      if (int(list.size()) == limit) {
        more = true;
        break;
      }
      json b = Body(d);
      list.push_back({{"Name", d.id}, {"Status", b.value("Status", "STOPPED")}});
      last = d.id;
    }
    if (more || page.size() < 200) break;
  }
  json out = {{"StreamProcessors", list}};
  if (more) out["NextToken"] = Base64Encode("sp|" + last);
  return out;
}

namespace {

// Starts `name` as stored in `d`, with a new session; the answer's SessionId.
Result<std::string> Run(Services& services, StreamConfig& cfg, const service::Document& d) {
  json b = Body(d);
  ARGUS_ASSIGN(settings, SettingsOf(b, cfg));
  auto ctx = std::make_shared<RunContext>();
  ctx->name = d.id;
  ctx->session = NewUuidV4();
  ctx->arn = b.value("StreamProcessorArn", "");
  ctx->topic = b.value("/NotificationChannel/SNSTopicArn"_json_pointer, "");
  ctx->documents = services.documents;
  ctx->audit = services.audit;
  ctx->cfg = &cfg;
  ctx->threshold = settings.face_match_threshold;
  const json& out = b.value("Output", json::object());
  if (out.contains("KinesisDataStream"))
    ctx->sink_target = cfg.sinks[ArnName(out["KinesisDataStream"].value("Arn", ""))];
  if (out.contains("S3Destination")) {
    ctx->bucket = out["S3Destination"].value("Bucket", "");
    ctx->prefix = out["S3Destination"].value("KeyPrefix", "");
  }
  ARGUS_RETURN_IF_ERROR(Mutate(*services.documents, d.id, [&](json& body) {
    body["Status"] = "STARTING";
    body["StatusMessage"] = "";
    body["Argus"]["SessionId"] = ctx->session;
    return Status::Ok();
  }));
  ctx->body = b;
  ctx->body["Argus"]["SessionId"] = ctx->session;
  const bool face = !settings.collection.empty();
  stream::Events events;
  events.on_result = [ctx, face](const stream::FrameResult& r) {
    if (face)
      OnFaceResult(*ctx, r);
    else
      OnHomeResult(*ctx, r);
  };
  events.on_source = [ctx](video::LiveEvent e, const std::string& detail) {
    if (e == video::LiveEvent::kConnected) {
      log::Info("stream processor " + ctx->name + ": source connected: " + detail);
      SetStatus(*ctx->documents, ctx->name, "RUNNING", "", ctx->session);
    } else if (e == video::LiveEvent::kDropped) {
      log::Warn("stream processor " + ctx->name + ": source dropped: " + detail);
      SetStatus(*ctx->documents, ctx->name, "RUNNING", "The stream source dropped: " + detail,
                ctx->session);
    }
  };
  events.on_end = [ctx](stream::State state, const std::string& message) {
    log::Info("stream processor " + ctx->name + " ended: " + message);
    SetStatus(*ctx->documents, ctx->name, state == stream::State::kFailed ? "FAILED" : "STOPPED",
              message, ctx->session);
    json ev = SessionEvent(ctx->session, ctx->arn, "STREAM_PROCESSING_COMPLETE");
    ev["streamProcessingResults"] = {{"message", message}};
    Publish(*ctx, ev);
  };
  Status st = cfg.manager->Start(d.id, settings, std::move(events));
  if (!st.ok()) {
    SetStatus(*services.documents, d.id, "FAILED", st.message(), ctx->session);
    return st;
  }
  SetStatus(*services.documents, d.id, "RUNNING", "", ctx->session);
  Publish(*ctx, SessionEvent(ctx->session, ctx->arn, "STREAM_PROCESSING_START"));
  return ctx->session;
}

}  // namespace

Result<json> StartStreamProcessor(const json& request, Services& services) {
  ARGUS_ASSIGN(cfg, Config(services));
  ARGUS_ASSIGN(name, NameOf(request));
  ARGUS_ASSIGN(d, Find(services, name));
  if (request.contains("StartSelector"))
    return InvalidParameter(
        "StartSelector is not supported: a live source is analysed from when it is started.");
  json b = Body(d);
  const std::string status = b.value("Status", "STOPPED");
  if (status != "STOPPED" && status != "FAILED")
    return Status(Code::kResourceInUse, "The stream processor " + name + " is " + status + ".");
  if (cfg->manager->Running(name))
    return Status(Code::kResourceInUse, "The stream processor " + name + " is running.");
  // The caller who starts it answers for its matches; StopSelector bounds the run.
  ARGUS_RETURN_IF_ERROR(Mutate(*services.documents, name, [&](json& body) {
    json who = Identity(services);
    who["Owner"] = body.value("/Argus/Owner"_json_pointer, services.principal);
    if (request.contains(kStreamThresholdFloor))
      who["FaceMatchThresholdFloor"] = request[kStreamThresholdFloor];
    if (request.contains("StopSelector"))
      who["MaxDurationInSeconds"] = request["StopSelector"].value("MaxDurationInSeconds", 0);
    body["Argus"] = who;
    return Status::Ok();
  }));
  ARGUS_ASSIGN(fresh, services.documents->Get(kKind, name));
  ARGUS_ASSIGN(session, Run(services, *cfg, fresh));
  return json{{"SessionId", session}};
}

Result<json> StopStreamProcessor(const json& request, Services& services) {
  ARGUS_ASSIGN(cfg, Config(services));
  ARGUS_ASSIGN(name, NameOf(request));
  ARGUS_ASSIGN(d, Find(services, name));
  json b = Body(d);
  const std::string status = b.value("Status", "STOPPED");
  if (status == "STOPPED" || status == "FAILED")
    return Status(Code::kResourceInUse, "The stream processor " + name + " is not running.");
  SetStatus(*services.documents, name, "STOPPING", "");
  cfg->manager->Stop(name);
  SetStatus(*services.documents, name, "STOPPED", "Stopped by StopStreamProcessor.");
  const std::string topic = b.value("/NotificationChannel/SNSTopicArn"_json_pointer, "");
  if (!topic.empty() && cfg->publish) {
    json ev = SessionEvent(b.value("/Argus/SessionId"_json_pointer, ""),
                           b.value("StreamProcessorArn", ""), "STREAM_PROCESSING_COMPLETE");
    ev["streamProcessingResults"] = {{"message", "Stopped by StopStreamProcessor."}};
    cfg->publish(topic, ev.dump());
  }
  return json::object();
}

Result<json> UpdateStreamProcessor(const json& request, Services& services) {
  ARGUS_ASSIGN(cfg, Config(services));
  ARGUS_ASSIGN(name, NameOf(request));
  ARGUS_ASSIGN(d, Find(services, name));
  json b = Body(d);
  const std::string status = b.value("Status", "STOPPED");
  if (status != "STOPPED" && status != "FAILED")
    return Status(Code::kResourceInUse,
                  "The stream processor " + name + " is " + status + "; stop it to update it.");
  const bool home = b.value("Settings", json::object()).contains("ConnectedHome");
  if (request.contains("SettingsForUpdate")) {
    const json& u = request["SettingsForUpdate"].value("ConnectedHomeForUpdate", json::object());
    if (!u.empty() && !home)
      return InvalidParameter("ConnectedHomeForUpdate applies to ConnectedHome processors only.");
    if (u.contains("Labels")) b["Settings"]["ConnectedHome"]["Labels"] = u["Labels"];
    if (u.contains("MinConfidence"))
      b["Settings"]["ConnectedHome"]["MinConfidence"] = u["MinConfidence"];
  }
  if (request.contains("RegionsOfInterestForUpdate"))
    b["RegionsOfInterest"] = request["RegionsOfInterestForUpdate"];
  if (request.contains("DataSharingPreferenceForUpdate"))
    b["DataSharingPreference"] = request["DataSharingPreferenceForUpdate"];
  for (const auto& p : request.value("ParametersToDelete", json::array())) {
    const std::string what = p.get<std::string>();
    if (what == "RegionsOfInterest") b.erase("RegionsOfInterest");
    if (what == "ConnectedHomeMinConfidence" && home)
      b["Settings"]["ConnectedHome"]["MinConfidence"] = 50;
  }
  ARGUS_RETURN_IF_ERROR(CheckRunnable(b, services, *cfg));
  ARGUS_RETURN_IF_ERROR(Mutate(*services.documents, name, [&](json& body) {
    for (const char* k : {"Settings", "RegionsOfInterest", "DataSharingPreference"}) {
      if (b.contains(k))
        body[k] = b[k];
      else
        body.erase(k);
    }
    return Status::Ok();
  }));
  return json::object();
}

Result<json> DeleteStreamProcessor(const json& request, Services& services) {
  ARGUS_ASSIGN(cfg, Config(services));
  ARGUS_ASSIGN(name, NameOf(request));
  ARGUS_ASSIGN(d, Find(services, name));
  const std::string status = Body(d).value("Status", "STOPPED");
  if (status != "STOPPED" && status != "FAILED")
    return Status(Code::kResourceInUse,
                  "The stream processor " + name + " is " + status + "; stop it first.");
  cfg->manager->Stop(name);  // a finished run's threads
  ARGUS_RETURN_IF_ERROR(services.documents->Delete(kKind, name));
  return json::object();
}

bool IsStreamProcessorArn(const std::string& arn) {
  return arn.rfind("arn:", 0) == 0 && arn.find(":streamprocessor/") != std::string::npos;
}

namespace {

// The processor a tag request's ResourceArn names, when the caller may see it.
Result<service::Document> TaggedProcessor(const json& request, Services& services) {
  ARGUS_ASSIGN(cfg, Config(services));
  const std::string arn = request.value("ResourceArn", "");
  const std::string name = arn.substr(arn.find(":streamprocessor/") + 17);
  if (arn != ProcessorArn(*cfg, name))
    return Status(Code::kResourceNotFound, "The resource " + arn + " does not exist.");
  return Find(services, name);
}

}  // namespace

Result<json> TagStreamProcessor(const json& request, Services& services) {
  ARGUS_ASSIGN(d, TaggedProcessor(request, services));
  ARGUS_ASSIGN(tags, coll::Tags(request));
  ARGUS_RETURN_IF_ERROR(Mutate(*services.documents, d.id, [&](json& b) {
    json merged = b.value("Tags", json::object());
    for (const auto& [k, v] : tags) merged[k] = v;
    if (merged.size() > size_t(service::kMaxTagsPerCollection))
      return Status(Code::kServiceQuotaExceeded,
                    "A stream processor can have at most " +
                        std::to_string(service::kMaxTagsPerCollection) + " tags.");
    b["Tags"] = merged;
    return Status::Ok();
  }));
  return json::object();
}

Result<json> UntagStreamProcessor(const json& request, Services& services) {
  ARGUS_ASSIGN(d, TaggedProcessor(request, services));
  const json keys = request.value("TagKeys", json::array());
  ARGUS_RETURN_IF_ERROR(Mutate(*services.documents, d.id, [&](json& b) {
    json tags = b.value("Tags", json::object());
    for (const auto& k : keys)
      if (k.is_string()) tags.erase(k.get<std::string>());
    b["Tags"] = tags;
    return Status::Ok();
  }));
  return json::object();
}

Result<json> ListStreamProcessorTags(const json& request, Services& services) {
  ARGUS_ASSIGN(d, TaggedProcessor(request, services));
  return json{{"Tags", Body(d).value("Tags", json::object())}};
}

void ResumeStreamProcessors(Services& services, bool restart) {
  if (!services.streams || !services.streams->manager || !services.documents) return;
  std::string after;
  while (true) {
    auto page = services.documents->List(kKind, after, 200);
    if (!page.ok()) {
      log::Error("stream processors: cannot list: " + page.status().message());
      return;
    }
    for (const auto& d : page.value()) {
      after = d.id;
      const std::string status = Body(d).value("Status", "STOPPED");
      if (status != "RUNNING" && status != "STARTING" && status != "STOPPING") continue;
      if (!restart) continue;  // a shared store: the node that runs it keeps it
      if (status == "STOPPING") {
        SetStatus(*services.documents, d.id, "STOPPED", "Stopped when the server restarted.");
        continue;
      }
      auto session = Run(services, *services.streams, d);
      if (session.ok())
        log::Info("stream processor " + d.id + " resumed, session " + session.value());
      else
        log::Warn("stream processor " + d.id + " could not resume: " + session.status().message());
    }
    if (page->size() < 200) return;
  }
}

}  // namespace argus::api
