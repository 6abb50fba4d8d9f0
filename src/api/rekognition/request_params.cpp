#include "api/rekognition/request_params.h"

#include <cctype>
#include <cmath>

namespace argus::api {
namespace {

std::string Path(const std::string& path, const std::string& name) {
  return path.empty() ? MemberPath(name) : path + "." + MemberPath(name);
}

Status Violation(const nlohmann::json& v, const std::string& at, const std::string& what) {
  std::string value = v.is_string() ? v.get<std::string>() : v.dump();
  return InvalidParameter("1 validation error detected: Value '" + value + "' at '" + at +
                          "' failed to satisfy constraint: " + what);
}

std::string Num(double x) {
  if (x == std::floor(x) && std::abs(x) < 1e15) return std::to_string((long long)x);
  return nlohmann::json(x).dump();
}

}  // namespace

std::string MemberPath(const std::string& name) {
  std::string s = name;
  if (!s.empty()) s[0] = char(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

Result<double> NumberParam(const nlohmann::json& obj, const std::string& name, double lo, double hi,
                           double def, const std::string& path) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return def;
  const std::string at = Path(path, name);
  if (!it->is_number()) return InvalidParameter(at + " must be a number.");
  double v = it->get<double>();
  if (!std::isfinite(v) || v < lo)
    return Violation(*it, at, "Member must have value greater than or equal to " + Num(lo));
  if (v > hi) return Violation(*it, at, "Member must have value less than or equal to " + Num(hi));
  return v;
}

Result<long long> IntParam(const nlohmann::json& obj, const std::string& name, long long lo,
                           long long hi, long long def, const std::string& path) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return def;
  const std::string at = Path(path, name);
  if (!it->is_number_integer()) return InvalidParameter(at + " must be an integer.");
  long long v = it->get<long long>();
  if (v < lo)
    return Violation(*it, at, "Member must have value greater than or equal to " + Num(lo));
  if (v > hi) return Violation(*it, at, "Member must have value less than or equal to " + Num(hi));
  return v;
}

Result<std::vector<std::string>> StringListParam(const nlohmann::json& obj, const std::string& name,
                                                 size_t max_items, size_t max_len,
                                                 const std::string& path) {
  std::vector<std::string> out;
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return out;
  const std::string at = Path(path, name);
  if (!it->is_array()) return InvalidParameter(at + " must be a list of strings.");
  if (it->size() > max_items)
    return Violation(*it, at,
                     "Member must have length less than or equal to " + std::to_string(max_items));
  for (const auto& s : *it) {
    if (!s.is_string()) return InvalidParameter(at + " must be a list of strings.");
    const std::string& v = s.get_ref<const std::string&>();
    if (v.empty() || v.size() > max_len)
      return Violation(s, at + ".member",
                       "Member must have length between 1 and " + std::to_string(max_len));
    out.push_back(v);
  }
  return out;
}

Result<const nlohmann::json*> ObjectParam(const nlohmann::json& obj, const std::string& name,
                                          const std::string& path) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return static_cast<const nlohmann::json*>(nullptr);
  if (!it->is_object()) return InvalidParameter(Path(path, name) + " must be an object.");
  return &*it;
}

}  // namespace argus::api
