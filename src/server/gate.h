#pragma once
// The use-policy, tenancy and audit layer around each request's handler
// (api::Gate): decides by the principal, purpose and operation class,
// applies the policy's constraints (threshold floor, result cap), confines
// the principal to the collections it owns or that are shared with it, and
// appends the decision with its outcome to the audit log before the answer
// is sent. An audit write that fails turns the answer into
// InternalServerError: nothing audited goes unrecorded. It reads requests
// only through the operation table (api/rekognition/operations.h).
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "api/rekognition/router.h"
#include "auth/principal.h"
#include "policy/audit.h"
#include "policy/policy.h"

namespace argus::server {

struct RequestContext {
  std::string request_id;
  auth::Principal principal;
  std::string purpose;  // the principal's default, or X-Argus-Purpose when it narrows it
  std::string case_id;  // X-Argus-Case-Id, "" when absent
  int64_t now_ms = 0;
};

// Builds the context from the headers' values ("" when absent).
// InvalidParameter for an unknown purpose or a malformed case id;
// AccessDenied for a purpose the principal's default does not narrow to.
Result<RequestContext> MakeContext(const auth::Principal& principal, std::string request_id,
                                   const std::string& purpose_header,
                                   const std::string& case_id_header, int64_t now_ms);

class RequestGate : public api::Gate {
 public:
  RequestGate(const policy::PolicySet& policies, policy::AuditLog& audit, RequestContext ctx);

  Status Admit(api::RequestFacts& facts, const Status& invalid) override;
  bool MaySee(const std::string& id) override;
  Status Complete(const api::RequestFacts& facts, Result<api::json>& result) override;

  // After Complete: whether the answer must carry the human-review flag, and
  // the constraining rules ("policy/rule,...", "" for none).
  bool human_review() const { return record_.human_review; }
  const std::string& constraining_rules() const { return constraining_; }
  // Whether this request was written to the audit log.
  bool audited() const { return audited_; }

 private:
  const policy::PolicySet& policies_;
  policy::AuditLog& audit_;
  RequestContext ctx_;
  policy::Decision Decide(policy::OpClass c) const;
  // The caller's grant on `collection`: "owner", "full", "read" or "" (an
  // admin has "full" on every collection).
  Result<std::string> GrantOn(const std::string& collection);
  Status Tenancy(const api::RequestFacts& facts);
  // CompareFaces whose target holds several faces is identification.
  Status Montage(const api::RequestFacts& facts, Result<api::json>& result);

  store::AuditRecord record_;
  std::string operation_;
  std::set<std::string> attributes_;
  std::optional<std::map<std::string, std::string>> grants_;  // collection → access
  std::optional<policy::Decision> identification_;            // CompareFaces: the 1:N decision
  std::string constraining_;
  bool must_audit_ = false;  // this request must be audited
  bool audited_ = false;     // and was
};

}  // namespace argus::server
