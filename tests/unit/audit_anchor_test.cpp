// The audit log's anchored head (policy/audit_anchor.h) against a real store.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "policy/audit.h"
#include "temp_store.h"

namespace argus::policy {
namespace {

class AuditAnchorTest : public argus::testing::TempStoreTest {
 protected:
  void SetUp() override {
    TempStoreTest::SetUp();
    log_ = Open(true);
    for (int i = 1; i <= 5; ++i) {
      store::AuditRecord r;
      r.kind = "request";
      r.request_id = "req-" + std::to_string(i);
      r.operation = "SearchFaces";
      r.decision = "allow";
      r.outcome = "ok";
      ASSERT_TRUE(log_->Append(r).ok());
    }
  }
  void TearDown() override {
    log_.reset();
    TempStoreTest::TearDown();
  }
  std::unique_ptr<AuditLog> Open(bool writer) {
    auto a = AuditAnchor::Open(dir_.string(), /*create_key=*/writer);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return std::make_unique<AuditLog>(store_.get(), std::move(a.value()), writer);
  }
  VerifyResult Verify() { return Open(false)->Verify(); }
  std::vector<std::string> AnchorLines() {
    std::ifstream f(dir_ / kAuditAnchorFile);
    std::vector<std::string> lines;
    for (std::string l; std::getline(f, l);) lines.push_back(l);
    return lines;
  }
  void WriteAnchor(const std::vector<std::string>& lines, const std::string& tail = "") {
    std::ofstream f(dir_ / kAuditAnchorFile, std::ios::trunc);
    for (const auto& l : lines) f << l << "\n";
    f << tail;
  }
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditAnchorTest, EveryCommittedRecordIsAnchored) {
  EXPECT_EQ(AnchorLines().size(), 5u);
  VerifyResult v = Verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.head_seq, 5);
  EXPECT_TRUE(v.note.empty()) << v.note;
}

TEST_F(AuditAnchorTest, CutBackLogWithLoweredSequenceFails) {
  log_.reset();
  Sql("DELETE FROM audit_log WHERE seq > 3; UPDATE sqlite_sequence SET seq = 3 WHERE name = "
      "'audit_log';");
  VerifyResult v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad, 4);
  EXPECT_NE(v.problem.find("cut back"), std::string::npos) << v.problem;
}

TEST_F(AuditAnchorTest, MissingAnchorWithRecordsFails) {
  log_.reset();
  std::filesystem::remove(dir_ / kAuditAnchorFile);
  VerifyResult v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.problem.find("missing"), std::string::npos) << v.problem;
}

TEST_F(AuditAnchorTest, ForgedAnchorLineFails) {
  log_.reset();
  auto lines = AnchorLines();
  lines.back()[lines.back().size() - 1] ^= 1;
  WriteAnchor(lines);
  VerifyResult v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.problem.find("not an authentic anchor"), std::string::npos) << v.problem;
}

TEST_F(AuditAnchorTest, OneUnanchoredRecordAndATornLineVerifyTwoDoNot) {
  log_.reset();
  auto lines = AnchorLines();
  std::string last = lines.back();
  lines.pop_back();
  WriteAnchor(lines, last.substr(0, 10));
  VerifyResult v = Verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_NE(v.note.find("not anchored yet"), std::string::npos) << v.note;
  // A writer opened on it drops the torn bytes and completes the anchor.
  {
    auto w = Open(true);
    ASSERT_TRUE(w->AdoptHead().ok());
  }
  v = Verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_TRUE(v.note.empty()) << v.note;
  EXPECT_EQ(AnchorLines().size(), 5u);
  // Two records past the anchor are not a crash's lag.
  lines.pop_back();
  WriteAnchor(lines);
  v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad, 5);
}

TEST_F(AuditAnchorTest, AdoptHeadAnchorsALogKeptBeforeAnchoring) {
  log_.reset();
  std::filesystem::remove(dir_ / kAuditAnchorFile);
  auto w = Open(true);
  ASSERT_TRUE(w->AdoptHead().ok());
  VerifyResult v = w->Verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_NE(v.note.find("anchored from record 5"), std::string::npos) << v.note;
}

}  // namespace
}  // namespace argus::policy
