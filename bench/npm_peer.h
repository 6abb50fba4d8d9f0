#pragma once
// The JavaScript peers of the benchmarks and evaluations (bench/peer,
// bench/peer-ocr): the pinned package's own pipeline on node, installed
// with `npm ci` from a package-lock.json into a cache folder outside the
// source tree and run as a child process.
#include <filesystem>
#include <string>
#include <vector>

namespace argus::bench {

// $XDG_CACHE_HOME, else $HOME/.cache.
std::string CacheHome();

// Runs argv (PATH lookup) in `cwd`; stdout into *out when given, else
// inherited; stderr inherited. Returns the exit status, or -1 when it could
// not start (127 from the child when execvp failed).
int RunProcess(const std::vector<std::string>& argv, const std::string& cwd, std::string* out);

// A file's bytes; "" when it cannot be read.
std::string Slurp(const std::filesystem::path& p);

struct NpmPeer {
  std::string tool;                // for messages: "argus bench faces"
  std::string what;                // for messages: "the face-api peer"
  std::filesystem::path src;       // package.json, package-lock.json and `files`
  std::filesystem::path dir;       // the install folder
  std::vector<std::string> files;  // the peer's scripts, copied besides
  std::string package, version;    // the dependency package.json must pin to `version`
  std::string without;             // how to run without the peer: "--no-peer times argus alone"
};

// Checks that node and npm are on PATH and that the peer's package.json pins
// the package version, copies the peer into its folder and runs `npm ci`
// there unless the installed tree was made from the same package-lock.json.
// False (with the reason on stderr) when the peer cannot be used.
bool PrepareNpmPeer(const NpmPeer& peer);

}  // namespace argus::bench
