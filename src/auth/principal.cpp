#include "auth/principal.h"

namespace argus::auth {
namespace {

struct Named {
  OrgType type;
  const char* name;
};
constexpr Named kOrgTypes[] = {
    {OrgType::kLawEnforcement, "law_enforcement"},
    {OrgType::kChildSafety, "child_safety"},
    {OrgType::kGovernment, "government"},
    {OrgType::kCommercial, "commercial"},
    {OrgType::kResearch, "research"},
    {OrgType::kIndividual, "individual"},
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

namespace {

// The purpose catalogue. The public-safety purposes narrow from
// "investigation" and "public_safety_realtime"; the others stand alone.
constexpr const char* kNarrowPurposes[] = {
    "missing_persons", "trafficking_victims",   "abduction_victims", "sexual_exploitation_victims",
    "imminent_threat", "serious_crime_suspect",
};
constexpr const char* kBroadPublicSafety[] = {"investigation", "public_safety_realtime"};
constexpr const char* kOtherPurposes[] = {
    "identity_verification",
    "access_control",
    "photo_organization",
    "content_moderation",
    "research",
    "workplace",
    "education",
    "administration",
    "testing",
    "benchmark",
};

bool In(std::string_view s, const auto& list) {
  for (const char* p : list) {
    if (s == p) return true;
  }
  return false;
}

}  // namespace

bool ValidPurpose(std::string_view s) {
  return In(s, kBroadPublicSafety) || In(s, kNarrowPurposes) || In(s, kOtherPurposes);
}

std::string PurposeNames() {
  std::string out = "investigation, public_safety_realtime";
  for (const char* p : kNarrowPurposes) out += std::string(", ") + p;
  for (const char* p : kOtherPurposes) out += std::string(", ") + p;
  return out;
}

bool Narrows(std::string_view base, std::string_view requested) {
  if (base == requested) return true;
  return In(base, kBroadPublicSafety) && In(requested, kNarrowPurposes);
}

bool PublicSafetyPurpose(std::string_view s) {
  return In(s, kBroadPublicSafety) || In(s, kNarrowPurposes);
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
