#pragma once
#include <string>
#include <string_view>

#include "core/status.h"

namespace argus {

// Standard base64 (RFC 4648, with padding). Decoding rejects malformed input
// with InvalidParameter naming `field`.
std::string Base64Encode(std::string_view data);
Result<std::string> Base64Decode(std::string_view text, std::string_view field);

}  // namespace argus
