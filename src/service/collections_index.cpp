// Collections' vector indexes: loading from snapshots or the store,
// snapshots, rebuilds and the background thread that runs them.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "core/hash.h"
#include "core/log.h"
#include "service/collections_internal.h"

namespace argus::service {

std::string CollectionService::SnapshotPath(const std::string& id) const {
  return (std::filesystem::path(config_.data_dir) / "index" / (Sha256Hex(id) + ".idx")).string();
}

void CollectionService::RemoveForeignSnapshots() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir = fs::path(config_.data_dir) / "index";
  std::vector<fs::path> foreign;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    bool ours = name.size() == 68 && name.compare(64, 4, ".idx") == 0 &&
                std::all_of(name.begin(), name.begin() + 64, [](char c) {
                  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                });
    if (!ours) foreign.push_back(it->path());
  }
  if (ec) log::Warn("cannot list " + dir.string() + ": " + ec.message());
  for (const auto& p : foreign) {
    std::error_code rm;
    fs::remove(p, rm);
    if (rm)
      log::Warn("cannot remove " + p.string() + ": " + rm.message());
    else
      log::Info("removed " + p.string() +
                " (not a snapshot of this version; the index is rebuilt from the store)");
  }
}

Status CollectionService::LoadCollection(const store::Collection& c) {
  auto t0 = std::chrono::steady_clock::now();
  auto e = std::make_shared<Entry>();
  e->id = c.id;
  e->created_ms = c.created_ms;
  e->model_version = c.face_model_version;
  const int dim = config_.index.dim;
  // 1. A snapshot that agrees with the store, after replaying what it missed.
  index::SnapshotMeta meta;
  auto snap = index::VectorIndex::Load(SnapshotPath(c.id), config_.index, &meta);
  if (snap.ok() && meta.collection == c.id && meta.collection_created_ms == c.created_ms &&
      store::FaceModelVersionOnRead(meta.model_version) == c.face_model_version) {
    auto stored = store_->Labels(c.id);
    if (!stored.ok()) return stored.status();
    std::vector<int64_t> have = snap.value()->Labels();
    std::vector<int64_t> extra, missing;
    std::set_difference(have.begin(), have.end(), stored->begin(), stored->end(),
                        std::back_inserter(extra));
    std::set_difference(stored->begin(), stored->end(), have.begin(), have.end(),
                        std::back_inserter(missing));
    int64_t top = have.empty() ? 0 : have.back();
    if (missing.empty() || missing.front() > top) {
      snap.value()->Remove(extra);
      store::FaceFilter f;
      f.after_label = top;
      f.limit = 4096;
      f.descriptors = true;
      bool ok = true;
      for (;;) {
        auto page = store_->ListFaces(c.id, f);
        if (!page.ok()) return page.status();
        std::vector<int64_t> labels;
        std::vector<float> vecs;
        for (const auto& face : page.value()) {
          if (int(face.descriptor.size()) != dim) continue;
          labels.push_back(face.label);
          vecs.insert(vecs.end(), face.descriptor.begin(), face.descriptor.end());
        }
        if (!snap.value()->Add(labels, vecs.data()).ok()) ok = false;
        if (int(page->size()) < f.limit) break;
        f.after_label = page->back().label;
      }
      if (ok) {
        e->index = std::move(snap.value());
        e->loaded_from = extra.empty() && missing.empty() ? "snapshot" : "snapshot+replay";
        e->snapshot_version = extra.empty() && missing.empty() ? e->index->version() : 0;
      }
    }
    if (!e->index) log::Warn("collection " + c.id + ": snapshot disagrees with the store");
  } else if (std::error_code ec; std::filesystem::exists(SnapshotPath(c.id), ec)) {
    log::Warn(
        "collection " + c.id + ": snapshot not usable (" +
        (snap.ok() ? std::string("of another collection or model") : snap.status().message()) +
        "), rebuilding from the store");
  }
  // 2. Otherwise from the store: exact at once, a graph later in the background.
  if (!e->index) {
    e->index = std::make_unique<index::VectorIndex>(config_.index);
    std::vector<int64_t> labels;
    std::vector<float> vecs;
    Status add_st;
    auto flush = [&] {
      if (!labels.empty() && add_st.ok()) add_st = e->index->Add(labels, vecs.data());
      labels.clear();
      vecs.clear();
    };
    ARGUS_RETURN_IF_ERROR(
        store_->ScanDescriptors(c.id, [&](int64_t l, const std::vector<float>& d) {
          if (int(d.size()) != dim) return;
          labels.push_back(l);
          vecs.insert(vecs.end(), d.begin(), d.end());
          if (labels.size() >= 8192) flush();
        }));
    flush();
    ARGUS_RETURN_IF_ERROR(add_st);
    e->loaded_from = "store";
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log::Info("collection " + c.id + ": " + std::to_string(e->index->size()) + " faces from " +
            e->loaded_from + " in " + std::to_string(s) + " s");
  std::unique_lock lock(map_mu_);
  entries_[c.id] = e;
  return Status::Ok();
}

void CollectionService::DropSnapshot(const std::string& id) {
  std::error_code ec;
  std::filesystem::remove(SnapshotPath(id), ec);
}

// -------------------------------------------------------------- background

Result<CollectionService::IndexInfo> CollectionService::Info(const std::string& collection) {
  auto e = Get(collection);
  if (!e.ok()) return e.status();
  return IndexInfo{e.value()->index->size(), e.value()->index->is_graph(), e.value()->loaded_from};
}

Status CollectionService::RebuildNow(const std::string& collection) {
  auto e = Get(collection);
  if (!e.ok()) return e.status();
  if (!e.value()->index->NeedsRebuild()) return Status::Ok();
  return e.value()->index->Rebuild();
}

Status CollectionService::SnapshotNow(const std::string& collection) {
  auto e = Get(collection);
  if (!e.ok()) return e.status();
  Entry& x = *e.value();
  uint64_t v = x.index->version();
  index::SnapshotMeta meta{x.id, x.created_ms, x.model_version};
  ARGUS_RETURN_IF_ERROR(x.index->Save(SnapshotPath(x.id), meta));
  x.snapshot_version = v;
  x.last_snapshot = std::chrono::steady_clock::now();
  return Status::Ok();
}

void CollectionService::Background() {
  // Signals are for the thread that serves (SIGTERM/SIGINT stop the server).
  sigset_t signals;
  sigfillset(&signals);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::unique_lock lock(bg_mu_);
  while (!stop_) {
    bg_cv_.wait_for(lock, std::chrono::seconds(1));
    if (stop_) break;
    lock.unlock();
    std::vector<std::shared_ptr<Entry>> all;
    {
      std::shared_lock ml(map_mu_);
      for (auto& [id, e] : entries_) all.push_back(e);
    }
    for (auto& e : all) {
      if (e->index->NeedsRebuild()) {
        auto t0 = std::chrono::steady_clock::now();
        Status st = e->index->Rebuild();
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!st.ok())
          log::Error("collection " + e->id + ": " + st.message());
        else
          log::Info("collection " + e->id + ": index rebuilt as " +
                    (e->index->is_graph() ? "HNSW" : "exact") + " over " +
                    std::to_string(e->index->size()) + " faces in " + std::to_string(s) + " s");
      }
      auto since = std::chrono::steady_clock::now() - e->last_snapshot;
      if (e->index->is_graph() && e->index->version() != e->snapshot_version &&
          since >= std::chrono::seconds(config_.snapshot_interval_s)) {
        Status st = SnapshotNow(e->id);
        if (!st.ok()) log::Warn(st.message());
      }
      std::lock_guard sl(bg_mu_);
      if (stop_) break;
    }
    lock.lock();
  }
}

}  // namespace argus::service
