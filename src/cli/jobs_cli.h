#pragma once
// `argus jobs ...` and the job engine as `argus serve` opens it.
#include <memory>

#include "cli/args.h"
#include "jobs/jobs.h"
#include "store/store.h"

namespace argus::cli {

// The job engine over `store` with --video-workers N (default 1),
// --max-pending-jobs N (20), --job-retention-days D (7) and the webhook
// notifier for --webhook NAME=URL[,NAME=URL...] installed; unfinished jobs
// of an earlier run are queued again. The caller registers the runners and
// calls Start. InvalidParameter for a bad flag value.
Result<std::unique_ptr<jobs::JobManager>> OpenJobs(const Args& a, store::Store& store);

// `argus jobs list|describe|cancel` on the data dir's store (works while the
// server runs on it: a cancel reaches the running job within a second).
int CmdJobs(const Args& a);

}  // namespace argus::cli
