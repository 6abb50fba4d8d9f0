#pragma once
// Operation handlers: parse the request shape, call one service function,
// write the response shape. Errors are returned as Status (errors.cpp maps
// them).
#include <nlohmann/json.hpp>

#include "core/status.h"
#include "service/faces.h"
#include "service/labels.h"
#include "service/moderation.h"
#include "service/text.h"

namespace argus::api {

// What the handlers may call. Owned by the server (or the CLI).
struct Services {
  service::FaceService* faces = nullptr;
  service::LabelService* labels = nullptr;
  service::TextService* text = nullptr;
  service::ModerationService* moderation = nullptr;
};

using json = nlohmann::json;

Result<json> DetectFaces(const json& request, Services& services);
Result<json> DetectLabels(const json& request, Services& services);
Result<json> DetectText(const json& request, Services& services);
Result<json> DetectModerationLabels(const json& request, Services& services);

}  // namespace argus::api
