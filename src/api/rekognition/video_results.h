#pragma once
// Stored-video analysis in Rekognition's shapes: a Start* request's options
// parsed and checked, its analysis run over an open video, and each result
// serialised as the item its Get* answer lists. The job runners and
// `argus video analyse` share this code.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "jobs/jobs.h"
#include "video/video.h"

namespace argus::api {

// One result item of a Get* answer with its sort keys: `index` is the
// person's index (face search, person tracking) or the label name's rank in
// name order (labels, moderation).
struct VideoItem {
  int64_t timestamp_ms = 0;
  int64_t index = 0;
  nlohmann::json body;
};

// A finished analysis. Labels and moderation answer by timestamp or by
// segment (Get*'s AggregateBy): `items` holds the timestamp items and
// `segments` the segment items (empty for the other operations).
struct VideoAnalysis {
  nlohmann::json video_metadata;  // VideoMetadata (a list for segment detection)
  nlohmann::json extra;           // the answer's other members (model versions, ...)
  std::vector<VideoItem> items, segments;
};

// The Get* answer's list member for `start_api` ("Faces", "Persons", ...),
// or null for an API that is not a stored-video Start operation.
const char* VideoResultsMember(const std::string& start_api);

// Checks the options of a Start request (the members the service-model
// validator does not know); InvalidParameter as Rekognition words it.
Status CheckVideoRequest(const std::string& start_api, const nlohmann::json& request);

// Runs the analysis `request` asks for over `reader`, frames sampled at
// `rates`. A cancelled run returns video::Cancelled().
Result<VideoAnalysis> AnalyseVideo(const std::string& start_api, const nlohmann::json& request,
                                   video::VideoReader& reader, const video::Services& services,
                                   const video::SampleRates& rates,
                                   const video::ProgressFn& progress);

// The Get* answer body (without JobId, JobStatus, NextToken) for one Start
// request run to the end in-process over the local file `video_path`:
// VideoMetadata, the model versions and every result, by timestamp (labels
// and moderation: by segment when the request says "AggregateBy":
// "SEGMENTS").
Result<nlohmann::json> RunVideoAnalysis(const std::string& start_api, const nlohmann::json& request,
                                        const std::string& video_path,
                                        const video::Services& services,
                                        const video::SampleRates& rates,
                                        const video::ProgressFn& progress);

// Registers a runner for each stored-video Start API with `jobs`: it
// resolves the stored request's Video.S3Object, opens it within `limits`,
// runs AnalyseVideo at `rates` and stores each item (body: the item's JSON;
// sort keys: timestamp and index). The services must outlive `jobs`.
void RegisterVideoRunners(jobs::JobManager& jobs, const video::Services& services,
                          const video::Limits& limits, const video::SampleRates& rates);

}  // namespace argus::api
