#pragma once
// The line loop of the evaluation inputs (pairs, identities, labels).
#include <fstream>
#include <functional>
#include <string>

#include "core/status.h"

namespace argus::eval {

// Calls each(lineno, line) for every non-empty line of `path` (1-based line
// numbers, a trailing '\r' removed). `what` names the file in the error
// when it cannot be read ("pairs file", ...).
inline Status ForEachLine(const std::string& path, const std::string& what,
                          const std::function<void(int, const std::string&)>& each) {
  std::ifstream in(path);
  if (!in) return InvalidParameter("cannot read " + what + " " + path);
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) each(lineno, line);
  }
  return Status::Ok();
}

}  // namespace argus::eval
