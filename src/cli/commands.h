#pragma once
// The command table of `argus`: every command and action declares its flags
// and positional arguments; CLI11 parses each command line against its
// declaration and refuses anything else (with a "did you mean" suggestion).
#include <cstddef>
#include <string>
#include <vector>

namespace argus::cli {

// Exit codes of every command (README.md#exit-codes).
enum ExitCode : int {
  kExitOk = 0,       // done
  kExitFailed = 1,   // the operation failed (bad input file, no such collection, ...)
  kExitUsage = 2,    // the command line is wrong (unknown command or flag, missing argument)
  kExitStartup = 3,  // a server could not start: cannot listen, data dir, models
};

// Runs the command line; returns the process exit code.
int RunCommandLine(int argc, char** argv);

// Levenshtein distance; the suggestion is the closest candidate within
// max(2, |word| / 3) edits, else empty.
size_t EditDistance(const std::string& a, const std::string& b);
std::string Suggest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace argus::cli
