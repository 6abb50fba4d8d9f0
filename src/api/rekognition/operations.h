#pragma once
// The operation table: one OpSpec per operation of the Rekognition model
// (and its Users supplement). It holds everything the layers around a
// handler need to know about an operation: the handler, the policy class,
// where the request keeps its threshold, result cap, collection and face
// attributes, where the answer keeps its results, whether it erases, and
// what the metrics count. The router, the request gate, `argus policy test`
// and the server's metrics read it; nothing else names request members.
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/rekognition/handlers.h"
#include "policy/policy.h"

namespace argus::api {

using Handler = Result<json> (*)(const json&, Services&);

struct OpSpec {
  const char* name;
  // Null for an operation of the model this build does not implement: the
  // router refuses it as unknown before any policy or audit.
  Handler handler;
  policy::OpClass op_class;
  // When set, the class of a request whose attributes ask for more than
  // DEFAULT (DetectFaces: face_attributes).
  std::optional<policy::OpClass> attributes_class = std::nullopt;
  // Similarity threshold member and the handler's default for it.
  const char* threshold = nullptr;
  double default_threshold = 80;
  // Result cap member a policy may lower (MaxFaces, MaxUsers).
  const char* max_results = nullptr;
  // The answer's list of results and, in each item, its similarity.
  const char* results = nullptr;
  const char* similarity = nullptr;
  // CompareFaces: the answer's list of target faces that did not match.
  // The target's face count is results + unmatched; more than one face makes
  // the request an identification (docs/POLICY.md).
  const char* unmatched = nullptr;
  // The member naming the collection: "CollectionId", or "ResourceArn" for
  // the tag operations. Tenancy is enforced on it.
  const char* collection = nullptr;
  // Members listing requested face attributes.
  const char* attributes = nullptr;
  // Erasures are audited whatever the class.
  bool erases = false;
  // Audited whatever the class and the decision: the ArgusAdmin reads of
  // the audit log itself (who looked at who searched for whom).
  bool audited = false;
  // The answer's results count as faces indexed (metrics).
  bool counts_faces_indexed = false;
  // Tenancy: what the operation does to the collection it names. kRead is
  // allowed by a read-only share, kWrite and kDelete need the owner, a full
  // share or an admin; kCreate makes the caller the owner, kDelete drops
  // the grants; kList shows only the collections the caller may see.
  enum class Access { kNone, kRead, kWrite, kCreate, kDelete, kList };
  Access access = Access::kNone;
  // When set, each item of `results` lists its matches in this member, and
  // those carry the similarity (GetFaceSearch: Persons[].FaceMatches[]).
  const char* nested_results = nullptr;
  // The member naming a job ("JobId"): read from the request, or from the
  // answer of the operation that starts it; the audit record names it.
  const char* job_id = nullptr;
  // A stream processor operation (Create/Start/UpdateStreamProcessor): its
  // class is op_class (realtime identification) for a FaceSearch processor,
  // labels for a ConnectedHome one, and the collection it searches is the
  // request's (read through the stored processor for Start and Update).
  bool stream_processor = false;
};

// The member ApplyRequestFacts adds to a StartStreamProcessor request when
// a policy raises the face search threshold of the session it starts.
inline constexpr const char* kStreamThresholdFloor = "ArgusFaceMatchThresholdFloor";

// The row of `name` ("SearchFacesByImage"), or null when the model has no
// such operation.
const OpSpec* FindOperation(std::string_view name);
// Every row, sorted by name.
const std::vector<OpSpec>& Operations();

// Face attributes a request asks for, upper case as sent ("ALL", ...).
std::set<std::string> RequestedAttributes(const OpSpec& op, const json& request);
// The policy class of a request: op.attributes_class when it asks for
// attributes beyond DEFAULT, else op.op_class.
policy::OpClass ClassOf(const OpSpec& op, const json& request);

// What the gate and the policy need from a request, read through the table.
// Tolerant of invalid requests (a member of the wrong type reads as absent).
struct RequestFacts {
  const OpSpec* op = nullptr;
  policy::OpClass op_class = policy::OpClass::kAdmin;
  std::set<std::string> attributes;
  std::string collection;  // "" when the operation names none, or it cannot be read
  // The threshold asked (or the handler's default) when op->threshold; the
  // gate may raise it and the router writes it back.
  std::optional<double> threshold;
  bool threshold_changed = false;
  // The cap asked, when op->max_results and the request sets it to an
  // integer; the gate may lower (or set) it and the router writes it back.
  std::optional<int64_t> max_results;
  bool max_results_changed = false;
  std::string job_id;  // op->job_id of the request, "" when absent
};

// What the gate needs from an answer, read through the table.
struct ResultFacts {
  std::optional<int64_t> count;      // size of op->results (or of the nested matches)
  std::vector<double> similarities;  // of the results that carry one
  int64_t unmatched = 0;             // size of op->unmatched
  std::string job_id;                // op->job_id of the answer, "" when absent
};

RequestFacts ReadRequestFacts(const OpSpec& op, const json& request, Services& services);
// Writes a changed threshold or cap back into `request`.
void ApplyRequestFacts(const RequestFacts& facts, json& request);
ResultFacts ReadResultFacts(const OpSpec& op, const json& answer);
// CompareFaces under a raised floor: moves the results whose similarity is
// under `floor` to the unmatched list, as a lower-scoring face is answered.
void DropResultsUnder(const OpSpec& op, double floor, json& answer);

}  // namespace argus::api
