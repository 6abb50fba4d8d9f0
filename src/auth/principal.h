#pragma once
// Who sends a request: a principal owns one or more access keys. The model is
// shared with the use-policy engine, which decides by organisation type and
// purpose.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace argus::auth {

enum class OrgType {
  kLawEnforcement,
  kChildSafety,
  kGovernment,
  kCommercial,
  kResearch,
  kIndividual
};

// "law_enforcement", "child_safety", "government", "commercial", "research", "individual".
const char* OrgTypeName(OrgType t);
std::optional<OrgType> ParseOrgType(std::string_view s);
// The accepted names, comma-separated (for messages).
const char* OrgTypeNames();

// A purpose is one of the catalogue's names ("investigation",
// "photo_organization", ...; docs/POLICY.md lists them with their meaning).
bool ValidPurpose(std::string_view s);
// The catalogue, comma-separated (for messages).
std::string PurposeNames();
// Whether a request may state purpose `requested` when its principal's
// default purpose is `base`: the same purpose, or a narrower one
// ("investigation" → "missing_persons", "trafficking_victims", ...).
bool Narrows(std::string_view base, std::string_view requested);
// Purposes of public safety: "investigation", "public_safety_realtime" and
// the purposes they narrow to.
bool PublicSafetyPurpose(std::string_view s);

struct Principal {
  std::string name;  // unique; [A-Za-z0-9_.@-]{1,64}
  OrgType org_type = OrgType::kIndividual;
  std::string default_purpose;
  std::string authorisation;  // optional reference (warrant, ethics approval); "" if none
  bool admin = false;         // may administer argus (keys, policies)
  double rate_limit = 0;      // requests per second; 0 = the server's default
  int64_t created_at = 0;     // epoch seconds
};

bool ValidPrincipalName(std::string_view s);

struct AccessKey {
  std::string access_key_id;  // "AKAG" + 16 base32 characters
  std::string principal;      // Principal::name
  int64_t created_at = 0;
  int64_t revoked_at = 0;  // 0 while active
};

}  // namespace argus::auth
