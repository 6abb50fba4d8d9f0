// libFuzzer target: the request parser: JSON body → model validation → Image
// member (base64 / S3Object / decode), as the router runs them before a handler.
// The first byte picks the operation.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/rekognition/shapes.h"
#include "api/rekognition/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::string> ops = argus::api::ModelOperations();
  if (size == 0) return 0;
  const std::string& op = ops[data[0] % ops.size()];
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  nlohmann::json request = nlohmann::json::object();
  if (!body.empty()) {
    request = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) return 0;
  }
  argus::Status st = argus::api::ValidateRequest(op, request);
  if (st.ok() && request.contains("Image")) (void)argus::api::ImageFromRequest(request);
  if (!st.ok() && st.message().empty()) __builtin_trap();
  // Responses are serialised the same way, invalid UTF-8 replaced.
  (void)request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
