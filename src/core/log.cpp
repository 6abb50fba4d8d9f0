#include "core/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace argus::log {
namespace {
std::mutex mu;
std::atomic<Level> min_level{Level::kInfo};
std::atomic<Format> format{Format::kText};
const char* kNames[] = {"debug", "info", "warn", "error"};

// JSON string body (without the quotes).
void JsonEscape(const std::string& s, std::string& out) {
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
}

// A logfmt value: bare when it has no space, quote, '=' or control byte.
void LogfmtValue(const std::string& s, std::string& out) {
  bool bare = !s.empty();
  for (unsigned char c : s)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\') bare = false;
  if (bare) {
    out += s;
    return;
  }
  out += '"';
  JsonEscape(s, out);
  out += '"';
}
}  // namespace

void SetLevel(Level level) { min_level = level; }
void SetFormat(Format f) { format = f; }
bool Enabled(Level level) { return level >= min_level.load(); }

bool ParseLevel(const std::string& name, Level* out) {
  for (int i = 0; i < 4; ++i) {
    if (name == kNames[i]) {
      *out = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

bool ParseFormat(const std::string& name, Format* out) {
  if (name == "text")
    *out = Format::kText;
  else if (name == "logfmt")
    *out = Format::kLogfmt;
  else if (name == "json")
    *out = Format::kJson;
  else
    return false;
  return true;
}

void Event(Level level, const std::string& message, const std::vector<Field>& fields) {
  if (!Enabled(level)) return;
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  int ms = int(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[40];
  size_t n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(ts + n, sizeof ts - n, ".%03dZ", ms);
  const char* lvl = kNames[static_cast<int>(level)];
  std::string line;
  switch (format.load()) {
    case Format::kText: {
      char upper[8];
      size_t i = 0;
      for (; lvl[i]; ++i) upper[i] = char(lvl[i] - 'a' + 'A');
      upper[i] = '\0';
      line = std::string(ts, n) + "Z " + upper + " " + message;
      for (const auto& f : fields) {
        line += ' ' + f.key + '=';
        LogfmtValue(f.value, line);
      }
      break;
    }
    case Format::kLogfmt:
      line = std::string("ts=") + ts + " level=" + lvl + " msg=";
      LogfmtValue(message, line);
      for (const auto& f : fields) {
        line += ' ' + f.key + '=';
        LogfmtValue(f.value, line);
      }
      break;
    case Format::kJson:
      line = std::string("{\"ts\":\"") + ts + "\",\"level\":\"" + lvl + "\",\"msg\":\"";
      JsonEscape(message, line);
      line += '"';
      for (const auto& f : fields) {
        line += ",\"";
        JsonEscape(f.key, line);
        line += "\":";
        if (f.number && !f.value.empty()) {
          line += f.value;
        } else {
          line += '"';
          JsonEscape(f.value, line);
          line += '"';
        }
      }
      line += '}';
      break;
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(mu);
  std::fputs(line.c_str(), stderr);
}

}  // namespace argus::log
