#include "server/gate.h"

#include <algorithm>

#include "api/rekognition/errors.h"
#include "core/log.h"
#include "service/collections.h"

namespace argus::server {
namespace {

using api::json;

// Where an operation keeps its similarity threshold and result cap.
struct Knobs {
  const char* threshold = nullptr;
  double default_threshold = 80;
  const char* max_results = nullptr;
};

Knobs KnobsOf(std::string_view op) {
  if (op == "SearchFaces" || op == "SearchFacesByImage") return {"FaceMatchThreshold", 80, "MaxFaces"};
  if (op == "SearchUsers" || op == "SearchUsersByImage") return {"UserMatchThreshold", 80, "MaxUsers"};
  if (op == "CompareFaces") return {"SimilarityThreshold", 80, nullptr};
  if (op == "AssociateFaces") return {"UserMatchThreshold", 75, nullptr};
  if (op == "StartFaceSearch") return {"FaceMatchThreshold", 80, nullptr};
  return {};
}

// Erasures are audited whatever the class: they are the proof that data went.
bool Erasure(std::string_view op) {
  return op == "DeleteFaces" || op == "DeleteCollection" || op == "DeleteUser";
}

bool ValidCaseId(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '#';
  });
}

// Number of results and best similarity of a successful answer.
void ReadResults(std::string_view op, const json& r, store::AuditRecord& rec) {
  const char* list = nullptr;
  if (op == "IndexFaces") list = "FaceRecords";
  else if (op == "AssociateFaces") list = "AssociatedFaces";
  else if (op == "DeleteFaces") list = "DeletedFaces";
  else if (r.contains("UserMatches")) list = "UserMatches";
  else if (r.contains("FaceMatches")) list = "FaceMatches";
  if (!list) return;
  auto it = r.find(list);
  if (it == r.end() || !it->is_array()) return;
  rec.matches = int64_t(it->size());
  for (const auto& m : *it) {
    if (!m.is_object() || !m.contains("Similarity") || !m["Similarity"].is_number()) continue;
    double s = m["Similarity"].get<double>();
    if (!rec.top_similarity || s > *rec.top_similarity) rec.top_similarity = s;
  }
}

}  // namespace

Result<RequestContext> MakeContext(const auth::Principal& principal, std::string request_id,
                                   const std::string& purpose_header,
                                   const std::string& case_id_header, int64_t now_ms) {
  RequestContext c;
  c.request_id = std::move(request_id);
  c.principal = principal;
  c.now_ms = now_ms;
  c.purpose = principal.default_purpose;
  if (!purpose_header.empty()) {
    if (!auth::ValidPurpose(purpose_header)) {
      return InvalidParameter("X-Argus-Purpose: unknown purpose '" + purpose_header +
                              "' (one of " + auth::PurposeNames() + ")");
    }
    if (!auth::Narrows(principal.default_purpose, purpose_header)) {
      return Status(Code::kAccessDenied,
                    "X-Argus-Purpose: principal '" + principal.name + "' has the purpose '" +
                        principal.default_purpose + "', which does not extend to '" +
                        purpose_header +
                        "' (a request may only narrow its principal's purpose, e.g. "
                        "investigation to missing_persons)");
    }
    c.purpose = purpose_header;
  }
  if (!case_id_header.empty()) {
    if (!ValidCaseId(case_id_header)) {
      return InvalidParameter(
          "X-Argus-Case-Id must be 1-128 characters of letters, digits and -_.:/#");
    }
    c.case_id = case_id_header;
  }
  return c;
}

RequestGate::RequestGate(const policy::PolicySet& policies, policy::AuditLog& audit,
                         RequestContext ctx)
    : policies_(policies), audit_(audit), ctx_(std::move(ctx)) {}

Status RequestGate::Admit(std::string_view operation, json& request) {
  policy::Facts f;
  f.org_type = ctx_.principal.org_type;
  f.purpose = ctx_.purpose;
  f.operation = std::string(operation);
  f.op_class = policy::ClassOf(operation, request);
  f.attributes = policy::RequestedAttributes(request);
  f.has_case_id = !ctx_.case_id.empty();
  f.has_authorisation = !ctx_.principal.authorisation.empty();
  f.now_ms = ctx_.now_ms;
  policy::Decision d = policies_.Decide(f);

  store::AuditRecord& r = record_;
  r.kind = "request";
  r.time_ms = ctx_.now_ms;
  r.request_id = ctx_.request_id;
  r.principal = ctx_.principal.name;
  r.org_type = auth::OrgTypeName(ctx_.principal.org_type);
  r.purpose = ctx_.purpose;
  r.case_id = ctx_.case_id;
  r.authorisation = ctx_.principal.authorisation;
  r.operation = std::string(operation);
  r.op_class = policy::OpClassName(f.op_class);
  if (auto c = request.find("CollectionId"); c != request.end() && c->is_string()) {
    r.collection = c->get<std::string>();
  }
  Knobs k = KnobsOf(operation);
  if (k.threshold) {
    auto t = request.find(k.threshold);
    r.threshold_asked = t != request.end() && t->is_number() ? t->get<double>() : k.default_threshold;
    r.threshold_applied = r.threshold_asked;
  }
  must_audit_ = policy::AuditedClass(f.op_class) || Erasure(operation) || !d.allowed;

  if (d.allowed && d.constraints.daily_limit) {
    auto n = audit_.CountLastDay(ctx_.principal.name, r.operation, ctx_.now_ms);
    if (!n.ok()) {
      must_audit_ = false;  // the log cannot be read, so it cannot be written either
      return Internal("The audit log is unavailable, so the request is refused: " +
                      n.status().message());
    }
    if (n.value() >= *d.constraints.daily_limit) {
      d.allowed = false;
      d.deciding = d.limit_rule;
      d.message = "Denied by rule '" + d.limit_rule.rule->id + "' of policy '" +
                  d.limit_rule.policy->name + "' (" + d.limit_rule.policy->source + "): " +
                  std::to_string(*d.constraints.daily_limit) + " " + r.operation +
                  " calls per principal in 24 hours; '" + ctx_.principal.name + "' has made " +
                  std::to_string(n.value());
      must_audit_ = true;
    }
  }
  r.decision = d.allowed ? "allow" : "deny";
  r.rule = d.Rules();
  if (!d.allowed) {
    r.threshold_applied.reset();
    return Status(Code::kAccessDenied, d.message);
  }
  const policy::Constraints& c = d.constraints;
  if (c.threshold_floor && k.threshold && *c.threshold_floor > *r.threshold_asked) {
    request[k.threshold] = *c.threshold_floor;
    r.threshold_applied = *c.threshold_floor;
  }
  if (c.max_results && k.max_results) {
    auto m = request.find(k.max_results);
    if (m == request.end() || !m->is_number_integer() || m->get<int64_t>() > *c.max_results) {
      request[k.max_results] = *c.max_results;
    }
    r.max_results = *c.max_results;
  }
  r.human_review = c.human_review;
  constraining_ = r.rule;
  // An enrolment's record commits with its faces (or not at all).
  if (must_audit_ && operation == "IndexFaces") {
    service::BeginEnrolmentAudit(&record_, policy::AuditHash);
  }
  return Status::Ok();
}

Status RequestGate::Complete(std::string_view operation, const json& request,
                             const Result<json>& result) {
  if (service::EndEnrolmentAudit()) {
    audited_ = true;
    return Status::Ok();
  }
  if (!must_audit_) return Status::Ok();
  if (result.ok()) {
    record_.outcome = "ok";
    ReadResults(operation, result.value(), record_);
  } else {
    record_.outcome = api::MapError(result.status().code()).type;
  }
  Status st = audit_.Append(record_);
  if (!st.ok()) {
    log::Error("audit: request " + ctx_.request_id + " " + record_.operation +
               " could not be recorded, so it fails: " + st.message());
    return Internal("The request could not be recorded in the audit log, so it is refused (" +
                    st.message() + ")." +
                    (result.ok() && record_.op_class == "face_enrollment"
                         ? " The faces it indexed stay indexed; list them with ListFaces."
                         : ""));
  }
  audited_ = true;
  return Status::Ok();
}

}  // namespace argus::server
