#include "api/rekognition/router.h"

#include <map>
#include <set>

#include "api/rekognition/errors.h"
#include "api/rekognition/validate.h"

namespace argus::api {
namespace {

using Handler = Result<json> (*)(const json&, Services&);

const std::map<std::string, Handler, std::less<>>& Routes() {
  static const std::map<std::string, Handler, std::less<>> routes = {
      {"DetectFaces", &DetectFaces},
      {"CompareFaces", &CompareFaces},
      {"CreateCollection", &CreateCollection},
      {"DescribeCollection", &DescribeCollection},
      {"ListCollections", &ListCollections},
      {"DeleteCollection", &DeleteCollection},
      {"IndexFaces", &IndexFaces},
      {"ListFaces", &ListFaces},
      {"DeleteFaces", &DeleteFaces},
      {"SearchFaces", &SearchFaces},
      {"SearchFacesByImage", &SearchFacesByImage},
      {"CreateUser", &CreateUser},
      {"DeleteUser", &DeleteUser},
      {"ListUsers", &ListUsers},
      {"AssociateFaces", &AssociateFaces},
      {"DisassociateFaces", &DisassociateFaces},
      {"SearchUsers", &SearchUsers},
      {"SearchUsersByImage", &SearchUsersByImage},
      {"TagResource", &TagResource},
      {"UntagResource", &UntagResource},
      {"ListTagsForResource", &ListTagsForResource},
      {"DetectLabels", &DetectLabels},
      {"DetectText", &DetectText},
      {"DetectModerationLabels", &DetectModerationLabels},
  };
  return routes;
}

constexpr std::string_view kPrefix = "RekognitionService.";

Response Error(const Status& st) {
  ErrorShape e = MapError(st.code());
  return {e.http_status, ErrorBody(st), e.type};
}

bool InModel(std::string_view op) {
  static const std::set<std::string, std::less<>> ops = [] {
    auto v = ModelOperations();
    return std::set<std::string, std::less<>>(v.begin(), v.end());
  }();
  return ops.count(op) > 0;
}

}  // namespace

Response Handle(std::string_view target, std::string_view body, Services& services, Gate* gate) {
  std::string_view op = target;
  if (op.substr(0, kPrefix.size()) == kPrefix) op.remove_prefix(kPrefix.size());
  auto it = Routes().find(op);
  Status unknown(Code::kUnknownOperation,
                 target.empty() ? std::string("Missing X-Amz-Target header.")
                                : "Operation " + std::string(target) +
                                      " is not supported by this server.");
  bool prefixed = target.substr(0, kPrefix.size()) == kPrefix;
  if (!prefixed || (it == Routes().end() && !(gate && InModel(op)))) return Error(unknown);
  json request = json::object();
  if (!body.empty()) {
    request = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) {
      return Error(InvalidParameter("Request body is not a valid JSON object."));
    }
  }
  // Every request is checked against the service model before its handler runs.
  if (Status st = ValidateRequest(op, request); !st.ok()) return Error(st);
  Result<json> result = Status(Code::kInternal, "handler did not run");
  Status admitted = gate ? gate->Admit(op, request) : Status::Ok();
  if (!admitted.ok()) {
    result = admitted;
  } else if (it == Routes().end()) {
    result = unknown;
  } else {
    try {
      result = it->second(request, services);
    } catch (const std::exception& e) {
      result = Internal(std::string("internal error: ") + e.what());
    }
  }
  if (gate) {
    if (Status st = gate->Complete(op, request, result); !st.ok()) return Error(st);
  }
  if (!result.ok()) return Error(result.status());
  return {200, result.value().dump(-1, ' ', false, json::error_handler_t::replace), ""};
}

std::vector<std::string> SupportedOperations() {
  std::vector<std::string> ops;
  for (const auto& [name, h] : Routes()) ops.push_back(name);
  return ops;
}

}  // namespace argus::api
