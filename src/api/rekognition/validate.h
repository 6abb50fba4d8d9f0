#pragma once
// Request validation from the Rekognition service model: required members,
// lengths, patterns, value ranges and enums, exactly as the model states them
// (tables generated at build time; see validate_model.h). Members the model
// does not know are ignored, as AWS ignores them.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace argus::api {

// Checks `request` against the input shape of `operation`. OK when valid or
// when the model has no such operation (HasValidator tells which).
// Constraint violations → InvalidParameter with AWS's wording:
//   "1 validation error detected: Value '0' at 'maxFaces' failed to satisfy
//    constraint: Member must have value greater than or equal to 1"
// A member of the wrong JSON type → Serialization naming the member.
Status ValidateRequest(std::string_view operation, const nlohmann::json& request);

bool HasValidator(std::string_view operation);

// Every operation of the model (and its supplement), sorted.
std::vector<std::string> ModelOperations();

// Compiles every pattern of the model; returns the ones that fail (for tests).
std::vector<std::string> BrokenPatterns();

}  // namespace argus::api
