#include <algorithm>
#include <string>

#include "api/rekognition/handlers.h"
#include "api/rekognition/request_params.h"
#include "api/rekognition/shapes.h"
#include "service/text.h"

namespace argus::api {
namespace {

constexpr float kEps = 1e-6f;

Status OutsideImage(const std::string& what) {
  return InvalidParameter("RegionsOfInterest: " + what +
                          " lies outside the image; coordinates are ratios of the image size "
                          "between 0 and 1.");
}

Result<service::TextRegion> ParseRegion(const json& r, size_t index) {
  const std::string at = "filters.regionsOfInterest." + std::to_string(index + 1);
  if (!r.is_object()) return InvalidParameter(at + " must be an object.");
  service::TextRegion region;
  auto poly = r.find("Polygon");
  auto box = r.find("BoundingBox");
  bool has_poly = poly != r.end() && !poly->is_null();
  bool has_box = box != r.end() && !box->is_null();
  if (!has_poly && !has_box) return InvalidParameter(at + " needs a BoundingBox or a Polygon.");
  if (has_box) {
    if (!box->is_object()) return InvalidParameter(at + ".boundingBox must be an object.");
    float v[4];
    const char* names[4] = {"Left", "Top", "Width", "Height"};
    for (int i = 0; i < 4; ++i) {
      auto n = NumberParam(*box, names[i], -1e9, 1e9, i < 2 ? 0.0 : 1.0, at + ".boundingBox");
      if (!n.ok()) return n.status();
      v[i] = float(n.value());
    }
    if (v[2] <= 0 || v[3] <= 0)
      return InvalidParameter(at + ".boundingBox: Width and Height must be greater than 0.");
    if (v[0] < -kEps || v[1] < -kEps || v[0] + v[2] > 1 + kEps || v[1] + v[3] > 1 + kEps)
      return OutsideImage("region " + std::to_string(index + 1) + "'s BoundingBox");
    region.box = cv::Rect2f(v[0], v[1], v[2], v[3]);
  }
  if (has_poly) {
    if (!poly->is_array() || poly->size() < 3)
      return InvalidParameter(at + ".polygon must be a list of at least 3 points.");
    for (const auto& p : *poly) {
      if (!p.is_object()) return InvalidParameter(at + ".polygon points must be objects {X, Y}.");
      auto x = NumberParam(p, "X", -1e9, 1e9, 0, at + ".polygon");
      if (!x.ok()) return x.status();
      auto y = NumberParam(p, "Y", -1e9, 1e9, 0, at + ".polygon");
      if (!y.ok()) return y.status();
      if (x.value() < -kEps || x.value() > 1 + kEps || y.value() < -kEps || y.value() > 1 + kEps)
        return OutsideImage("region " + std::to_string(index + 1) + "'s Polygon");
      region.polygon.emplace_back(float(x.value()), float(y.value()));
    }
  }
  return region;
}

Status ParseFilters(const json& request, service::TextOptions& o) {
  auto filters = ObjectParam(request, "Filters");
  if (!filters.ok()) return filters.status();
  if (!filters.value()) return Status::Ok();
  const json& f = *filters.value();
  auto word = ObjectParam(f, "WordFilter", "filters");
  if (!word.ok()) return word.status();
  if (const json* w = word.value()) {
    const std::string at = "filters.wordFilter";
    auto c = NumberParam(*w, "MinConfidence", 0, 100, 0, at);
    if (!c.ok()) return c.status();
    auto h = NumberParam(*w, "MinBoundingBoxHeight", 0, 1, 0, at);
    if (!h.ok()) return h.status();
    auto wd = NumberParam(*w, "MinBoundingBoxWidth", 0, 1, 0, at);
    if (!wd.ok()) return wd.status();
    o.min_confidence = float(c.value());
    o.min_box_height = float(h.value());
    o.min_box_width = float(wd.value());
  }
  auto rois = f.find("RegionsOfInterest");
  if (rois != f.end() && !rois->is_null()) {
    if (!rois->is_array()) return InvalidParameter("filters.regionsOfInterest must be a list.");
    if (rois->size() > 10)
      return InvalidParameter(
          "1 validation error detected: Value at 'filters.regionsOfInterest' failed to satisfy "
          "constraint: Member must have length less than or equal to 10");
    for (size_t i = 0; i < rois->size(); ++i) {
      auto r = ParseRegion((*rois)[i], i);
      if (!r.ok()) return r.status();
      o.regions.push_back(std::move(r.value()));
    }
  }
  return Status::Ok();
}

}  // namespace

json TextGeometryJson(const service::Quad& q, cv::Size size) {
  float x0 = q[0].x, x1 = q[0].x, y0 = q[0].y, y1 = q[0].y;
  json poly = json::array();
  for (const auto& p : q) {
    float x = std::clamp(p.x, 0.f, float(size.width)), y = std::clamp(p.y, 0.f, float(size.height));
    x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    poly.push_back({{"X", x / size.width}, {"Y", y / size.height}});
  }
  x0 = std::max(x0, 0.f), y0 = std::max(y0, 0.f);
  return {{"BoundingBox", BoundingBoxJson(cv::Rect2f(x0, y0, x1 - x0, y1 - y0), size)},
          {"Polygon", poly}};
}

Status ParseTextFilters(const json& request, service::TextOptions& options) {
  return ParseFilters(request, options);
}

Result<json> DetectText(const json& request, Services& services) {
  service::TextOptions o;
  ARGUS_RETURN_IF_ERROR(ParseFilters(request, o));
  auto image = ImageFromRequest(request);
  if (!image.ok()) return image.status();
  if (!services.text) return Status(Code::kServiceUnavailable, "DetectText is not configured.");
  auto r = services.text->DetectText(image.value(), o);
  if (!r.ok()) return r.status();
  const cv::Size size = image->bgr.size();
  json detections = json::array();
  for (const auto& d : r.value()) {
    json j = {{"DetectedText", d.text},
              {"Type", d.type == service::TextDetection::Type::kLine ? "LINE" : "WORD"},
              {"Id", d.id}};
    if (d.parent_id >= 0) j["ParentId"] = d.parent_id;
    j["Confidence"] = d.confidence;
    j["Geometry"] = TextGeometryJson(d.quad, size);
    detections.push_back(std::move(j));
  }
  return json{{"TextDetections", detections},
              {"TextModelVersion", service::TextService::TextModelVersion()}};
}

}  // namespace argus::api
