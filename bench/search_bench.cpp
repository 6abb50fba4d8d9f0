// `argus bench search`: 1:N search at scale, as the collection service runs
// it. Synthetic descriptors are drawn to resemble real ones: their mean and
// per-dimension spread come from descriptors of the sample photos, identity
// centres are spread to match the distances between different real people,
// and each identity's faces scatter around it as one person's photos do.
#include "bench/search_bench.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <thread>

#include "api/rekognition/router.h"
#include "bench/bench_util.h"
#include "core/base64.h"
#include "index/vector_index.h"

namespace argus::bench {
namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double RssMb() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, rss = 0;
  f >> pages >> rss;
  return double(rss) * sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

struct Percentiles {
  double p50, p90, p99, mean;
};
Percentiles Stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double m = 0;
  for (double x : v) m += x;
  auto at = [&](double q) { return v[std::min(v.size() - 1, size_t(q * v.size()))]; };
  return {at(0.5), at(0.9), at(0.99), m / v.size()};
}

void Normalise(float* v, int d) {
  double s = 0;
  for (int i = 0; i < d; ++i) s += double(v[i]) * v[i];
  s = std::sqrt(s);
  for (int i = 0; i < d; ++i) v[i] = float(v[i] / s);
}

float Dist(const float* a, const float* b, int d) {
  double s = 0;
  for (int i = 0; i < d; ++i) s += double(a[i] - b[i]) * (a[i] - b[i]);
  return float(std::sqrt(s));
}

// The sample photos' faces: descriptors and 640x480 one-face photos.
struct RealFaces {
  std::vector<std::vector<float>> descriptors;
  std::vector<std::string> one_face_jpegs;  // 640x480, one face each
  std::string search_jpeg;                  // a photo for SearchFacesByImage
};

// The faces the one-face photos are cut around: sample photo (index into the
// list in LoadRealFaces) and face box in its pixels. Fixed, so that the
// IndexFaces figures of different builds are measured on the same photos
// (they were the default detector's boxes on 2026-12-02).
struct Crop {
  int photo;
  float x, y, w, h;
};
constexpr Crop kCrops[] = {
    {0, 1472.6f, 174.6f, 204.3f, 281.4f}, {0, 413.1f, 331.5f, 176.7f, 283.1f},
    {0, 838.4f, 397.5f, 187.2f, 266.6f},  {1, 1445.5f, 130.1f, 195.1f, 288.2f},
    {1, 357.7f, 143.2f, 181.5f, 268.5f},  {1, 898.2f, 201.3f, 153.9f, 269.8f},
    {2, 1079.1f, 205.7f, 215.6f, 318.9f}, {2, 585.4f, 303.0f, 198.0f, 320.0f},
    {2, 1513.3f, 262.5f, 170.0f, 334.5f}, {3, 662.2f, 22.5f, 174.4f, 307.0f},
    {3, 990.4f, 140.7f, 174.3f, 287.9f},  {3, 255.0f, 160.9f, 157.6f, 298.6f},
    {3, 1278.5f, 109.2f, 141.8f, 320.7f}, {4, 375.9f, 835.0f, 173.3f, 351.9f},
    {4, 1403.4f, 360.9f, 170.2f, 325.3f}, {4, 595.8f, 390.8f, 167.2f, 295.3f},
    {4, 1110.3f, 173.2f, 162.8f, 283.9f}, {4, 785.6f, 89.4f, 155.3f, 250.1f},
    {5, 1485.6f, 231.3f, 210.7f, 354.6f}, {5, 1154.3f, 305.2f, 206.9f, 306.0f},
    {5, 245.2f, 485.2f, 199.5f, 295.2f},  {5, 678.2f, 288.7f, 160.9f, 365.9f},
    {6, 301.3f, 495.6f, 54.7f, 83.9f},    {6, 209.1f, 9.4f, 39.6f, 68.5f},
    {6, 435.8f, 17.9f, 29.6f, 52.6f},     {6, 732.4f, 18.9f, 15.0f, 27.2f},
    {6, 1198.4f, 12.2f, 13.1f, 24.8f},    {6, 1222.4f, 9.6f, 13.9f, 21.2f},
    {6, 948.0f, 50.0f, 8.6f, 14.6f},
};

// A 640x480 photo holding just the face in `box`, about 160 px tall: its head
// and shoulders (the box grown to 2.2 widths, from half a height above to 1.5
// below) on a grey background, so that neighbours in the group photo do not
// make it a several-face photo.
std::string OneFacePhoto(const cv::Mat& img, const cv::Rect2f& box) {
  float s = 160.f / std::max(box.height, 1.f);
  cv::Rect2f r(box.x + box.width / 2 - 320 / s, box.y + box.height / 2 - 240 / s, 640 / s, 480 / s);
  cv::Rect ri = cv::Rect(r) & cv::Rect(0, 0, img.cols, img.rows);
  if (ri.area() <= 0) return {};
  cv::Mat canvas(480, 640, CV_8UC3, cv::Scalar(128, 128, 128));
  cv::Mat crop;
  cv::resize(img(ri), crop, cv::Size(), s, s);
  int ox = std::clamp(int((ri.x - r.x) * s), 0, 639);
  int oy = std::clamp(int((ri.y - r.y) * s), 0, 479);
  cv::Rect dst(ox, oy, std::min(crop.cols, 640 - ox), std::min(crop.rows, 480 - oy));
  crop(cv::Rect(0, 0, dst.width, dst.height)).copyTo(canvas(dst));
  const float fw = box.width * s, fh = box.height * s;
  cv::Rect keep = cv::Rect(cv::Rect2f(320 - 1.1f * fw, 240 - fh, 2.2f * fw, 3.f * fh)) &
                  cv::Rect(0, 0, 640, 480);
  cv::Mat portrait(480, 640, CV_8UC3, cv::Scalar(128, 128, 128));
  canvas(keep).copyTo(portrait(keep));
  std::vector<uchar> jpg;
  cv::imencode(".jpg", portrait, jpg, {cv::IMWRITE_JPEG_QUALITY, 90});
  return std::string(jpg.begin(), jpg.end());
}

// Descriptors of the faces DetectFaces finds in the photo at `path`, all of
// them or the largest only; none when it cannot be read or shows no face.
// *bytes and *photo, when given, get the file and the decoded image.
std::vector<std::vector<float>> PhotoDescriptors(service::FaceService& faces,
                                                 const std::string& path, bool largest_only,
                                                 std::string* bytes = nullptr,
                                                 cv::Mat* photo = nullptr) {
  std::vector<std::vector<float>> out;
  auto file = ReadFile(path);
  if (!file.ok()) return out;
  auto img = DecodeImage(file.value());
  if (!img.ok()) return out;
  if (bytes) *bytes = file.value();
  if (photo) *photo = img->bgr;
  auto det = faces.DetectFaces(img.value());
  if (!det.ok()) return out;
  for (const auto& f : det.value()) {
    auto d = faces.Describe(img.value(), f);
    if (d.ok()) out.push_back(std::move(d.value()));
    if (largest_only) break;  // DetectFaces gives the largest first
  }
  return out;
}

RealFaces LoadRealFaces(service::FaceService& faces, const std::string& model_dir) {
  RealFaces out;
  std::vector<std::string> photos;
  for (int i = 1; i <= 6; ++i)
    photos.push_back(model_dir + "/packages/face-api/package/demo/sample" + std::to_string(i) +
                     ".jpg");
  photos.push_back(model_dir + "/packages/human/package/assets/samples.jpg");
  std::vector<cv::Mat> decoded(photos.size());
  for (size_t p = 0; p < photos.size(); ++p) {
    std::string bytes;
    auto found = PhotoDescriptors(faces, photos[p], false, &bytes, &decoded[p]);
    if (!found.empty() && out.search_jpeg.empty()) out.search_jpeg = bytes;
    for (auto& d : found) out.descriptors.push_back(std::move(d));
  }
  for (const Crop& c : kCrops) {
    if (decoded[size_t(c.photo)].empty()) continue;
    std::string js = OneFacePhoto(decoded[size_t(c.photo)], cv::Rect2f(c.x, c.y, c.w, c.h));
    if (!js.empty()) out.one_face_jpegs.push_back(std::move(js));
  }
  return out;
}

// Identity centres: the real mean plus a draw from the real faces' principal
// components (scaled by a) and an isotropic floor (g) for the dimensions 26
// photos cannot span, normalised; a and g fitted so that the mean and spread
// of distances between centres match those between the real faces. Faces of
// an identity: the centre plus the same kind of draw scaled by b, fitted to a
// same-person distance of 0.40.
class Generator {
 public:
  Generator(const std::vector<std::vector<float>>& real, int dim, uint32_t seed)
      : dim_(dim), rng_(seed) {
    cv::Mat data(int(real.size()), dim, CV_32F);
    for (size_t i = 0; i < real.size(); ++i)
      std::copy(real[i].begin(), real[i].end(), data.ptr<float>(int(i)));
    cv::PCA pca(data, cv::Mat(), cv::PCA::DATA_AS_ROW);
    mean_ = pca.mean.clone();
    for (int k = 0; k < pca.eigenvalues.rows; ++k) {
      float l = pca.eigenvalues.at<float>(k);
      if (l <= 1e-7f) continue;
      basis_.push_back(pca.eigenvectors.row(k) * std::sqrt(l));
    }
    double total = 0;
    for (int k = 0; k < pca.eigenvalues.rows; ++k)
      total += std::max(0.f, pca.eigenvalues.at<float>(k));
    iso_ = float(std::sqrt(total / dim));  // per-dimension sd of the real spread
  }
  // Fits a, g (between-identity mean and sd of distances) and b (within).
  void Fit(float mean_between, float sd_between, float within) {
    float best = 1e9f;
    for (float a = 0.2f; a <= 3.0f; a += 0.1f) {
      for (float g = 0.0f; g <= 3.0f; g += 0.1f) {
        a_ = a;
        g_ = g;
        auto [m, sd] = Between(150);
        float err = std::fabs(m - mean_between) + std::fabs(sd - sd_between);
        if (err < best) {
          best = err;
          ba = a;
          bg = g;
        }
      }
    }
    a_ = ba;
    g_ = bg;
    float lo = 0, hi = 4;
    for (int i = 0; i < 25; ++i) {
      b_ = (lo + hi) / 2;
      (Within(300) < within ? lo : hi) = b_;
    }
  }
  std::vector<float> Centre() {
    std::vector<float> c(dim_);
    Draw(a_, g_, c.data());
    for (int i = 0; i < dim_; ++i) c[i] += mean_.at<float>(i);
    Normalise(c.data(), dim_);
    return c;
  }
  void Face(const std::vector<float>& c, float* out) {
    Draw(a_ * b_, g_ * b_, out);
    for (int i = 0; i < dim_; ++i) out[i] += c[i];
    Normalise(out, dim_);
  }
  std::pair<float, float> Between(int n) {
    std::vector<float> d;
    for (int i = 0; i < n; ++i) {
      auto x = Centre(), y = Centre();
      d.push_back(Dist(x.data(), y.data(), dim_));
    }
    return MeanSd(d);
  }
  float Within(int n) {
    std::vector<float> x(dim_), y(dim_);
    double s = 0;
    for (int i = 0; i < n; ++i) {
      auto c = Centre();
      Face(c, x.data());
      Face(c, y.data());
      s += Dist(x.data(), y.data(), dim_);
    }
    return float(s / n);
  }
  static std::pair<float, float> MeanSd(const std::vector<float>& d) {
    double m = 0, v = 0;
    for (float x : d) m += x;
    m /= d.size();
    for (float x : d) v += (x - m) * (x - m);
    return {float(m), float(std::sqrt(v / d.size()))};
  }
  float a() const { return a_; }
  float g() const { return g_; }
  float b() const { return b_; }

 private:
  void Draw(float a, float g, float* out) {
    for (int i = 0; i < dim_; ++i) out[i] = g * iso_ * n_(rng_);
    for (const auto& e : basis_) {
      float z = a * n_(rng_);
      const float* p = e.ptr<float>();
      for (int i = 0; i < dim_; ++i) out[i] += z * p[i];
    }
  }
  int dim_;
  cv::Mat mean_;
  std::vector<cv::Mat> basis_;
  float iso_ = 0, a_ = 1, g_ = 0, b_ = 0.3f, ba = 1, bg = 0;
  std::mt19937 rng_;
  std::normal_distribution<float> n_;
};

}  // namespace

int RunSearchBench(const SearchBenchOptions& o) {
  const int n = std::max(1000, o.faces);
  const int per_identity = std::max(1, o.faces_per_identity);
  const int queries = std::max(10, o.queries);
  const int dim = 128;
  std::string data_dir = o.data_dir;
  bool temp = data_dir.empty();
  if (temp) {
    data_dir = (std::filesystem::temp_directory_path() /
                ("argus-bench-search-" + std::to_string(::getpid())))
                   .string();
  }
  std::filesystem::create_directories(data_dir);
  ml::Registry registry(o.model_dir);
  auto faces = service::FaceService::Create(registry);
  if (!faces.ok()) {
    std::fprintf(stderr, "%s\n", faces.status().message().c_str());
    return 1;
  }
  std::printf("argus bench search: %d faces (%d per identity), %d queries, %u hardware threads\n",
              n, per_identity, queries, std::thread::hardware_concurrency());

  // 1. The real descriptor distribution.
  RealFaces real = LoadRealFaces(*faces.value(), registry.dir());
  if (real.descriptors.size() < 4) {
    std::fprintf(stderr, "too few faces in the sample photos under %s\n", registry.dir().c_str());
    return 1;
  }
  const std::string& real_dir = o.real_faces;
  if (!real_dir.empty()) {
    // The distribution from a folder of face photos (one descriptor each,
    // of the largest face) instead of the sample photos' few faces.
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(real_dir, ec)) {
      if (IsImageFile(e.path())) files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    files.resize(std::min<size_t>(files.size(), size_t(o.real_faces_limit)));
    std::vector<std::vector<float>> got;
    for (const auto& f : files) {
      auto found = PhotoDescriptors(*faces.value(), f, /*largest_only=*/true);
      if (!found.empty()) got.push_back(std::move(found.front()));
    }
    if (got.size() < 4) {
      std::fprintf(stderr, "too few faces found in %s\n", real_dir.c_str());
      return 1;
    }
    std::printf("real faces from %s: %zu of %zu photos\n", real_dir.c_str(), got.size(),
                files.size());
    real.descriptors = std::move(got);
  }
  std::vector<float> real_d;
  for (size_t i = 0; i < real.descriptors.size(); ++i)
    for (size_t j = i + 1; j < real.descriptors.size(); ++j)
      real_d.push_back(Dist(real.descriptors[i].data(), real.descriptors[j].data(), dim));
  auto [real_mean, real_sd] = Generator::MeanSd(real_d);
  const float within = 0.40f;  // a typical same-person distance of this descriptor
  Generator gen(real.descriptors, dim, 1234);
  gen.Fit(real_mean, real_sd, within);
  auto [syn_mean, syn_sd] = gen.Between(2000);
  std::printf("real faces: %zu; distance between them %.3f +- %.3f\n", real.descriptors.size(),
              real_mean, real_sd);
  std::printf(
      "synthetic: between identities %.3f +- %.3f, within an identity %.3f "
      "(a %.1f, g %.1f, b %.2f)\n",
      syn_mean, syn_sd, gen.Within(2000), gen.a(), gen.g(), gen.b());

  // The exact → HNSW threshold and the search beam, by measurement.
  if (o.sweep) {
    std::mt19937 rng(5);
    std::vector<std::vector<float>> cs;
    for (int size : {10000, 25000, 50000, 100000, 200000, 400000}) {
      if (size > n || size < o.sweep_from) continue;
      cs.clear();
      std::vector<float> vecs(size_t(size) * dim), qs(size_t(queries) * dim);
      std::vector<int64_t> labels(size);
      for (int i = 0; i < size / per_identity + 1; ++i) cs.push_back(gen.Centre());
      for (int i = 0; i < size; ++i) {
        gen.Face(cs[i / per_identity], vecs.data() + size_t(i) * dim);
        labels[i] = i + 1;
      }
      for (int q = 0; q < queries; ++q)
        gen.Face(cs[rng() % cs.size()], qs.data() + size_t(q) * dim);
      index::IndexOptions eo;
      eo.hnsw_threshold = size_t(1) << 40;
      index::VectorIndex exact(eo);
      (void)exact.Add(labels, vecs.data());
      index::IndexOptions go;
      go.hnsw_threshold = 1;
      go.build_threads = o.threads;
      go.hnsw_m = o.hnsw_m.value_or(go.hnsw_m);
      go.ef_construction = o.ef_construction.value_or(go.ef_construction);
      index::VectorIndex graph(go);
      (void)graph.Add(labels, vecs.data());
      auto b0 = Clock::now();
      (void)graph.Rebuild();
      double build = Ms(b0, Clock::now()) / 1000;
      std::vector<int64_t> truth;
      std::vector<double> te;
      for (int q = 0; q < queries; ++q) {
        auto a0 = Clock::now();
        truth.push_back(exact.Search(qs.data() + size_t(q) * dim, 1)[0].label);
        te.push_back(Ms(a0, Clock::now()));
      }
      std::printf("sweep %7d faces: exact p50 %.3f ms; HNSW build %.1f s", size, Stats(te).p50,
                  build);
      for (int ef : {64, 128, 256, 384}) {
        graph.SetSearchBeam(ef);
        std::vector<double> tg;
        int agree = 0;
        for (int q = 0; q < queries; ++q) {
          auto a0 = Clock::now();
          auto h = graph.Search(qs.data() + size_t(q) * dim, 1);
          tg.push_back(Ms(a0, Clock::now()));
          agree += !h.empty() && h[0].label == truth[q];
        }
        std::printf("; ef %d: p50 %.3f ms recall@1 %.3f", ef, Stats(tg).p50,
                    double(agree) / queries);
      }
      std::printf("\n");
      std::fflush(stdout);
    }
    return 0;
  }

  // 2. The store, filled directly (the system of record the service starts from).
  const std::string coll = "bench";
  std::vector<std::vector<float>> centres;
  std::vector<float> query_vecs(size_t(queries) * dim);
  auto t0 = Clock::now();
  {
    auto store = store::Store::OpenSqlite(data_dir + "/argus.db");
    if (!store.ok()) {
      std::fprintf(stderr, "%s\n", store.status().message().c_str());
      return 1;
    }
    auto existing = store.value()->GetCollection(coll);
    if (existing.ok() && existing->face_count != n) {
      std::fprintf(stderr, "%s holds a '%s' collection of another size; use another --data-dir\n",
                   data_dir.c_str(), coll.c_str());
      return 1;
    }
    std::mt19937 rng(99);
    for (int i = 0; i < (n + per_identity - 1) / per_identity; ++i) centres.push_back(gen.Centre());
    if (!existing.ok()) {
      store::Collection c;
      c.id = coll;
      c.created_ms = 1;
      c.face_model_version = service::FaceService::FaceModelVersion();
      (void)store.value()->CreateCollection(c);
      std::vector<store::Face> batch;
      for (int i = 0; i < n; ++i) {
        store::Face f;
        char id[40];
        std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012x", i);
        f.face_id = id;
        f.image_id = id;
        f.external_image_id = "synthetic-" + std::to_string(i / per_identity);
        f.confidence = 99.9f;
        f.width = f.height = 0.2f;
        f.model_version = c.face_model_version;
        f.descriptor.resize(dim);
        gen.Face(centres[i / per_identity], f.descriptor.data());
        batch.push_back(std::move(f));
        if (batch.size() == 20000 || i == n - 1) {
          Status st = store.value()->InsertFaces(coll, batch);
          if (!st.ok()) {
            std::fprintf(stderr, "%s\n", st.message().c_str());
            return 1;
          }
          batch.clear();
          std::fprintf(stderr, "\rfilling the store: %d/%d", i + 1, n);
        }
      }
      std::fprintf(stderr, "\n");
      std::printf("store filled: %d faces in %.1f s\n", n, Ms(t0, Clock::now()) / 1000);
    }
    // Queries: new photos of indexed identities.
    std::uniform_int_distribution<int> pick(0, int(centres.size()) - 1);
    for (int q = 0; q < queries; ++q)
      gen.Face(centres[pick(rng)], query_vecs.data() + size_t(q) * dim);
  }
  centres.clear();
  centres.shrink_to_fit();

  // 3. Cold start from the store alone (exact search at once), then the graph.
  const std::string snap = data_dir + "/index/" + coll + ".idx";
  const bool reuse = o.reuse_snapshot && std::filesystem::exists(snap);
  if (reuse)
    std::filesystem::rename(snap, snap + ".kept");
  else
    std::filesystem::remove(snap);
  double rss0 = RssMb();
  service::CollectionsConfig cfg;
  cfg.data_dir = data_dir;
  cfg.background = false;
  cfg.index.build_threads = o.threads;
  cfg.index.ef_search = o.ef_search.value_or(cfg.index.ef_search);
  cfg.index.hnsw_m = o.hnsw_m.value_or(cfg.index.hnsw_m);
  cfg.index.ef_construction = o.ef_construction.value_or(cfg.index.ef_construction);
  std::printf("index: exact below %zu faces, then HNSW M %d, efConstruction %d, efSearch %d\n",
              cfg.index.hnsw_threshold, cfg.index.hnsw_m, cfg.index.ef_construction,
              cfg.index.ef_search);
  t0 = Clock::now();
  auto svc = service::CollectionService::Open(cfg, faces.value().get());
  if (!svc.ok()) {
    std::fprintf(stderr, "%s\n", svc.status().message().c_str());
    return 1;
  }
  double cold_store = Ms(t0, Clock::now()) / 1000;
  auto info = svc.value()->Info(coll);
  std::printf("cold start, store only: searchable (exact) in %.1f s, %zu faces\n", cold_store,
              info->size);
  Status st;
  if (reuse) {
    svc.value().reset();
    std::filesystem::rename(snap + ".kept", snap);
    std::printf("HNSW build: skipped (--reuse-snapshot)\n");
  } else {
    t0 = Clock::now();
    st = svc.value()->RebuildNow(coll);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.message().c_str());
      return 1;
    }
    std::printf("HNSW build (M %d, efConstruction %d, %d threads): %.1f s\n", cfg.index.hnsw_m,
                cfg.index.ef_construction, cfg.index.build_threads, Ms(t0, Clock::now()) / 1000);
    std::fflush(stdout);
    t0 = Clock::now();
    st = svc.value()->SnapshotNow(coll);
    std::error_code ec;
    const auto snap_bytes = std::filesystem::file_size(snap, ec);
    if (ec)  // below hnsw_threshold the collection is searched exactly: no graph to save
      std::printf("snapshot: none (%s)\n", st.ok() ? "exact search" : st.message().c_str());
    else
      std::printf("snapshot written in %.1f s (%.0f MB)\n", Ms(t0, Clock::now()) / 1000,
                  snap_bytes / 1048576.0);
    svc.value().reset();
  }

  // 4. Cold start from the snapshot, checked against the store.
  rss0 = RssMb();
  t0 = Clock::now();
  svc = service::CollectionService::Open(cfg, faces.value().get());
  double cold_snap = Ms(t0, Clock::now()) / 1000;
  if (!svc.ok()) {
    std::fprintf(stderr, "%s\n", svc.status().message().c_str());
    return 1;
  }
  info = svc.value()->Info(coll);
  double rss_coll = RssMb() - rss0;
  std::printf(
      "cold start, snapshot checked against the store: searchable (%s, from %s) in %.1f s\n",
      info->graph ? "HNSW" : "exact", info->loaded_from.c_str(), cold_snap);
  std::printf("memory for the collection: %.0f MB RSS (%zu faces)\n", rss_coll, info->size);

  // 5. Exact reference and recall@1 / latency.
  index::IndexOptions exact_opt;
  exact_opt.hnsw_threshold = size_t(1) << 40;
  index::VectorIndex exact(exact_opt);
  {
    std::vector<int64_t> labels;
    std::vector<float> vecs;
    st = svc.value()->store().ScanDescriptors(coll, [&](int64_t l, const std::vector<float>& d) {
      labels.push_back(l);
      vecs.insert(vecs.end(), d.begin(), d.end());
      if (labels.size() == 50000) {
        (void)exact.Add(labels, vecs.data());
        labels.clear();
        vecs.clear();
      }
    });
    (void)exact.Add(labels, vecs.data());
  }
  std::vector<double> t_exact, t_index, t_service;
  std::vector<int64_t> truth;
  int agree = 0;
  std::vector<double> gaps;  // similarity of exact's best minus the index's best, on misses
  // Exact first, then the index, each over all queries: interleaved, each
  // exact scan (the whole collection) would evict the graph from the caches.
  std::vector<index::Hit> best(queries);
  for (int q = 0; q < queries; ++q) {
    auto a0 = Clock::now();
    auto e = exact.Search(query_vecs.data() + size_t(q) * dim, 1);
    t_exact.push_back(Ms(a0, Clock::now()));
    best[q] = e.empty() ? index::Hit{-1, 0.f} : e.front();
    truth.push_back(best[q].label);
  }
  for (int q = 0; q < queries; ++q) {
    auto a1 = Clock::now();
    auto m = svc.value()->SearchDescriptor(coll, query_vecs.data() + size_t(q) * dim, 1, 0);
    t_index.push_back(Ms(a1, Clock::now()));
    if (!m.ok() || m->empty() || truth[q] < 0) continue;
    if (m->front().face.label == truth[q])
      ++agree;
    else
      gaps.push_back(service::FaceService::SimilarityFromDistance(
                         std::sqrt(std::max(0.f, 2 - 2 * best[q].score))) -
                     m->front().similarity);
  }
  // SearchFaces by FaceId, as the API runs it (face lookup, index, results from the store).
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> pick(0, n - 1);
  for (int q = 0; q < queries; ++q) {
    char id[40];
    std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012x", pick(rng));
    auto a0 = Clock::now();
    auto m = svc.value()->SearchFaces(coll, id, 10, 80);
    t_service.push_back(Ms(a0, Clock::now()));
    if (!m.ok()) {
      std::fprintf(stderr, "SearchFaces: %s\n", m.status().message().c_str());
      return 1;
    }
  }
  Percentiles pe = Stats(t_exact), pi = Stats(t_index), ps = Stats(t_service);
  std::printf("recall@1 of the index against exact search: %.4f (%d/%d queries)\n",
              double(agree) / queries, agree, queries);
  if (!gaps.empty()) {
    std::printf(
        "  misses: the index's best is %.3f Similarity points below exact's best (median)\n",
        Stats(gaps).p50);
  }
  std::printf("exact brute force   : p50 %8.3f ms  p90 %8.3f ms  p99 %8.3f ms\n", pe.p50, pe.p90,
              pe.p99);
  std::printf("argus index (search): p50 %8.3f ms  p90 %8.3f ms  p99 %8.3f ms\n", pi.p50, pi.p90,
              pi.p99);
  std::printf("exact / argus index : %.1fx (p50)\n", pe.p50 / pi.p50);
  std::printf("SearchFaces (service, MaxFaces 10): p50 %.3f ms  p90 %.3f ms  p99 %.3f ms\n", ps.p50,
              ps.p90, ps.p99);
  // The same graph at other search beams (the snapshot loaded on its own).
  if (info->graph && o.beams) {
    index::SnapshotMeta meta;
    auto g = index::VectorIndex::Load(snap, cfg.index, &meta);
    if (g.ok()) {
      std::printf("search beam (efSearch) on this graph:");
      for (int ef : {128, 192, 256, 384, 512}) {
        g.value()->SetSearchBeam(ef);
        std::vector<double> tg;
        int hit = 0;
        for (int q = 0; q < queries; ++q) {
          auto a0 = Clock::now();
          auto h = g.value()->Search(query_vecs.data() + size_t(q) * dim, 1);
          tg.push_back(Ms(a0, Clock::now()));
          hit += !h.empty() && h.front().label == truth[q];
        }
        std::printf("  ef %d: p50 %.2f ms recall@1 %.3f;", ef, Stats(tg).p50,
                    double(hit) / queries);
      }
      std::printf("\n");
    }
  }

  // 6. Whole requests through the API handlers (JSON, base64, decode, models).
  api::Services services;
  services.faces = faces.value().get();
  services.collections = svc.value().get();
  // A one-face 640x480 photo, as for IndexFaces.
  const std::string& photo =
      real.one_face_jpegs.empty() ? real.search_jpeg : real.one_face_jpegs[0];
  {
    std::vector<double> t_dec, t_det, t_desc;
    for (int i = 0; i < 12; ++i) {
      auto a0 = Clock::now();
      auto img = DecodeImage(photo);
      auto a1 = Clock::now();
      auto det = faces.value()->DetectFaces(img.value());
      auto a2 = Clock::now();
      if (det.ok() && !det->empty()) (void)faces.value()->Describe(img.value(), det->front());
      auto a3 = Clock::now();
      if (i < 2) continue;
      t_dec.push_back(Ms(a0, a1));
      t_det.push_back(Ms(a1, a2));
      t_desc.push_back(Ms(a2, a3));
    }
    std::printf(
        "face pipeline on a one-face 640x480 photo: decode %.1f ms, DetectFaces (with "
        "landmarks) %.1f ms, Describe %.1f ms (p50)\n",
        Stats(t_dec).p50, Stats(t_det).p50, Stats(t_desc).p50);
  }
  std::string body = api::json{
      {"CollectionId", coll},
      {"Image", {{"Bytes", Base64Encode(photo)}}},
      {"MaxFaces", 10}}.dump();
  std::vector<double> t_img;
  const int img_runs = std::max(5, o.image_queries);
  for (int i = 0; i < img_runs + 2; ++i) {
    auto a0 = Clock::now();
    auto r = api::Handle("RekognitionService.SearchFacesByImage", body, services);
    if (r.http_status != 200) {
      std::fprintf(stderr, "SearchFacesByImage: %s\n", r.body.c_str());
      return 1;
    }
    if (i >= 2) t_img.push_back(Ms(a0, Clock::now()));
  }
  Percentiles pimg = Stats(t_img);
  std::printf("SearchFacesByImage end to end (%d runs): p50 %.1f ms  p90 %.1f ms\n", img_runs,
              pimg.p50, pimg.p90);

  // 7. IndexFaces throughput on one-face 640x480 photos, in a fresh collection.
  (void)svc.value()->CreateCollection("bench-index", {});
  std::vector<std::string> bodies;
  for (const auto& j : real.one_face_jpegs)
    bodies.push_back(api::json{{"CollectionId", "bench-index"},
                               {"Image", {{"Bytes", Base64Encode(j)}}},
                               {"ExternalImageId", "x" + std::to_string(bodies.size())}}
                         .dump());
  const int index_n = std::max(10, o.index_photos);
  // Runs `requests` IndexFaces requests from `clients` threads; returns the seconds.
  auto index_run = [&](int clients, int requests, const std::string& tag,
                       std::atomic<int>& faces_done, std::vector<double>& latency) {
    std::atomic<int> next{0};
    auto t1 = Clock::now();
    std::vector<std::thread> pool;
    for (int c = 0; c < clients; ++c) {
      pool.emplace_back([&] {
        for (int i; (i = next++) < requests;) {
          // Distinct ExternalImageIds, so no request is a re-index.
          std::string b = bodies[i % bodies.size()];
          b.replace(b.find("\"ExternalImageId\":\"") + 19, 0, tag + "-" + std::to_string(i) + "-");
          auto r0 = Clock::now();
          auto r = api::Handle("RekognitionService.IndexFaces", b, services);
          latency[i] = Ms(r0, Clock::now());
          if (r.http_status == 200)
            faces_done += int(api::json::parse(r.body)["FaceRecords"].size());
        }
      });
    }
    for (auto& t : pool) t.join();
    return Ms(t1, Clock::now()) / 1000;
  };
  {
    // Warm-up, untimed: every photo once from two clients, so that the nets
    // each path needs are set up (OpenCV's first run of a net, and a second
    // copy of each net for the second client) as in a running server.
    std::atomic<int> ignored{0};
    std::vector<double> unused(bodies.size());
    index_run(2, int(bodies.size()), "warm", ignored, unused);
  }
  for (int clients : {1, 2}) {
    std::atomic<int> faces_done{0};
    std::vector<double> latency(index_n);
    double s = index_run(clients, index_n, std::to_string(clients), faces_done, latency);
    Percentiles pl = Stats(latency);
    std::printf(
        "IndexFaces, one-face 640x480 photos, %d client(s): %d faces in %.1f s = %.1f faces/s "
        "(per request p50 %.1f ms, p90 %.1f ms, max %.1f ms)\n",
        clients, faces_done.load(), s, faces_done / s, pl.p50, pl.p90,
        *std::max_element(latency.begin(), latency.end()));
  }
  std::printf(
      "  (%zu distinct photos, each the head and shoulders of a fixed face of the sample "
      "photos, each indexed once untimed first; where BlazeFace alone is not sure of the "
      "face, the SSD passes run)\n",
      real.one_face_jpegs.size());
  svc.value().reset();
  if (temp && !o.keep) std::filesystem::remove_all(data_dir);
  return 0;
}

}  // namespace argus::bench
