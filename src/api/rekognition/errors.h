#pragma once
// The one place where a Status becomes an HTTP status and a Rekognition
// `__type`.
#include <string>

#include "core/status.h"

namespace argus::api {

struct ErrorShape {
  int http_status;
  std::string type;  // e.g. "InvalidParameterException"
};

ErrorShape MapError(Code code);

// {"__type": ..., "message": ...}
std::string ErrorBody(const Status& status);

}  // namespace argus::api
