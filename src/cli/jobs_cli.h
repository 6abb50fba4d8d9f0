#pragma once
// `argus jobs ...` and the job engine as `argus serve` opens it.
#include <map>
#include <memory>
#include <string>

#include "cli/args.h"
#include "jobs/jobs.h"
#include "store/store.h"
#include "video/video.h"

namespace argus::cli {

// The job engine over `store` with --video-workers N (default 1),
// --max-pending-jobs N (20), --job-retention-days D (7) and the webhook
// notifier for --webhook NAME=URL[,NAME=URL...] installed; unfinished jobs
// of an earlier run are queued again. The caller registers the runners and
// calls Start. InvalidParameter for a bad flag value.
Result<std::unique_ptr<jobs::JobManager>> OpenJobs(const Args& a, store::Store& store);

// The stored-video analyses' sampling: --video-full-face-detection-ms MS
// (video::SampleRates::faces_full_every_ms, default 1000; 0: a full face
// detection on every sampled frame). InvalidParameter for a bad value.
Result<video::SampleRates> VideoRates(const Args& a);

// A flag's NAME=VALUE[,NAME=VALUE...]; InvalidParameter naming the flag and
// `want` for an item without a name or whose value `ok` refuses.
Result<std::map<std::string, std::string>> NamedValues(const std::string& flag,
                                                       const std::string& spec,
                                                       bool (*ok)(const std::string&),
                                                       const std::string& want);
bool IsHttpUrl(const std::string& v);
// --webhook's NAME=URL[,NAME=URL...]: SNS topic name -> http(s) URL.
Result<std::map<std::string, std::string>> Webhooks(const std::string& spec);

// `argus jobs list|describe|cancel` on the data dir's store (works while the
// server runs on it: a cancel reaches the running job within a second).
int CmdJobs(const Args& a);

}  // namespace argus::cli
