#include "auth/principal.h"

namespace argus::auth {
namespace {

struct Named {
  OrgType type;
  const char* name;
};
constexpr Named kOrgTypes[] = {
    {OrgType::kLawEnforcement, "law_enforcement"}, {OrgType::kChildSafety, "child_safety"},
    {OrgType::kGovernment, "government"},          {OrgType::kCommercial, "commercial"},
    {OrgType::kResearch, "research"},              {OrgType::kIndividual, "individual"},
};

}  // namespace

const char* OrgTypeName(OrgType t) {
  for (const auto& n : kOrgTypes) {
    if (n.type == t) return n.name;
  }
  return "individual";
}

std::optional<OrgType> ParseOrgType(std::string_view s) {
  for (const auto& n : kOrgTypes) {
    if (s == n.name) return n.type;
  }
  return std::nullopt;
}

const char* OrgTypeNames() {
  return "law_enforcement, child_safety, government, commercial, research, individual";
}

bool ValidPurpose(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool ValidPrincipalName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace argus::auth
