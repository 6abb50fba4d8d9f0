#pragma once
// Small helpers shared by the benchmarks.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>

namespace argus::bench {

// A JPEG or PNG file by its extension (.jpg, .jpeg, .png, any case).
inline bool IsImageFile(const std::filesystem::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e == ".jpg" || e == ".jpeg" || e == ".png";
}

}  // namespace argus::bench
