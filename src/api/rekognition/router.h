#pragma once
// Routes a Rekognition request (X-Amz-Target + JSON body) to its handler.
// The route table is the operation table (operations.cpp).
#include <string>
#include <string_view>
#include <vector>

#include "api/rekognition/operations.h"

namespace argus::api {

// What Handle calls around a handler: the use-policy, tenancy and audit
// layer (src/server/gate.h), one object per request. It reads requests and
// answers only through the operation table (operations.h).
class Gate {
 public:
  virtual ~Gate() = default;
  // Before the handler, for every request of an implemented operation, valid
  // or not: `invalid` is the request's parse or validation error (OK when
  // valid), which stays the answer. For a valid request it may raise
  // facts.threshold or set facts.max_results within the policy's
  // constraints, or refuse it (the Status is the answer).
  virtual Status Admit(RequestFacts& facts, const Status& invalid) = 0;
  // Whether the caller may see collection `id` (ListCollections).
  virtual bool MaySee(const std::string& id) = 0;
  // After Admit, with the answer (the handler's result, or the refusal); may
  // narrow a successful answer within the policy, and a non-OK Status
  // replaces the answer (e.g. the audit record could not be written).
  virtual Status Complete(const RequestFacts& facts, Result<json>& result) = 0;
};

struct Response {
  int http_status = 200;
  std::string body;
  std::string error_type;  // "" on success
  long faces_indexed = 0;  // results of an operation that counts them (metrics)
};

// Handles one request. `target` is the X-Amz-Target header value
// ("RekognitionService.DetectFaces"); an empty body counts as {}.
// Operations without a handler are refused as unknown before the gate.
Response Handle(std::string_view target, std::string_view body, Services& services,
                Gate* gate = nullptr);

// The operation names this build implements, sorted.
std::vector<std::string> SupportedOperations();

}  // namespace argus::api
