#pragma once
// Minimal leveled logging to stderr, one line per call, thread-safe.
#include <string>

namespace argus::log {

enum class Level { kDebug, kInfo, kWarn, kError };
void SetLevel(Level level);
void Write(Level level, const std::string& message);
inline void Info(const std::string& m) { Write(Level::kInfo, m); }
inline void Warn(const std::string& m) { Write(Level::kWarn, m); }
inline void Error(const std::string& m) { Write(Level::kError, m); }

}  // namespace argus::log
