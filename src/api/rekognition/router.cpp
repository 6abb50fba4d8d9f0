#include "api/rekognition/router.h"

#include "api/rekognition/admin.h"
#include "api/rekognition/errors.h"
#include "api/rekognition/validate.h"

namespace argus::api {
namespace {

constexpr std::string_view kPrefix = "RekognitionService.";
constexpr std::string_view kAdminPrefix = "ArgusAdmin.";

Response Error(const Status& st) {
  ErrorShape e = MapError(st.code());
  return {e.http_status, ErrorBody(st), e.type};
}

}  // namespace

Response Handle(std::string_view target, std::string_view body, Services& services, Gate* gate) {
  std::string_view name = target;
  bool prefixed = target.substr(0, kPrefix.size()) == kPrefix;
  if (prefixed) name.remove_prefix(kPrefix.size());
  const OpSpec* op = prefixed ? FindOperation(name) : nullptr;
  const bool admin_op = !prefixed && target.substr(0, kAdminPrefix.size()) == kAdminPrefix;
  if (admin_op) op = FindAdminOperation(target.substr(kAdminPrefix.size()));
  if (!op || !op->handler) {
    return Error(Status(Code::kUnknownOperation, target.empty()
                                                     ? std::string("Missing X-Amz-Target header.")
                                                     : "Operation " + std::string(target) +
                                                           " is not supported by this server."));
  }
  if (admin_op && !services.admin) {
    return Error(Status(Code::kAccessDenied, "Operation " + std::string(target) +
                                                 " is for administrator keys only (argus keys "
                                                 "create --admin)."));
  }
  json request = json::object();
  Status invalid = Status::Ok();
  if (!body.empty()) {
    request = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) {
      request = json::object();
      invalid = InvalidParameter("Request body is not a valid JSON object.");
    }
  }
  // Every request is checked against the service model before its handler runs.
  if (invalid.ok()) invalid = ValidateRequest(op->name, request);
  if (!gate) {
    if (!invalid.ok()) return Error(invalid);
  }
  RequestFacts facts = ReadRequestFacts(*op, request, services);
  Result<json> result = invalid;
  Status admitted = gate ? gate->Admit(facts, invalid) : invalid;
  if (admitted.ok()) {
    ApplyRequestFacts(facts, request);
    Services scoped = services;
    if (gate) scoped.may_see = [gate](const std::string& id) { return gate->MaySee(id); };
    try {
      result = op->handler(request, scoped);
    } catch (const std::exception& e) {
      result = Internal(std::string("internal error: ") + e.what());
    }
  } else {
    result = admitted;
  }
  if (gate) {
    if (Status st = gate->Complete(facts, result); !st.ok()) return Error(st);
  }
  if (!result.ok()) return Error(result.status());
  Response r{200, result.value().dump(-1, ' ', false, json::error_handler_t::replace), ""};
  if (op->counts_faces_indexed)
    r.faces_indexed = long(ReadResultFacts(*op, result.value()).count.value_or(0));
  return r;
}

std::vector<std::string> SupportedOperations() {
  std::vector<std::string> ops;
  for (const auto& op : Operations()) {
    if (op.handler) ops.push_back(op.name);
  }
  return ops;
}

}  // namespace argus::api
