#include "core/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace argus::log {
namespace {
std::mutex mu;
Level min_level = Level::kInfo;
}  // namespace

void SetLevel(Level level) { min_level = level; }

void Write(Level level, const std::string& message) {
  if (level < min_level) return;
  static const char* kNames[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::lock_guard<std::mutex> lock(mu);
  std::fprintf(stderr, "%s %s %s\n", ts, kNames[static_cast<int>(level)], message.c_str());
}

}  // namespace argus::log
