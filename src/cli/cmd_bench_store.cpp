// `argus bench store`: runs bench/store_bench.py (a private PostgreSQL
// cluster, argus nodes of this binary, haproxy) and prints its table.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/args.h"
#include "core/hash.h"
#include "store/store.h"

namespace argus::cli {

namespace {

// Audit appends (the chain's serialisation: SQLite's write lock, or
// PostgreSQL's locked head row shared by every node) from `nodes` stores
// with `threads` appenders each; prints one JSON line.
bool TimeAudit(const std::string& engine, const std::string& location, int nodes, int threads,
               int n) {
  std::vector<std::unique_ptr<store::Store>> stores;
  for (int i = 0; i < nodes; ++i) {
    auto s = store::Store::Open(location, threads + 1);
    if (!s.ok()) {
      std::fprintf(stderr, "argus bench store: %s\n", s.status().message().c_str());
      return false;
    }
    stores.push_back(std::move(s.value()));
  }
  auto hash = [](const store::AuditRecord& r) {
    return Sha256Hex(std::to_string(r.seq) + "|" + r.prev_hash + "|" + r.request_id);
  };
  std::mutex mu;
  std::vector<double> lat;
  bool ok = true;
  const int per = std::max(1, n / (nodes * threads));
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int i = 0; i < nodes * threads; ++i) {
    ts.emplace_back([&, i] {
      std::vector<double> mine;
      for (int k = 0; k < per; ++k) {
        store::AuditRecord r;
        r.kind = "request";
        r.request_id = std::to_string(i) + "-" + std::to_string(k);
        r.principal = "bench";
        r.operation = "SearchFacesByImage";
        auto t = std::chrono::steady_clock::now();
        if (!stores[i % nodes]->AppendAudit(r, hash).ok()) {
          std::lock_guard lock(mu);
          ok = false;
          return;
        }
        mine.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t)
                .count());
      }
      std::lock_guard lock(mu);
      lat.insert(lat.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : ts) t.join();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!ok || lat.empty()) return false;
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat[std::min(lat.size() - 1, size_t(p / 100 * lat.size()))]; };
  std::printf(
      "{\"engine\": \"%s\", \"nodes\": %d, \"threads_per_node\": %d, \"appends\": %zu, "
      "\"appends_per_s\": %.1f, \"p50_ms\": %.2f, \"p99_ms\": %.2f}\n",
      engine.c_str(), nodes, threads, lat.size(), lat.size() / wall, pct(50), pct(99));
  return true;
}

int BenchAudit(const Args& a) {
  int n = a.GetInt("audit", 400);
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("argus-bench-audit-" + std::to_string(std::random_device{}())))
                        .string();
  std::filesystem::create_directories(dir);
  bool ok = TimeAudit("sqlite", dir + "/argus.db", 1, 1, n) &&
            TimeAudit("sqlite", dir + "/argus.db", 1, 4, n);
  std::filesystem::remove_all(dir);
  std::string url = a.Get("audit-url");
  ok = ok && TimeAudit("postgresql", url, 1, 1, n) && TimeAudit("postgresql", url, 1, 4, n) &&
       TimeAudit("postgresql", url, 2, 2, n);
  return ok ? 0 : 1;
}

}  // namespace

int CmdBenchStore(const Args& a) {
  if (a.Has("audit-url")) return BenchAudit(a);
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  std::string script = a.Get("script");
  if (script.empty()) {
    // build/argus in a source tree, or a run from the source tree.
    for (fs::path p : {self.parent_path() / ".." / "bench" / "store_bench.py",
                       fs::path("bench") / "store_bench.py"}) {
      if (fs::exists(p, ec)) {
        script = p.lexically_normal().string();
        break;
      }
    }
  }
  if (script.empty() || !fs::exists(script, ec)) {
    std::fprintf(stderr,
                 "argus bench store: bench/store_bench.py not found (give the source tree's "
                 "with --script PATH)\n");
    return 2;
  }
  std::vector<std::string> argv = {"/usr/bin/python3", script};
  for (const char* f :
       {"requests", "clients", "searches", "propagation", "workers", "threads", "audit"}) {
    if (a.Has(f)) {
      argv.push_back(std::string("--") + f);
      argv.push_back(a.Get(f));
    }
  }
  if (a.Has("json")) argv.push_back("--json");
  if (!self.empty()) ::setenv("ARGUS_BIN", self.c_str(), 1);
  std::vector<char*> raw;
  for (auto& s : argv) raw.push_back(s.data());
  raw.push_back(nullptr);
  ::execv(raw[0], raw.data());
  std::perror("argus bench store: /usr/bin/python3");
  return 1;
}

}  // namespace argus::cli
