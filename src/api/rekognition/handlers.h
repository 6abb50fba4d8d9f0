#pragma once
// Operation handlers: parse the request shape, call one service function,
// write the response shape. Errors are returned as Status (errors.cpp maps
// them).
#include <nlohmann/json.hpp>

#include "core/status.h"
#include "service/faces.h"

namespace argus::api {

// What the handlers may call. Owned by the server (or the CLI).
struct Services {
  service::FaceService* faces = nullptr;
};

using json = nlohmann::json;

Result<json> DetectFaces(const json& request, Services& services);

}  // namespace argus::api
