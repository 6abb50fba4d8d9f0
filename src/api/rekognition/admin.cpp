#include "api/rekognition/admin.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

namespace argus::api {
namespace {

using enum policy::OpClass;

constexpr int64_t kFarFuture = 32503680000000LL;  // 3000-01-01

Status Unavailable(const char* what) {
  return Status(Code::kServiceUnavailable,
                std::string("This server runs without ") + what + " (embedded use).");
}

// Member `name` of `request` as a string: absent → `def`; another type → a
// validation error naming it.
Result<std::string> StringMember(const json& request, const char* name, std::string def = "") {
  auto it = request.find(name);
  if (it == request.end() || it->is_null()) return def;
  if (!it->is_string()) return InvalidParameter(std::string(name) + " must be a string.");
  return it->get<std::string>();
}

Result<bool> BoolMember(const json& request, const char* name) {
  auto it = request.find(name);
  if (it == request.end() || it->is_null()) return false;
  if (!it->is_boolean()) return InvalidParameter(std::string(name) + " must be true or false.");
  return it->get<bool>();
}

// A time member: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or epoch seconds.
Result<int64_t> TimeMember(const json& request, const char* name, int64_t def) {
  auto it = request.find(name);
  if (it == request.end() || it->is_null()) return def;
  if (it->is_number()) return int64_t(it->get<double>() * 1000);
  if (it->is_string()) {
    if (auto t = policy::ParseTime(it->get<std::string>())) return *t;
  }
  return InvalidParameter(std::string(name) +
                          " must be YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or epoch seconds.");
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<OpSpec> Table() {
  auto row = [](const char* name, Handler h, bool reads_audit = false) {
    return OpSpec{.name = name, .handler = h, .op_class = kAdmin, .audited = reads_audit};
  };
  return {
      row("GetDemographicsReport", &AdminGetDemographicsReport),
      row("GetPolicies", &AdminGetPolicies),
      row("GetTransparencyReport", &AdminGetTransparencyReport, true),
      row("ListAuditRecords", &AdminListAuditRecords, true),
      row("TestPolicy", &AdminTestPolicy),
      row("VerifyAudit", &AdminVerifyAudit, true),
  };
}

}  // namespace

const std::vector<OpSpec>& AdminOperations() {
  static const std::vector<OpSpec> table = Table();
  return table;
}

const OpSpec* FindAdminOperation(std::string_view name) {
  for (const auto& op : AdminOperations()) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

Result<json> AnswerPolicyQuestion(const policy::PolicySet& set, const PolicyQuestion& q) {
  policy::Facts f;
  auto org = auth::ParseOrgType(q.org_type);
  if (!org) {
    return InvalidParameter("OrganizationType must be one of " + std::string(auth::OrgTypeNames()) +
                            ", got '" + q.org_type + "'.");
  }
  f.org_type = *org;
  f.purpose = q.purpose;
  if (!auth::ValidPurpose(f.purpose)) {
    return InvalidParameter("Purpose must be one of " + auth::PurposeNames() + ", got '" +
                            q.purpose + "'.");
  }
  json request = json::object();
  for (const auto& attr : q.attributes) request["Attributes"].push_back(attr);
  const OpSpec* spec = FindOperation(q.operation);
  if (auto c = policy::ParseOpClass(q.operation)) {
    f.op_class = *c;
  } else if (spec) {
    f.operation = q.operation;
    f.op_class = ClassOf(*spec, request);
  } else {
    return InvalidParameter("Operation must be an operation (SearchFacesByImage) or a class (" +
                            policy::OpClassNames() + "), got '" + q.operation + "'.");
  }
  for (const auto& attr : q.attributes) f.attributes.insert(attr);
  f.has_case_id = q.has_case_id;
  f.has_authorisation = q.has_authorisation;
  f.now_ms = q.at_ms;
  policy::Decision d = set.Decide(f);
  json out = {{"decision", d.allowed ? "allow" : "deny"},
              {"operation", f.operation},
              {"operation_class", policy::OpClassName(f.op_class)},
              {"at", policy::FormatTime(f.now_ms)},
              {"trace", d.trace}};
  if (!d.allowed) {
    out["rule"] = d.deciding.Name();
    out["message"] = d.message;
  } else {
    json c = json::object();
    if (d.constraints.threshold_floor) c["threshold_floor"] = *d.constraints.threshold_floor;
    if (d.constraints.max_results) c["max_results"] = *d.constraints.max_results;
    if (d.constraints.daily_limit) c["daily_limit"] = *d.constraints.daily_limit;
    if (d.constraints.human_review) c["human_review"] = true;
    out["constraints"] = c;
    out["rules"] = d.Rules();
  }
  return out;
}

Result<json> AdminGetPolicies(const json&, Services& s) {
  if (!s.policies) return Unavailable("use policies");
  return json{{"Policies", s.policies->Describe()}};
}

Result<json> AdminTestPolicy(const json& request, Services& s) {
  if (!s.policies) return Unavailable("use policies");
  PolicyQuestion q;
  auto org = StringMember(request, "OrganizationType");
  if (!org.ok()) return org.status();
  auto purpose = StringMember(request, "Purpose");
  if (!purpose.ok()) return purpose.status();
  auto op = StringMember(request, "Operation");
  if (!op.ok()) return op.status();
  auto case_id = BoolMember(request, "HasCaseId");
  if (!case_id.ok()) return case_id.status();
  auto authorisation = BoolMember(request, "HasAuthorisation");
  if (!authorisation.ok()) return authorisation.status();
  auto at = TimeMember(request, "At", NowMs());
  if (!at.ok()) return at.status();
  q.org_type = org.value();
  q.purpose = purpose.value();
  q.operation = op.value();
  q.has_case_id = case_id.value();
  q.has_authorisation = authorisation.value();
  q.at_ms = at.value();
  if (auto it = request.find("Attributes"); it != request.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidParameter("Attributes must be a list of strings.");
    for (const auto& a : *it) {
      if (!a.is_string()) return InvalidParameter("Attributes must be a list of strings.");
      q.attributes.push_back(a.get<std::string>());
    }
  }
  return AnswerPolicyQuestion(*s.policies, q);
}

Result<json> AdminListAuditRecords(const json& request, Services& s) {
  if (!s.audit) return Unavailable("an audit log");
  int64_t max = 100;
  if (auto it = request.find("MaxResults"); it != request.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 1000) {
      return InvalidParameter("MaxResults must be an integer from 1 to 1000.");
    }
    max = it->get<int64_t>();
  }
  auto token = StringMember(request, "NextToken");
  if (!token.ok()) return token.status();
  auto newest = BoolMember(request, "Newest");
  if (!newest.ok()) return newest.status();
  // NextToken: the seq after which the page starts. Newest without a token:
  // the last `max` records.
  int64_t after = 0;
  if (!token.value().empty()) {
    const std::string& t = token.value();
    if (t.size() > 18 ||
        !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return InvalidParameter("NextToken is not a token this operation returned.");
    }
    after = std::stoll(t);
  } else if (newest.value()) {
    auto last = s.audit->LastSeq();
    if (!last.ok()) return last.status();
    after = std::max<int64_t>(0, last.value() - max);
  }
  auto page = s.audit->Page(after, max);
  if (!page.ok()) return page.status();
  json out = {{"Records", page.value()}};
  if (int64_t(page.value().size()) == max) {
    out["NextToken"] = std::to_string(page.value().back().value("seq", int64_t(0)));
  }
  return out;
}

Result<json> AdminVerifyAudit(const json& request, Services& s) {
  if (!s.audit) return Unavailable("an audit log");
  auto expect = StringMember(request, "ExpectHead");
  if (!expect.ok()) return expect.status();
  policy::VerifyResult v = s.audit->Verify(expect.value());
  json out = {{"Verified", v.ok}, {"Records", v.records}};
  if (v.ok) {
    out["HeadSequence"] = v.head_seq;
    out["HeadHash"] = v.head_hash;
  } else {
    out["FirstBadSequence"] = v.first_bad;
    out["Problem"] = v.problem;
  }
  if (!v.note.empty()) out["Note"] = v.note;
  return out;
}

Result<json> AdminGetTransparencyReport(const json& request, Services& s) {
  if (!s.audit) return Unavailable("an audit log");
  auto since = TimeMember(request, "Since", 0);
  if (!since.ok()) return since.status();
  auto until = TimeMember(request, "Until", kFarFuture);
  if (!until.ok()) return until.status();
  auto report = s.audit->Transparency(since.value(), until.value());
  if (!report.ok()) return report.status();
  return json{{"Report", report.value()}};
}

Result<json> AdminGetDemographicsReport(const json&, Services& s) {
  const std::string hint =
      "Run `argus eval demographics --labels FILE --images DIR --out DIR` and start the server "
      "with --demographics-report DIR/report.json.";
  if (s.demographics_report.empty()) {
    return Status(Code::kResourceNotFound,
                  "This server was started without a demographics "
                  "report. " +
                      hint);
  }
  std::ifstream f(s.demographics_report, std::ios::binary);
  if (!f) {
    return Status(Code::kResourceNotFound,
                  "The demographics report " + s.demographics_report + " cannot be read. " + hint);
  }
  std::stringstream text;
  text << f.rdbuf();
  json report = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (report.is_discarded() || !report.is_object()) {
    return Internal("The demographics report " + s.demographics_report + " is not a JSON object.");
  }
  return json{{"Report", report}};
}

}  // namespace argus::api
