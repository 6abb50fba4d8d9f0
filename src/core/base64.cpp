#include "core/base64.h"

#include <openssl/evp.h>

namespace argus {

std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(n);
  return out;
}

Result<std::string> Base64Decode(std::string_view text, std::string_view field) {
  auto bad = [&] {
    return InvalidParameter(std::string(field) + " is not valid base64-encoded data.");
  };
  if (text.size() % 4 != 0) return bad();
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return bad();
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace argus
