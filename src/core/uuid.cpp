#include "core/uuid.h"

#include <cstdint>
#include <cstdio>
#include <random>

namespace argus {

std::string NewUuidV4() {
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   (uint64_t(std::random_device{}()) << 32));
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char s[37];
  std::snprintf(s, sizeof s, "%08x-%04x-%04x-%04x-%012llx", unsigned(a >> 32),
                unsigned((a >> 16) & 0xffff), unsigned(a & 0xffff), unsigned(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return s;
}

}  // namespace argus
