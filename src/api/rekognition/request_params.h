#pragma once
// Typed access to optional request members with Rekognition-style
// validation messages ("1 validation error detected: Value '150' at
// 'minConfidence' failed to satisfy constraint: ...").
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace argus::api {

// lowerCamel of a member name, as Rekognition's messages spell it ("MinConfidence" →
// "minConfidence").
std::string MemberPath(const std::string& name);

// A number member in [lo, hi]; `def` when absent or null.
Result<double> NumberParam(const nlohmann::json& obj, const std::string& name, double lo, double hi,
                           double def, const std::string& path = "");
// An integer member in [lo, hi]; `def` when absent or null.
Result<long long> IntParam(const nlohmann::json& obj, const std::string& name, long long lo,
                           long long hi, long long def, const std::string& path = "");
// A list of strings (each 1..max_len long, at most max_items); empty when absent.
Result<std::vector<std::string>> StringListParam(const nlohmann::json& obj, const std::string& name,
                                                 size_t max_items, size_t max_len,
                                                 const std::string& path = "");
// An object member; nullptr when absent or null, InvalidParameter when not an object.
Result<const nlohmann::json*> ObjectParam(const nlohmann::json& obj, const std::string& name,
                                          const std::string& path = "");

}  // namespace argus::api
