// The PostgreSQL store as several nodes see it: two Store instances on one
// database (two argus nodes), a database that goes away and comes back, the
// audit chain under concurrent appends, the change sequence and job claims.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "auth/key_store.h"
#include "store/store.h"
#include "store_engine.h"

namespace argus::store {
namespace {

class PgNodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(engine_.Create("pg-nodes"));
    for (auto* s : {&a_, &b_}) {
      auto opened = engine_.Open();
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      *s = std::move(opened.value());
    }
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    engine_.Remove();
  }
  static Collection Coll(const std::string& id) {
    Collection c;
    c.id = id;
    c.created_ms = 1;
    c.face_model_version = "1.0";
    return c;
  }
  static Face MakeFace(const std::string& id) {
    Face f;
    f.face_id = id;
    f.image_id = "img";
    f.confidence = 99;
    f.model_version = "1.0";
    f.created_ms = 1000;
    f.descriptor.assign(4, 0.5f);
    return f;
  }
  std::vector<Change> Changes(Store& s, int64_t after) {
    std::vector<Change> out;
    EXPECT_TRUE(s.ScanChanges(after, 1000, [&](const Change& c) { out.push_back(c); }).ok());
    return out;
  }
  // The database name of the test's store location.
  std::string DbName() const {
    const auto& l = engine_.location();
    return l.substr(l.rfind('/') + 1);
  }

  argus::testing::StoreEngine engine_;
  std::unique_ptr<Store> a_, b_;
};

TEST_F(PgNodesTest, MigrationsAreAppliedOnceWhateverTheNodes) {
  // Both nodes opened the same database: one schema, and a third open of an
  // up-to-date database changes nothing.
  ASSERT_TRUE(a_->CreateCollection(Coll("c")).ok());
  auto again = engine_.Open();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again.value()->GetCollection("c").ok());
  EXPECT_TRUE(a_->SharesChanges());
  EXPECT_NE(a_->NodeId(), b_->NodeId());
}

TEST_F(PgNodesTest, ChangesOfOneNodeAreSeenByTheOtherInCommitOrder) {
  int64_t start = b_->ChangeHighWater().value();
  ASSERT_TRUE(a_->CreateCollection(Coll("c")).ok());
  std::vector<Face> faces = {MakeFace("f1"), MakeFace("f2")};
  ASSERT_TRUE(a_->InsertFaces("c", faces).ok());
  ASSERT_EQ(a_->DeleteFaces("c", {"f1"})->size(), 1u);
  ASSERT_TRUE(a_->DeleteCollection("c").ok());
  auto seen = Changes(*b_, start);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].kind, "create");
  EXPECT_EQ(seen[1].kind, "insert");
  EXPECT_EQ(seen[1].labels, (std::vector<int64_t>{faces[0].label, faces[1].label}));
  EXPECT_EQ(seen[2].kind, "delete");
  EXPECT_EQ(seen[2].labels, std::vector<int64_t>{faces[0].label});
  EXPECT_EQ(seen[3].kind, "drop");
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].node, a_->NodeId());
    EXPECT_EQ(seen[i].collection, "c");
    if (i) {
      EXPECT_GT(seen[i].seq, seen[i - 1].seq);
    }
  }
  EXPECT_EQ(b_->ChangeHighWater().value(), seen.back().seq);
  // A rolled-back write leaves no change behind.
  std::vector<Face> orphan = {MakeFace("f3")};
  EXPECT_EQ(a_->InsertFaces("c", orphan).code(), Code::kResourceNotFound);
  EXPECT_TRUE(Changes(*b_, seen.back().seq).empty());
}

TEST_F(PgNodesTest, NotifyWakesAWaitingFollower) {
  // The first wait connects and LISTENs.
  ASSERT_TRUE(b_->WaitForChanges(10).ok());
  ASSERT_TRUE(a_->CreateCollection(Coll("c")).ok());
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(b_->WaitForChanges(5000).ok());
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(waited, std::chrono::seconds(4)) << "woken by NOTIFY, not by the timeout";
}

TEST_F(PgNodesTest, ConcurrentAuditAppendsFromTwoNodesFormOneChain) {
  auto hash = [](const AuditRecord& r) {
    return "h" + std::to_string(r.seq) + ":" + r.prev_hash.substr(0, 8) + r.request_id;
  };
  ASSERT_TRUE(a_->CreateCollection(Coll("c")).ok());
  constexpr int kEach = 40;
  std::atomic<int> failures{0};
  auto append = [&](Store* s, const std::string& who) {
    for (int i = 0; i < kEach; ++i) {
      AuditRecord r;
      r.kind = "request";
      r.request_id = who + std::to_string(i);
      r.principal = who;
      if (i % 4 == 0) {  // some with an enrolment in the same transaction
        std::vector<Face> f = {MakeFace(who + "-face-" + std::to_string(i))};
        AuditAppend app{&r, hash};
        if (!s->InsertFaces("c", f, &app).ok()) ++failures;
      } else if (!s->AppendAudit(r, hash).ok()) {
        ++failures;
      }
    }
  };
  std::thread ta(append, a_.get(), "a"), tb(append, b_.get(), "b");
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<AuditRecord> all;
  ASSERT_TRUE(a_->ScanAudit(0, [&](const AuditRecord& r) {
                  all.push_back(r);
                  return true;
                }).ok());
  ASSERT_EQ(all.size(), size_t(2 * kEach));
  std::set<std::string> ids;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].seq, int64_t(i + 1)) << "no gap, no duplicate";
    EXPECT_EQ(all[i].prev_hash, i ? all[i - 1].hash : "") << "one chain at seq " << all[i].seq;
    EXPECT_EQ(all[i].hash, hash(all[i]));
    ids.insert(all[i].request_id);
  }
  EXPECT_EQ(ids.size(), all.size());
  EXPECT_EQ(b_->AuditHighWater().value(), int64_t(2 * kEach));
}

// A queued face detection job of alice's.
JobRecord QueuedJob(const std::string& id) {
  JobRecord j;
  j.id = id;
  j.api = "StartFaceDetection";
  j.owner = "alice";
  j.request = "{}";
  return j;
}

TEST_F(PgNodesTest, AQueuedJobIsClaimedByExactlyOneNode) {
  ASSERT_TRUE(a_->InsertJob(QueuedJob("j1")).ok());
  std::atomic<int> won{0};
  auto claim = [&](Store* s) {
    auto r = s->ClaimJob("j1", 5, {s->NodeId(), 60000});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (r.value()) ++won;
  };
  std::thread ta(claim, a_.get()), tb(claim, b_.get());
  ta.join();
  tb.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(b_->GetJob("j1")->attempts, 1);
}

TEST_F(PgNodesTest, ARunningJobIsTakenOverOnlyWhenItsLeaseRunsOut) {
  ASSERT_TRUE(a_->InsertJob(QueuedJob("j1")).ok());
  EXPECT_EQ(b_->ClaimableJobs(10).value(), std::vector<std::string>{"j1"});
  const JobLease la{a_->NodeId(), 400}, lb{b_->NodeId(), 60000};
  ASSERT_TRUE(a_->ClaimJob("j1", 5, la).value().has_value());
  // Node a holds it: not claimable, b cannot take it, a's renewals hold.
  EXPECT_TRUE(b_->ClaimableJobs(10).value().empty());
  EXPECT_FALSE(b_->ClaimJob("j1", 6, lb).value().has_value());
  EXPECT_TRUE(a_->RenewJobLease("j1", la).value());
  EXPECT_FALSE(b_->RenewJobLease("j1", lb).value()) << "b holds no lease on j1";
  // Node a stops renewing (it died): once the lease runs out, b takes over,
  // and a learns at its next renewal that the job is no longer its own.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(b_->ClaimableJobs(10).value(), std::vector<std::string>{"j1"});
  auto taken = b_->ClaimJob("j1", 7, lb);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  ASSERT_TRUE(taken.value().has_value());
  EXPECT_EQ(taken.value()->attempts, 2);
  EXPECT_FALSE(a_->RenewJobLease("j1", la).value());
  EXPECT_TRUE(b_->RenewJobLease("j1", lb).value());
  EXPECT_TRUE(a_->ClaimableJobs(10).value().empty());
  // Finished: nobody holds or claims it.
  JobRecord done = taken.value().value();
  done.state = "SUCCEEDED";
  done.completed_ms = 8;
  ASSERT_TRUE(b_->FinishJob(done, {}).value());
  EXPECT_FALSE(b_->RenewJobLease("j1", lb).value());
  EXPECT_FALSE(a_->ClaimJob("j1", 9, la).value().has_value());
}

TEST_F(PgNodesTest, ARateLimitHoldsAcrossTheNodes) {
  // 1 request/s with a burst of 4: four tokens in all, whichever node asks.
  int allowed = 0;
  for (int i = 0; i < 8; ++i) {
    auto r = (i % 2 ? a_ : b_)->TakeRateToken("lab", 1, 4);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    allowed += r.value();
  }
  EXPECT_EQ(allowed, 4);
  EXPECT_TRUE(a_->TakeRateToken("other", 1, 4).value()) << "buckets are per principal";
  // Refilled at the rate, by the database's clock.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_TRUE(b_->TakeRateToken("lab", 1, 4).value());
  EXPECT_FALSE(a_->TakeRateToken("lab", 1, 4).value());
}

TEST_F(PgNodesTest, AKeyCreatedThroughOneNodeWorksOnTheOtherUntilRevoked) {
  // Both nodes' data dirs hold the same argus.key (copied, as docs/SCALING.md says).
  auto dir = std::filesystem::temp_directory_path() / ("argus-pg-keys-" + DbName());
  std::filesystem::remove_all(dir);
  auto ka = auth::KeyStore::Open(*a_, (dir / "a").string());
  ASSERT_TRUE(ka.ok()) << ka.status().ToString();
  std::filesystem::create_directories(dir / "b");
  std::filesystem::copy_file(dir / "a" / "argus.key", dir / "b" / "argus.key");
  auto kb = auth::KeyStore::Open(*b_, (dir / "b").string());
  ASSERT_TRUE(kb.ok()) << kb.status().ToString();
  auth::NewKey nk;
  nk.name = "lab";
  nk.org_type = auth::OrgType::kResearch;
  nk.purpose = "research";
  auto issued = ka.value()->Create(nk);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  auto seen = kb.value()->Lookup(issued->key.access_key_id);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->secret, issued->secret_access_key);
  EXPECT_EQ(seen->principal.org_type, auth::OrgType::kResearch);
  // A node with another argus.key refuses the key rather than failing.
  std::filesystem::create_directories(dir / "c");
  auto kc = auth::KeyStore::Open(*b_, (dir / "c").string());
  ASSERT_TRUE(kc.ok()) << kc.status().ToString();
  EXPECT_FALSE(kc.value()->Lookup(issued->key.access_key_id).has_value());
  // Revoked through b: a refuses it at its next lookup.
  ASSERT_TRUE(kb.value()->Revoke(issued->key.access_key_id).ok());
  EXPECT_FALSE(ka.value()->Lookup(issued->key.access_key_id).has_value());
  std::filesystem::remove_all(dir);
}

TEST_F(PgNodesTest, ALostDatabaseAnswersServiceUnavailableWritesNothingAndRecovers) {
  ASSERT_TRUE(a_->CreateCollection(Coll("c")).ok());
  // Every connection of the nodes killed: the next call reconnects by itself.
  ASSERT_NO_FATAL_FAILURE(engine_.Sql(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
      "AND pid != pg_backend_pid()"));
  EXPECT_TRUE(a_->GetCollection("c").ok());
  std::vector<Face> one = {MakeFace("f1")};
  EXPECT_TRUE(b_->InsertFaces("c", one).ok());

  // The database gone (renamed away, its connections closed): refused, not
  // accepted anywhere else.
  std::string db = DbName();
  engine_.AdminSql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db +
                   "'");
  engine_.AdminSql("ALTER DATABASE " + db + " RENAME TO " + db + "_away");
  std::vector<Face> two = {MakeFace("f2")};
  Status st = a_->InsertFaces("c", two);
  EXPECT_EQ(st.code(), Code::kServiceUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("database is unreachable"), std::string::npos) << st.message();
  EXPECT_EQ(b_->GetCollection("c").status().code(), Code::kServiceUnavailable);
  EXPECT_EQ(a_->AppendAudit(*std::make_unique<AuditRecord>(),
                            [](const AuditRecord&) { return std::string("h"); })
                .code(),
            Code::kServiceUnavailable);

  // Back: both nodes carry on without a restart; the refused write is absent.
  engine_.AdminSql("ALTER DATABASE " + db + "_away RENAME TO " + db);
  auto got = a_->GetCollection("c");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->face_count, 1);
  FaceFilter all;
  auto faces = b_->ListFaces("c", all);
  ASSERT_TRUE(faces.ok());
  ASSERT_EQ(faces->size(), 1u);
  EXPECT_EQ((*faces)[0].face_id, "f1");
  EXPECT_TRUE(a_->InsertFaces("c", two).ok());
}

TEST(PgOpenTest, AnUnreachableDatabaseIsServiceUnavailable) {
  auto s = Store::OpenPostgres("postgresql://argus@127.0.0.1:1/none?connect_timeout=2", 2);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kServiceUnavailable);
  EXPECT_NE(s.status().message().find("database is unreachable"), std::string::npos);
}

}  // namespace
}  // namespace argus::store
