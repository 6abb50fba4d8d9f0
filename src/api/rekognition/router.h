#pragma once
// Routes a Rekognition request (X-Amz-Target + JSON body) to its handler.
// The route table is in router.cpp.
#include <string>
#include <string_view>
#include <vector>

#include "api/rekognition/handlers.h"

namespace argus::api {

// What Handle calls around a handler: the use-policy and audit layer
// (src/server/gate.h), one object per request.
class Gate {
 public:
  virtual ~Gate() = default;
  // After validation, before the handler: may rewrite `request` within the
  // policy's constraints, or refuse it (the Status is the answer). Also
  // called for operations of the model this build does not implement.
  virtual Status Admit(std::string_view operation, json& request) = 0;
  // After Admit, with the answer (the handler's result, or Admit's refusal);
  // a non-OK Status replaces the answer (e.g. the audit record could not be
  // written).
  virtual Status Complete(std::string_view operation, const json& request,
                          const Result<json>& result) = 0;
};

struct Response {
  int http_status = 200;
  std::string body;
  std::string error_type;  // "" on success
};

// Handles one request. `target` is the X-Amz-Target header value
// ("RekognitionService.DetectFaces"); an empty body counts as {}. With a
// gate, operations of the model without a handler are validated and passed
// to the gate before they are refused as unknown.
Response Handle(std::string_view target, std::string_view body, Services& services,
                Gate* gate = nullptr);

// The operation names this build implements, sorted.
std::vector<std::string> SupportedOperations();

}  // namespace argus::api
