#pragma once
// Use policies: rules over organisation type x operation class x purpose x
// time window that deny a request or constrain it (threshold floor, result
// cap, case id or authorisation required, human review flag, daily limit).
//
// A policy is a JSON document (docs/POLICY.md has the format); presets ship
// in policies/*.json and are compiled into the binary. A PolicySet holds the
// policies in force; Decide is pure (no clock, no I/O) and thread-safe.
//
// Combination: every rule of every policy is matched; any matching `deny`
// rule denies (the first one, in load order, is named); otherwise the request
// is allowed under the combined constraints of the matching `constrain`
// rules (highest floor, smallest cap, any requirement). A requirement not
// met (no case id, no authorisation reference) denies, naming its rule.
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "auth/principal.h"
#include "core/status.h"

namespace argus::policy {

enum class OpClass {
  kFaceDetection,
  kFaceAttributes,
  kFaceVerification,  // face_verification_1to1
  kFaceEnrollment,
  kFaceIdentification,  // face_identification_1toN
  kRealtimeIdentification,
  kLabels,
  kText,
  kModeration,
  kAdmin,
};

// "face_detection", "face_verification_1to1", "face_identification_1toN", ...
const char* OpClassName(OpClass c);
std::optional<OpClass> ParseOpClass(std::string_view s);
std::string OpClassNames();

// Which operation has which class, and which face attributes a request
// asks for, is read from the operation table (api/rekognition/operations.h).
// Decisions of these classes are always audited.
bool AuditedClass(OpClass c);

// What a decision is made on.
struct Facts {
  auth::OrgType org_type = auth::OrgType::kIndividual;
  std::string purpose;
  std::string operation;  // "SearchFacesByImage"
  OpClass op_class = OpClass::kAdmin;
  std::set<std::string> attributes;  // face attributes asked for, upper case ("ALL", ...)
  bool has_case_id = false;
  bool has_authorisation = false;
  int64_t now_ms = 0;
};

struct Constraints {
  std::optional<double>
      threshold_floor;  // FaceMatchThreshold / UserMatchThreshold / SimilarityThreshold
  std::optional<int64_t> max_results;  // MaxFaces / MaxUsers
  bool require_case_id = false;
  bool require_authorisation = false;
  bool human_review = false;
  std::optional<int64_t> daily_limit;  // allowed requests of this operation per principal per 24 h
};

struct Rule {
  std::string id;
  std::string effect;  // "deny" or "constrain"
  std::string description;
  // Match; an empty set matches everything.
  std::set<auth::OrgType> org_types;
  std::set<OpClass> op_classes;
  std::set<std::string> operations;
  std::set<std::string> purposes;
  std::set<std::string> except_purposes;
  std::set<std::string> attributes;          // matches when the request asks for one (or ALL)
  std::optional<int64_t> from_ms, until_ms;  // [from, until)
  Constraints constraints;
};

struct Policy {
  std::string name;
  std::string source;  // "preset:moratorium-2020" or a file path
  std::string description;
  std::vector<std::string> references;
  std::map<std::string, nlohmann::json> parameters;  // name → value in force
  std::vector<Rule> rules;
  std::string sha256;  // of the document's text
};

// A rule that took part in a decision, as "policy/rule".
struct RuleRef {
  const Policy* policy = nullptr;
  const Rule* rule = nullptr;
  std::string Name() const;
};

struct Decision {
  bool allowed = true;
  std::string message;           // for a denial: names the rule and its source
  RuleRef deciding;              // the denying rule
  Constraints constraints;       // when allowed
  std::vector<RuleRef> applied;  // constraining rules
  RuleRef limit_rule;            // the rule of constraints.daily_limit
  // One line per rule: matched or not, and why (argus policy test).
  std::vector<std::string> trace;
  std::string Rules() const;  // "policy/rule,..." of deciding/applied rules
};

// Parses and validates one policy document. Errors name the source and the
// place: "FILE:LINE:COLUMN: ..." for syntax, "FILE: rules[2].when.purposes[0]:
// unknown purpose 'x'" for content. `params` overrides parameter defaults
// (unknown names are refused by PolicySet::Load).
// `known_operation` says whether an operation name in `when.operations`
// exists (the composition root passes the Rekognition model's operations);
// empty accepts any name.
using OperationCheck = std::function<bool(const std::string&)>;
Result<Policy> ParsePolicy(const std::string& text, const std::string& source,
                           const std::map<std::string, std::string>& params = {},
                           const OperationCheck& known_operation = {});

// The presets compiled from policies/*.json: name → document.
const std::map<std::string, std::string>& Presets();

class PolicySet {
 public:
  // `specs`: preset names or JSON file paths, in order; `params`: NAME=VALUE
  // overrides of parameters declared by those policies.
  static Result<PolicySet> Load(const std::vector<std::string>& specs,
                                const std::map<std::string, std::string>& params = {},
                                const OperationCheck& known_operation = {});
  Decision Decide(const Facts& facts) const;
  const std::vector<Policy>& policies() const { return policies_; }
  // Every policy with its rules, parameters and sources (argus policy show).
  nlohmann::json Describe() const;

 private:
  std::vector<Policy> policies_;
};

// "2020-06-10" or "2020-06-10T12:00:00Z" → epoch ms (UTC).
std::optional<int64_t> ParseTime(std::string_view s);
std::string FormatTime(int64_t ms);  // "2020-06-10T00:00:00Z"

}  // namespace argus::policy
