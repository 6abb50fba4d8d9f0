#pragma once
// Media analysis jobs (StartMediaAnalysisJob, GetMediaAnalysisJob,
// ListMediaAnalysisJobs): DetectModerationLabels over every image a JSON
// Lines manifest names ({"source-ref": "s3://bucket/key"} per line), run on
// the job engine; the results and a manifest summary are written under the
// output bucket (--s3-root) as <prefix>/<JobId>/results.jsonl and
// <prefix>/<JobId>/manifest-summary.json.
#include <string>

#include "api/rekognition/handlers.h"
#include "jobs/jobs.h"

namespace argus::api {

// Manifest limits checked at Start (InvalidManifestException over them).
inline constexpr size_t kMaxManifestBytes = 64u << 20;
inline constexpr int kMaxManifestLines = 10000;
// The engine's API name of a media analysis job.
inline constexpr const char* kMediaAnalysisApi = "StartMediaAnalysisJob";

Result<json> StartMediaAnalysisJob(const json& request, Services& services);
Result<json> GetMediaAnalysisJob(const json& request, Services& services);
Result<json> ListMediaAnalysisJobs(const json& request, Services& services);

// The handlers submit to and read Services::jobs (ServiceUnavailable when
// null); jobs belong to Services::principal, and only an admin sees others'.
// Registers the StartMediaAnalysisJob runner on `jobs`: call before
// jobs.Start(); `services` (its moderation service) must outlive the
// engine's workers.
void RegisterMediaAnalysisRunner(jobs::JobManager& jobs, Services& services);

}  // namespace argus::api
