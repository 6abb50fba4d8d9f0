#pragma once
// Rekognition request/response shape helpers shared by the handlers:
// Image parameter parsing and pixel → ratio conversions.
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "core/image.h"

namespace argus::api {

using json = nlohmann::json;

// Decodes the `Image` member ({"Bytes": base64} ; S3Object is refused).
Result<Image> ImageFromRequest(const json& request, const char* member = "Image");

// BoundingBox {Width, Height, Left, Top} as ratios of the image size.
json BoundingBoxJson(const cv::Rect2f& box, cv::Size image);
// {Type, X, Y} with X/Y as ratios of the image size.
json LandmarkJson(const char* type, cv::Point2f p, cv::Size image);

// Checks that `request` is an object and that member `name`, when present,
// has the given JSON type; InvalidParameter naming the member otherwise.
Status CheckMemberType(const json& request, const char* name, json::value_t type,
                       const char* type_name);

}  // namespace argus::api
