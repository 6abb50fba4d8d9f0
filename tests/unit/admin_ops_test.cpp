// The ArgusAdmin operations through the router, without a server:
// administrator keys only, their table, the policy question shared with
// `argus policy test`, and audit paging over a real SQLite store.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "api/rekognition/admin.h"
#include "api/rekognition/router.h"
#include "policy/audit.h"
#include "temp_store.h"

namespace argus::api {
namespace {

json Body(const Response& r) { return json::parse(r.body); }

class AdminOps : public argus::testing::TempStoreTest {
 protected:
  void SetUp() override {
    TempStoreTest::SetUp();
    auto set = policy::PolicySet::Load({"moratorium-2020"});
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    policies_ = std::move(set.value());
    audit_ = std::make_unique<policy::AuditLog>(store_.get());
    for (int i = 0; i < 5; ++i) {
      store::AuditRecord r;
      r.kind = "request";
      r.principal = "p" + std::to_string(i);
      r.operation = "SearchFaces";
      r.decision = "allow";
      ASSERT_TRUE(audit_->Append(r).ok());
    }
    services_.policies = &policies_;
    services_.audit = audit_.get();
  }
  void TearDown() override {
    audit_.reset();
    TempStoreTest::TearDown();
  }
  Response Call(const std::string& op, const json& body) {
    return Handle("ArgusAdmin." + op, body.dump(), services_);
  }
  policy::PolicySet policies_;
  std::unique_ptr<policy::AuditLog> audit_;
  Services services_;
};

TEST(AdminTable, RowsAreAdminClassHandledAndApartFromTheModel) {
  std::set<std::string> names;
  for (const auto& op : AdminOperations()) {
    EXPECT_NE(op.handler, nullptr) << op.name;
    EXPECT_EQ(op.op_class, policy::OpClass::kAdmin) << op.name;
    EXPECT_EQ(FindOperation(op.name), nullptr) << op.name << " is also a Rekognition operation";
    EXPECT_EQ(FindAdminOperation(op.name), &op);
    names.insert(op.name);
  }
  EXPECT_EQ(names,
            (std::set<std::string>{"GetDemographicsReport", "GetPolicies", "GetTransparencyReport",
                                   "ListAuditRecords", "TestPolicy", "VerifyAudit"}));
  EXPECT_EQ(FindAdminOperation("DetectFaces"), nullptr);
}

TEST_F(AdminOps, NonAdminCallersAreRefusedBeforeTheHandler) {
  services_.admin = false;
  Response r = Call("GetPolicies", json::object());
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.error_type, "AccessDeniedException");
  // The model's operations are not reachable under the admin prefix.
  services_.admin = true;
  EXPECT_EQ(Call("DetectFaces", json::object()).error_type, "UnknownOperationException");
  EXPECT_EQ(Handle("RekognitionService.GetPolicies", "{}", services_).error_type,
            "UnknownOperationException");
}

TEST_F(AdminOps, WithoutGovernanceTheServiceIsUnavailable) {
  services_.policies = nullptr;
  services_.audit = nullptr;
  EXPECT_EQ(Call("GetPolicies", json::object()).error_type, "ServiceUnavailableException");
  EXPECT_EQ(Call("VerifyAudit", json::object()).error_type, "ServiceUnavailableException");
}

TEST_F(AdminOps, GetPoliciesDescribesTheSet) {
  Response r = Call("GetPolicies", json::object());
  ASSERT_EQ(r.http_status, 200) << r.body;
  EXPECT_EQ(Body(r)["Policies"], policies_.Describe());
}

TEST_F(AdminOps, TestPolicyAnswersLikeTheEngine) {
  Response r = Call("TestPolicy", {{"OrganizationType", "law_enforcement"},
                                   {"Purpose", "investigation"},
                                   {"Operation", "SearchFacesByImage"},
                                   {"At", "2026-01-15"}});
  ASSERT_EQ(r.http_status, 200) << r.body;
  json b = Body(r);
  EXPECT_EQ(b["decision"], "deny");
  EXPECT_EQ(b["rule"], "moratorium-2020/law-enforcement-no-identification");
  EXPECT_EQ(b["at"], "2026-01-15T00:00:00Z");
  // Before the moratorium the same question is allowed.
  b = Body(Call("TestPolicy", {{"OrganizationType", "law_enforcement"},
                               {"Purpose", "investigation"},
                               {"Operation", "SearchFacesByImage"},
                               {"At", "2020-06-09"}}));
  EXPECT_EQ(b["decision"], "allow");
  EXPECT_EQ(Call("TestPolicy", {{"OrganizationType", "law_enforcement"},
                                {"Purpose", "investigation"},
                                {"Operation", "SearchFacesByImage"},
                                {"Attributes", "ALL"}})
                .error_type,
            "InvalidParameterException");
}

TEST_F(AdminOps, AuditRecordsPageInOrder) {
  json b = Body(Call("ListAuditRecords", {{"MaxResults", 2}}));
  ASSERT_EQ(b["Records"].size(), 2u);
  EXPECT_EQ(b["Records"][0]["seq"], 1);
  EXPECT_EQ(b["NextToken"], "2");
  b = Body(Call("ListAuditRecords", {{"MaxResults", 2}, {"NextToken", "4"}}));
  ASSERT_EQ(b["Records"].size(), 1u);
  EXPECT_EQ(b["Records"][0]["seq"], 5);
  EXPECT_FALSE(b.contains("NextToken"));
  b = Body(Call("ListAuditRecords", {{"MaxResults", 2}, {"Newest", true}}));
  ASSERT_EQ(b["Records"].size(), 2u);
  EXPECT_EQ(b["Records"][0]["seq"], 4);
  b = Body(Call("VerifyAudit", json::object()));
  EXPECT_EQ(b["Verified"], true);
  EXPECT_EQ(b["HeadSequence"], 5);
  EXPECT_EQ(Call("ListAuditRecords", {{"MaxResults", 1001}}).error_type,
            "InvalidParameterException");
}

}  // namespace
}  // namespace argus::api
