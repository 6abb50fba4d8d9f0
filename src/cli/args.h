#pragma once
// Tiny command-line parser: positionals plus --flag value / --flag=value /
// boolean --flag (for names listed as boolean).
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ml/model.h"
#include "service/faces.h"

namespace argus::cli {

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
  std::string error;  // set when parsing failed

  bool Has(const std::string& f) const { return flags.count(f) > 0; }
  std::string Get(const std::string& f, const std::string& def = "") const;
  int GetInt(const std::string& f, int def) const;
};

Args Parse(int argc, char** argv, int first, const std::set<std::string>& boolean_flags);

// --model-dir, else $ARGUS_MODEL_DIR, else ~/.cache/argus/models.
std::string ModelDir(const Args& a);

// Applies --threads (default 2) to OpenCV inference.
void ApplyThreads(const Args& a);

// --face-detector (default ssd).
service::FaceConfig FaceConfigFrom(const Args& a);

int CmdServe(const Args& a);
int CmdKeys(const Args& a);
int CmdBenchServer(const Args& a);    // bench server: DetectFaces load on loopback
int CmdBenchProtocol(const Args& a);  // bench protocol: SigV4 + JSON cost per request
int CmdBenchFaces(const Args& a);     // bench faces: argus vs face-api on node, same weights
int CmdEval(const Args& a);
int CmdDetectFaces(const Args& a);
int CmdCompareFaces(const Args& a);
int CmdModels(const Args& a);
int CmdBench(const Args& a);

}  // namespace argus::cli
