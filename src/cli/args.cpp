#include "cli/args.h"

#include <cstdlib>

namespace argus::cli {

std::string Args::Get(const std::string& f, const std::string& def) const {
  auto it = flags.find(f);
  return it == flags.end() ? def : it->second;
}

int Args::GetInt(const std::string& f, int def) const {
  auto it = flags.find(f);
  if (it == flags.end()) return def;
  char* end = nullptr;
  long v = std::strtol(it->second.c_str(), &end, 10);
  return end && *end == '\0' ? int(v) : def;
}

Args Parse(int argc, char** argv, int first, const std::set<std::string>& boolean_flags) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) != 0 || s == "--") {
      a.positional.push_back(s);
      continue;
    }
    std::string name = s.substr(2), value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (boolean_flags.count(name)) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      a.error = "flag --" + name + " needs a value";
    }
    a.flags[name] = value;
  }
  return a;
}

std::string ModelDir(const Args& a) { return a.Get("model-dir", ml::DefaultModelDir()); }

service::FaceConfig FaceConfigFrom(const Args& a) {
  service::FaceConfig c;
  c.detector = a.Get("face-detector", c.detector);
  return c;
}

void ApplyThreads(const Args& a) { ml::SetInferenceThreads(a.GetInt("threads", 2)); }

}  // namespace argus::cli
