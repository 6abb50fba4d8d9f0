#pragma once
// The ArgusAdmin operations (X-Amz-Target "ArgusAdmin.<Op>"): the governance
// views that `argus policy`, `argus audit`, `argus report transparency` and
// `argus eval demographics` give on the command line, over the same SigV4
// API, for administrator keys only (docs/API.md#admin-operations).
#include <string>
#include <string_view>
#include <vector>

#include "api/rekognition/operations.h"

namespace argus::api {

// The admin operation table (sorted by name), in OpSpec's shape so that the
// router, the gate and the metrics treat these rows like the model's.
const std::vector<OpSpec>& AdminOperations();
// The row of `name` ("GetPolicies"), or null.
const OpSpec* FindAdminOperation(std::string_view name);

// What `argus policy test` and TestPolicy ask: an operation name or a class,
// and the facts of the caller.
struct PolicyQuestion {
  std::string org_type;  // "law_enforcement", ...
  std::string purpose;
  std::string operation;  // "SearchFacesByImage" or a class ("face_identification_1toN")
  std::vector<std::string> attributes;
  bool has_case_id = false;
  bool has_authorisation = false;
  int64_t at_ms = 0;
};
// The decision as JSON: decision, operation_class, at, trace and, for a
// denial, rule and message, for an allow, constraints and rules.
// InvalidParameter naming the bad field when the question is malformed.
Result<json> AnswerPolicyQuestion(const policy::PolicySet& set, const PolicyQuestion& q);

}  // namespace argus::api
