#pragma once
// Leveled logging to stderr, one line per call, thread-safe. Lines are
// text ("TIME LEVEL message k=v ..."), logfmt or JSON (SetFormat).
#include <string>
#include <vector>

namespace argus::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kText, kLogfmt, kJson };
void SetLevel(Level level);
void SetFormat(Format format);
// "debug", "info", "warn", "error" / "text", "logfmt", "json"; false when unknown.
bool ParseLevel(const std::string& name, Level* out);
bool ParseFormat(const std::string& name, Format* out);
bool Enabled(Level level);

// One structured field; a number is written unquoted in JSON.
struct Field {
  std::string key;
  std::string value;
  bool number = false;
};

// One line: the message and its fields, in the format set.
void Event(Level level, const std::string& message, const std::vector<Field>& fields);
inline void Write(Level level, const std::string& message) { Event(level, message, {}); }
inline void Debug(const std::string& m) { Write(Level::kDebug, m); }
inline void Info(const std::string& m) { Write(Level::kInfo, m); }
inline void Warn(const std::string& m) { Write(Level::kWarn, m); }
inline void Error(const std::string& m) { Write(Level::kError, m); }

}  // namespace argus::log
