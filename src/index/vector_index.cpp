#include "index/vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <fcntl.h>
#include <immintrin.h>
#include <omp.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <queue>

namespace argus::index {

namespace {

// Inner product kernels. Debian's libfaiss is built for baseline x86-64
// (scalar distances, ~150 ns per 128-d pair); these use AVX2/FMA where the
// CPU has them (~10x faster) and FAISS keeps the data structures.
__attribute__((target("avx2,fma"))) float DotAvx2(const float* a, const float* b, size_t d) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  s0 = _mm256_add_ps(s0, s1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  h = _mm_hadd_ps(h, h);
  h = _mm_hadd_ps(h, h);
  float s = _mm_cvtss_f32(h);
  for (; i < d; ++i) s += a[i] * b[i];
  return s;
}

float DotPlain(const float* a, const float* b, size_t d) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= d; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < d; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

using DotFn = float (*)(const float*, const float*, size_t);
DotFn Dot() {
  static const DotFn fn =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &DotAvx2 : &DotPlain;
  return fn;
}

struct FastIPComputer : faiss::FlatCodesDistanceComputer {
  FastIPComputer(const faiss::IndexFlat& s)
      : faiss::FlatCodesDistanceComputer(s.codes.data(), s.code_size),
        d(size_t(s.d)),
        xb(s.get_xb()),
        dot(Dot()) {}
  void set_query(const float* x) override { q = x; }
  float distance_to_code(const uint8_t* code) override {
    return dot(q, reinterpret_cast<const float*>(code), d);
  }
  float symmetric_dis(idx_t i, idx_t j) override { return dot(xb + i * d, xb + j * d, d); }
  size_t d;
  const float* xb;
  const float* q = nullptr;
  DotFn dot;
};

// IndexFlatIP whose distances (for its own search and for an HNSW graph over
// it) use the kernels above. Serialised as a plain IndexFlatIP.
struct FastFlatIP : faiss::IndexFlatIP {
  explicit FastFlatIP(int dim) : faiss::IndexFlatIP(dim) {}
  faiss::FlatCodesDistanceComputer* get_FlatCodesDistanceComputer() const override {
    return new FastIPComputer(*this);
  }
  void search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
              const faiss::SearchParameters* params = nullptr) const override {
    const DotFn dot = Dot();
    const float* xb = get_xb();
    using Item = std::pair<float, idx_t>;  // min-heap on score
    for (idx_t q = 0; q < n; ++q) {
      std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap;
      const float* xq = x + q * d;
      for (idx_t i = 0; i < ntotal; ++i) {
        float s = dot(xq, xb + i * d, size_t(d));
        if (idx_t(heap.size()) < k)
          heap.emplace(s, i);
        else if (s > heap.top().first) {
          heap.pop();
          heap.emplace(s, i);
        }
      }
      for (idx_t j = k - 1; j >= 0; --j) {
        if (heap.empty()) {
          distances[q * k + j] = -std::numeric_limits<float>::infinity();
          labels[q * k + j] = -1;
          continue;
        }
        distances[q * k + j] = heap.top().first;
        labels[q * k + j] = heap.top().second;
        heap.pop();
      }
    }
  }
};

// Gives a loaded index (plain IndexFlatIP storage) the fast storage.
faiss::IndexFlat* Faster(faiss::IndexFlat* plain) {
  auto* f = new FastFlatIP(plain->d);
  f->codes.swap(plain->codes);
  f->ntotal = plain->ntotal;
  delete plain;
  return f;
}

}  // namespace

struct VectorIndex::State {
  std::unique_ptr<faiss::Index> index;  // internal ids 0..ntotal-1
  std::vector<int64_t> labels;          // internal id → label, ascending
  std::vector<uint8_t> dead;            // graph tombstones by internal id
  size_t dead_count = 0;
  bool graph = false;

  size_t live() const { return labels.size() - dead_count; }
  const float* vectors() const {
    if (graph) {
      auto* h = static_cast<faiss::IndexHNSWFlat*>(index.get());
      return static_cast<faiss::IndexFlat*>(h->storage)->get_xb();
    }
    return static_cast<faiss::IndexFlat*>(index.get())->get_xb();
  }
  // Internal id of a label, or -1.
  int64_t Find(int64_t label) const {
    auto it = std::lower_bound(labels.begin(), labels.end(), label);
    if (it == labels.end() || *it != label) return -1;
    int64_t i = it - labels.begin();
    return graph && dead[i] ? -1 : i;
  }
  void Append(const std::vector<int64_t>& l, const float* v) {
    index->add(int64_t(l.size()), v);
    labels.insert(labels.end(), l.begin(), l.end());
    if (graph) dead.resize(labels.size(), 0);
  }
  size_t Remove(const std::vector<int64_t>& ls) {
    std::vector<faiss::Index::idx_t> ids;
    for (int64_t l : ls) {
      int64_t i = Find(l);
      if (i >= 0) ids.push_back(i);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (ids.empty()) return 0;
    if (graph) {
      // Tombstoned, and the vector itself overwritten: a removed face's
      // descriptor must not survive in memory or in the next snapshot.
      auto* storage =
          static_cast<faiss::IndexFlat*>(static_cast<faiss::IndexHNSWFlat*>(index.get())->storage);
      const int64_t d = index->d;
      for (auto i : ids) {
        dead[i] = 1;
        std::fill_n(storage->get_xb() + i * d, d, 0.0f);
      }
      dead_count += ids.size();
    } else {
      faiss::IDSelectorBatch sel(ids.size(), ids.data());
      index->remove_ids(sel);  // IndexFlat compacts, keeping order
      size_t w = 0, j = 0;
      for (size_t i = 0; i < labels.size(); ++i) {
        if (j < ids.size() && faiss::Index::idx_t(i) == ids[j]) {
          ++j;
          continue;
        }
        labels[w++] = labels[i];
      }
      labels.resize(w);
    }
    return ids.size();
  }
};

struct VectorIndex::Pending {
  bool active = false;
  std::vector<int64_t> add_labels;
  std::vector<float> add_vectors;
  std::vector<int64_t> removed;
};

namespace {

// OpenMP threads for FAISS calls made by this thread: searches run one query
// per request thread, so they must not fan out (the HTTP pool already does).
void SingleThreadedSearches() {
  thread_local bool set = false;
  if (!set) {
    omp_set_num_threads(1);
    set = true;
  }
}

}  // namespace

std::unique_ptr<VectorIndex::State> VectorIndex::NewState(const IndexOptions& o, bool graph) {
  auto s = std::make_unique<State>();
  s->graph = graph;
  if (graph) {
    auto h = std::make_unique<faiss::IndexHNSWFlat>(o.dim, o.hnsw_m, faiss::METRIC_INNER_PRODUCT);
    delete h->storage;
    h->storage = new FastFlatIP(o.dim);
    h->hnsw.efConstruction = o.ef_construction;
    h->hnsw.efSearch = o.ef_search;
    s->index = std::move(h);
  } else {
    s->index = std::make_unique<FastFlatIP>(o.dim);
  }
  return s;
}

VectorIndex::VectorIndex(const IndexOptions& options)
    : opt_(options), state_(NewState(options, false)), pending_(std::make_unique<Pending>()) {}

VectorIndex::~VectorIndex() = default;

Status VectorIndex::Add(const std::vector<int64_t>& labels, const float* vectors) {
  if (labels.empty()) return Status::Ok();
  std::unique_lock lock(mu_);
  int64_t prev = state_->labels.empty() ? INT64_MIN : state_->labels.back();
  if (pending_->active && !pending_->add_labels.empty()) {
    prev = std::max(prev, pending_->add_labels.back());
  }
  for (int64_t l : labels) {
    if (l <= prev) return InvalidParameter("index: labels must ascend");
    prev = l;
  }
  try {
    state_->Append(labels, vectors);
  } catch (const faiss::FaissException& e) {
    return Internal(std::string("index: ") + e.what());
  }
  if (pending_->active) {
    pending_->add_labels.insert(pending_->add_labels.end(), labels.begin(), labels.end());
    pending_->add_vectors.insert(pending_->add_vectors.end(), vectors,
                                 vectors + labels.size() * opt_.dim);
  }
  ++version_;
  return Status::Ok();
}

size_t VectorIndex::Remove(const std::vector<int64_t>& labels) {
  std::unique_lock lock(mu_);
  size_t n = state_->Remove(labels);
  if (pending_->active) {
    pending_->removed.insert(pending_->removed.end(), labels.begin(), labels.end());
  }
  if (n) ++version_;
  return n;
}

std::vector<Hit> VectorIndex::Search(const float* q, int k) const {
  SingleThreadedSearches();
  std::shared_lock lock(mu_);
  return SearchLocked(*state_, q, k);
}

std::vector<Hit> VectorIndex::SearchLocked(const State& s, const float* q, int k) const {
  std::vector<Hit> hits;
  const int64_t total = int64_t(s.labels.size());
  if (k <= 0 || s.live() == 0) return hits;
  int64_t want = std::min<int64_t>(k, int64_t(s.live()));
  int64_t kk = std::min<int64_t>(total, s.dead_count ? 2 * want + 16 : want);
  std::vector<float> D;
  std::vector<faiss::Index::idx_t> I;
  for (;;) {
    D.assign(kk, 0);
    I.assign(kk, -1);
    if (s.graph) {
      faiss::SearchParametersHNSW p;
      p.efSearch = std::max<int>(opt_.ef_search, int(kk));
      s.index->search(1, q, kk, D.data(), I.data(), &p);
    } else {
      s.index->search(1, q, kk, D.data(), I.data());
    }
    hits.clear();
    for (int64_t i = 0; i < kk && int64_t(hits.size()) < want; ++i) {
      if (I[i] < 0 || (s.graph && s.dead[I[i]])) continue;
      hits.push_back({s.labels[I[i]], D[i]});
    }
    if (int64_t(hits.size()) >= want || kk >= total) break;
    kk = std::min<int64_t>(total, kk * 2);
  }
  return hits;
}

void VectorIndex::SetSearchBeam(int ef_search) {
  std::unique_lock lock(mu_);
  opt_.ef_search = ef_search;
  if (state_->graph)
    static_cast<faiss::IndexHNSWFlat*>(state_->index.get())->hnsw.efSearch = ef_search;
}

size_t VectorIndex::size() const {
  std::shared_lock lock(mu_);
  return state_->live();
}

bool VectorIndex::is_graph() const {
  std::shared_lock lock(mu_);
  return state_->graph;
}

std::vector<int64_t> VectorIndex::Labels() const {
  std::shared_lock lock(mu_);
  if (!state_->dead_count) return state_->labels;
  std::vector<int64_t> out;
  out.reserve(state_->live());
  for (size_t i = 0; i < state_->labels.size(); ++i)
    if (!state_->dead[i]) out.push_back(state_->labels[i]);
  return out;
}

int64_t VectorIndex::max_label() const {
  std::shared_lock lock(mu_);
  return state_->labels.empty() ? 0 : state_->labels.back();
}

bool VectorIndex::NeedsRebuild() const {
  std::shared_lock lock(mu_);
  const State& s = *state_;
  if (!s.graph) return s.live() >= opt_.hnsw_threshold;
  if (s.live() < opt_.hnsw_threshold / 2) return true;
  return s.dead_count > opt_.compact_fraction * double(s.labels.size());
}

Status VectorIndex::Rebuild() {
  std::unique_lock rebuild(rebuild_mu_, std::try_to_lock);
  if (!rebuild.owns_lock()) return Status::Ok();  // one is running
  std::vector<int64_t> labels;
  std::vector<float> vecs;
  bool graph;
  {
    std::unique_lock lock(mu_);  // brief: copy and start recording writes
    const State& s = *state_;
    graph = s.live() >= opt_.hnsw_threshold || (s.graph && s.live() >= opt_.hnsw_threshold / 2);
    labels.reserve(s.live());
    vecs.reserve(s.live() * opt_.dim);
    const float* xb = s.vectors();
    for (size_t i = 0; i < s.labels.size(); ++i) {
      if (s.graph && s.dead[i]) continue;
      labels.push_back(s.labels[i]);
      vecs.insert(vecs.end(), xb + i * opt_.dim, xb + (i + 1) * opt_.dim);
    }
    *pending_ = Pending{};
    pending_->active = true;
  }
  std::unique_ptr<State> fresh;
  try {
#if defined(__SANITIZE_THREAD__)
    // libgomp is not instrumented: TSan cannot see the barrier that ends
    // the build's OpenMP region and reports its workers' reads as racing
    // with what follows. Under TSan the build runs on this thread.
    omp_set_num_threads(1);
#else
    omp_set_num_threads(std::max(1, opt_.build_threads));
#endif
    fresh = NewState(opt_, graph);
    fresh->Append(labels, vecs.data());
  } catch (const std::exception& e) {
    std::unique_lock lock(mu_);
    pending_->active = false;
    return Internal(std::string("index rebuild: ") + e.what());
  }
  vecs.clear();
  vecs.shrink_to_fit();
  std::unique_lock lock(mu_);
  Pending& p = *pending_;
  try {
    if (!p.add_labels.empty()) fresh->Append(p.add_labels, p.add_vectors.data());
    fresh->Remove(p.removed);
  } catch (const std::exception& e) {
    p = Pending{};
    return Internal(std::string("index rebuild: ") + e.what());
  }
  p = Pending{};
  state_ = std::move(fresh);
  ++version_;
  return Status::Ok();
}

// ---------------------------------------------------------------- snapshots
//
// Layout: "ARGUSVX1", u32 dim, u8 graph, i64 created_ms, str collection,
// str model_version, u64 n, i64 labels[n], u8 dead[n if graph], the FAISS
// index (write_index), then the SHA-256 of everything before it (32 bytes).

namespace {

class HashingWriter : public faiss::IOWriter {
 public:
  explicit HashingWriter(FILE* f) : f_(f), ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
  }
  ~HashingWriter() override { EVP_MD_CTX_free(ctx_); }
  size_t operator()(const void* ptr, size_t size, size_t nitems) override {
    EVP_DigestUpdate(ctx_, ptr, size * nitems);
    size_t n = std::fwrite(ptr, size, nitems, f_);
    if (n != nitems) failed = true;
    return n;
  }
  template <typename T>
  void Put(const T& v) {
    (*this)(&v, sizeof(T), 1);
  }
  void PutString(const std::string& s) {
    Put(uint32_t(s.size()));
    (*this)(s.data(), 1, s.size());
  }
  void Finish() {
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    if (std::fwrite(md, 1, 32, f_) != 32) failed = true;
  }
  bool failed = false;

 private:
  FILE* f_;
  EVP_MD_CTX* ctx_;
};

class HashingReader : public faiss::IOReader {
 public:
  explicit HashingReader(FILE* f) : f_(f), ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
  }
  ~HashingReader() override { EVP_MD_CTX_free(ctx_); }
  size_t operator()(void* ptr, size_t size, size_t nitems) override {
    size_t n = std::fread(ptr, size, nitems, f_);
    EVP_DigestUpdate(ctx_, ptr, size * n);
    if (n != nitems) failed = true;
    return n;
  }
  template <typename T>
  bool Get(T& v) {
    return (*this)(&v, sizeof(T), 1) == 1;
  }
  bool GetString(std::string& s) {
    uint32_t n = 0;
    if (!Get(n) || n > 4096) return false;
    s.resize(n);
    return (*this)(s.data(), 1, n) == n;
  }
  bool Verify() {
    unsigned char md[32], stored[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    if (std::fread(stored, 1, 32, f_) != 32) return false;
    if (std::fgetc(f_) != EOF) return false;  // trailing bytes
    return std::memcmp(md, stored, 32) == 0;
  }
  bool failed = false;

 private:
  FILE* f_;
  EVP_MD_CTX* ctx_;
};

constexpr char kMagic[8] = {'A', 'R', 'G', 'U', 'S', 'V', 'X', '1'};

}  // namespace

Status VectorIndex::Save(const std::string& path, const SnapshotMeta& meta) const {
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Internal("index: cannot write " + tmp);
  bool ok = true;
  {
    std::shared_lock lock(mu_);
    const State& s = *state_;
    HashingWriter w(f);
    w(kMagic, 1, 8);
    w.Put(uint32_t(opt_.dim));
    w.Put(uint8_t(s.graph));
    w.Put(meta.collection_created_ms);
    w.PutString(meta.collection);
    w.PutString(meta.model_version);
    w.Put(uint64_t(s.labels.size()));
    w(s.labels.data(), sizeof(int64_t), s.labels.size());
    if (s.graph) w(s.dead.data(), 1, s.dead.size());
    try {
      faiss::write_index(s.index.get(), &w);
    } catch (const faiss::FaissException& e) {
      ok = false;
    }
    w.Finish();
    ok = ok && !w.failed;
  }
  ok = std::fflush(f) == 0 && ok;
  ok = ::fsync(fileno(f)) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) {
    std::filesystem::remove(tmp, ec);
    return Internal("index: cannot write snapshot " + path);
  }
  // Make the rename itself durable.
  std::string dir = std::filesystem::path(path).parent_path().string();
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  return Status::Ok();
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::Load(const std::string& path,
                                                       const IndexOptions& options,
                                                       SnapshotMeta* meta) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Internal("index: no snapshot " + path);
  std::unique_ptr<FILE, int (*)(FILE*)> closer(f, &std::fclose);
  HashingReader r(f);
  char magic[8];
  uint32_t dim = 0;
  uint8_t graph = 0;
  uint64_t n = 0;
  SnapshotMeta m;
  if (r(magic, 1, 8) != 8 || std::memcmp(magic, kMagic, 8) != 0 || !r.Get(dim) || !r.Get(graph) ||
      !r.Get(m.collection_created_ms) || !r.GetString(m.collection) ||
      !r.GetString(m.model_version) || !r.Get(n) || n > (uint64_t(1) << 36)) {
    return Internal("index: snapshot " + path + " has a bad header");
  }
  if (int(dim) != options.dim) return Internal("index: snapshot " + path + " has another dim");
  auto idx = std::make_unique<VectorIndex>(options);
  auto s = std::make_unique<State>();
  s->graph = graph != 0;
  s->labels.resize(n);
  if (r(s->labels.data(), sizeof(int64_t), n) != n) return Internal("index: truncated " + path);
  if (!std::is_sorted(s->labels.begin(), s->labels.end()))
    return Internal("index: snapshot " + path + " labels out of order");
  if (s->graph) {
    s->dead.resize(n);
    if (r(s->dead.data(), 1, n) != n) return Internal("index: truncated " + path);
    s->dead_count = size_t(std::count(s->dead.begin(), s->dead.end(), 1));
  }
  try {
    s->index.reset(faiss::read_index(&r));
  } catch (const faiss::FaissException& e) {
    return Internal("index: snapshot " + path + ": " + e.what());
  }
  if (r.failed || !r.Verify()) return Internal("index: snapshot " + path + " checksum mismatch");
  bool type_ok = s->graph ? dynamic_cast<faiss::IndexHNSWFlat*>(s->index.get()) != nullptr
                          : dynamic_cast<faiss::IndexFlatIP*>(s->index.get()) != nullptr;
  if (!type_ok || uint64_t(s->index->ntotal) != n || s->index->d != int(dim)) {
    return Internal("index: snapshot " + path + " does not match its header");
  }
  if (s->graph) {
    auto* h = static_cast<faiss::IndexHNSWFlat*>(s->index.get());
    h->hnsw.efSearch = options.ef_search;
    auto* plain = dynamic_cast<faiss::IndexFlatIP*>(h->storage);
    if (!plain) return Internal("index: snapshot " + path + " has an unexpected storage");
    h->storage = Faster(plain);
  } else {
    s->index.reset(Faster(static_cast<faiss::IndexFlat*>(s->index.release())));
  }
  idx->state_ = std::move(s);
  if (meta) *meta = m;
  return idx;
}

}  // namespace argus::index
