#pragma once
// Helpers shared by the policy engine's files (not part of its interface).
#include <string>
#include <vector>

namespace argus::policy::internal {

// The strings of `v` separated by `sep`.
std::string Join(const std::vector<std::string>& v, const char* sep = ",");

}  // namespace argus::policy::internal
