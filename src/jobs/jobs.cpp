// The job engine over the store's job tables: a FIFO queue, a pool of
// worker threads, progress and cancel flags exchanged with the store at most
// once a second, and a purge of expired jobs at start and hourly. On a store
// several nodes share, a lease thread renews this node's claims on its
// running jobs and queues the jobs any node may claim.
#include "jobs/jobs.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <random>
#include <thread>

#include "core/clock.h"
#include "core/log.h"

namespace argus::jobs {

const char* StateName(State s) {
  switch (s) {
    case State::kInProgress:
      return "IN_PROGRESS";
    case State::kSucceeded:
      return "SUCCEEDED";
    case State::kFailed:
      return "FAILED";
  }
  return "IN_PROGRESS";
}

std::optional<State> ParseState(const std::string& name) {
  if (name == "IN_PROGRESS") return State::kInProgress;
  if (name == "SUCCEEDED") return State::kSucceeded;
  if (name == "FAILED") return State::kFailed;
  return std::nullopt;
}

namespace {

constexpr auto kProgressInterval = std::chrono::seconds(1);
constexpr auto kPurgeInterval = std::chrono::hours(1);

std::string NewJobId() {
  thread_local std::random_device rd;
  static const char* kHex = "0123456789abcdef";
  std::string id;
  id.reserve(64);
  for (int i = 0; i < 8; ++i) {
    uint32_t v = rd();
    for (int k = 0; k < 8; ++k, v >>= 4) id += kHex[v & 15];
  }
  return id;
}

Job FromRecord(const store::JobRecord& r) {
  Job j;
  j.id = r.id;
  j.api = r.api;
  j.owner = r.owner;
  j.request = r.request;
  j.client_token = r.client_token;
  j.job_tag = r.job_tag;
  j.notification = r.notification;
  j.state = ParseState(r.state).value_or(State::kFailed);
  j.queued = r.queued;
  j.status_message = r.status_message;
  j.progress = r.progress;
  j.metadata = r.metadata;
  j.created_ms = r.created_ms;
  j.started_ms = r.started_ms;
  j.completed_ms = r.completed_ms;
  j.result_count = r.result_count;
  j.attempts = r.attempts;
  j.cancel_requested = r.cancel_requested;
  return j;
}

Status NotFound(const std::string& id) {
  return Status(Code::kResourceNotFound, "job " + id + " not found");
}

// A run in progress in this process.
struct Running {
  std::atomic<bool> cancel{false};       // asked to stop by Cancel or the store's flag
  std::atomic<bool> interrupted{false};  // Progress answered false
  std::atomic<bool> lost{false};         // the lease ran out and another node took the job
  std::mutex mu;
  double progress = 0;
  std::string metadata;
};

class Manager;

class Context : public JobContext {
 public:
  Context(Manager& m, Job job, std::shared_ptr<Running> run)
      : m_(m), job_(std::move(job)), run_(std::move(run)) {}
  const Job& job() const override { return job_; }
  void SetMetadata(const std::string& metadata) override {
    std::lock_guard lock(run_->mu);
    run_->metadata = metadata;
  }
  bool Progress(double fraction) override;
  void Append(std::vector<ResultItem> items) override {
    std::lock_guard lock(run_->mu);
    for (auto& it : items) results_.push_back(std::move(it));
  }
  std::vector<ResultItem> TakeResults() {
    std::lock_guard lock(run_->mu);
    return std::move(results_);
  }

 private:
  Manager& m_;
  Job job_;
  std::shared_ptr<Running> run_;
  std::vector<ResultItem> results_;
  SteadyClock::time_point last_saved_{};
};

class Manager : public JobManager {
 public:
  Manager(store::Store& store, const Options& options) : store_(store), opt_(options) {
    opt_.workers = std::max(1, opt_.workers);
    opt_.max_pending = std::max(1, opt_.max_pending);
    opt_.max_attempts = std::max(1, opt_.max_attempts);
    opt_.lease_ms = std::max<int64_t>(1000, opt_.lease_ms);
    lease_.node = store_.NodeId();
    if (lease_.node.empty()) lease_.node = NewJobId().substr(0, 16);
    lease_.ms = opt_.lease_ms;
  }
  ~Manager() override { Stop(); }

  // Queues the unfinished jobs of a previous process. A shared store's
  // jobs are left to the lease thread: other nodes may be running them.
  Status Resume() {
    if (store_.SharesChanges()) return Status::Ok();
    store::JobQuery q;
    q.state = "IN_PROGRESS";
    q.oldest_first = true;
    q.limit = 1 << 30;
    auto rows = store_.ListJobs(q);
    if (!rows.ok()) return rows.status();
    for (auto& r : rows.value()) {
      std::string why = GiveUp(r, r.queued ? 0 : r.attempts);
      if (!why.empty()) {
        r.state = "FAILED";
        r.status_message = why;
        r.completed_ms = NowMs();
        auto done = store_.FinishJob(r, {});
        if (!done.ok()) return done.status();
        if (done.value()) {
          ++failed_;
          deferred_.push_back(FromRecord(r));
        }
        continue;
      }
      if (!r.queued) ARGUS_RETURN_IF_ERROR(store_.RequeueJob(r.id));
      queue_.push_back(r.id);
    }
    if (!queue_.empty()) {
      log::Info("jobs: " + std::to_string(queue_.size()) + " unfinished job(s) queued again");
    }
    return Status::Ok();
  }

  void RegisterRunner(const std::string& api, Runner runner) override {
    std::lock_guard lock(mu_);
    runners_[api] = std::move(runner);
  }

  void OnCompletion(CompletionFn fn) override {
    std::lock_guard lock(mu_);
    completion_.push_back(std::move(fn));
  }

  void Start() override {
    std::vector<Job> deferred;
    {
      std::lock_guard lock(mu_);
      if (started_ || stopping_) return;
      started_ = true;
      for (int i = 0; i < opt_.workers; ++i) workers_.emplace_back([this] { Work(); });
      purger_ = std::thread([this] { PurgeLoop(); });
      if (store_.SharesChanges()) leaser_ = std::thread([this] { LeaseLoop(); });
      deferred.swap(deferred_);
    }
    for (const auto& j : deferred) Completed(j);
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    purge_cv_.notify_all();
    for (auto& t : workers_) t.join();
    if (purger_.joinable()) purger_.join();
    if (leaser_.joinable()) leaser_.join();
  }

  Result<std::string> Submit(const NewJob& nj) override {
    if (nj.api.empty()) return InvalidParameter("a job needs an API");
    {
      std::lock_guard lock(mu_);
      if (!runners_.count(nj.api)) return InvalidParameter("no runner for jobs of " + nj.api);
      if (stopping_) return Status(Code::kServiceUnavailable, "the job engine is stopping");
    }
    std::lock_guard submit(submit_mu_);
    const int64_t now = NowMs();
    if (!nj.client_token.empty()) {
      auto prior =
          store_.FindJobByToken(nj.owner, nj.api, nj.client_token, now - opt_.retention_ms);
      if (!prior.ok()) return prior.status();
      if (prior.value()) {
        if (prior.value()->request == nj.request) return prior.value()->id;
        return Status(Code::kIdempotentParameterMismatch,
                      "ClientRequestToken was used with a different request");
      }
    }
    auto pending = store_.CountUnfinishedJobs(nj.owner);
    if (!pending.ok()) return pending.status();
    if (pending.value() >= opt_.max_pending) {
      return Status(Code::kLimitExceeded,
                    "too many jobs in progress (at most " + std::to_string(opt_.max_pending) + ")");
    }
    store::JobRecord r;
    r.id = NewJobId();
    r.api = nj.api;
    r.owner = nj.owner;
    r.request = nj.request;
    r.client_token = nj.client_token;
    r.job_tag = nj.job_tag;
    r.notification = nj.notification;
    r.created_ms = now;
    ARGUS_RETURN_IF_ERROR(store_.InsertJob(r));
    {
      std::lock_guard lock(mu_);
      queue_.push_back(r.id);
    }
    cv_.notify_one();
    return r.id;
  }

  Result<Job> Get(const std::string& id) override {
    auto r = store_.GetJob(id);
    if (!r.ok()) return r.status();
    if (Expired(r.value(), NowMs())) return NotFound(id);
    Job j = FromRecord(r.value());
    std::shared_ptr<Running> run;
    {
      std::lock_guard lock(mu_);
      if (auto it = running_.find(id); it != running_.end()) run = it->second;
    }
    if (run && j.state == State::kInProgress) {
      std::lock_guard lock(run->mu);
      j.progress = std::max(j.progress, run->progress);
    }
    return j;
  }

  Result<std::vector<Job>> List(const ListFilter& f) override {
    store::JobQuery q;
    q.owner = f.owner;
    q.api = f.api;
    if (f.state) q.state = StateName(*f.state);
    q.after_id = f.after_id;
    q.limit = f.limit;
    q.completed_since_ms = NowMs() - opt_.retention_ms;
    auto rows = store_.ListJobs(q);
    if (!rows.ok()) return rows.status();
    std::vector<Job> out;
    out.reserve(rows.value().size());
    for (const auto& r : rows.value()) out.push_back(FromRecord(r));
    return out;
  }

  Result<std::vector<ResultItem>> Results(const std::string& id, SortBy sort, int64_t offset,
                                          int limit) override {
    auto j = store_.GetJob(id);
    if (!j.ok()) return j.status();
    if (Expired(j.value(), NowMs())) return NotFound(id);
    auto order = sort == SortBy::kTimestamp ? store::JobResultOrder::kTimestamp
                 : sort == SortBy::kIndex   ? store::JobResultOrder::kIndex
                                            : store::JobResultOrder::kSeq;
    auto rows = store_.JobResults(id, order, offset, limit);
    if (!rows.ok()) return rows.status();
    std::vector<ResultItem> out;
    out.reserve(rows.value().size());
    for (auto& r : rows.value()) {
      out.push_back({r.seq, r.timestamp_ms, r.index, std::move(r.body)});
    }
    return out;
  }

  Status Cancel(const std::string& id) override {
    std::optional<Job> finished;
    {
      std::lock_guard lock(mu_);
      auto before = store_.GetJob(id);
      if (!before.ok()) return before.status();
      if (Expired(before.value(), NowMs())) return NotFound(id);
      if (before.value().state != "IN_PROGRESS") return Status::Ok();
      auto after = store_.CancelJob(id, NowMs());
      if (!after.ok()) return after.status();
      if (after.value().state != "IN_PROGRESS") {
        // It was queued: failed at once.
        auto it = std::find(queue_.begin(), queue_.end(), id);
        if (it != queue_.end()) queue_.erase(it);
        ++failed_;
        finished = FromRecord(after.value());
      } else if (auto r = running_.find(id); r != running_.end()) {
        r->second->cancel = true;
      }
    }
    if (finished) Completed(*finished);
    return Status::Ok();
  }

  Result<int64_t> PurgeExpired(int64_t now_ms) override {
    return store_.DeleteJobsCompletedBefore(now_ms - opt_.retention_ms);
  }

  Stats stats() const override {
    std::lock_guard lock(mu_);
    Stats s;
    s.queued = int64_t(queue_.size());
    s.running = int64_t(running_.size());
    s.succeeded = succeeded_;
    s.failed = failed_;
    return s;
  }

  // Context::Progress: in-memory progress; every second the store's copy
  // and cancel flag.
  bool Progress(Running& run, const std::string& id, double fraction,
                SteadyClock::time_point& last_saved) {
    fraction = std::clamp(fraction, 0.0, 1.0);
    std::string metadata;
    {
      std::lock_guard lock(run.mu);
      run.progress = std::max(run.progress, fraction);
      fraction = run.progress;
      metadata = run.metadata;
    }
    if (Stopping() || run.cancel || run.lost) {
      run.interrupted = true;
      return false;
    }
    auto now = SteadyNow();
    if (now - last_saved >= kProgressInterval) {
      last_saved = now;
      auto cancel = store_.SaveJobProgress(id, fraction, metadata);
      if (!cancel.ok()) {
        log::Warn("jobs: " + id + ": could not save progress: " + cancel.status().message());
      } else if (cancel.value()) {
        run.cancel = true;
        run.interrupted = true;
        return false;
      }
    }
    return true;
  }

 private:
  bool Expired(const store::JobRecord& r, int64_t now) const {
    return r.state != "IN_PROGRESS" && r.completed_ms < now - opt_.retention_ms;
  }

  // Why a job in progress is failed instead of run: cancelled, or
  // interrupted `attempts` times already (0: not yet run); "" to run it.
  std::string GiveUp(const store::JobRecord& r, int attempts) const {
    if (r.cancel_requested) return "Cancelled";
    if (attempts >= opt_.max_attempts) {
      return "Interrupted " + std::to_string(attempts) +
             " times (by restarts or nodes that stopped); giving up";
    }
    return "";
  }

  bool Stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  void Completed(const Job& j) {
    std::vector<CompletionFn> fns;
    {
      std::lock_guard lock(mu_);
      fns = completion_;
    }
    for (const auto& fn : fns) {
      try {
        fn(j);
      } catch (const std::exception& e) {
        log::Warn("jobs: completion of " + j.id + " threw: " + e.what());
      } catch (...) {
        log::Warn("jobs: completion of " + j.id + " threw");
      }
    }
  }

  void Work() {
    for (;;) {
      std::string id;
      auto run = std::make_shared<Running>();
      Runner runner;
      std::optional<store::JobRecord> claimed;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        id = queue_.front();
        queue_.pop_front();
        // Claimed under the lock, so Cancel sees the job either queued or
        // running.
        auto c = store_.ClaimJob(id, NowMs(), lease_);
        if (!c.ok()) {
          log::Error("jobs: cannot start " + id + ": " + c.status().message());
          continue;
        }
        claimed = std::move(c.value());
        if (claimed) {
          running_[id] = run;
          if (auto it = runners_.find(claimed->api); it != runners_.end()) runner = it->second;
        }
      }
      if (!claimed) {
        // Claimed by another node, or finished meanwhile by another process
        // on the embedded store (argus jobs cancel): announced here, since
        // no server announced it.
        if (store_.SharesChanges()) continue;
        auto j = store_.GetJob(id);
        if (j.ok() && j.value().state != "IN_PROGRESS") {
          ++failed_;
          Completed(FromRecord(j.value()));
        }
        continue;
      }
      // Taken over from a node that stopped: run again unless cancelled
      // meanwhile or interrupted too often (the claim counted this run).
      if (std::string why = GiveUp(*claimed, claimed->attempts - 1); !why.empty()) {
        runner = [why](JobContext&) { return Status(Code::kInternal, why); };
      }
      Run(*claimed, run, runner);
    }
  }

  void Run(store::JobRecord r, const std::shared_ptr<Running>& run, const Runner& runner) {
    Job job = FromRecord(r);
    {
      std::lock_guard lock(run->mu);
      run->metadata = r.metadata;
      run->progress = 0;
    }
    Context ctx(*this, job, run);
    Status st;
    if (!runner) {
      st = Internal("no runner for jobs of " + r.api);
    } else {
      try {
        st = runner(ctx);
      } catch (const std::exception& e) {
        st = Internal(std::string("job runner failed: ") + e.what());
      } catch (...) {
        st = Internal("job runner failed");
      }
    }
    auto unregister = [&] {
      std::lock_guard lock(mu_);
      running_.erase(r.id);
    };
    if (run->lost) {
      // Another node took the job over when this node's lease ran out.
      log::Warn("jobs: " + r.id + " was taken over by another node; this run's end is dropped");
      unregister();
      return;
    }
    const bool stopping = Stopping();
    if (stopping && (run->interrupted || !st.ok()) && !run->cancel) {
      // Left unfinished: the next process runs it again.
      unregister();
      return;
    }
    if (!run->cancel) {
      auto now = store_.GetJob(r.id);
      if (now.ok() && now.value().cancel_requested) run->cancel = true;
    }
    std::vector<ResultItem> items = ctx.TakeResults();
    std::vector<store::JobResultRecord> results;
    {
      std::lock_guard lock(run->mu);
      r.metadata = run->metadata;
      r.progress = run->progress;
    }
    if (run->cancel) {
      r.state = "FAILED";
      r.status_message = "Cancelled";
    } else if (!st.ok()) {
      r.state = "FAILED";
      r.status_message = st.message().empty() ? CodeName(st.code()) : st.message();
    } else {
      r.state = "SUCCEEDED";
      r.status_message.clear();
      r.progress = 1;
      results.reserve(items.size());
      for (auto& it : items) {
        results.push_back({0, it.timestamp_ms, it.index, std::move(it.body)});
      }
    }
    r.completed_ms = NowMs();
    r.queued = false;
    auto done = store_.FinishJob(r, results);
    unregister();
    if (!done.ok()) {
      // Stays in progress in the store; a restart runs it again.
      log::Error("jobs: cannot record the end of " + r.id + ": " + done.status().message());
      return;
    }
    if (!done.value()) return;
    r.result_count = int64_t(results.size());
    (r.state == "SUCCEEDED" ? succeeded_ : failed_)++;
    Completed(FromRecord(r));
  }

  // On a shared store: every lease_ms / 4, renews the leases of the jobs
  // running here (a lost one interrupts its run) and queues claimable jobs
  // for the workers that would otherwise idle.
  void LeaseLoop() {
    const auto tick = std::chrono::milliseconds(std::clamp<int64_t>(opt_.lease_ms / 4, 250, 5000));
    for (;;) {
      std::vector<std::pair<std::string, std::shared_ptr<Running>>> running;
      int idle = 0;
      {
        std::unique_lock lock(mu_);
        if (purge_cv_.wait_for(lock, tick, [&] { return stopping_; })) return;
        running.assign(running_.begin(), running_.end());
        idle = opt_.workers - int(running_.size() + queue_.size());
      }
      for (auto& [id, run] : running) {
        auto held = store_.RenewJobLease(id, lease_);
        if (!held.ok()) {
          log::Warn("jobs: cannot renew the lease of " + id + ": " + held.status().message());
        } else if (!held.value() && !run->lost.exchange(true)) {
          log::Warn("jobs: lost the lease of " + id + " (finished or taken over elsewhere)");
        }
      }
      if (idle <= 0) continue;
      auto ids = store_.ClaimableJobs(idle + int(running.size()));
      if (!ids.ok()) continue;  // the database is away: next tick
      bool added = false;
      {
        std::lock_guard lock(mu_);
        for (const auto& id : ids.value()) {
          if (idle == 0) break;
          if (running_.count(id) || std::find(queue_.begin(), queue_.end(), id) != queue_.end()) {
            continue;
          }
          queue_.push_back(id);
          --idle;
          added = true;
        }
      }
      if (added) cv_.notify_all();
    }
  }

  // At Start, then every hour.
  void PurgeLoop() {
    for (;;) {
      auto n = PurgeExpired(NowMs());
      if (!n.ok()) {
        log::Warn("jobs: purge of expired jobs failed: " + n.status().message());
      } else if (n.value() > 0) {
        log::Info("jobs: purged " + std::to_string(n.value()) + " expired job(s)");
      }
      std::unique_lock lock(mu_);
      if (purge_cv_.wait_for(lock, kPurgeInterval, [&] { return stopping_; })) return;
    }
  }

  store::Store& store_;
  Options opt_;
  mutable std::mutex mu_;
  std::condition_variable cv_;        // workers: queue_ or stopping_
  std::condition_variable purge_cv_;  // the purge and lease threads: stopping_
  std::mutex submit_mu_;
  std::deque<std::string> queue_;
  std::map<std::string, Runner> runners_;
  std::vector<CompletionFn> completion_;
  std::map<std::string, std::shared_ptr<Running>> running_;
  std::vector<Job> deferred_;  // finished by Resume, announced at Start
  bool started_ = false, stopping_ = false;
  std::vector<std::thread> workers_;
  std::thread purger_, leaser_;
  store::JobLease lease_;
  std::atomic<int64_t> succeeded_{0}, failed_{0};
};

bool Context::Progress(double fraction) {
  return m_.Progress(*run_, job_.id, fraction, last_saved_);
}

}  // namespace

Result<std::unique_ptr<JobManager>> JobManager::Open(store::Store& store, const Options& options) {
  auto m = std::make_unique<Manager>(store, options);
  ARGUS_RETURN_IF_ERROR(m->Resume());
  return std::unique_ptr<JobManager>(std::move(m));
}

}  // namespace argus::jobs
