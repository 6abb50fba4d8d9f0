#pragma once
// The parsed command line a command reads (commands.cpp declares each
// command's flags to CLI11, which refuses any other): positionals, and the
// flags given (a boolean flag as "true").
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/rekognition/router.h"
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

// --model-dir, else $ARGUS_MODEL_DIR, else ~/.cache/argus/models.
std::string ModelDir(const Args& a);

// Applies --threads (default 2) to OpenCV inference.
void ApplyThreads(const Args& a);

// --face-detector (default cascade).
service::FaceConfig FaceConfigFrom(const Args& a);

// The face service with FaceConfigFrom(a); null (the reason on stderr) when
// it cannot be made.
std::unique_ptr<service::FaceService> MakeFaceService(const Args& a, ml::Registry& registry);

// A JPEG or PNG file by its extension (.jpg, .jpeg, .png, any case).
bool IsImageFile(const std::filesystem::path& p);

// Reads the image file at `path` into req[member] as {"Bytes": base64};
// false (with the reason on stderr) when it cannot be read.
bool PutImage(const std::string& path, nlohmann::json& req, const char* member);

// Runs one operation through the API router, exactly as the server would,
// and prints its JSON answer (0), or the error body on stderr (1).
int HandleAndPrint(const char* op, const nlohmann::json& req, api::Services& services);

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
