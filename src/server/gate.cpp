#include "server/gate.h"

#include <algorithm>

#include "api/rekognition/errors.h"
#include "core/log.h"
#include "service/collections.h"

namespace argus::server {
namespace {

using api::json;

bool ValidCaseId(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':' || c == '/' || c == '#';
  });
}

// Number of results and best similarity of a successful answer.
void ReadResults(const api::OpSpec& op, const json& answer, store::AuditRecord& rec) {
  api::ResultFacts r = api::ReadResultFacts(op, answer);
  if (!r.count) return;
  rec.matches = *r.count;
  for (double s : r.similarities) {
    if (!rec.top_similarity || s > *rec.top_similarity) rec.top_similarity = s;
  }
}

Status NoSuchCollection(const std::string& id) {
  return Status(Code::kResourceNotFound, "The collection id: " + id + " does not exist");
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
      return InvalidParameter("X-Argus-Purpose: unknown purpose '" + purpose_header + "' (one of " +
                              auth::PurposeNames() + ")");
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

policy::Decision RequestGate::Decide(policy::OpClass c) const {
  policy::Facts f;
  f.org_type = ctx_.principal.org_type;
  f.purpose = ctx_.purpose;
  f.operation = operation_;
  f.op_class = c;
  f.attributes = attributes_;
  f.has_case_id = !ctx_.case_id.empty();
  f.has_authorisation = !ctx_.principal.authorisation.empty();
  f.now_ms = ctx_.now_ms;
  return policies_.Decide(f);
}

Status RequestGate::Admit(api::RequestFacts& facts, const Status& invalid) {
  const api::OpSpec& op = *facts.op;
  operation_ = op.name;
  attributes_ = facts.attributes;
  policy::Decision d = Decide(facts.op_class);

  store::AuditRecord& r = record_;
  r.kind = "request";
  r.time_ms = ctx_.now_ms;
  r.request_id = ctx_.request_id;
  r.principal = ctx_.principal.name;
  r.org_type = auth::OrgTypeName(ctx_.principal.org_type);
  r.purpose = ctx_.purpose;
  r.case_id = ctx_.case_id;
  r.authorisation = ctx_.principal.authorisation;
  r.operation = operation_;
  r.op_class = policy::OpClassName(facts.op_class);
  r.collection = facts.collection;
  if (facts.threshold) {
    r.threshold_asked = *facts.threshold;
    r.threshold_applied = r.threshold_asked;
  }
  // Audited: the classes of face search and enrolment, erasures, reads of
  // the audit log, and every request a rule of the policy denies or
  // constrains, valid or not.
  must_audit_ = policy::AuditedClass(facts.op_class) || op.erases || op.audited || !d.allowed ||
                !d.applied.empty();
  if (!invalid.ok()) {
    r.decision = d.allowed ? "allow" : "deny";
    r.rule = d.Rules();
    r.threshold_applied.reset();
    return invalid;
  }

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
                  d.limit_rule.policy->name + "' (" + d.limit_rule.policy->source +
                  "): " + std::to_string(*d.constraints.daily_limit) + " " + r.operation +
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
  if (c.threshold_floor && facts.threshold && *c.threshold_floor > *facts.threshold) {
    facts.threshold = *c.threshold_floor;
    facts.threshold_changed = true;
    r.threshold_applied = *c.threshold_floor;
  }
  if (c.max_results && op.max_results) {
    if (!facts.max_results || *facts.max_results > *c.max_results) {
      facts.max_results = *c.max_results;
      facts.max_results_changed = true;
    }
    r.max_results = *c.max_results;
  }
  r.human_review = c.human_review;
  constraining_ = r.rule;
  if (op.unmatched) identification_ = Decide(policy::OpClass::kFaceIdentification);
  // Last, where a handler would find a missing collection: another
  // principal's collection answers exactly as a missing one.
  ARGUS_RETURN_IF_ERROR(Tenancy(facts));
  // An enrolment's record commits with its faces (or not at all).
  if (must_audit_ && operation_ == "IndexFaces") {
    service::BeginEnrolmentAudit(&record_, policy::AuditHash);
  }
  return Status::Ok();
}

Result<std::string> RequestGate::GrantOn(const std::string& collection) {
  if (ctx_.principal.admin) return std::string("full");
  if (!grants_) {
    store::Store* s = audit_.store();
    auto g = s ? s->GrantsOfPrincipal(ctx_.principal.name)
               : Result<std::vector<store::CollectionGrant>>(Internal("no store"));
    if (!g.ok()) {
      return Internal("The collection grants cannot be read, so the request is refused: " +
                      g.status().message());
    }
    grants_.emplace();
    for (const auto& x : g.value()) (*grants_)[x.collection] = x.access;
  }
  auto it = grants_->find(collection);
  return it == grants_->end() ? std::string() : it->second;
}

bool RequestGate::MaySee(const std::string& id) {
  auto g = GrantOn(id);
  return g.ok() && !g.value().empty();
}

Status RequestGate::Tenancy(const api::RequestFacts& facts) {
  using Access = api::OpSpec::Access;
  Access a = facts.op->access;
  if (a != Access::kRead && a != Access::kWrite && a != Access::kDelete) return Status::Ok();
  if (facts.collection.empty()) return Status::Ok();  // the handler answers
  ARGUS_ASSIGN(grant, GrantOn(facts.collection));
  if (grant.empty()) return NoSuchCollection(facts.collection);
  if (grant == "read" && a != Access::kRead) {
    return Status(Code::kAccessDenied, "The collection " + facts.collection +
                                           " is shared with principal '" + ctx_.principal.name +
                                           "' read-only");
  }
  return Status::Ok();
}

Status RequestGate::Montage(const api::RequestFacts& facts, Result<json>& result) {
  if (!identification_ || !result.ok()) return Status::Ok();
  api::ResultFacts rf = api::ReadResultFacts(*facts.op, result.value());
  int64_t faces = rf.count.value_or(0) + rf.unmatched;
  if (faces <= 1) return Status::Ok();
  // The target holds several faces: a search of one face among many, decided
  // and audited as face_identification_1toN.
  const policy::Decision& d = *identification_;
  store::AuditRecord& r = record_;
  r.op_class = policy::OpClassName(policy::OpClass::kFaceIdentification);
  r.rule = d.Rules();
  if (!d.allowed) {
    r.decision = "deny";
    r.threshold_applied.reset();
    r.human_review = false;
    constraining_.clear();
    result = Status(Code::kAccessDenied, d.message + " (CompareFaces with a target image of " +
                                             std::to_string(faces) +
                                             " faces is identification, face_identification_1toN)");
    return Status::Ok();
  }
  const policy::Constraints& c = d.constraints;
  if (c.threshold_floor && (!r.threshold_applied || *c.threshold_floor > *r.threshold_applied)) {
    api::DropResultsUnder(*facts.op, *c.threshold_floor, result.value());
    r.threshold_applied = *c.threshold_floor;
  }
  r.human_review = r.human_review || c.human_review;
  constraining_ = r.rule;
  return Status::Ok();
}

Status RequestGate::Complete(const api::RequestFacts& facts, Result<json>& result) {
  // True when IndexFaces committed this request's record with its faces.
  const bool enrolment_recorded = service::EndEnrolmentAudit();
  using Access = api::OpSpec::Access;
  const api::OpSpec& op = *facts.op;
  store::Store* s = audit_.store();
  if (result.ok() && s && !facts.collection.empty()) {
    Status st = Status::Ok();
    if (op.access == Access::kCreate)
      st = s->SetCollectionOwner(facts.collection, ctx_.principal.name);
    if (op.access == Access::kDelete) st = s->DropCollectionGrants(facts.collection);
    if (!st.ok()) {
      log::Error("tenancy: request " + ctx_.request_id + " " + operation_ + " " + facts.collection +
                 ": " + st.message());
      if (op.access == Access::kCreate) {
        result = Internal("The collection " + facts.collection +
                          " was created but its owner could not be recorded (" + st.message() +
                          "); an admin can assign it with argus collections chown.");
      }
    }
  }
  ARGUS_RETURN_IF_ERROR(Montage(facts, result));
  if (enrolment_recorded) {
    audited_ = true;
    return Status::Ok();
  }
  if (!must_audit_) return Status::Ok();
  std::string job = facts.job_id;
  if (result.ok()) {
    record_.outcome = "ok";
    ReadResults(op, result.value(), record_);
    if (job.empty()) job = api::ReadResultFacts(op, result.value()).job_id;
  } else {
    record_.outcome = api::MapError(result.status().code()).type;
  }
  if (!job.empty()) record_.detail = "JobId " + job;  // the stored-video job started or read
  Status st = audit_.Append(record_);
  if (!st.ok()) {
    log::Error("audit: request " + ctx_.request_id + " " + record_.operation +
               " could not be recorded, so it fails: " + st.message());
    // An unreachable shared store stays ServiceUnavailable (retry later).
    return Status(
        st.code() == Code::kServiceUnavailable ? Code::kServiceUnavailable : Code::kInternal,
        "The request could not be recorded in the audit log, so it is refused (" + st.message() +
            ")." +
            (result.ok() && record_.op_class == "face_enrollment"
                 ? " The faces it indexed stay indexed; list them with ListFaces."
                 : ""));
  }
  audited_ = true;
  return Status::Ok();
}

}  // namespace argus::server
