// The policy document parser (JSON syntax errors with line and column,
// content errors with the member's path), PolicySet::Load, and dates.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/hash.h"
#include "policy/policy.h"
#include "policy/policy_internal.h"

namespace argus::policy {

namespace internal {

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace internal

namespace {

using internal::Join;
using nlohmann::json;

constexpr const char* kAttributeNames[] = {
    "DEFAULT",   "ALL",    "AGE_RANGE",  "BEARD",    "EMOTIONS",      "EYE_DIRECTION", "EYEGLASSES",
    "EYES_OPEN", "GENDER", "MOUTH_OPEN", "MUSTACHE", "FACE_OCCLUDED", "SMILE",         "SUNGLASSES",
};

// ---------------------------------------------------------------- parsing

class Parser {
 public:
  Parser(std::string source, const std::map<std::string, std::string>& overrides,
         const OperationCheck& known_operation)
      : source_(std::move(source)), overrides_(overrides), known_operation_(known_operation) {}

  Status Error(const std::string& where, const std::string& what) const {
    return InvalidParameter(source_ + ": " + where + ": " + what);
  }

  Result<Policy> Parse(const json& doc) {
    Policy p;
    p.source = source_;
    if (!doc.is_object()) return Error("(top level)", "a policy is a JSON object");
    ARGUS_RETURN_IF_ERROR(
        Keys(doc, "(top level)", {"name", "description", "references", "parameters", "rules"}));
    auto name = String(doc, "name", "(top level)", true);
    if (!name.ok()) return name.status();
    p.name = name.value();
    if (p.name.empty() || p.name.size() > 64 ||
        !std::all_of(p.name.begin(), p.name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        })) {
      return Error("name", "must be 1-64 characters of [a-z0-9_-], got '" + p.name + "'");
    }
    auto desc = String(doc, "description", "(top level)", false);
    if (!desc.ok()) return desc.status();
    p.description = desc.value();
    if (doc.contains("references")) {
      const json& r = doc["references"];
      if (!r.is_array()) return Error("references", "must be a list of strings");
      for (size_t i = 0; i < r.size(); ++i) {
        if (!r[i].is_string())
          return Error("references[" + std::to_string(i) + "]", "not a string");
        p.references.push_back(r[i].get<std::string>());
      }
    }
    if (doc.contains("parameters")) {
      const json& ps = doc["parameters"];
      if (!ps.is_object()) return Error("parameters", "must be an object");
      for (const auto& [k, v] : ps.items()) {
        std::string where = "parameters." + k;
        if (!v.is_object() || !v.contains("default")) {
          return Error(where, "must be an object with a \"default\"");
        }
        ARGUS_RETURN_IF_ERROR(Keys(v, where, {"default", "description"}));
        json value = v["default"];
        if (auto o = overrides_.find(k); o != overrides_.end()) {
          json parsed = json::parse(o->second, nullptr, false);
          if (parsed.is_discarded() || parsed.type() != value.type()) {
            // Numbers may be given as integers for float defaults and vice versa.
            if (parsed.is_discarded() || !parsed.is_number() || !value.is_number()) {
              return Error(where, "override '" + o->second + "' is not a " + value.type_name());
            }
          }
          value = parsed;
        }
        p.parameters[k] = value;
      }
    }
    if (!doc.contains("rules") || !doc["rules"].is_array()) {
      return Error("rules", "a policy needs a list of rules (it may be empty)");
    }
    std::set<std::string> ids;
    for (size_t i = 0; i < doc["rules"].size(); ++i) {
      auto r = ParseRule(doc["rules"][i], "rules[" + std::to_string(i) + "]", p.parameters);
      if (!r.ok()) return r.status();
      if (!ids.insert(r->id).second) {
        return Error("rules[" + std::to_string(i) + "].id", "duplicate rule id '" + r->id + "'");
      }
      p.rules.push_back(std::move(r.value()));
    }
    return p;
  }

 private:
  Status Keys(const json& o, const std::string& where, const std::set<std::string>& allowed) const {
    for (const auto& [k, v] : o.items()) {
      if (!allowed.count(k)) {
        std::vector<std::string> names(allowed.begin(), allowed.end());
        return Error(where, "unknown member '" + k + "' (expected " + Join(names, ", ") + ")");
      }
    }
    return Status::Ok();
  }

  Result<std::string> String(const json& o, const char* key, const std::string& where,
                             bool required) const {
    if (!o.contains(key)) {
      if (required) return Error(where, std::string("missing \"") + key + "\"");
      return std::string();
    }
    if (!o[key].is_string()) return Error(where + "." + key, "must be a string");
    return o[key].get<std::string>();
  }

  // A value that may be "${parameter}".
  Result<json> Resolve(const json& v, const std::string& where,
                       const std::map<std::string, json>& params) const {
    if (v.is_string()) {
      std::string s = v.get<std::string>();
      if (s.size() > 3 && s.rfind("${", 0) == 0 && s.back() == '}') {
        std::string name = s.substr(2, s.size() - 3);
        auto it = params.find(name);
        if (it == params.end()) return Error(where, "unknown parameter '" + name + "'");
        return it->second;
      }
    }
    return v;
  }

  template <typename T, typename F>
  Status List(const json& when, const char* key, const std::string& where, std::set<T>* out,
              F parse) const {
    if (!when.contains(key)) return Status::Ok();
    const json& l = when[key];
    std::string w = where + "." + key;
    if (!l.is_array() || l.empty()) return Error(w, "must be a non-empty list of strings");
    for (size_t i = 0; i < l.size(); ++i) {
      std::string wi = w + "[" + std::to_string(i) + "]";
      if (!l[i].is_string()) return Error(wi, "not a string");
      std::string s = l[i].get<std::string>();
      auto v = parse(s, wi);
      if (!v.ok()) return v.status();
      out->insert(v.value());
    }
    return Status::Ok();
  }

  Result<Rule> ParseRule(const json& r, const std::string& where,
                         const std::map<std::string, json>& params) {
    Rule rule;
    if (!r.is_object()) return Error(where, "a rule is an object");
    ARGUS_RETURN_IF_ERROR(Keys(r, where, {"id", "effect", "description", "when", "constraints"}));
    auto id = String(r, "id", where, true);
    if (!id.ok()) return id.status();
    rule.id = id.value();
    if (rule.id.empty() || rule.id.size() > 64 ||
        !std::all_of(rule.id.begin(), rule.id.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        })) {
      return Error(where + ".id", "must be 1-64 characters of [a-z0-9_-], got '" + rule.id + "'");
    }
    auto effect = String(r, "effect", where, true);
    if (!effect.ok()) return effect.status();
    rule.effect = effect.value();
    if (rule.effect != "deny" && rule.effect != "constrain") {
      return Error(where + ".effect",
                   "must be \"deny\" or \"constrain\", got '" + rule.effect + "'");
    }
    auto desc = String(r, "description", where, false);
    if (!desc.ok()) return desc.status();
    rule.description = desc.value();

    json when = r.contains("when") ? r["when"] : json::object();
    std::string ww = where + ".when";
    if (!when.is_object()) return Error(ww, "must be an object");
    ARGUS_RETURN_IF_ERROR(Keys(when, ww,
                               {"org_types", "operation_classes", "operations", "purposes",
                                "except_purposes", "attributes", "from", "until"}));
    ARGUS_RETURN_IF_ERROR(List(
        when, "org_types", ww, &rule.org_types,
        [&](const std::string& s, const std::string& w) -> Result<auth::OrgType> {
          auto t = auth::ParseOrgType(s);
          if (!t) {
            return Error(
                w, "unknown organisation type '" + s + "' (one of " + auth::OrgTypeNames() + ")");
          }
          return *t;
        }));
    ARGUS_RETURN_IF_ERROR(List(when, "operation_classes", ww, &rule.op_classes,
                               [&](const std::string& s, const std::string& w) -> Result<OpClass> {
                                 auto c = ParseOpClass(s);
                                 if (!c) {
                                   return Error(w, "unknown operation class '" + s + "' (one of " +
                                                       OpClassNames() + ")");
                                 }
                                 return *c;
                               }));
    ARGUS_RETURN_IF_ERROR(
        List(when, "operations", ww, &rule.operations,
             [&](const std::string& s, const std::string& w) -> Result<std::string> {
               // Every operation of the model (api_test checks that each
               // has a row in the operation table).
               if (known_operation_ && !known_operation_(s)) {
                 return Error(w, "unknown operation '" + s + "'");
               }
               return s;
             }));
    auto purpose = [&](const std::string& s, const std::string& w) -> Result<std::string> {
      if (!auth::ValidPurpose(s)) {
        return Error(w, "unknown purpose '" + s + "' (one of " + auth::PurposeNames() + ")");
      }
      return s;
    };
    ARGUS_RETURN_IF_ERROR(List(when, "purposes", ww, &rule.purposes, purpose));
    ARGUS_RETURN_IF_ERROR(List(when, "except_purposes", ww, &rule.except_purposes, purpose));
    ARGUS_RETURN_IF_ERROR(
        List(when, "attributes", ww, &rule.attributes,
             [&](const std::string& s, const std::string& w) -> Result<std::string> {
               for (const char* a : kAttributeNames) {
                 if (s == a) return s;
               }
               return Error(w, "unknown face attribute '" + s + "'");
             }));
    for (auto [key, out] : {std::pair{"from", &rule.from_ms}, std::pair{"until", &rule.until_ms}}) {
      if (!when.contains(key) || when[key].is_null()) continue;
      std::string w = ww + "." + key;
      if (!when[key].is_string()) return Error(w, "must be a date \"YYYY-MM-DD\" or null");
      auto t = ParseTime(when[key].get<std::string>());
      if (!t) {
        return Error(w, "not a date: '" + when[key].get<std::string>() +
                            "' (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
      }
      *out = *t;
    }
    if (rule.from_ms && rule.until_ms && *rule.until_ms <= *rule.from_ms) {
      return Error(ww + ".until", "must be after \"from\"");
    }

    std::string cw = where + ".constraints";
    if (r.contains("constraints")) {
      const json& c = r["constraints"];
      if (!c.is_object()) return Error(cw, "must be an object");
      if (rule.effect == "deny") return Error(cw, "a deny rule has no constraints");
      ARGUS_RETURN_IF_ERROR(Keys(c, cw,
                                 {"threshold_floor", "max_results", "require_case_id",
                                  "require_authorisation", "human_review", "daily_limit"}));
      Constraints& k = rule.constraints;
      for (const auto& [key, raw] : c.items()) {
        std::string w = cw + "." + key;
        auto v = Resolve(raw, w, params);
        if (!v.ok()) return v.status();
        const json& x = v.value();
        if (key == "threshold_floor") {
          if (!x.is_number() || x.get<double>() < 0 || x.get<double>() > 100) {
            return Error(w, "must be a number from 0 to 100");
          }
          k.threshold_floor = x.get<double>();
        } else if (key == "max_results" || key == "daily_limit") {
          if (!x.is_number_integer() || x.get<int64_t>() < 1) {
            return Error(w, "must be a whole number of at least 1");
          }
          (key == "max_results" ? k.max_results : k.daily_limit) = x.get<int64_t>();
        } else {
          if (!x.is_boolean()) return Error(w, "must be true or false");
          bool b = x.get<bool>();
          if (key == "require_case_id")
            k.require_case_id = b;
          else if (key == "require_authorisation")
            k.require_authorisation = b;
          else
            k.human_review = b;
        }
      }
    } else if (rule.effect == "constrain") {
      return Error(cw, "a constrain rule needs constraints");
    }
    return rule;
  }

  std::string source_;
  const std::map<std::string, std::string>& overrides_;
  const OperationCheck& known_operation_;
};

std::string LineColumn(const std::string& text, size_t byte) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

}  // namespace

Result<Policy> ParsePolicy(const std::string& text, const std::string& source,
                           const std::map<std::string, std::string>& params,
                           const OperationCheck& known_operation) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 3, column 5: ..." → the part after ": "
    auto colon = what.find(": ");
    return InvalidParameter(
        source + ":" + LineColumn(text, e.byte ? e.byte - 1 : 0) +
        ": JSON syntax error: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
  }
  Parser p(source, params, known_operation);
  auto policy = p.Parse(doc);
  if (!policy.ok()) return policy.status();
  policy->sha256 = Sha256Hex(text);
  return policy;
}

Result<PolicySet> PolicySet::Load(const std::vector<std::string>& specs,
                                  const std::map<std::string, std::string>& params,
                                  const OperationCheck& known_operation) {
  PolicySet set;
  std::set<std::string> names, declared;
  for (const auto& spec : specs) {
    std::string text, source;
    auto preset = Presets().find(spec);
    if (preset != Presets().end()) {
      text = preset->second;
      source = "preset:" + spec;
    } else if (spec.find('/') != std::string::npos || spec.find(".json") != std::string::npos) {
      std::ifstream f(spec, std::ios::binary);
      if (!f) return InvalidParameter(spec + ": cannot read the policy file");
      std::stringstream ss;
      ss << f.rdbuf();
      text = ss.str();
      source = spec;
    } else {
      std::vector<std::string> known;
      for (const auto& [n, t] : Presets()) known.push_back(n);
      return InvalidParameter("unknown policy preset '" + spec +
                              "' (presets: " + Join(known, ", ") +
                              "; a file path must contain '/' or end in .json)");
    }
    auto p = ParsePolicy(text, source, params, known_operation);
    if (!p.ok()) return p.status();
    if (!names.insert(p->name).second) {
      return InvalidParameter(source + ": a policy named '" + p->name + "' is already loaded");
    }
    for (const auto& [k, v] : p->parameters) declared.insert(k);
    set.policies_.push_back(std::move(p.value()));
  }
  for (const auto& [k, v] : params) {
    if (!declared.count(k)) {
      return InvalidParameter("--policy-param " + k + ": no loaded policy declares this parameter");
    }
  }
  return set;
}

std::optional<int64_t> ParseTime(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  std::string str(s);
  char tail = 0;
  if (str.size() == 10) {
    if (std::sscanf(str.c_str(), "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3) return std::nullopt;
  } else if (str.size() == 20) {
    if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%c", &y, &mo, &d, &h, &mi, &sec, &tail) !=
            6 ||
        str.back() != 'Z') {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  std::tm back{};
  gmtime_r(&t, &back);
  if (back.tm_mday != d) return std::nullopt;  // 2021-02-30
  return int64_t(t) * 1000;
}

std::string FormatTime(int64_t ms) {
  time_t t = time_t(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace argus::policy
