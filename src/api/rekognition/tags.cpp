// TagResource, UntagResource, ListTagsForResource for collections and (in
// stream_processors.cpp) stream processors. The tag argus:retention-days
// sets a collection's retention period (docs/POLICY.md).
#include "api/rekognition/collection_shapes.h"
#include "api/rekognition/handlers.h"

namespace argus::api {
namespace {

// The collection a ResourceArn names; ServiceUnavailable without collections.
Result<std::string> CollectionOf(const json& request, Services& s) {
  ARGUS_ASSIGN(svc, coll::Collections(s));
  auto it = request.find("ResourceArn");
  if (it == request.end() || !it->is_string()) {
    return InvalidParameter("ResourceArn is required.");
  }
  return svc->CollectionOfArn(it->get<std::string>());
}

// Whether the request's ResourceArn names a stream processor.
bool NamesProcessor(const json& request) {
  auto it = request.find("ResourceArn");
  return it != request.end() && it->is_string() && IsStreamProcessorArn(it->get<std::string>());
}

}  // namespace

Result<json> TagResource(const json& request, Services& services) {
  if (NamesProcessor(request)) return TagStreamProcessor(request, services);
  auto id = CollectionOf(request, services);
  if (!id.ok()) return id.status();
  auto tags = coll::Tags(request);
  if (!tags.ok()) return tags.status();
  ARGUS_RETURN_IF_ERROR(services.collections->TagCollection(id.value(), tags.value()));
  return json::object();
}

Result<json> UntagResource(const json& request, Services& services) {
  if (NamesProcessor(request)) return UntagStreamProcessor(request, services);
  auto id = CollectionOf(request, services);
  if (!id.ok()) return id.status();
  std::vector<std::string> keys;
  auto it = request.find("TagKeys");
  if (it == request.end() || !it->is_array()) return InvalidParameter("TagKeys is required.");
  for (const auto& k : *it) {
    if (!k.is_string()) return InvalidParameter("TagKeys must be a list of strings.");
    keys.push_back(k.get<std::string>());
  }
  ARGUS_RETURN_IF_ERROR(services.collections->UntagCollection(id.value(), keys));
  return json::object();
}

Result<json> ListTagsForResource(const json& request, Services& services) {
  if (NamesProcessor(request)) return ListStreamProcessorTags(request, services);
  auto id = CollectionOf(request, services);
  if (!id.ok()) return id.status();
  auto c = services.collections->DescribeCollection(id.value());
  if (!c.ok()) return c.status();
  return json{{"Tags", c->tags}};
}

}  // namespace argus::api
