#include "api/rekognition/validate.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "api/rekognition/validate_model.h"

namespace argus::api {
namespace {

using model::ShapeDef;
using model::ShapeType;
using nlohmann::json;

constexpr size_t kMaxReported = 10;  // violations listed in one message

// Compiled patterns, built once; pcre2_code is safe to share between threads.
struct Patterns {
  std::vector<pcre2_code*> code;
  std::vector<std::string> errors;  // "" when compiled
  Patterns() {
    for (int i = 0; i < model::kPatternCount; ++i) {
      int err = 0;
      PCRE2_SIZE offset = 0;
      pcre2_code* c = pcre2_compile(
          reinterpret_cast<PCRE2_SPTR>(model::kPatterns[i].pcre), PCRE2_ZERO_TERMINATED,
          PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED | PCRE2_ENDANCHORED, &err, &offset, nullptr);
      std::string error;
      if (!c) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(err, buf, sizeof buf);
        error = std::string(model::kPatterns[i].model) + ": " + reinterpret_cast<char*>(buf);
      } else {
        pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);  // optional speed-up; falls back silently
      }
      code.push_back(c);
      errors.push_back(error);
    }
  }
};

const Patterns& CompiledPatterns() {
  static const Patterns* p = new Patterns();  // never destroyed: threads may match until exit
  return *p;
}

// True when the whole of `s` matches pattern `i` (or the pattern could not be
// compiled, which a unit test rules out).
bool Matches(int i, const std::string& s) {
  pcre2_code* c = CompiledPatterns().code[i];
  if (!c) return true;
  thread_local std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> md(
      pcre2_match_data_create(4, nullptr), pcre2_match_data_free);
  int rc =
      pcre2_match(c, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, 0, md.get(), nullptr);
  return rc >= 0;
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Num(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%g", v);
  }
  return buf;
}

// The value as AWS's messages show it: strings as-is (long ones cut), numbers
// and booleans as text, lists of scalars as [a, b].
std::string Show(const json& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    return s.size() > 256 ? s.substr(0, 256) + "..." : s;
  }
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size() && i < 32; ++i) {
      if (i) out += ", ";
      out += v[i].is_structured() ? "..." : Show(v[i]);
    }
    if (v.size() > 32) out += ", ...";
    return out + "]";
  }
  if (v.is_structured()) return "";
  return v.dump();
}

std::string LowerFirst(const char* name) {
  std::string s = name;
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = char(s[0] - 'A' + 'a');
  return s;
}

const char* JsonTypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "a list";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    default:
      return "null";
  }
}

const char* ExpectedName(ShapeType t) {
  switch (t) {
    case ShapeType::kStructure:
    case ShapeType::kMap:
      return "an object";
    case ShapeType::kList:
      return "a list";
    case ShapeType::kString:
      return "a string";
    case ShapeType::kBlob:
      return "a base64 string";
    case ShapeType::kInteger:
    case ShapeType::kLong:
      return "an integer";
    case ShapeType::kFloat:
    case ShapeType::kDouble:
      return "a number";
    case ShapeType::kBoolean:
      return "a boolean";
    case ShapeType::kTimestamp:
      return "a timestamp (epoch seconds)";
  }
  return "a value";
}

bool TypeMatches(ShapeType t, const json& v) {
  switch (t) {
    case ShapeType::kStructure:
    case ShapeType::kMap:
      return v.is_object();
    case ShapeType::kList:
      return v.is_array();
    case ShapeType::kString:
    case ShapeType::kBlob:
      return v.is_string();
    case ShapeType::kInteger:
    case ShapeType::kLong:
      return v.is_number_integer() || (v.is_number_float() && std::isfinite(v.get<double>()) &&
                                       v.get<double>() == std::floor(v.get<double>()));
    case ShapeType::kFloat:
    case ShapeType::kDouble:
      return v.is_number();
    case ShapeType::kBoolean:
      return v.is_boolean();
    case ShapeType::kTimestamp:
      return v.is_number() || v.is_string();
  }
  return false;
}

class Validator {
 public:
  std::vector<std::string> violations;
  std::string type_error;  // first JSON type mismatch

  // Checks the constraints of a scalar shape; returns the first failed one
  // ("Member must ...") or "".
  std::string ScalarConstraint(const ShapeDef& s, const json& v) {
    if (s.type == ShapeType::kString) {
      const std::string& str = v.get_ref<const std::string&>();
      size_t len = CodePoints(str);
      if (s.has_min && len < s.min)
        return "Member must have length greater than or equal to " + Num(s.min);
      if (s.has_max && len > s.max)
        return "Member must have length less than or equal to " + Num(s.max);
      if (s.enum_count > 0) {
        bool found = false;
        for (int i = 0; i < s.enum_count && !found; ++i)
          found = str == model::kEnumValues[s.enum_begin + i];
        if (!found) {
          std::string set;
          for (int i = 0; i < s.enum_count; ++i) {
            if (i) set += ", ";
            set += model::kEnumValues[s.enum_begin + i];
          }
          return "Member must satisfy enum value set: [" + set + "]";
        }
      }
      if (s.pattern >= 0 && !Matches(s.pattern, str)) {
        return std::string("Member must satisfy regular expression pattern: ") +
               model::kPatterns[s.pattern].model;
      }
    } else if (s.type == ShapeType::kBlob) {
      // Only emptiness is checked here: an image's size limit is reported by
      // the image decoder as ImageTooLargeException, as Rekognition does.
      if (s.has_min && s.min > 0 && v.get_ref<const std::string&>().empty()) {
        return "Member must have length greater than or equal to " + Num(s.min);
      }
    } else if (s.type == ShapeType::kInteger || s.type == ShapeType::kLong ||
               s.type == ShapeType::kFloat || s.type == ShapeType::kDouble) {
      double d = v.get<double>();
      if (s.has_min && d < s.min)
        return "Member must have value greater than or equal to " + Num(s.min);
      if (s.has_max && d > s.max)
        return "Member must have value less than or equal to " + Num(s.max);
    }
    return "";
  }

  void Report(const std::string& path, const json* v, const std::string& constraint) {
    if (violations.size() >= kMaxReported) return;
    std::string value = v == nullptr || v->is_null() ? "null" : "'" + Show(*v) + "'";
    if (v && v->is_object()) value = "";
    violations.push_back("Value " + (value.empty() ? std::string() : value + " ") + "at '" + path +
                         "' failed to satisfy constraint: " + constraint);
  }

  void Check(int shape, const json& v, const std::string& path, int depth) {
    const ShapeDef& s = model::kShapes[shape];
    if (depth > 32) return;  // the model has no deeper shapes; stop on hostile nesting
    if (!TypeMatches(s.type, v)) {
      if (type_error.empty()) {
        type_error = "Value at '" + path + "' must be " + ExpectedName(s.type) + ", not " +
                     JsonTypeName(v) + ".";
      }
      return;
    }
    switch (s.type) {
      case ShapeType::kStructure:
        for (int i = 0; i < s.member_count; ++i) {
          const model::MemberDef& m = model::kMembers[s.member_begin + i];
          std::string child = path.empty() ? LowerFirst(m.name) : path + "." + LowerFirst(m.name);
          auto it = v.find(m.name);
          if (it == v.end() || it->is_null()) {
            if (m.required) Report(child, nullptr, "Member must not be null");
            continue;
          }
          Check(m.shape, *it, child, depth + 1);
        }
        return;
      case ShapeType::kList:
      case ShapeType::kMap: {
        if (s.has_min && v.size() < s.min) {
          Report(path, &v, "Member must have length greater than or equal to " + Num(s.min));
        }
        if (s.has_max && v.size() > s.max) {
          Report(path, &v, "Member must have length less than or equal to " + Num(s.max));
        }
        if (s.element < 0) return;
        const ShapeDef& e = model::kShapes[s.element];
        bool scalar = e.type != ShapeType::kStructure && e.type != ShapeType::kList &&
                      e.type != ShapeType::kMap;
        size_t n = 0;
        for (auto it = v.begin(); it != v.end(); ++it, ++n) {
          if (s.type == ShapeType::kMap && s.key >= 0) {
            json key = it.key();
            std::string c = ScalarConstraint(model::kShapes[s.key], key);
            if (!c.empty()) Report(path, &key, "Map keys must satisfy constraint: [" + c + "]");
          }
          const json& elem = *it;
          std::string child = s.type == ShapeType::kList
                                  ? path + "." + std::to_string(n + 1) + ".member"
                                  : path + "." + it.key();
          if (scalar && !elem.is_null() && TypeMatches(e.type, elem)) {
            // AWS reports a bad element of a list of scalars on the list itself.
            std::string c = ScalarConstraint(e, elem);
            if (!c.empty()) {
              Report(path, &v, "Member must satisfy constraint: [" + c + "]");
              return;
            }
          } else if (elem.is_null()) {
            Report(child, nullptr, "Member must not be null");
          } else {
            Check(s.element, elem, child, depth + 1);
          }
        }
        return;
      }
      default: {
        std::string c = ScalarConstraint(s, v);
        if (!c.empty()) Report(path, &v, c);
        return;
      }
    }
  }
};

const model::OperationDef* FindOperation(std::string_view op) {
  const model::OperationDef* begin = model::kOperations;
  const model::OperationDef* end = model::kOperations + model::kOperationCount;
  auto it = std::lower_bound(begin, end, op, [](const model::OperationDef& d, std::string_view o) {
    return std::string_view(d.name) < o;
  });
  return it != end && std::string_view(it->name) == op ? it : nullptr;
}

}  // namespace

Status ValidateRequest(std::string_view operation, const json& request) {
  const model::OperationDef* op = FindOperation(operation);
  if (!op || op->input < 0) return Status::Ok();
  Validator v;
  v.Check(op->input, request, "", 0);
  if (!v.type_error.empty()) return Status(Code::kSerialization, v.type_error);
  if (v.violations.empty()) return Status::Ok();
  std::string msg =
      std::to_string(v.violations.size()) +
      (v.violations.size() == 1 ? " validation error detected: " : " validation errors detected: ");
  for (size_t i = 0; i < v.violations.size(); ++i) {
    if (i) msg += "; ";
    msg += v.violations[i];
  }
  return InvalidParameter(msg);
}

bool HasValidator(std::string_view operation) { return FindOperation(operation) != nullptr; }

std::vector<std::string> ModelOperations() {
  std::vector<std::string> ops;
  for (int i = 0; i < model::kOperationCount; ++i) ops.push_back(model::kOperations[i].name);
  return ops;
}

std::vector<std::string> BrokenPatterns() {
  std::vector<std::string> out;
  for (const auto& e : CompiledPatterns().errors) {
    if (!e.empty()) out.push_back(e);
  }
  return out;
}

}  // namespace argus::api
