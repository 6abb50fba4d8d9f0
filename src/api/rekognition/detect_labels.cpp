#include <set>
#include <string>

#include "api/rekognition/handlers.h"
#include "api/rekognition/request_params.h"
#include "api/rekognition/shapes.h"
#include "service/labels.h"

namespace argus::api {
namespace {

json Names(const std::vector<std::string>& names) {
  json out = json::array();
  for (const auto& n : names) out.push_back({{"Name", n}});
  return out;
}

json Colors(const std::vector<vision::DominantColor>& colors) {
  json out = json::array();
  for (const auto& c : colors) {
    out.push_back({{"Red", c.rgb[0]},
                   {"Green", c.rgb[1]},
                   {"Blue", c.rgb[2]},
                   {"HexCode", c.hex},
                   {"CSSColor", c.css_name},
                   {"SimplifiedColor", c.simplified},
                   {"PixelPercent", c.pixel_percent}});
  }
  return out;
}

json Region(const service::RegionProperties& r) {
  return {{"Quality", {{"Brightness", r.quality.brightness}, {"Sharpness", r.quality.sharpness}}},
          {"DominantColors", Colors(r.colors)}};
}

Status ParseFeatures(const json& request, service::LabelOptions& o) {
  auto it = request.find("Features");
  if (it == request.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) return InvalidParameter("Features must be a list of strings.");
  if (it->empty()) return Status::Ok();
  o.general_labels = o.image_properties = false;
  for (const auto& f : *it) {
    if (f == "GENERAL_LABELS")
      o.general_labels = true;
    else if (f == "IMAGE_PROPERTIES")
      o.image_properties = true;
    else
      return InvalidParameter(
          "1 validation error detected: Value at 'features' failed to satisfy constraint: "
          "Member must satisfy constraint: [Member must satisfy enum value set: "
          "[GENERAL_LABELS, IMAGE_PROPERTIES]]");
  }
  return Status::Ok();
}

Status ParseSettings(const json& request, service::LabelOptions& o) {
  auto settings = ObjectParam(request, "Settings");
  if (!settings.ok()) return settings.status();
  if (!settings.value()) return Status::Ok();
  const json& s = *settings.value();
  auto general = ObjectParam(s, "GeneralLabels", "settings");
  if (!general.ok()) return general.status();
  if (const json* g = general.value()) {
    const std::string at = "settings.generalLabels";
    struct {
      const char* name;
      std::vector<std::string>* out;
    } lists[] = {{"LabelInclusionFilters", &o.include_labels},
                 {"LabelExclusionFilters", &o.exclude_labels},
                 {"LabelCategoryInclusionFilters", &o.include_categories},
                 {"LabelCategoryExclusionFilters", &o.exclude_categories}};
    for (auto& l : lists) {
      auto v = StringListParam(*g, l.name, 100, 100, at);
      if (!v.ok()) return v.status();
      *l.out = std::move(v.value());
    }
  }
  auto props = ObjectParam(s, "ImageProperties", "settings");
  if (!props.ok()) return props.status();
  if (const json* p = props.value()) {
    auto n = IntParam(*p, "MaxDominantColors", 0, 20, 10, "settings.imageProperties");
    if (!n.ok()) return n.status();
    o.max_dominant_colors = int(n.value());
  }
  return Status::Ok();
}

}  // namespace

Status ParseLabelFeatures(const json& request, service::LabelOptions& options) {
  ARGUS_RETURN_IF_ERROR(ParseFeatures(request, options));
  return ParseSettings(request, options);
}

Result<json> DetectLabels(const json& request, Services& services) {
  service::LabelOptions o;
  auto max_labels = IntParam(request, "MaxLabels", 0, 2147483647LL, 1000);
  if (!max_labels.ok()) return max_labels.status();
  o.max_labels = int(std::min<long long>(max_labels.value(), 1000));
  auto min_conf = NumberParam(request, "MinConfidence", 0, 100, 55);
  if (!min_conf.ok()) return min_conf.status();
  o.min_confidence = float(min_conf.value());
  ARGUS_RETURN_IF_ERROR(ParseFeatures(request, o));
  ARGUS_RETURN_IF_ERROR(ParseSettings(request, o));
  auto image = ImageFromRequest(request);
  if (!image.ok()) return image.status();
  if (!services.labels) return Status(Code::kServiceUnavailable, "DetectLabels is not configured.");
  auto r = services.labels->DetectLabels(image.value(), o);
  if (!r.ok()) return r.status();
  const cv::Size size = image->bgr.size();
  json labels = json::array();
  for (const auto& l : r->labels) {
    json instances = json::array();
    for (const auto& i : l.instances)
      instances.push_back(
          {{"BoundingBox", BoundingBoxJson(i.box, size)}, {"Confidence", i.confidence}});
    labels.push_back({{"Name", l.name},
                      {"Confidence", l.confidence},
                      {"Instances", instances},
                      {"Parents", Names(l.parents)},
                      {"Aliases", Names(l.aliases)},
                      {"Categories", Names(l.categories)}});
  }
  json out = {{"Labels", labels},
              {"LabelModelVersion", service::LabelService::LabelModelVersion()}};
  if (r->properties) {
    const auto& p = *r->properties;
    json props = {{"Quality",
                   {{"Brightness", p.image.quality.brightness},
                    {"Sharpness", p.image.quality.sharpness},
                    {"Contrast", p.image.quality.contrast}}},
                  {"DominantColors", Colors(p.image.colors)}};
    if (p.foreground) props["Foreground"] = Region(*p.foreground);
    if (p.background) props["Background"] = Region(*p.background);
    out["ImageProperties"] = props;
  }
  return out;
}

}  // namespace argus::api
