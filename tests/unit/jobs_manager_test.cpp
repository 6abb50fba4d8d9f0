// JobManager over a real SQLite store, with fake runners.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "core/clock.h"
#include "jobs/jobs.h"

namespace argus::jobs {
namespace {

using namespace std::chrono_literals;

// Polls `pred` for at most 15 s.
template <typename F>
bool WaitFor(F pred) {
  auto until = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// A runner that reports progress until told to finish or interrupted.
struct Gate {
  std::atomic<bool> open{false};
  std::atomic<int> started{0};
  Runner Blocking() {
    return [this](JobContext& ctx) -> Status {
      ++started;
      while (!open) {
        if (!ctx.Progress(0.25)) return Internal("interrupted");
        std::this_thread::sleep_for(5ms);
      }
      ctx.Append({{0, 5, 0, "done"}});
      return Status::Ok();
    };
  }
};

class JobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("argus-jobs-test-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    auto s = store::Store::OpenSqlite(path());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s.value());
  }
  void TearDown() override {
    manager_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string path() const { return (dir_ / "argus.db").string(); }

  // A manager with `runner` for "Fake" that records completions.
  JobManager& Open(Runner runner, Options o = {}) {
    manager_.reset();
    auto m = JobManager::Open(*store_, o);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    manager_ = std::move(m.value());
    manager_->RegisterRunner("Fake", std::move(runner));
    manager_->OnCompletion([this](const Job& j) {
      std::lock_guard lock(mu_);
      completed_.push_back(j);
    });
    manager_->Start();
    return *manager_;
  }
  static NewJob Fake(const std::string& request = "{}", const std::string& owner = "alice",
                     const std::string& token = "") {
    NewJob n;
    n.api = "Fake";
    n.owner = owner;
    n.request = request;
    n.client_token = token;
    return n;
  }
  Job WaitFinished(const std::string& id) {
    Job j;
    EXPECT_TRUE(WaitFor([&] {
      auto g = manager_->Get(id);
      if (!g.ok()) return false;
      j = g.value();
      return j.state != State::kInProgress;
    })) << "job "
        << id << " did not finish";
    return j;
  }
  std::vector<Job> Completed() {
    std::lock_guard lock(mu_);
    return completed_;
  }
  size_t CompletedCount(const std::string& id) {
    size_t n = 0;
    for (const auto& j : Completed()) n += j.id == id;
    return n;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  // Outlives the manager (TearDown resets it first): jobs a test leaves
  // queued still run their runner after the test body returns.
  Gate gate_;
  std::unique_ptr<JobManager> manager_;
  std::mutex mu_;
  std::vector<Job> completed_;
};

TEST_F(JobsTest, SucceededJobKeepsResultsInEachSortOrder) {
  auto& m = Open([](JobContext& ctx) -> Status {
    EXPECT_EQ(ctx.job().request, "{\"video\":1}");
    ctx.SetMetadata("meta");
    EXPECT_TRUE(ctx.Progress(0.5));
    ctx.Append({{0, 300, 1, "a"}, {0, 100, 2, "b"}});
    ctx.Append({{0, 200, 0, "c"}});
    return Status::Ok();
  });
  auto id = m.Submit(Fake("{\"video\":1}"));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id.value().size(), 64u);
  EXPECT_EQ(id.value().find_first_not_of("0123456789abcdef"), std::string::npos);
  Job j = WaitFinished(id.value());
  EXPECT_EQ(j.state, State::kSucceeded);
  EXPECT_EQ(j.result_count, 3);
  EXPECT_EQ(j.metadata, "meta");
  EXPECT_DOUBLE_EQ(j.progress, 1.0);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_GE(j.completed_ms, j.started_ms);
  auto bodies = [&](SortBy s, int64_t offset, int limit) {
    std::vector<std::string> out;
    auto r = m.Results(id.value(), s, offset, limit);
    EXPECT_TRUE(r.ok());
    for (auto& it : r.value()) out.push_back(it.body);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(bodies(SortBy::kSeq, 0, 10), (V{"a", "b", "c"}));
  EXPECT_EQ(bodies(SortBy::kTimestamp, 0, 10), (V{"b", "c", "a"}));
  EXPECT_EQ(bodies(SortBy::kIndex, 0, 10), (V{"c", "a", "b"}));
  EXPECT_EQ(bodies(SortBy::kTimestamp, 1, 1), (V{"c"}));
  ASSERT_TRUE(WaitFor([&] { return CompletedCount(id.value()) == 1; }));
  EXPECT_EQ(Completed()[0].state, State::kSucceeded);
  EXPECT_EQ(m.stats().succeeded, 1);
  EXPECT_EQ(m.Get("0123").status().code(), Code::kResourceNotFound);
}

TEST_F(JobsTest, FailedRunKeepsNoResultsAndCarriesTheMessage) {
  auto& m = Open([](JobContext& ctx) -> Status {
    ctx.Append({{0, 1, 1, "partial"}});
    return Status(Code::kInvalidS3Object, "the video cannot be decoded");
  });
  auto id = m.Submit(Fake());
  ASSERT_TRUE(id.ok());
  Job j = WaitFinished(id.value());
  EXPECT_EQ(j.state, State::kFailed);
  EXPECT_EQ(j.status_message, "the video cannot be decoded");
  EXPECT_EQ(j.result_count, 0);
  EXPECT_TRUE(m.Results(id.value(), SortBy::kSeq, 0, 10).value().empty());
  ASSERT_TRUE(WaitFor([&] { return CompletedCount(id.value()) == 1; }));
  EXPECT_EQ(m.stats().failed, 1);
}

TEST_F(JobsTest, ThrowingRunnerFailsTheJob) {
  auto& m = Open([](JobContext&) -> Status { throw std::runtime_error("boom"); });
  auto id = m.Submit(Fake());
  ASSERT_TRUE(id.ok());
  Job j = WaitFinished(id.value());
  EXPECT_EQ(j.state, State::kFailed);
  EXPECT_NE(j.status_message.find("boom"), std::string::npos);
}

TEST_F(JobsTest, SameTokenAnswersTheSameJobAndAnotherRequestMismatches) {
  Gate& gate = gate_;
  auto& m = Open(gate.Blocking());
  auto a = m.Submit(Fake("{\"v\":1}", "alice", "tok"));
  ASSERT_TRUE(a.ok());
  auto again = m.Submit(Fake("{\"v\":1}", "alice", "tok"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), a.value());
  EXPECT_EQ(m.Submit(Fake("{\"v\":2}", "alice", "tok")).status().code(),
            Code::kIdempotentParameterMismatch);
  auto other_owner = m.Submit(Fake("{\"v\":1}", "bob", "tok"));
  ASSERT_TRUE(other_owner.ok());
  EXPECT_NE(other_owner.value(), a.value());
  auto no_token = m.Submit(Fake("{\"v\":1}", "alice"));
  ASSERT_TRUE(no_token.ok());
  EXPECT_NE(no_token.value(), a.value());
  gate.open = true;
  WaitFinished(a.value());
  // Still the same job once finished.
  EXPECT_EQ(m.Submit(Fake("{\"v\":1}", "alice", "tok")).value(), a.value());
}

TEST_F(JobsTest, PendingJobsPastTheLimitAreRefusedPerOwner) {
  Gate& gate = gate_;
  Options o;
  o.max_pending = 2;
  auto& m = Open(gate.Blocking(), o);
  ASSERT_TRUE(m.Submit(Fake()).ok());
  auto second = m.Submit(Fake());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(m.Submit(Fake()).status().code(), Code::kLimitExceeded);
  EXPECT_TRUE(m.Submit(Fake("{}", "bob")).ok());
  gate.open = true;
  WaitFinished(second.value());
  EXPECT_TRUE(m.Submit(Fake()).ok());
}

TEST_F(JobsTest, UnknownApiIsRefused) {
  auto& m = Open([](JobContext&) { return Status::Ok(); });
  NewJob n = Fake();
  n.api = "StartNothing";
  EXPECT_EQ(m.Submit(n).status().code(), Code::kInvalidParameter);
}

TEST_F(JobsTest, OneWorkerRunsJobsInSubmissionOrder) {
  std::mutex mu;
  std::vector<std::string> order;
  auto& m = Open([&](JobContext& ctx) -> Status {
    std::lock_guard lock(mu);
    order.push_back(ctx.job().request);
    return Status::Ok();
  });
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(m.Submit(Fake(std::to_string(i))).value());
  for (const auto& id : ids) WaitFinished(id);
  EXPECT_EQ(order, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  auto listed = m.List({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed.value().size(), 5u);
  for (size_t i = 1; i < listed.value().size(); ++i) {  // newest first (same ms: by id)
    EXPECT_GE(listed.value()[i - 1].created_ms, listed.value()[i].created_ms);
  }
  ListFilter f;
  f.state = State::kSucceeded;
  f.limit = 2;
  auto page = m.List(f).value();
  ASSERT_EQ(page.size(), 2u);
  f.after_id = page.back().id;
  EXPECT_EQ(m.List(f).value().size(), 2u);
}

TEST_F(JobsTest, CancelStopsARunningJob) {
  Gate& gate = gate_;
  auto& m = Open(gate.Blocking());
  auto id = m.Submit(Fake()).value();
  ASSERT_TRUE(WaitFor([&] { return gate.started == 1; }));
  ASSERT_TRUE(m.Cancel(id).ok());
  Job j = WaitFinished(id);
  EXPECT_EQ(j.state, State::kFailed);
  EXPECT_EQ(j.status_message, "Cancelled");
  EXPECT_EQ(j.result_count, 0);
  ASSERT_TRUE(WaitFor([&] { return CompletedCount(id) == 1; }));
  EXPECT_TRUE(m.Cancel(id).ok());  // finished: nothing changes
  EXPECT_EQ(m.Get(id).value().status_message, "Cancelled");
  EXPECT_EQ(CompletedCount(id), 1u);
  EXPECT_EQ(m.Cancel("missing").code(), Code::kResourceNotFound);
}

TEST_F(JobsTest, CancelFailsAQueuedJobAtOnce) {
  Gate& gate = gate_;
  auto& m = Open(gate.Blocking());
  auto first = m.Submit(Fake()).value();
  auto second = m.Submit(Fake()).value();
  ASSERT_TRUE(WaitFor([&] { return gate.started == 1; }));
  ASSERT_TRUE(m.Cancel(second).ok());
  Job j = m.Get(second).value();
  EXPECT_EQ(j.state, State::kFailed);
  EXPECT_EQ(j.status_message, "Cancelled");
  EXPECT_EQ(j.attempts, 0);
  gate.open = true;
  EXPECT_EQ(WaitFinished(first).state, State::kSucceeded);
  EXPECT_EQ(gate.started, 1);  // the cancelled job never ran
  EXPECT_EQ(CompletedCount(second), 1u);
}

TEST_F(JobsTest, CancelThroughAnotherStoreHandleReachesTheRunner) {
  Gate& gate = gate_;
  auto& m = Open(gate.Blocking());
  auto id = m.Submit(Fake()).value();
  ASSERT_TRUE(WaitFor([&] { return gate.started == 1; }));
  // As `argus jobs cancel` does from another process.
  auto other = store::Store::OpenSqlite(path());
  ASSERT_TRUE(other.ok());
  auto c = other.value()->CancelJob(id, NowMs());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c.value().cancel_requested);
  Job j = WaitFinished(id);
  EXPECT_EQ(j.state, State::kFailed);
  EXPECT_EQ(j.status_message, "Cancelled");
  ASSERT_TRUE(WaitFor([&] { return CompletedCount(id) == 1; }));
}

TEST_F(JobsTest, InterruptedJobRunsAgainAfterARestart) {
  Gate& gate = gate_;
  auto& m = Open(gate.Blocking());
  auto id = m.Submit(Fake()).value();
  auto queued = m.Submit(Fake()).value();
  ASSERT_TRUE(WaitFor([&] { return gate.started == 1; }));
  m.Stop();
  auto stored = store_->GetJob(id).value();
  EXPECT_EQ(stored.state, "IN_PROGRESS");
  EXPECT_FALSE(stored.queued);
  EXPECT_EQ(stored.attempts, 1);
  EXPECT_TRUE(Completed().empty());

  // A new process on the same database file.
  manager_.reset();
  store_.reset();
  auto s = store::Store::OpenSqlite(path());
  ASSERT_TRUE(s.ok());
  store_ = std::move(s.value());
  Gate open;
  open.open = true;
  Open(open.Blocking());
  Job j = WaitFinished(id);
  EXPECT_EQ(j.state, State::kSucceeded);
  EXPECT_EQ(j.attempts, 2);
  EXPECT_EQ(j.result_count, 1);
  Job q = WaitFinished(queued);
  EXPECT_EQ(q.state, State::kSucceeded);
  EXPECT_EQ(q.attempts, 1);
}

TEST_F(JobsTest, JobInterruptedMaxAttemptsTimesFails) {
  Options o;
  o.max_attempts = 2;
  Gate& gate = gate_;
  auto id = Open(gate.Blocking(), o).Submit(Fake()).value();
  for (int run = 1; run <= 2; ++run) {
    ASSERT_TRUE(WaitFor([&] { return gate.started == run; }));
    manager_->Stop();
    EXPECT_EQ(store_->GetJob(id).value().attempts, run);
    if (run < 2) Open(gate.Blocking(), o);
  }
  Open(gate.Blocking(), o);
  Job j = manager_->Get(id).value();
  EXPECT_EQ(j.state, State::kFailed);
  EXPECT_NE(j.status_message.find("Interrupted 2 times"), std::string::npos) << j.status_message;
  EXPECT_EQ(gate.started, 2);
  ASSERT_TRUE(WaitFor([&] { return CompletedCount(id) == 1; }));  // announced at Start
}

TEST_F(JobsTest, ExpiredJobsAreGoneAndPurged) {
  Options o;
  o.retention_ms = 60'000;
  auto& m = Open(
      [](JobContext& ctx) -> Status {
        ctx.Append({{0, 1, 1, "r"}});
        return Status::Ok();
      },
      o);
  auto id = m.Submit(Fake()).value();
  Job j = WaitFinished(id);
  EXPECT_EQ(m.PurgeExpired(NowMs()).value(), 0);
  EXPECT_TRUE(m.Get(id).ok());
  EXPECT_EQ(m.PurgeExpired(j.completed_ms + 60'001).value(), 1);
  EXPECT_EQ(m.Get(id).status().code(), Code::kResourceNotFound);
  EXPECT_EQ(m.Results(id, SortBy::kSeq, 0, 10).status().code(), Code::kResourceNotFound);
  EXPECT_TRUE(store_->JobResults(id, store::JobResultOrder::kSeq, 0, 10).value().empty());
}

TEST_F(JobsTest, ExpiredJobsArePurgedAtStart) {
  store::JobRecord old;
  old.id = std::string(64, 'e');
  old.api = "Fake";
  old.created_ms = 1;
  ASSERT_TRUE(store_->InsertJob(old).ok());
  old.state = "SUCCEEDED";
  old.completed_ms = 2;  // long before the retention period
  ASSERT_TRUE(store_->FinishJob(old, {{0, 1, 1, "r"}}).value());
  Open([](JobContext&) { return Status::Ok(); });
  EXPECT_TRUE(
      WaitFor([&] { return store_->GetJob(old.id).status().code() == Code::kResourceNotFound; }));
}

TEST_F(JobsTest, ProgressIsStoredWhileRunning) {
  Gate& gate = gate_;
  auto& m = Open(gate.Blocking());
  auto id = m.Submit(Fake()).value();
  ASSERT_TRUE(WaitFor([&] { return gate.started == 1; }));
  EXPECT_DOUBLE_EQ(m.Get(id).value().progress, 0.25);
  // Persisted within about a second, for other processes to see.
  EXPECT_TRUE(WaitFor([&] { return store_->GetJob(id).value().progress == 0.25; }));
  auto s = m.stats();
  EXPECT_EQ(s.running, 1);
  EXPECT_EQ(s.queued, 0);
  gate.open = true;
  WaitFinished(id);
}

}  // namespace
}  // namespace argus::jobs
