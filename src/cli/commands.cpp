#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "argus/version.h"
#include "cli/args.h"
#include "cli/command_table.h"

namespace argus::cli {

namespace {

// Flags whose value names are N, PORT or SECONDS take whole numbers; CLI11
// refuses anything else (a flag read with GetInt would otherwise fall back
// to its default).
bool WholeNumberValue(const char* value) {
  return value && (!std::strcmp(value, "N") || !std::strcmp(value, "PORT") ||
                   !std::strcmp(value, "SECONDS"));
}

const CLI::Validator kWholeNumber(
    [](std::string& v) -> std::string {
      char* end = nullptr;
      errno = 0;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || errno == ERANGE || n < INT_MIN || n > INT_MAX)
        return "needs a whole number, got '" + v + "'";
      return "";
    },
    "", "");

std::vector<std::string> TopNames() {
  std::vector<std::string> names;
  for (const auto& c : Table()) {
    std::string n = c.group.empty() ? c.name : c.group;
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
  return names;
}

void PrintOverview(FILE* out) {
  std::fprintf(out,
               "usage: argus <command> [<action>] [flags]\n"
               "       argus <command> [<action>] --help   the flags of one command\n\n"
               "Commands:\n");
  for (const auto& n : TopNames()) {
    std::string help;
    for (const auto& c : Table())
      if (c.group.empty() && c.name == n) help = c.help;
    if (help.empty()) help = GroupHelp().at(n);
    std::fprintf(out, "  %-26s %s\n", n.c_str(), help.c_str());
  }
  std::fprintf(out,
               "\n  --help                     this text\n"
               "  --version                  print the version\n\n"
               "Exit codes: 0 done, 1 the operation failed, 2 usage error, 3 start-up failure\n"
               "(cannot listen, cannot open the data dir, a model missing).\n");
}

void PrintGroup(const std::string& group, FILE* out) {
  std::fprintf(out, "usage: argus %s <action> [flags]   (argus %s <action> --help)\n\nActions:\n",
               group.c_str(), group.c_str());
  for (const auto& c : Table()) {
    if (c.group != group) continue;
    std::string synopsis = c.name + (c.args.empty() ? "" : " " + c.args);
    std::fprintf(out, "  %-26s %s\n", synopsis.c_str(), c.help.c_str());
  }
}

int UsageError(const std::string& where, const std::string& message, const std::string& hint) {
  std::fprintf(stderr, "argus%s%s: %s\n%s\n", where.empty() ? "" : " ", where.c_str(),
               message.c_str(), hint.c_str());
  return kExitUsage;
}

// Parses argv[first..] against one command's declaration and runs it.
int RunCommand(const Command& c, int argc, char** argv, int first) {
  const std::string full = c.group.empty() ? c.name : c.group + " " + c.name;
  CLI::App app(c.help, "argus " + full);
  app.set_help_flag("-h,--help", "print this help");
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::map<std::string, std::string> values;
  std::map<std::string, CLI::Option*> options;
  std::vector<std::string> flag_names = {"help"};
  for (const auto& group : c.flags) {
    for (const Flag& f : group) {
      if (options.count(f.name)) continue;  // declared by an earlier group
      std::string opt = std::string("--") + f.name;
      options[f.name] = f.value ? app.add_option(opt, values[f.name], f.help)->type_name(f.value)
                                : app.add_flag(opt, f.help);
      if (WholeNumberValue(f.value)) options[f.name]->check(kWholeNumber);
      flag_names.push_back(f.name);
    }
  }
  std::vector<std::string> positional;
  if (c.max_args > 0) {
    // Named after the synopsis when it is one word (IMAGE, KEY_ID), else ARGS.
    std::string name;
    for (char ch : c.args)
      if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_') name += ch;
    if (c.args.find(' ') != std::string::npos || name.empty()) name = "ARGS";
    auto* p = app.add_option(name, positional, name == c.args ? "" : c.args)->type_name("");
    p->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    p->expected(0, c.max_args == kAny ? CLI::detail::expected_max_vector_size : int(c.max_args));
  }
  app.footer("usage: argus " + full + (c.args.empty() ? "" : " " + c.args) + " [flags]");
  std::vector<std::string> rest(argv + first, argv + argc);
  std::reverse(rest.begin(), rest.end());
  try {
    app.parse(rest);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return kExitOk;
  } catch (const CLI::ExtrasError&) {
    std::vector<std::string> extra = app.remaining();
    for (const auto& e : extra) {
      if (e.rfind("-", 0) != 0) continue;
      std::string name = e.substr(e.rfind("--", 0) == 0 ? 2 : 1);
      name = name.substr(0, name.find('='));
      std::string near = Suggest(name, flag_names);
      return UsageError(
          full, "unknown flag " + e + (near.empty() ? "" : "; did you mean --" + near + "?"),
          "see 'argus " + full + " --help'");
    }
    std::string list;
    for (const auto& e : extra) list += (list.empty() ? "" : " ") + e;
    return UsageError(full, "unexpected argument(s): " + list,
                      "usage: argus " + full + (c.args.empty() ? "" : " " + c.args) + " [flags]");
  } catch (const CLI::ParseError& e) {
    return UsageError(full, e.what(), "see 'argus " + full + " --help'");
  }
  Args a;
  if (!c.group.empty()) a.positional.push_back(c.name);
  a.positional.insert(a.positional.end(), positional.begin(), positional.end());
  for (const auto& [name, opt] : options) {
    if (opt->count() == 0) continue;
    a.flags[name] = opt->get_expected_min() == 0 ? "true" : values[name];
  }
  return c.run(a);
}

}  // namespace

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string Suggest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

int RunCommandLine(int argc, char** argv) {
  if (argc < 2) {
    PrintOverview(stderr);
    return kExitUsage;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    PrintOverview(stdout);
    return kExitOk;
  }
  if (cmd == "--version" || cmd == "version") {
    std::printf("argus %s\n", argus::kVersion);
    return kExitOk;
  }
  for (const auto& c : Table())
    if (c.group.empty() && c.name == cmd) return RunCommand(c, argc, argv, 2);
  const auto names = TopNames();
  if (std::find(names.begin(), names.end(), cmd) == names.end()) {
    std::string near = Suggest(cmd, names);
    return UsageError(
        "",
        "unknown command '" + cmd + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?"),
        "see 'argus --help' for the commands");
  }
  // A command group: the action comes next.
  const std::string action = argc > 2 ? argv[2] : "";
  if (action == "--help" || action == "-h" || action == "help") {
    PrintGroup(cmd, stdout);
    return kExitOk;
  }
  std::vector<std::string> actions;
  for (const auto& c : Table()) {
    if (c.group != cmd) continue;
    if (c.name == action) return RunCommand(c, argc, argv, 3);
    actions.push_back(c.name);
  }
  if (action.empty() || action[0] == '-') {
    PrintGroup(cmd, stderr);
    return kExitUsage;
  }
  std::string near = Suggest(action, actions);
  return UsageError(
      cmd,
      "unknown action '" + action + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?"),
      "see 'argus " + cmd + " --help' for its actions");
}

}  // namespace argus::cli
