// The policy engine (presets rule by rule, both ways; file validation with
// locations; operation classes) and the audit log's hash chain against a real
// SQLite store, tampered with through SQL.
#include "policy/policy.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "api/rekognition/operations.h"
#include "api/rekognition/router.h"
#include "api/rekognition/validate.h"
#include "policy/audit.h"
#include "store/store.h"
#include "temp_store.h"

namespace argus::policy {
namespace {

using auth::OrgType;

const int64_t kNow = *ParseTime("2026-01-15");

Facts F(OrgType org, std::string purpose, std::string op,
        nlohmann::json request = nlohmann::json::object()) {
  Facts f;
  f.org_type = org;
  f.purpose = std::move(purpose);
  f.operation = std::move(op);
  const api::OpSpec* spec = api::FindOperation(f.operation);
  EXPECT_NE(spec, nullptr) << f.operation;
  f.op_class = spec ? api::ClassOf(*spec, request) : OpClass::kAdmin;
  if (spec) f.attributes = api::RequestedAttributes(*spec, request);
  f.now_ms = kNow;
  return f;
}

PolicySet Load(std::vector<std::string> specs, std::map<std::string, std::string> params = {}) {
  auto s = PolicySet::Load(specs, params);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s.value());
}

TEST(Presets, AllParseAndShip) {
  for (const char* name : {"moratorium-2020", "eu-ai-act-art5", "open"}) {
    ASSERT_TRUE(Presets().count(name)) << name;
    auto p = ParsePolicy(Presets().at(name), name);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
  }
  EXPECT_TRUE(Load({"open"}).policies()[0].rules.empty());
}

TEST(Moratorium, LawEnforcementMayNotIdentifyOrEnrol) {
  PolicySet s = Load({"moratorium-2020"});
  for (const char* op : {"SearchFacesByImage", "SearchFaces", "SearchUsers", "SearchUsersByImage",
                         "IndexFaces", "AssociateFaces", "CreateStreamProcessor"}) {
    Decision d = s.Decide(F(OrgType::kLawEnforcement, "investigation", op));
    EXPECT_FALSE(d.allowed) << op;
    EXPECT_EQ(d.deciding.Name(), "moratorium-2020/law-enforcement-no-identification") << op;
    EXPECT_NE(d.message.find("preset:moratorium-2020"), std::string::npos) << d.message;
  }
  // The other way: other classes stay open to law enforcement, and the rule
  // starts on 2020-06-10.
  for (const char* op :
       {"DetectFaces", "DetectLabels", "DetectText", "CompareFaces", "ListFaces"}) {
    EXPECT_TRUE(s.Decide(F(OrgType::kLawEnforcement, "investigation", op)).allowed) << op;
  }
  Facts before = F(OrgType::kLawEnforcement, "investigation", "SearchFacesByImage");
  before.now_ms = *ParseTime("2020-06-09T23:59:59Z");
  EXPECT_TRUE(s.Decide(before).allowed);
  before.now_ms = *ParseTime("2020-06-10");
  EXPECT_FALSE(s.Decide(before).allowed);
}

TEST(Moratorium, ChildSafetyOnlyForMissingPersonsAndTrafficking) {
  PolicySet s = Load({"moratorium-2020"});
  for (const char* purpose : {"missing_persons", "trafficking_victims"}) {
    Decision d = s.Decide(F(OrgType::kChildSafety, purpose, "SearchFacesByImage"));
    EXPECT_TRUE(d.allowed) << purpose;
    ASSERT_TRUE(d.constraints.threshold_floor.has_value());
    EXPECT_EQ(*d.constraints.threshold_floor, 99);
    EXPECT_EQ(d.Rules(), "moratorium-2020/public-safety-threshold-99");
    EXPECT_TRUE(s.Decide(F(OrgType::kChildSafety, purpose, "IndexFaces")).allowed);
  }
  for (const char* purpose : {"investigation", "photo_organization", "research"}) {
    Decision d = s.Decide(F(OrgType::kChildSafety, purpose, "SearchFacesByImage"));
    EXPECT_FALSE(d.allowed) << purpose;
    EXPECT_EQ(d.deciding.Name(), "moratorium-2020/child-safety-named-purposes-only");
  }
}

TEST(Moratorium, PublicSafetySearchesHaveAThresholdFloor) {
  PolicySet s = Load({"moratorium-2020"});
  Decision d = s.Decide(F(OrgType::kGovernment, "investigation", "SearchUsers"));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.constraints.threshold_floor.value_or(0), 99);
  // Not a public-safety purpose, or not a 1:N search: no floor.
  EXPECT_FALSE(s.Decide(F(OrgType::kCommercial, "photo_organization", "SearchFacesByImage"))
                   .constraints.threshold_floor);
  EXPECT_FALSE(s.Decide(F(OrgType::kGovernment, "investigation", "CompareFaces"))
                   .constraints.threshold_floor);
}

TEST(EuAiAct, NoEmotionRecognitionAtWorkOrSchool) {
  PolicySet s = Load({"eu-ai-act-art5"});
  nlohmann::json emotions = {{"Attributes", {"EMOTIONS"}}}, all = {{"Attributes", {"ALL"}}},
                 def = {{"Attributes", {"DEFAULT"}}}, age = {{"Attributes", {"AGE_RANGE"}}};
  for (const char* purpose : {"workplace", "education"}) {
    for (const auto& req : {emotions, all}) {
      Decision d = s.Decide(F(OrgType::kCommercial, purpose, "DetectFaces", req));
      EXPECT_FALSE(d.allowed) << purpose << req;
      EXPECT_EQ(d.deciding.Name(), "eu-ai-act-art5/no-emotion-recognition-work-education");
    }
    EXPECT_TRUE(s.Decide(F(OrgType::kCommercial, purpose, "DetectFaces", def)).allowed);
    EXPECT_TRUE(s.Decide(F(OrgType::kCommercial, purpose, "DetectFaces", age)).allowed);
  }
  EXPECT_TRUE(s.Decide(F(OrgType::kCommercial, "photo_organization", "DetectFaces", all)).allowed);
  // IndexFaces asking for emotions is caught too.
  EXPECT_FALSE(s.Decide(F(OrgType::kCommercial, "workplace", "IndexFaces",
                          {{"DetectionAttributes", {"ALL"}}}))
                   .allowed);
}

TEST(EuAiAct, RealtimeIdentificationByPoliceOnlyForListedObjectivesWithAuthorisation) {
  PolicySet s = Load({"eu-ai-act-art5"});
  Decision d = s.Decide(F(OrgType::kLawEnforcement, "investigation", "StartStreamProcessor"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.deciding.Name(), "eu-ai-act-art5/no-realtime-identification-law-enforcement");
  Facts f = F(OrgType::kLawEnforcement, "missing_persons", "CreateStreamProcessor");
  d = s.Decide(f);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.deciding.Name(), "eu-ai-act-art5/realtime-exceptions-need-authorisation");
  EXPECT_NE(d.message.find("authorisation"), std::string::npos);
  f.has_authorisation = true;
  d = s.Decide(f);
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.constraints.human_review);
  // Other organisations and 1:N searches by law enforcement are not this rule's business.
  EXPECT_TRUE(s.Decide(F(OrgType::kResearch, "research", "CreateStreamProcessor")).allowed);
  EXPECT_TRUE(s.Decide(F(OrgType::kLawEnforcement, "investigation", "SearchFaces")).allowed);
  // Before 2025-02-02 the Act's prohibitions did not apply.
  Facts early = F(OrgType::kLawEnforcement, "investigation", "StartStreamProcessor");
  early.now_ms = *ParseTime("2025-02-01");
  EXPECT_TRUE(s.Decide(early).allowed);
}

TEST(EuAiAct, EnrollmentCapIsAParameter) {
  // Decisions point into their PolicySet, which must outlive them.
  PolicySet eu = Load({"eu-ai-act-art5"});
  Decision d = eu.Decide(F(OrgType::kCommercial, "photo_organization", "IndexFaces"));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.constraints.daily_limit.value_or(0), 1000);
  EXPECT_EQ(d.limit_rule.Name(), "eu-ai-act-art5/no-untargeted-enrollment");
  std::map<std::string, std::string> cap;
  cap["enrollment_daily_cap"] = "5";
  PolicySet capped = Load({"eu-ai-act-art5"}, cap);
  d = capped.Decide(F(OrgType::kCommercial, "photo_organization", "IndexFaces"));
  EXPECT_EQ(d.constraints.daily_limit.value_or(0), 5);
  EXPECT_FALSE(Load({"eu-ai-act-art5"})
                   .Decide(F(OrgType::kCommercial, "photo_organization", "SearchFaces"))
                   .constraints.daily_limit);
  std::vector<std::string> moratorium = {"moratorium-2020"};
  EXPECT_FALSE(PolicySet::Load(moratorium, cap).ok());
}

TEST(Presets, CombineDenyOverridesAndConstraintsMerge) {
  PolicySet s = Load({"open", "moratorium-2020", "eu-ai-act-art5"});
  EXPECT_FALSE(
      s.Decide(F(OrgType::kLawEnforcement, "missing_persons", "StartStreamProcessor")).allowed);
  Decision d = s.Decide(F(OrgType::kChildSafety, "missing_persons", "IndexFaces"));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.constraints.daily_limit.value_or(0), 1000);
  EXPECT_TRUE(s.Decide(F(OrgType::kIndividual, "testing", "DetectLabels")).allowed);
}

std::string Error(const std::string& text) {
  auto p = ParsePolicy(text, "my.json");
  return p.ok() ? "" : p.status().message();
}

TEST(PolicyFile, ErrorsNameTheFileAndThePlace) {
  EXPECT_EQ(Error("{\"name\": \"x\",\n  \"rules\": [,]}"),
            "my.json:2:13: JSON syntax error: syntax error while parsing value - unexpected ','; "
            "expected '[', '{', or a literal");
  EXPECT_NE(
      Error(
          R"({"name":"x","rules":[{"id":"a","effect":"deny","when":{"purposes":["missing_person"]}}]})")
          .find("my.json: rules[0].when.purposes[0]: unknown purpose 'missing_person'"),
      std::string::npos);
  EXPECT_NE(
      Error(R"({"name":"x","rules":[{"id":"a","effect":"deny","when":{"org_types":["police"]}}]})")
          .find("rules[0].when.org_types[0]: unknown organisation type 'police'"),
      std::string::npos);
  EXPECT_NE(Error(R"({"name":"x","rules":[{"id":"a","effect":"allow"}]})").find("rules[0].effect"),
            std::string::npos);
  EXPECT_NE(Error(R"({"name":"x","rules":[{"id":"a","effect":"deny","when":{"purpose":["x"]}}]})")
                .find("rules[0].when: unknown member 'purpose'"),
            std::string::npos);
  EXPECT_NE(Error(R"({"name":"x","rules":[{"id":"a","effect":"deny"},{"id":"a","effect":"deny"}]})")
                .find("rules[1].id: duplicate rule id 'a'"),
            std::string::npos);
  EXPECT_NE(
      Error(
          R"({"name":"x","rules":[{"id":"a","effect":"deny","constraints":{"threshold_floor":99}}]})")
          .find("a deny rule has no constraints"),
      std::string::npos);
  EXPECT_NE(
      Error(
          R"({"name":"x","rules":[{"id":"a","effect":"constrain","constraints":{"threshold_floor":101}}]})")
          .find("rules[0].constraints.threshold_floor: must be a number from 0 to 100"),
      std::string::npos);
  EXPECT_NE(
      Error(
          R"({"name":"x","rules":[{"id":"a","effect":"constrain","constraints":{"daily_limit":"${cap}"}}]})")
          .find("unknown parameter 'cap'"),
      std::string::npos);
  EXPECT_NE(
      Error(R"({"name":"x","rules":[{"id":"a","effect":"deny","when":{"from":"2021-02-30"}}]})")
          .find("rules[0].when.from: not a date"),
      std::string::npos);
  EXPECT_NE(
      Error(
          R"({"name":"x","rules":[{"id":"a","effect":"deny","when":{"from":"2021-02-01","until":"2020-01-01"}}]})")
          .find("rules[0].when.until: must be after"),
      std::string::npos);
  EXPECT_EQ(
      Error(
          R"({"name":"x","rules":[{"id":"a","effect":"deny","when":{"operations":["IndexFaces"]}}]})"),
      "");
}

TEST(OperationClasses, NamesParseBack) {
  for (OpClass c : {OpClass::kFaceDetection, OpClass::kFaceIdentification, OpClass::kAdmin}) {
    EXPECT_EQ(ParseOpClass(OpClassName(c)), c);
  }
  EXPECT_EQ(ParseOpClass("face_search"), std::nullopt);
  EXPECT_TRUE(AuditedClass(OpClass::kFaceVerification));
  EXPECT_FALSE(AuditedClass(OpClass::kFaceDetection));
}

TEST(Purposes, RequestsMayOnlyNarrow) {
  EXPECT_TRUE(auth::Narrows("investigation", "missing_persons"));
  EXPECT_TRUE(auth::Narrows("public_safety_realtime", "imminent_threat"));
  EXPECT_TRUE(auth::Narrows("research", "research"));
  EXPECT_FALSE(auth::Narrows("research", "missing_persons"));
  EXPECT_FALSE(auth::Narrows("missing_persons", "investigation"));
  EXPECT_FALSE(auth::ValidPurpose("missing_person"));
}

// ---------------------------------------------------------------- audit log

class AuditChain : public argus::testing::TempStoreTest {
 protected:
  void SetUp() override {
    TempStoreTest::SetUp();
    log_ = std::make_unique<AuditLog>(store_.get());
    for (int i = 1; i <= 6; ++i) {
      store::AuditRecord r;
      r.kind = "request";
      r.request_id = "req-" + std::to_string(i);
      r.principal = "p";
      r.org_type = "research";
      r.operation = "SearchFaces";
      r.op_class = "face_identification_1toN";
      r.decision = i % 3 ? "allow" : "deny";
      r.threshold_asked = 80;
      r.threshold_applied = i % 2 ? 99.0 : 80.0;
      r.matches = i;
      r.top_similarity = 90.5 + i;
      r.outcome = "ok";
      ASSERT_TRUE(log_->Append(r).ok());
      EXPECT_EQ(r.seq, i);
    }
  }
  void TearDown() override {
    log_.reset();
    TempStoreTest::TearDown();
  }
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditChain, UntouchedLogVerifies) {
  VerifyResult v = log_->Verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.records, 6);
  EXPECT_EQ(v.head_seq, 6);
  EXPECT_TRUE(log_->Verify("6:" + v.head_hash).ok);
  EXPECT_TRUE(log_->Verify("3:" + std::string(64, '0')).first_bad == 3);
}

TEST_F(AuditChain, AlteredRecordIsNamed) {
  Sql("UPDATE audit_log SET top_similarity = 50 WHERE seq = 4");
  VerifyResult v = log_->Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad, 4);
  EXPECT_NE(v.problem.find("req-4"), std::string::npos) << v.problem;
}

TEST_F(AuditChain, DeletedRecordIsNamed) {
  Sql("DELETE FROM audit_log WHERE seq = 3");
  VerifyResult v = log_->Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad, 3);
  EXPECT_NE(v.problem.find("missing"), std::string::npos);
}

TEST_F(AuditChain, DeletedLastRecordIsNamed) {
  Sql("DELETE FROM audit_log WHERE seq = 6");
  VerifyResult v = log_->Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad, 6);
}

TEST_F(AuditChain, ReorderedRecordsAreNamed) {
  Sql("UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 5; "
      "UPDATE audit_log SET seq = 5 WHERE seq = 100;");
  VerifyResult v = log_->Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad, 2);
}

TEST_F(AuditChain, InsertedRecordIsNamed) {
  // A forged record chained to the real head but without the right hash.
  Sql("INSERT INTO audit_log SELECT 7, time_ms, kind, 'forged', principal, org_type, purpose, "
      "case_id, authorisation, operation, op_class, collection, decision, rule, threshold_asked, "
      "threshold_applied, max_results, human_review, matches, top_similarity, outcome, detail, "
      "hash, hash FROM audit_log WHERE seq = 6");
  VerifyResult v = log_->Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad, 7);
}

TEST_F(AuditChain, RewrittenRecordWithARecomputedHashBreaksTheChain) {
  std::string old;
  store::AuditRecord r4;
  ASSERT_TRUE(store_
                  ->ScanAudit(3,
                              [&](const store::AuditRecord& r) {
                                r4 = r;
                                return false;
                              })
                  .ok());
  r4.decision = "allow";
  r4.matches = 0;
  std::string forged = AuditHash(r4);
  Sql("UPDATE audit_log SET decision = 'allow', matches = 0, hash = '" + forged +
      "' WHERE seq = 4");
  VerifyResult v = log_->Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad, 4);
  EXPECT_NE(v.problem.find("rewritten"), std::string::npos) << v.problem;
}

TEST_F(AuditChain, CountsAndReport) {
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  auto n = log_->CountLastDay("p", "SearchFaces", now);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 4);  // allowed ones only
  EXPECT_EQ(log_->CountLastDay("p", "SearchFaces", now + 2 * 86400000LL).value(), 0);
  EXPECT_EQ(log_->CountLastDay("q", "SearchFaces", now).value(), 0);
  auto r = log_->Transparency(0, INT64_MAX / 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()["audited_requests"], 6);
  EXPECT_TRUE(r.value()["audit_chain"]["verified"].get<bool>());
  int64_t allowed = 0, denied = 0;
  for (const auto& row : r.value()["requests"]) {
    (row["decision"] == "allow" ? allowed : denied) += row["count"].get<int64_t>();
  }
  EXPECT_EQ(allowed, 4);
  EXPECT_EQ(denied, 2);
  std::string html = TransparencyHtml(r.value());
  EXPECT_NE(html.find("<table>"), std::string::npos);
  EXPECT_NE(html.find("face_identification_1toN"), std::string::npos);
}

TEST(Times, ParseAndFormat) {
  EXPECT_EQ(FormatTime(*ParseTime("2020-06-10")), "2020-06-10T00:00:00Z");
  EXPECT_EQ(FormatTime(*ParseTime("2024-02-29T12:30:00Z")), "2024-02-29T12:30:00Z");
  EXPECT_FALSE(ParseTime("2023-02-29"));
  EXPECT_FALSE(ParseTime("2020-6-1"));
  EXPECT_FALSE(ParseTime("yesterday"));
}

}  // namespace
}  // namespace argus::policy
