#include "api/rekognition/collection_shapes.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "api/rekognition/handlers.h"
#include "api/rekognition/shapes.h"
#include "core/hash.h"

namespace argus::api::coll {

Result<service::CollectionService*> Collections(Services& s) {
  if (!s.collections) {
    return Status(Code::kServiceUnavailable, "Collections are not enabled on this server.");
  }
  return s.collections;
}

namespace {

std::string Camel(const char* name) {
  std::string s = name;
  if (!s.empty()) s[0] = char(std::tolower(s[0]));
  return s;
}

Status Invalid(const char* name, const std::string& value, const std::string& constraint) {
  std::string v = value.size() > 64 ? value.substr(0, 64) + "..." : value;
  return InvalidParameter("1 validation error detected: Value '" + v + "' at '" + Camel(name) +
                          "' failed to satisfy constraint: " + constraint);
}

bool Chars(const std::string& s, const char* extra) {
  for (unsigned char c : s)
    if (!std::isalnum(c) && !std::strchr(extra, c)) return false;
  return true;
}

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

std::string Hash8(const std::string& s) { return Sha256Hex(s).substr(0, 8); }

}  // namespace

Result<std::string> String(const json& r, const char* name, Kind kind, bool required) {
  auto it = r.find(name);
  if (it == r.end() || it->is_null()) {
    if (required) return InvalidParameter(std::string(name) + " is required.");
    return std::string();
  }
  if (!it->is_string()) return InvalidParameter(std::string(name) + " must be a string.");
  std::string v = it->get<std::string>();
  auto length = [&](size_t lo, size_t hi) -> Status {
    if (v.size() < lo) {
      return Invalid(name, v,
                     "Member must have length greater than or equal to " + std::to_string(lo));
    }
    if (v.size() > hi) {
      return Invalid(name, v,
                     "Member must have length less than or equal to " + std::to_string(hi));
    }
    return Status::Ok();
  };
  switch (kind) {
    case Kind::kCollectionId:
      ARGUS_RETURN_IF_ERROR(length(1, 255));
      if (!Chars(v, "_.-"))
        return Invalid(name, v,
                       "Member must satisfy regular expression pattern: [a-zA-Z0-9_.\\-]+");
      break;
    case Kind::kUserId:
      ARGUS_RETURN_IF_ERROR(length(1, 128));
      if (!Chars(v, "_.-:"))
        return Invalid(name, v,
                       "Member must satisfy regular expression pattern: [a-zA-Z0-9_.\\-:]+");
      break;
    case Kind::kExternalImageId:
      ARGUS_RETURN_IF_ERROR(length(1, 255));
      if (!Chars(v, "_.-:"))
        return Invalid(name, v,
                       "Member must satisfy regular expression pattern: [a-zA-Z0-9_.\\-:]+");
      break;
    case Kind::kFaceId:
      if (!IsUuid(v)) {
        return Invalid(name, v,
                       "Member must satisfy regular expression pattern: "
                       "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
      }
      break;
    case Kind::kToken:
      ARGUS_RETURN_IF_ERROR(length(1, 64));
      if (!Chars(v, "-_"))
        return Invalid(name, v, "Member must satisfy regular expression pattern: ^[a-zA-Z0-9-_]+$");
      break;
    case Kind::kPagination:
      ARGUS_RETURN_IF_ERROR(length(0, 255));
      break;
    case Kind::kAny:
      break;
  }
  return v;
}

Result<int> Int(const json& r, const char* name, int lo, int hi, int def) {
  auto it = r.find(name);
  if (it == r.end() || it->is_null()) return def;
  if (!it->is_number_integer()) return InvalidParameter(std::string(name) + " must be an integer.");
  int64_t v = it->get<int64_t>();
  if (v < lo) {
    return Invalid(name, std::to_string(v),
                   "Member must have value greater than or equal to " + std::to_string(lo));
  }
  if (v > hi) {
    return Invalid(name, std::to_string(v),
                   "Member must have value less than or equal to " + std::to_string(hi));
  }
  return int(v);
}

Result<float> Float(const json& r, const char* name, float lo, float hi, float def) {
  auto it = r.find(name);
  if (it == r.end() || it->is_null()) return def;
  if (!it->is_number()) return InvalidParameter(std::string(name) + " must be a number.");
  double v = it->get<double>();
  if (!(v >= lo && v <= hi)) {
    return Invalid(name, it->dump(),
                   "Member must have value between " + std::to_string(int(lo)) + " and " +
                       std::to_string(int(hi)));
  }
  return float(v);
}

Result<std::vector<std::string>> FaceIds(const json& r, const char* name, size_t min_n,
                                         size_t max_n) {
  auto it = r.find(name);
  if (it == r.end() || it->is_null()) {
    if (min_n > 0) return InvalidParameter(std::string(name) + " is required.");
    return std::vector<std::string>{};
  }
  if (!it->is_array()) return InvalidParameter(std::string(name) + " must be a list of face ids.");
  if (it->size() < min_n) {
    return Invalid(name, it->dump(),
                   "Member must have length greater than or equal to " + std::to_string(min_n));
  }
  if (it->size() > max_n) {
    return Invalid(name, "[...]",
                   "Member must have length less than or equal to " + std::to_string(max_n));
  }
  std::vector<std::string> out;
  for (const auto& x : *it) {
    json one = {{name, x}};
    auto s = String(one, name, Kind::kFaceId, true);
    if (!s.ok()) return s.status();
    out.push_back(s.value());
  }
  return out;
}

Result<std::map<std::string, std::string>> Tags(const json& r) {
  std::map<std::string, std::string> tags;
  auto it = r.find("Tags");
  if (it == r.end() || it->is_null()) return tags;
  if (!it->is_object()) return InvalidParameter("Tags must be a map of strings to strings.");
  if (it->size() > 200)
    return Invalid("Tags", "{...}", "Member must have length less than or equal to 200");
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return InvalidParameter("Tag values must be strings.");
    if (k.empty() || k.size() > 128 || v.get<std::string>().size() > 256 ||
        k.rfind("aws:", 0) == 0) {
      return InvalidParameter(
          "Tag keys are 1..128 characters not starting with 'aws:'; values "
          "at most 256 characters.");
    }
    tags[k] = v.get<std::string>();
  }
  return tags;
}

Result<service::QualityFilter> Quality(const json& r, service::QualityFilter def) {
  auto s = String(r, "QualityFilter", Kind::kAny, false);
  if (!s.ok()) return s.status();
  if (s->empty()) return def;
  auto q = service::ParseQualityFilter(s.value());
  if (!q.ok()) {
    return Invalid("QualityFilter", s.value(),
                   "Member must satisfy enum value set: [NONE, AUTO, LOW, MEDIUM, HIGH]");
  }
  return q;
}

Result<RequestedAttributes> ParseAttributes(const json& r, const char* name) {
  // Rekognition's attribute names and what each asks of the face models.
  // BEARD, MUSTACHE, EYEGLASSES, SUNGLASSES and FACE_OCCLUDED are accepted
  // but no model here estimates them, so they are never in the answer.
  static const std::pair<const char*, service::AttributeSet> kNames[] = {
      {"DEFAULT", 0},
      {"ALL", service::kAttrAll},
      {"AGE_RANGE", service::kAttrAgeRange},
      {"BEARD", 0},
      {"EMOTIONS", service::kAttrEmotions},
      {"EYE_DIRECTION", service::kAttrEyeDirection},
      {"EYEGLASSES", 0},
      {"EYES_OPEN", service::kAttrEyesOpen},
      {"GENDER", service::kAttrGender},
      {"MOUTH_OPEN", service::kAttrMouthOpen},
      {"MUSTACHE", 0},
      {"FACE_OCCLUDED", 0},
      {"SMILE", service::kAttrSmile},
      {"SUNGLASSES", 0}};
  RequestedAttributes out;
  auto it = r.find(name);
  if (it == r.end() || it->is_null()) return out;
  if (!it->is_array()) return InvalidParameter(std::string(name) + " must be a list of strings.");
  for (const auto& a : *it) {
    if (!a.is_string()) return InvalidParameter(std::string(name) + " must be a list of strings.");
    const std::string s = a.get<std::string>();
    auto known = std::find_if(std::begin(kNames), std::end(kNames),
                              [&](const auto& n) { return s == n.first; });
    if (known == std::end(kNames)) {
      return Invalid(name, s,
                     "Member must satisfy enum value set: [DEFAULT, ALL, AGE_RANGE, BEARD, "
                     "EMOTIONS, EYE_DIRECTION, EYEGLASSES, EYES_OPEN, GENDER, MOUTH_OPEN, "
                     "MUSTACHE, FACE_OCCLUDED, SMILE, SUNGLASSES]");
    }
    if (s == "ALL") out.all = true;
    out.want |= known->second;
  }
  return out;
}

std::string FaceToken(const std::string& collection, int64_t after_label) {
  return "f" + Hash8(collection) + "." + std::to_string(after_label);
}

Result<int64_t> ParseFaceToken(const std::string& collection, const std::string& token) {
  Status bad(Code::kInvalidPaginationToken, "Invalid pagination token: " + token.substr(0, 64));
  if (token.size() < 11 || token[0] != 'f' || token.substr(1, 8) != Hash8(collection) ||
      token[9] != '.')
    return bad;
  std::string n = token.substr(10);
  if (n.empty() || n.size() > 18 || !Chars(n, "")) return bad;
  for (char c : n)
    if (!std::isdigit(static_cast<unsigned char>(c))) return bad;
  return int64_t(std::stoll(n));
}

std::string UserToken(const std::string& collection, const std::string& after) {
  return "u" + Hash8(collection) + "." + after;
}

Result<std::string> ParseUserToken(const std::string& collection, const std::string& token) {
  if (token.size() < 11 || token[0] != 'u' || token.substr(1, 8) != Hash8(collection) ||
      token[9] != '.' || !Chars(token.substr(10), "_.-:")) {
    return Status(Code::kInvalidPaginationToken,
                  "Invalid pagination token: " + token.substr(0, 64));
  }
  return token.substr(10);
}

std::string CollectionToken(const std::string& after) { return "c." + after; }

Result<std::string> ParseCollectionToken(const std::string& token) {
  if (token.size() < 3 || token.rfind("c.", 0) != 0 || !Chars(token.substr(2), "_.-")) {
    return Status(Code::kInvalidPaginationToken,
                  "Invalid pagination token: " + token.substr(0, 64));
  }
  return token.substr(2);
}

json FaceJson(const service::Face& f, bool with_user) {
  json j = {
      {"FaceId", f.face_id},
      {"BoundingBox", {{"Width", f.width}, {"Height", f.height}, {"Left", f.left}, {"Top", f.top}}},
      {"ImageId", f.image_id},
      {"Confidence", f.confidence},
      {"IndexFacesModelVersion", f.model_version},
  };
  if (!f.external_image_id.empty()) j["ExternalImageId"] = f.external_image_id;
  if (with_user && !f.user_id.empty()) j["UserId"] = f.user_id;
  return j;
}

json DetailJson(const service::FaceDetail& f, cv::Size image, bool all) {
  return FaceDetailJson(f, image, all);
}

}  // namespace argus::api::coll
