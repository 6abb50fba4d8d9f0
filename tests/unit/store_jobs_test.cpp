// The job tables of the store against a real engine (store_engine.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "store/store.h"
#include "store_engine.h"

namespace argus::store {
namespace {

class StoreJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(engine_.Create("store-jobs-test"));
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    engine_.Remove();
  }
  void Reopen() {
    store_.reset();
    auto s = engine_.Open();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s.value());
  }
  std::string path() const { return engine_.location(); }
  static JobRecord Job(const std::string& id, int64_t created, const std::string& owner = "alice",
                       const std::string& api = "StartFaceDetection") {
    JobRecord j;
    j.id = id;
    j.api = api;
    j.owner = owner;
    j.request = "{\"id\":\"" + id + "\"}";
    j.created_ms = created;
    return j;
  }
  std::string FileBytes(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

  argus::testing::StoreEngine engine_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreJobsTest, InsertedJobReadsBackAfterReopen) {
  JobRecord j = Job("j1", 100);
  j.client_token = "tok";
  j.job_tag = "tag";
  j.notification = "arn:aws:sns:us-east-1:1:t";
  ASSERT_TRUE(store_->InsertJob(j).ok());
  Reopen();
  auto r = store_->GetJob("j1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value().api, "StartFaceDetection");
  EXPECT_EQ(r.value().owner, "alice");
  EXPECT_EQ(r.value().request, j.request);
  EXPECT_EQ(r.value().client_token, "tok");
  EXPECT_EQ(r.value().job_tag, "tag");
  EXPECT_EQ(r.value().notification, j.notification);
  EXPECT_EQ(r.value().state, "IN_PROGRESS");
  EXPECT_TRUE(r.value().queued);
  EXPECT_EQ(r.value().created_ms, 100);
  EXPECT_EQ(r.value().attempts, 0);
}

TEST_F(StoreJobsTest, DuplicateIdIsAlreadyExistsAndMissingIsNotFound) {
  ASSERT_TRUE(store_->InsertJob(Job("j1", 1)).ok());
  EXPECT_EQ(store_->InsertJob(Job("j1", 2)).code(), Code::kResourceAlreadyExists);
  EXPECT_EQ(store_->GetJob("nope").status().code(), Code::kResourceNotFound);
  EXPECT_EQ(store_->CancelJob("nope", 5).status().code(), Code::kResourceNotFound);
}

TEST_F(StoreJobsTest, ListIsNewestFirstWithPagingAndFilters) {
  ASSERT_TRUE(store_->InsertJob(Job("a", 10)).ok());
  ASSERT_TRUE(store_->InsertJob(Job("b", 20, "bob")).ok());
  ASSERT_TRUE(store_->InsertJob(Job("c", 20, "alice", "StartLabelDetection")).ok());
  ASSERT_TRUE(store_->InsertJob(Job("d", 30)).ok());
  JobQuery q;
  auto all = store_->ListJobs(q);
  ASSERT_TRUE(all.ok());
  std::vector<std::string> ids;
  for (auto& j : all.value()) ids.push_back(j.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"d", "c", "b", "a"}));

  q.limit = 2;
  auto p1 = store_->ListJobs(q);
  ASSERT_EQ(p1.value().size(), 2u);
  q.after_id = p1.value().back().id;
  auto p2 = store_->ListJobs(q);
  ASSERT_EQ(p2.value().size(), 2u);
  EXPECT_EQ(p2.value()[0].id, "b");
  EXPECT_EQ(p2.value()[1].id, "a");

  JobQuery by_owner;
  by_owner.owner = "bob";
  EXPECT_EQ(store_->ListJobs(by_owner).value().size(), 1u);
  JobQuery by_api;
  by_api.api = "StartLabelDetection";
  ASSERT_EQ(store_->ListJobs(by_api).value().size(), 1u);
  EXPECT_EQ(store_->ListJobs(by_api).value()[0].id, "c");

  JobRecord done = Job("a", 10);
  done.state = "SUCCEEDED";
  done.completed_ms = 50;
  ASSERT_TRUE(store_->FinishJob(done, {}).value());
  JobQuery by_state;
  by_state.state = "SUCCEEDED";
  ASSERT_EQ(store_->ListJobs(by_state).value().size(), 1u);
  JobQuery recent;
  recent.completed_since_ms = 51;
  EXPECT_EQ(store_->ListJobs(recent).value().size(), 3u);  // "a" completed before
  JobQuery oldest;
  oldest.oldest_first = true;
  EXPECT_EQ(store_->ListJobs(oldest).value().front().id, "a");
  JobQuery bad;
  bad.after_id = "missing";
  EXPECT_EQ(store_->ListJobs(bad).status().code(), Code::kResourceNotFound);
}

TEST_F(StoreJobsTest, TokenLookupAndUnfinishedCount) {
  JobRecord j = Job("j1", 1);
  j.client_token = "t";
  ASSERT_TRUE(store_->InsertJob(j).ok());
  ASSERT_TRUE(store_->InsertJob(Job("j2", 2)).ok());
  ASSERT_TRUE(store_->InsertJob(Job("j3", 3, "bob")).ok());
  auto f = store_->FindJobByToken("alice", "StartFaceDetection", "t", 0);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(f.value().has_value());
  EXPECT_EQ(f.value()->id, "j1");
  EXPECT_FALSE(store_->FindJobByToken("bob", "StartFaceDetection", "t", 0).value());
  EXPECT_FALSE(store_->FindJobByToken("alice", "StartLabelDetection", "t", 0).value());
  EXPECT_EQ(store_->CountUnfinishedJobs("alice").value(), 2);
  EXPECT_EQ(store_->CountUnfinishedJobs("bob").value(), 1);

  j.state = "FAILED";
  j.completed_ms = 100;
  ASSERT_TRUE(store_->FinishJob(j, {}).value());
  EXPECT_EQ(store_->CountUnfinishedJobs("alice").value(), 1);
  // Completed before the horizon: forgotten.
  EXPECT_TRUE(store_->FindJobByToken("alice", "StartFaceDetection", "t", 100).value());
  EXPECT_FALSE(store_->FindJobByToken("alice", "StartFaceDetection", "t", 101).value());
}

TEST_F(StoreJobsTest, ClaimTakesAQueuedJobOnce) {
  ASSERT_TRUE(store_->InsertJob(Job("j1", 1)).ok());
  const JobLease lease{"node-a", 60000};  // a lease that does not run out during the test
  auto c = store_->ClaimJob("j1", 77, lease);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.value().has_value());
  EXPECT_FALSE(c.value()->queued);
  EXPECT_EQ(c.value()->attempts, 1);
  EXPECT_EQ(c.value()->started_ms, 77);
  EXPECT_FALSE(store_->ClaimJob("j1", 78, lease).value().has_value());
  ASSERT_TRUE(store_->RequeueJob("j1").ok());
  EXPECT_EQ(store_->ClaimJob("j1", 79, lease).value()->attempts, 2);
}

TEST_F(StoreJobsTest, ResultsStoredWithSuccessInEachSortOrder) {
  ASSERT_TRUE(store_->InsertJob(Job("j1", 1)).ok());
  ASSERT_TRUE(store_->ClaimJob("j1", 2, {}).ok());
  // seq 0..3; timestamps 30,10,10,20; indexes 2,2,0,1.
  std::vector<JobResultRecord> results = {
      {0, 30, 2, "r0"}, {0, 10, 2, "r1"}, {0, 10, 0, "r2"}, {0, 20, 1, "r3"}};
  JobRecord j = Job("j1", 1);
  j.state = "SUCCEEDED";
  j.progress = 1;
  j.metadata = "meta";
  j.completed_ms = 9;
  auto done = store_->FinishJob(j, results);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(done.value());
  auto bodies = [&](JobResultOrder o, int64_t offset, int limit) {
    std::vector<std::string> out;
    auto rows = store_->JobResults("j1", o, offset, limit);
    EXPECT_TRUE(rows.ok());
    for (auto& r : rows.value()) out.push_back(r.body);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(bodies(JobResultOrder::kSeq, 0, 10), (V{"r0", "r1", "r2", "r3"}));
  EXPECT_EQ(bodies(JobResultOrder::kTimestamp, 0, 10), (V{"r1", "r2", "r3", "r0"}));
  EXPECT_EQ(bodies(JobResultOrder::kIndex, 0, 10), (V{"r2", "r3", "r0", "r1"}));
  EXPECT_EQ(bodies(JobResultOrder::kTimestamp, 1, 2), (V{"r2", "r3"}));
  EXPECT_EQ(bodies(JobResultOrder::kSeq, 4, 2), V{});
  auto rec = store_->GetJob("j1").value();
  EXPECT_EQ(rec.state, "SUCCEEDED");
  EXPECT_EQ(rec.result_count, 4);
  EXPECT_EQ(rec.metadata, "meta");
  EXPECT_EQ(rec.completed_ms, 9);
  // A finished job is not finished again.
  j.state = "FAILED";
  EXPECT_FALSE(store_->FinishJob(j, {}).value());
  EXPECT_EQ(store_->GetJob("j1").value().state, "SUCCEEDED");
  EXPECT_EQ(store_->JobResults("j1", JobResultOrder::kSeq, 0, 10).value().size(), 4u);
}

TEST_F(StoreJobsTest, CancelFailsAQueuedJobAndFlagsARunningOne) {
  ASSERT_TRUE(store_->InsertJob(Job("queued", 1)).ok());
  ASSERT_TRUE(store_->InsertJob(Job("running", 2)).ok());
  ASSERT_TRUE(store_->ClaimJob("running", 3, {}).value().has_value());
  EXPECT_FALSE(store_->SaveJobProgress("running", 0.5, "m").value());

  auto q = store_->CancelJob("queued", 10);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.value().state, "FAILED");
  EXPECT_EQ(q.value().status_message, "Cancelled");
  EXPECT_EQ(q.value().completed_ms, 10);
  EXPECT_FALSE(store_->ClaimJob("queued", 11, {}).value().has_value());

  auto r = store_->CancelJob("running", 10);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().state, "IN_PROGRESS");
  EXPECT_TRUE(r.value().cancel_requested);
  EXPECT_DOUBLE_EQ(r.value().progress, 0.5);
  EXPECT_TRUE(store_->SaveJobProgress("running", 0.6, "m").value());
}

TEST_F(StoreJobsTest, PurgeDeletesExpiredJobsAndLeavesNoBytesOfTheirResults) {
  const std::string marker = "purged-result-marker-7f3a91";
  for (const char* id : {"old", "new", "open"}) ASSERT_TRUE(store_->InsertJob(Job(id, 1)).ok());
  JobRecord old_job = Job("old", 1);
  old_job.state = "SUCCEEDED";
  old_job.completed_ms = 100;
  ASSERT_TRUE(store_->FinishJob(old_job, {{0, 1, 1, marker}, {0, 2, 2, marker + "b"}}).value());
  JobRecord new_job = Job("new", 1);
  new_job.state = "SUCCEEDED";
  new_job.completed_ms = 300;
  ASSERT_TRUE(store_->FinishJob(new_job, {{0, 1, 1, "kept"}}).value());

  auto n = store_->DeleteJobsCompletedBefore(200);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n.value(), 1);
  EXPECT_EQ(store_->GetJob("old").status().code(), Code::kResourceNotFound);
  EXPECT_TRUE(store_->JobResults("old", JobResultOrder::kSeq, 0, 10).value().empty());
  EXPECT_EQ(store_->JobResults("new", JobResultOrder::kSeq, 0, 10).value().size(), 1u);
  EXPECT_TRUE(store_->GetJob("open").ok());  // unfinished jobs never expire
  EXPECT_EQ(store_->DeleteJobsCompletedBefore(200).value(), 0);
  store_.reset();
  // The database files (SQLite); PostgreSQL keeps dead tuples until VACUUM
  // (docs/SCALING.md).
  if (engine_.Postgres()) return;
  for (const std::string suffix : {"", "-wal"}) {
    if (!std::filesystem::exists(path() + suffix)) continue;
    EXPECT_EQ(FileBytes(path() + suffix).find(marker), std::string::npos) << suffix;
  }
}

}  // namespace
}  // namespace argus::store
