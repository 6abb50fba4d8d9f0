#include <string>

#include "api/rekognition/handlers.h"
#include "api/rekognition/request_params.h"
#include "api/rekognition/shapes.h"
#include "service/moderation.h"

namespace argus::api {

Result<json> DetectModerationLabels(const json& request, Services& services) {
  auto min_conf = NumberParam(request, "MinConfidence", 0, 100, 50);
  if (!min_conf.ok()) return min_conf.status();
  // Custom moderation adapters do not exist here. HumanLoopConfig (Amazon
  // Augmented AI review) is accepted and ignored: no human review loop runs.
  if (auto it = request.find("ProjectVersion"); it != request.end() && !it->is_null()) {
    return Status(Code::kResourceNotFound,
                  "ProjectVersion: argus has no custom moderation adapters; omit ProjectVersion "
                  "to use the built-in model.");
  }
  if (auto it = request.find("HumanLoopConfig");
      it != request.end() && !it->is_null() && !it->is_object()) {
    return InvalidParameter("HumanLoopConfig must be an object.");
  }
  auto image = ImageFromRequest(request);
  if (!image.ok()) return image.status();
  if (!services.moderation)
    return Status(Code::kServiceUnavailable, "DetectModerationLabels is not configured.");
  auto r = services.moderation->Detect(image.value(), float(min_conf.value()));
  if (!r.ok()) return r.status();
  json labels = json::array();
  for (const auto& l : r->labels) {
    labels.push_back({{"Confidence", l.confidence},
                      {"Name", l.name},
                      {"ParentName", l.parent},
                      {"TaxonomyLevel", l.taxonomy_level}});
  }
  json types = json::array();
  for (const auto& t : r->content_types)
    types.push_back({{"Confidence", t.confidence}, {"Name", t.name}});
  return json{{"ModerationLabels", labels},
              {"ModerationModelVersion", service::ModerationService::ModerationModelVersion()},
              {"ContentTypes", types}};
}

}  // namespace argus::api
