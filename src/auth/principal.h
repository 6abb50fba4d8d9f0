#pragma once
// Who sends a request: a principal owns one or more access keys. The model is
// shared with the use-policy engine, which decides by organisation type and
// purpose.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace argus::auth {

enum class OrgType { kLawEnforcement, kChildSafety, kGovernment, kCommercial, kResearch, kIndividual };

// "law_enforcement", "child_safety", "government", "commercial", "research", "individual".
const char* OrgTypeName(OrgType t);
std::optional<OrgType> ParseOrgType(std::string_view s);
// The accepted names, comma-separated (for messages).
const char* OrgTypeNames();

// A purpose is a lower-case identifier ("investigation", "photo_organization"):
// [a-z0-9_]{1,64}.
bool ValidPurpose(std::string_view s);

struct Principal {
  std::string name;              // unique; [A-Za-z0-9_.@-]{1,64}
  OrgType org_type = OrgType::kIndividual;
  std::string default_purpose;
  std::string authorisation;     // optional reference (warrant, ethics approval); "" if none
  bool admin = false;            // may administer argus (keys, policies)
  double rate_limit = 0;         // requests per second; 0 = the server's default
  int64_t created_at = 0;        // epoch seconds
};

bool ValidPrincipalName(std::string_view s);

struct AccessKey {
  std::string access_key_id;  // "AKAG" + 16 base32 characters
  std::string principal;      // Principal::name
  int64_t created_at = 0;
  int64_t revoked_at = 0;     // 0 while active
};

}  // namespace argus::auth
