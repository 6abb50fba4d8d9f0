#include "bench/npm_peer.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace argus::bench {

namespace fs = std::filesystem;

std::string CacheHome() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return x;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.cache";
}

int RunProcess(const std::vector<std::string>& argv, const std::string& cwd, std::string* out) {
  int fds[2] = {-1, -1};
  if (out && pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    if (out) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
    } else {
      dup2(STDERR_FILENO, STDOUT_FILENO);  // npm's chatter stays off our stdout
    }
    std::vector<char*> c;
    for (const auto& s : argv) c.push_back(const_cast<char*>(s.c_str()));
    c.push_back(nullptr);
    execvp(c[0], c.data());
    _exit(127);
  }
  if (out) {
    close(fds[1]);
    char buf[65536];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out->append(buf, size_t(n));
    close(fds[0]);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return in ? s.str() : std::string();
}

namespace {

// Copies the peer into its folder and runs `npm ci` there unless the
// installed tree was made from the same package-lock.json.
bool Install(const NpmPeer& p) {
  std::vector<std::string> files = {"package.json", "package-lock.json"};
  files.insert(files.end(), p.files.begin(), p.files.end());
  for (const auto& f : files) {
    if (!fs::exists(p.src / f)) {
      std::fprintf(stderr,
                   "%s: the peer's %s is not in %s (give the source tree's peer folder with "
                   "--peer-src DIR)\n",
                   p.tool.c_str(), f.c_str(), p.src.c_str());
      return false;
    }
  }
  std::error_code ec;
  fs::create_directories(p.dir, ec);
  for (const auto& f : files) {
    fs::copy_file(p.src / f, p.dir / f, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      std::fprintf(stderr, "%s: cannot copy %s to %s: %s\n", p.tool.c_str(), f.c_str(),
                   p.dir.c_str(), ec.message().c_str());
      return false;
    }
  }
  const std::string lock = Slurp(p.dir / "package-lock.json");
  const fs::path stamp = p.dir / "node_modules" / ".argus-package-lock.json";
  if (fs::exists(stamp) && Slurp(stamp) == lock) return true;
  std::fprintf(stderr, "%s: npm ci in %s (%s)\n", p.tool.c_str(), p.dir.c_str(), p.what.c_str());
  // --prefer-offline: a warm npm cache is enough, the registry is asked only
  // for what the cache lacks. --ignore-scripts: the peers need no install
  // script (onnxruntime-node's fetches optional GPU libraries from outside npm).
  int rc = RunProcess({"npm", "ci", "--prefer-offline", "--no-audit", "--no-fund",
                       "--ignore-scripts", "--loglevel=error"},
                      p.dir.string(), nullptr);
  if (rc != 0) {
    std::fprintf(stderr,
                 "%s: `npm ci` failed in %s (exit %d); %s needs the npm registry or a warm npm "
                 "cache (%s)\n",
                 p.tool.c_str(), p.dir.c_str(), rc, p.what.c_str(), p.without.c_str());
    return false;
  }
  std::ofstream(stamp, std::ios::binary) << lock;
  return true;
}

}  // namespace

bool PrepareNpmPeer(const NpmPeer& p) {
  std::string version;
  if (RunProcess({"node", "--version"}, "", &version) != 0 ||
      RunProcess({"npm", "--version"}, "", &version) != 0) {
    std::fprintf(stderr,
                 "%s: node and npm are needed for %s and were not found on PATH (Debian: apt "
                 "install nodejs npm); %s\n",
                 p.tool.c_str(), p.what.c_str(), p.without.c_str());
    return false;
  }
  // The peer must run the package version the models were converted from.
  try {
    nlohmann::json pkg = nlohmann::json::parse(Slurp(p.src / "package.json"));
    std::string have = pkg["dependencies"].value(p.package, "");
    if (have != p.version) {
      std::fprintf(stderr, "%s: %s/package.json pins %s %s but the models come from %s\n",
                   p.tool.c_str(), p.src.c_str(), p.package.c_str(), have.c_str(),
                   p.version.c_str());
      return false;
    }
  } catch (const std::exception&) {
    std::fprintf(stderr, "%s: cannot read %s/package.json (--peer-src DIR)\n", p.tool.c_str(),
                 p.src.c_str());
    return false;
  }
  return Install(p);
}

}  // namespace argus::bench
