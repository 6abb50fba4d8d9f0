// Following a store that several nodes share (PostgreSQL): every committed
// change to a collection (created, dropped, faces inserted or deleted) is
// applied to this node's indexes in the store's commit order. Woken by
// LISTEN/NOTIFY and polled every half second as well; after a lost
// connection or a restart it goes on from the last change applied (at start:
// the changes committed after the collections were loaded).
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "core/log.h"
#include "service/collections_internal.h"

namespace argus::service {

int64_t CollectionService::AppliedChange() {
  std::lock_guard lock(follow_mu_);
  return applied_change_;
}

void CollectionService::Follow() {
  sigset_t signals;
  sigfillset(&signals);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto last_warning = std::chrono::steady_clock::time_point{};
  bool failing = false;
  for (;;) {
    {
      std::lock_guard lock(bg_mu_);
      if (stop_) return;
    }
    Status st = store_->WaitForChanges(500);
    if (st.ok()) st = CatchUp();
    auto now = std::chrono::steady_clock::now();
    if (!st.ok() && (!failing || now - last_warning > std::chrono::seconds(30))) {
      log::Warn("following the shared store: " + st.message() + " (retrying)");
      last_warning = now;
    } else if (st.ok() && failing) {
      log::Info("following the shared store again from change " + std::to_string(AppliedChange()));
    }
    failing = !st.ok();
  }
}

Status CollectionService::CatchUp() {
  std::lock_guard lock(follow_mu_);
  constexpr int kBatch = 512;
  for (;;) {
    std::vector<store::Change> batch;
    ARGUS_RETURN_IF_ERROR(store_->ScanChanges(applied_change_, kBatch,
                                              [&](const store::Change& c) { batch.push_back(c); }));
    for (const auto& c : batch) {
      ARGUS_RETURN_IF_ERROR(ApplyChange(c));
      applied_change_ = c.seq;
    }
    if (int(batch.size()) < kBatch) return Status::Ok();
  }
}

Status CollectionService::ApplyChange(const store::Change& c) {
  auto load = [&]() -> Status {
    if (Find(c.collection)) return Status::Ok();
    auto col = store_->GetCollection(c.collection);
    if (col.status().code() == Code::kResourceNotFound) return Status::Ok();  // dropped since
    if (!col.ok()) return col.status();
    return LoadCollection(col.value());
  };
  if (c.kind == "create") return load();
  if (c.kind == "drop") {
    std::unique_lock lock(map_mu_);
    auto it = entries_.find(c.collection);
    if (it == entries_.end()) return Status::Ok();
    std::shared_ptr<Entry> e = it->second;
    std::lock_guard wl(e->write_mu);
    e->deleted = true;
    entries_.erase(it);
    std::error_code ec;
    std::filesystem::remove(SnapshotPath(c.collection), ec);
    return Status::Ok();
  }
  auto e = Find(c.collection);
  if (!e) return c.kind == "insert" ? load() : Status::Ok();
  std::lock_guard wl(e->write_mu);
  if (e->deleted) return Status::Ok();
  if (c.kind == "delete") {
    if (e->index->Remove(c.labels) > 0) DropSnapshot(e->id);
    bg_cv_.notify_all();
    return Status::Ok();
  }
  if (c.kind != "insert") return Status::Ok();  // a kind of a later version
  // Labels of one collection ascend in commit order: those not above the
  // index's highest are in it already (loaded after they were committed).
  std::vector<int64_t> labels;
  for (int64_t l : c.labels) {
    if (l > e->index->max_label()) labels.push_back(l);
  }
  if (labels.empty()) return Status::Ok();
  std::sort(labels.begin(), labels.end());
  store::FaceFilter f;
  f.after_label = labels.front() - 1;
  f.limit = int(std::min<int64_t>(labels.back() - labels.front() + 1, 1 << 20));
  f.descriptors = true;
  auto faces = store_->ListFaces(c.collection, f);
  if (!faces.ok()) return faces.status();
  const std::set<int64_t> wanted(labels.begin(), labels.end());
  const int dim = config_.index.dim;
  std::vector<int64_t> add;
  std::vector<float> vecs;
  for (const auto& face : faces.value()) {
    // Deleted meanwhile: absent here, and its delete follows.
    if (!wanted.count(face.label) || int(face.descriptor.size()) != dim) continue;
    add.push_back(face.label);
    vecs.insert(vecs.end(), face.descriptor.begin(), face.descriptor.end());
  }
  if (add.empty()) return Status::Ok();
  ARGUS_RETURN_IF_ERROR(e->index->Add(add, vecs.data()));
  bg_cv_.notify_all();
  return Status::Ok();
}

}  // namespace argus::service
