#pragma once
// The declarations of every `argus` command and action (command_table.cpp),
// read by the parser in commands.cpp.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "cli/args.h"

namespace argus::cli {

// One flag: `value` names its argument; a flag without one is boolean.
struct Flag {
  const char* name;
  const char* value;
  const char* help;
};
using Flags = std::vector<Flag>;

// One command (`serve`) or action of a command group (`keys create`).
struct Command {
  std::string group;  // "" for a plain command
  std::string name;   // command or action name
  std::string args;   // positional synopsis, e.g. "IMAGE" or "ID DIR"
  size_t max_args;    // positionals accepted
  std::string help;   // one line
  std::vector<Flags> flags;
  int (*run)(const Args&);
};

constexpr size_t kAny = size_t(-1);

// Every command and action, in the order the overview lists them.
const std::vector<Command>& Table();
// Group one-liners for the overview.
const std::map<std::string, std::string>& GroupHelp();

}  // namespace argus::cli
