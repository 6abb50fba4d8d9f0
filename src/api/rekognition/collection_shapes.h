#pragma once
// Request parameters and response shapes shared by the collection, face and
// user operations.
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "service/collections.h"

namespace argus::api {
struct Services;
}

namespace argus::api::coll {

using json = nlohmann::json;

// The server's collection service; ServiceUnavailable when collections are
// not enabled.
Result<service::CollectionService*> Collections(Services& s);

// A string member; `required` → InvalidParameter when absent. Checked against
// Rekognition's length and pattern for `kind`.
enum class Kind { kCollectionId, kUserId, kExternalImageId, kFaceId, kToken, kPagination, kAny };
Result<std::string> String(const json& r, const char* name, Kind kind, bool required);
Result<int> Int(const json& r, const char* name, int lo, int hi, int def);
Result<float> Float(const json& r, const char* name, float lo, float hi, float def);
Result<std::vector<std::string>> FaceIds(const json& r, const char* name, size_t min_n,
                                         size_t max_n);
Result<std::map<std::string, std::string>> Tags(const json& r);
// QualityFilter; `def` when absent (AUTO for IndexFaces, NONE for the searches).
Result<service::QualityFilter> Quality(const json& r, service::QualityFilter def);
// DetectionAttributes / Attributes: Rekognition's attribute names. `all`
// when ALL is asked for (all 30 landmarks); `want` the attribute models to run.
struct RequestedAttributes {
  bool all = false;
  service::AttributeSet want = 0;
};
Result<RequestedAttributes> ParseAttributes(const json& r, const char* name);

// Pagination tokens, opaque to clients and bound to their collection.
std::string FaceToken(const std::string& collection, int64_t after_label);
Result<int64_t> ParseFaceToken(const std::string& collection, const std::string& token);
std::string UserToken(const std::string& collection, const std::string& after);
Result<std::string> ParseUserToken(const std::string& collection, const std::string& token);
std::string CollectionToken(const std::string& after);
Result<std::string> ParseCollectionToken(const std::string& token);

// Face {FaceId, BoundingBox, ImageId, ExternalImageId, Confidence,
// IndexFacesModelVersion[, UserId]}.
json FaceJson(const service::Face& f, bool with_user);
// {BoundingBox, Landmarks, Pose, Quality, Confidence} of a detected face.
json DetailJson(const service::FaceDetail& f, cv::Size image, bool all);

}  // namespace argus::api::coll
