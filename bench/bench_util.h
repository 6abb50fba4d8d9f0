#pragma once
// Small helpers shared by the benchmarks.
#include <sys/types.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace argus::bench {

// A JPEG or PNG file by its extension (.jpg, .jpeg, .png, any case).
inline bool IsImageFile(const std::filesystem::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e == ".jpg" || e == ".jpeg" || e == ".png";
}

// VmRSS and VmHWM of `pid` in MiB (-1 when unreadable).
struct Rss {
  double rss = -1, hwm = -1;
};

inline Rss ReadRss(pid_t pid) {
  Rss out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    long kb = 0;
    if (std::sscanf(line.c_str(), "VmRSS: %ld kB", &kb) == 1) out.rss = double(kb) / 1024;
    if (std::sscanf(line.c_str(), "VmHWM: %ld kB", &kb) == 1) out.hwm = double(kb) / 1024;
  }
  return out;
}

}  // namespace argus::bench
