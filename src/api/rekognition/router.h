#pragma once
// Routes a Rekognition request (X-Amz-Target + JSON body) to its handler.
// The route table is in router.cpp.
#include <string>
#include <string_view>
#include <vector>

#include "api/rekognition/handlers.h"

namespace argus::api {

struct Response {
  int http_status = 200;
  std::string body;
  std::string error_type;  // "" on success
};

// Handles one request. `target` is the X-Amz-Target header value
// ("RekognitionService.DetectFaces"); an empty body counts as {}.
Response Handle(std::string_view target, std::string_view body, Services& services);

// The operation names this build implements, sorted.
std::vector<std::string> SupportedOperations();

}  // namespace argus::api
