// How a running stream processor's results leave it (stream_processor_run.h).
#include "api/rekognition/stream_processor_run.h"

#include <opencv2/imgcodecs.hpp>

#include "api/rekognition/collection_shapes.h"
#include "api/rekognition/s3_object.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/uuid.h"

namespace argus::api::streams {
namespace {

json KinesisVideo(const json& b, const video::LiveFrame& f) {
  return {{"StreamArn", b.value("/Input/KinesisVideoStream/Arn"_json_pointer, "")},
          {"FragmentNumber", std::to_string(f.number)},
          {"ServerTimestamp", double(f.captured_unix_ms) / 1000.0},
          {"ProducerTimestamp", double(f.captured_unix_ms) / 1000.0},
          {"FrameOffsetInSeconds", double(f.offset_ms) / 1000.0}};
}

}  // namespace

void Publish(RunContext& c, const json& message) {
  if (c.topic.empty() || !c.cfg->publish) return;
  c.cfg->publish(c.topic, message.dump());
}

json SessionEvent(const std::string& session, const std::string& arn, const std::string& type) {
  return {{"eventNamespace", {{"type", type}}},
          {"rekognitionApiVersion", "2016-06-27"},
          {"sessionId", session},
          {"streamProcessorArn", arn}};
}

namespace {

void AuditMatches(RunContext& c, const stream::FrameResult& r) {
  if (!c.audit) return;
  const json& who = c.body.value("Argus", json::object());
  for (const auto& hit : r.faces) {
    if (hit.matches.empty()) continue;
    policy::AuditRecord rec;
    rec.time_ms = NowMs();
    rec.kind = "match";
    rec.request_id = c.session;
    rec.principal = who.value("Owner", "");
    rec.org_type = who.value("OrgType", "");
    rec.purpose = who.value("Purpose", "");
    rec.case_id = who.value("CaseId", "");
    rec.authorisation = who.value("Authorisation", "");
    rec.operation = "StartStreamProcessor";
    rec.op_class = "realtime_identification";
    rec.collection = c.body.value("/Settings/FaceSearch/CollectionId"_json_pointer, "");
    rec.decision = "allow";
    rec.threshold_applied = c.threshold;
    rec.matches = int64_t(hit.matches.size());
    rec.top_similarity = hit.matches.front().similarity;
    rec.outcome = "ok";
    rec.detail = "stream processor " + c.name + ", frame " + std::to_string(r.frame.number);
    if (Status st = c.audit->Append(rec); !st.ok())
      log::Error("stream processor " + c.name + ": audit append failed: " + st.message());
  }
}
}  // namespace

void OnFaceResult(RunContext& c, const stream::FrameResult& r) {
  const cv::Size size = r.frame.bgr.size();
  json faces = json::array();
  for (const auto& hit : r.faces) {
    json matched = json::array();
    for (const auto& m : hit.matches) {
      json face = coll::FaceJson(m.face, false);
      face.erase("IndexFacesModelVersion");
      matched.push_back({{"Similarity", m.similarity}, {"Face", face}});
    }
    faces.push_back(
        {{"DetectedFace", coll::DetailJson(hit.face, size, false)}, {"MatchedFaces", matched}});
  }
  json record = {{"InputInformation", {{"KinesisVideo", KinesisVideo(c.body, r.frame)}}},
                 {"StreamProcessorInformation", {{"Status", "RUNNING"}, {"SessionId", c.session}}},
                 {"FaceSearchResponse", faces}};
  AuditMatches(c, r);
  if (c.cfg->deliver) c.cfg->deliver(c.sink_target, record.dump());
}

void OnHomeResult(RunContext& c, const stream::FrameResult& r) {
  const cv::Size size = r.frame.bgr.size();
  int64_t n;
  {
    std::lock_guard lock(c.mu);
    n = c.objects++;
  }
  const std::string base = c.prefix + c.name + "/" + c.session + "/" + std::to_string(n);
  std::string frame_uri;
  std::vector<uchar> jpeg;
  if (cv::imencode(".jpg", r.frame.bgr, jpeg) &&
      WriteS3Object(c.bucket, base + ".jpg",
                    std::string_view((const char*)jpeg.data(), jpeg.size()))
          .ok())
    frame_uri = "s3://" + c.bucket + "/" + base + ".jpg";
  const json kv = KinesisVideo(c.body, r.frame);
  json labels = json::array();
  std::vector<std::string> fresh;
  for (const auto& l : r.labels) {
    labels.push_back({{"id", NewUuidV4()},
                      {"name", l.name},
                      {"frameImageUri", frame_uri},
                      {"croppedImageUri", ""},
                      {"videoMapping",
                       {{"kinesisVideoMapping",
                         {{"fragmentNumber", kv["FragmentNumber"]},
                          {"serverTimestamp", r.frame.captured_unix_ms},
                          {"producerTimestamp", r.frame.captured_unix_ms},
                          {"frameOffsetMillis", r.frame.offset_ms}}}}},
                      {"boundingBox",
                       {{"left", l.box.x / float(size.width)},
                        {"top", l.box.y / float(size.height)},
                        {"width", l.box.width / float(size.width)},
                        {"height", l.box.height / float(size.height)}}},
                      {"confidence", l.confidence}});
    std::lock_guard lock(c.mu);
    if (c.notified.insert(l.name).second) fresh.push_back(l.name);
  }
  json event = SessionEvent(c.session, c.arn, "LABEL_DETECTED");
  event["inputInformation"] = {{"kinesisVideo",
                                {{"streamArn", kv["StreamArn"]},
                                 {"fragmentNumber", kv["FragmentNumber"]},
                                 {"serverTimestamp", r.frame.captured_unix_ms},
                                 {"producerTimestamp", r.frame.captured_unix_ms},
                                 {"frameOffsetInSeconds", kv["FrameOffsetInSeconds"]}}}};
  event["labels"] = labels;
  if (Status st = WriteS3Object(c.bucket, base + ".json", event.dump()); !st.ok())
    log::Warn("stream processor " + c.name + ": cannot write results: " + st.message());
  // SNS: the first detection of each label in a session.
  if (!fresh.empty()) Publish(c, event);
}

}  // namespace argus::api::streams
