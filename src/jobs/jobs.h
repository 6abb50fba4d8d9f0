#pragma once
// Asynchronous jobs (Rekognition Video's Start*/Get*, media analysis jobs):
// persisted in the store, run by a bounded worker pool, resumed after a
// restart, expired after a retention period. The engine is payload-agnostic:
// a job's request, metadata and results are opaque strings written and read
// by the runner registered for its API (the api layer keeps them in
// Rekognition's shapes). Thread-safe.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace argus::jobs {

enum class State { kInProgress, kSucceeded, kFailed };
const char* StateName(State s);                            // "IN_PROGRESS", "SUCCEEDED", "FAILED"
std::optional<State> ParseState(const std::string& name);  // StateName's inverse

struct Job {
  std::string id;            // 64 hex characters, as Rekognition's
  std::string api;           // "StartFaceDetection", "StartMediaAnalysisJob", ...
  std::string owner;         // principal that started it ("" under --no-auth)
  std::string request;       // opaque (the Start request as the runner reads it)
  std::string client_token;  // "" when none
  std::string job_tag;       // "" when none
  std::string notification;  // SNS topic ARN, "" when none
  State state = State::kInProgress;
  bool queued = true;          // in progress and not yet picked by a worker
  std::string status_message;  // why it failed, "" otherwise
  double progress = 0;         // 0..1
  std::string metadata;        // opaque, set by the runner (VideoMetadata)
  int64_t created_ms = 0, started_ms = 0, completed_ms = 0;
  int64_t result_count = 0;
  int attempts = 0;  // runs started (a restart re-runs an unfinished job)
  bool cancel_requested = false;
};

// One result of a job. `seq` is assigned in append order (0, 1, ...);
// `timestamp_ms` and `index` are the sort keys Get* pages by.
struct ResultItem {
  int64_t seq = 0;
  int64_t timestamp_ms = 0;
  int64_t index = 0;
  std::string body;  // opaque
};

enum class SortBy { kSeq, kTimestamp, kIndex };  // ties broken by seq

// What a runner sees of its job.
class JobContext {
 public:
  virtual ~JobContext() = default;
  virtual const Job& job() const = 0;
  virtual void SetMetadata(const std::string& metadata) = 0;
  // Records progress (persisted at most once a second, when the store's
  // cancel flag is read too); false when the job was cancelled or the server
  // is stopping: the runner should return, and what it returns is ignored
  // (the job fails with "Cancelled", or stays unfinished to run again).
  virtual bool Progress(double fraction) = 0;
  // Appended results are stored with the job when the runner returns OK
  // (a failed or interrupted run keeps none).
  virtual void Append(std::vector<ResultItem> items) = 0;
};
// Runs one job to the end. A non-OK Status fails the job with its message
// as StatusMessage.
using Runner = std::function<Status(JobContext&)>;
// Called once when a job reaches SUCCEEDED or FAILED (notifications), on the
// thread that finished it (a worker, Cancel's or Start's caller), outside the
// engine's locks. Should not throw (what it
// throws is logged); its failure never changes the job.
using CompletionFn = std::function<void(const Job&)>;

struct Options {
  int workers = 1;       // jobs run at once
  int max_pending = 20;  // in progress (queued + running) per owner; more → LimitExceeded
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // results kept after completion
  int max_attempts = 3;  // a job interrupted this many times fails at the next Open
  // On a store several nodes share: how long a node's claim on a running
  // job lasts without renewal (renewed every lease_ms / 4 while it runs);
  // after that another node takes the job over and runs it again.
  int64_t lease_ms = 30000;
};

struct NewJob {
  std::string api, owner, request, client_token, job_tag, notification;
};

struct ListFilter {
  std::string owner;  // "" for every owner
  std::string api;    // "" for every API
  std::optional<State> state;
  std::string after_id;  // page after this job (creation order, newest first)
  int limit = 100;
};

struct Stats {
  int64_t queued = 0, running = 0, succeeded = 0, failed = 0;  // succeeded/failed since start
};

class JobManager {
 public:
  virtual ~JobManager() = default;
  // Reads unfinished jobs from `store` and queues them again (attempts + 1;
  // over max_attempts they fail with a message saying so). On a store
  // several nodes share, the workers instead poll for queued jobs and for
  // running ones whose lease ran out, whichever node took them in.
  static Result<std::unique_ptr<JobManager>> Open(store::Store& store, const Options& options);
  virtual void RegisterRunner(const std::string& api, Runner runner) = 0;
  virtual void OnCompletion(CompletionFn fn) = 0;
  // Starts the workers (after every runner is registered) and PurgeExpired
  // now and hourly; completions of jobs Open failed are announced here.
  virtual void Start() = 0;
  // Stops taking jobs; running ones are interrupted (Progress returns false)
  // and stay unfinished in the store, to be re-run after a restart.
  virtual void Stop() = 0;

  // Idempotency: a job of the same owner and API with the same non-empty
  // client_token answers its id when the request is the same, and
  // IdempotentParameterMismatch when not. LimitExceeded past max_pending.
  // InvalidParameter when no runner is registered for the API.
  virtual Result<std::string> Submit(const NewJob& job) = 0;
  // ResourceNotFound when absent or expired. A job queued or running
  // somewhere else (another process on the same store) shows as stored.
  virtual Result<Job> Get(const std::string& id) = 0;
  virtual Result<std::vector<Job>> List(const ListFilter& filter) = 0;
  // Results from position `offset` in `sort` order, at most `limit` (none
  // unless the job succeeded). ResourceNotFound when absent or expired.
  virtual Result<std::vector<ResultItem>> Results(const std::string& id, SortBy sort,
                                                  int64_t offset, int limit) = 0;
  // Asks a job in progress to stop; it fails with "Cancelled" (a queued one
  // at once, a running one at its next Progress or when it returns). OK
  // when it had already finished (nothing changes). ResourceNotFound.
  virtual Status Cancel(const std::string& id) = 0;
  // Deletes jobs (and their results) completed before now - retention.
  virtual Result<int64_t> PurgeExpired(int64_t now_ms) = 0;
  virtual Stats stats() const = 0;
};

}  // namespace argus::jobs
