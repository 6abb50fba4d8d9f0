// Decisions: matching rules against a request's facts and combining them
// (policy.h states the rules of combination), and PolicySet::Describe.
#include "policy/policy.h"

#include "policy/policy_internal.h"

namespace argus::policy {
namespace {

using internal::Join;
using nlohmann::json;

bool Matches(const Rule& r, const Facts& f, std::string* why) {
  auto no = [&](std::string w) {
    *why = std::move(w);
    return false;
  };
  if (!r.org_types.empty() && !r.org_types.count(f.org_type)) {
    return no(std::string("organisation type ") + auth::OrgTypeName(f.org_type) + " not listed");
  }
  if (!r.op_classes.empty() && !r.op_classes.count(f.op_class)) {
    return no(std::string("operation class ") + OpClassName(f.op_class) + " not listed");
  }
  if (!r.operations.empty() && !r.operations.count(f.operation)) {
    return no("operation " + f.operation + " not listed");
  }
  if (!r.purposes.empty() && !r.purposes.count(f.purpose)) {
    return no("purpose " + f.purpose + " not listed");
  }
  if (r.except_purposes.count(f.purpose)) return no("purpose " + f.purpose + " is excepted");
  if (!r.attributes.empty()) {
    bool any = f.attributes.count("ALL") > 0;
    for (const auto& a : r.attributes) any = any || f.attributes.count(a) > 0;
    if (!any) return no("the request asks for none of the listed attributes");
  }
  if (r.from_ms && f.now_ms < *r.from_ms) return no("before " + FormatTime(*r.from_ms));
  if (r.until_ms && f.now_ms >= *r.until_ms) return no("from " + FormatTime(*r.until_ms) + " on");
  *why = "matches";
  return true;
}

std::string Source(const RuleRef& r) {
  return "rule '" + r.rule->id + "' of policy '" + r.policy->name + "' (" + r.policy->source + ")";
}

}  // namespace

std::string RuleRef::Name() const { return policy && rule ? policy->name + "/" + rule->id : ""; }

std::string Decision::Rules() const {
  if (!allowed) return deciding.Name();
  std::vector<std::string> v;
  for (const auto& r : applied) v.push_back(r.Name());
  return Join(v);
}

Decision PolicySet::Decide(const Facts& f) const {
  Decision d;
  std::vector<RuleRef> denies;
  for (const auto& p : policies_) {
    for (const auto& r : p.rules) {
      std::string why;
      bool m = Matches(r, f, &why);
      RuleRef ref{&p, &r};
      d.trace.push_back(ref.Name() + " (" + r.effect + "): " + why);
      if (!m) continue;
      if (r.effect == "deny") {
        denies.push_back(ref);
        continue;
      }
      const Constraints& c = r.constraints;
      Constraints& k = d.constraints;
      if (c.threshold_floor && (!k.threshold_floor || *c.threshold_floor > *k.threshold_floor)) {
        k.threshold_floor = c.threshold_floor;
      }
      if (c.max_results && (!k.max_results || *c.max_results < *k.max_results)) {
        k.max_results = c.max_results;
      }
      if (c.daily_limit && (!k.daily_limit || *c.daily_limit < *k.daily_limit)) {
        k.daily_limit = c.daily_limit;
        d.limit_rule = ref;
      }
      k.human_review = k.human_review || c.human_review;
      k.require_case_id = k.require_case_id || c.require_case_id;
      k.require_authorisation = k.require_authorisation || c.require_authorisation;
      d.applied.push_back(ref);
      if (c.require_case_id && !f.has_case_id && !d.deciding.rule) {
        d.deciding = ref;
        d.message = "Denied by " + Source(ref) + ": it requires a case id (header X-Argus-Case-Id)";
      }
      if (c.require_authorisation && !f.has_authorisation && !d.deciding.rule) {
        d.deciding = ref;
        d.message = "Denied by " + Source(ref) +
                    ": it requires an authorisation reference on the principal "
                    "(argus keys create --authorisation REF)";
      }
    }
  }
  if (!denies.empty()) {
    d.allowed = false;
    d.deciding = denies.front();
    d.message = "Denied by " + Source(d.deciding) +
                (d.deciding.rule->description.empty() ? "" : ": " + d.deciding.rule->description);
  } else if (d.deciding.rule) {
    d.allowed = false;  // an unmet requirement
  }
  if (!d.allowed) {
    d.constraints = Constraints();
    d.applied.clear();
  }
  return d;
}

json PolicySet::Describe() const {
  json out = json::array();
  for (const auto& p : policies_) {
    json rules = json::array();
    for (const auto& r : p.rules) {
      json when = json::object();
      auto strs = [](const std::set<std::string>& s) {
        return json(std::vector<std::string>(s.begin(), s.end()));
      };
      if (!r.org_types.empty()) {
        json l = json::array();
        for (auto t : r.org_types) l.push_back(auth::OrgTypeName(t));
        when["org_types"] = l;
      }
      if (!r.op_classes.empty()) {
        json l = json::array();
        for (auto c : r.op_classes) l.push_back(OpClassName(c));
        when["operation_classes"] = l;
      }
      if (!r.operations.empty()) when["operations"] = strs(r.operations);
      if (!r.purposes.empty()) when["purposes"] = strs(r.purposes);
      if (!r.except_purposes.empty()) when["except_purposes"] = strs(r.except_purposes);
      if (!r.attributes.empty()) when["attributes"] = strs(r.attributes);
      if (r.from_ms) when["from"] = FormatTime(*r.from_ms);
      if (r.until_ms) when["until"] = FormatTime(*r.until_ms);
      json rule = {{"id", r.id}, {"effect", r.effect}, {"when", when}};
      if (!r.description.empty()) rule["description"] = r.description;
      if (r.effect == "constrain") {
        const Constraints& c = r.constraints;
        json k = json::object();
        if (c.threshold_floor) k["threshold_floor"] = *c.threshold_floor;
        if (c.max_results) k["max_results"] = *c.max_results;
        if (c.daily_limit) k["daily_limit"] = *c.daily_limit;
        if (c.require_case_id) k["require_case_id"] = true;
        if (c.require_authorisation) k["require_authorisation"] = true;
        if (c.human_review) k["human_review"] = true;
        rule["constraints"] = k;
      }
      rules.push_back(rule);
    }
    json j = {{"name", p.name}, {"source", p.source}, {"sha256", p.sha256}, {"rules", rules}};
    if (!p.description.empty()) j["description"] = p.description;
    if (!p.references.empty()) j["references"] = p.references;
    if (!p.parameters.empty()) j["parameters"] = p.parameters;
    out.push_back(j);
  }
  return out;
}

}  // namespace argus::policy
