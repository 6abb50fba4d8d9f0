#pragma once
// Internal to the stream processor operations: what a running processor
// needs after its Start request returned, and how its results become
// records, S3 objects, notifications and audit records
// (stream_processor_results.cpp).
#include <mutex>
#include <set>
#include <string>

#include "api/rekognition/handlers.h"

namespace argus::api::streams {

// Made with make_shared, which may throw bad_alloc anyway.
struct RunContext {  // NOLINT(bugprone-exception-escape)
  std::string name, session, arn, topic, sink_target, bucket, prefix;
  double threshold = 80;  // face search: the threshold applied
  json body;              // the stored body at start
  service::Documents* documents = nullptr;
  policy::AuditLog* audit = nullptr;
  StreamConfig* cfg = nullptr;
  std::mutex mu;
  std::set<std::string> notified;  // connected-home labels notified this session
  int64_t objects = 0;
};

// Publishes `message` to the processor's SNS topic, when it has one.
void Publish(RunContext& c, const json& message);
// {eventNamespace {type}, rekognitionApiVersion, sessionId, streamProcessorArn}.
json SessionEvent(const std::string& session, const std::string& arn, const std::string& type);
// A face search result: a Kinesis-shaped record to the sink and an audit
// record of kind "match" per matched face.
void OnFaceResult(RunContext& c, const stream::FrameResult& r);
// A connected-home result: the frame and a LABEL_DETECTED event as S3
// objects; the event published for the first detection of each label.
void OnHomeResult(RunContext& c, const stream::FrameResult& r);

}  // namespace argus::api::streams
