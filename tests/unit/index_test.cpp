// VectorIndex: exact and graph search, removals, rebuilds and snapshots.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "index/vector_index.h"

namespace argus::index {
namespace {

std::vector<float> RandomUnit(size_t n, int dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> v(n * dim);
  for (size_t i = 0; i < n; ++i) {
    double s = 0;
    for (int j = 0; j < dim; ++j) s += double(v[i * dim + j] = g(rng)) * v[i * dim + j];
    for (int j = 0; j < dim; ++j) v[i * dim + j] /= float(std::sqrt(s));
  }
  return v;
}

std::vector<int64_t> Labels(size_t n, int64_t first = 1) {
  std::vector<int64_t> l(n);
  for (size_t i = 0; i < n; ++i) l[i] = first + int64_t(i) * 3;  // gaps, like a store's
  return l;
}

IndexOptions Small() {
  IndexOptions o;
  o.dim = 16;
  o.hnsw_threshold = 500;
  o.hnsw_m = 16;
  return o;
}

TEST(VectorIndexTest, ExactSearchFindsTheVectorItself) {
  VectorIndex idx(Small());
  auto v = RandomUnit(100, 16, 1);
  auto l = Labels(100);
  ASSERT_TRUE(idx.Add(l, v.data()).ok());
  EXPECT_FALSE(idx.is_graph());
  auto hits = idx.Search(v.data() + 16 * 37, 3);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].label, l[37]);
  EXPECT_NEAR(hits[0].score, 1.0, 1e-5);
  EXPECT_GE(hits[0].score, hits[1].score);
}

TEST(VectorIndexTest, LabelsMustAscend) {
  VectorIndex idx(Small());
  auto v = RandomUnit(2, 16, 2);
  ASSERT_TRUE(idx.Add({5}, v.data()).ok());
  EXPECT_FALSE(idx.Add({5}, v.data()).ok());
  EXPECT_FALSE(idx.Add({4}, v.data()).ok());
  EXPECT_EQ(idx.size(), 1u);
}

TEST(VectorIndexTest, RemovedVectorsAreNeverReturnedExactOrGraph) {
  VectorIndex idx(Small());
  auto v = RandomUnit(1000, 16, 3);
  auto l = Labels(1000);
  ASSERT_TRUE(idx.Add(l, v.data()).ok());
  EXPECT_TRUE(idx.NeedsRebuild());
  ASSERT_TRUE(idx.Rebuild().ok());
  EXPECT_TRUE(idx.is_graph());
  std::vector<int64_t> gone;
  for (size_t i = 0; i < 1000; i += 2) gone.push_back(l[i]);
  EXPECT_EQ(idx.Remove(gone), gone.size());
  EXPECT_EQ(idx.Remove(gone), 0u);
  EXPECT_EQ(idx.size(), 500u);
  for (size_t i = 0; i < 1000; i += 50) {
    auto hits = idx.Search(v.data() + 16 * i, 10);
    ASSERT_EQ(hits.size(), 10u);
    for (const auto& h : hits) EXPECT_EQ((h.label - 1) / 3 % 2, 1) << "removed label returned";
    if (i % 2) {
      EXPECT_EQ(hits[0].label, l[i]);
    }
  }
  // Compaction (half are tombstones) and back to exact below half the threshold.
  EXPECT_TRUE(idx.NeedsRebuild());
  ASSERT_TRUE(idx.Rebuild().ok());
  EXPECT_EQ(idx.size(), 500u);
  std::vector<int64_t> more;
  for (size_t i = 1; i < 1000; i += 2)
    if (i % 8 != 7) more.push_back(l[i]);
  idx.Remove(more);
  EXPECT_TRUE(idx.NeedsRebuild());
  ASSERT_TRUE(idx.Rebuild().ok());
  EXPECT_FALSE(idx.is_graph());
  EXPECT_EQ(idx.size(), 125u);
}

TEST(VectorIndexTest, WritesDuringARebuildAreKept) {
  IndexOptions o = Small();
  o.hnsw_threshold = 2000;
  VectorIndex idx(o);
  auto v = RandomUnit(6000, 16, 4);
  auto l = Labels(6000);
  std::vector<int64_t> first(l.begin(), l.begin() + 4000);
  ASSERT_TRUE(idx.Add(first, v.data()).ok());
  std::thread builder([&] { ASSERT_TRUE(idx.Rebuild().ok()); });
  for (size_t i = 4000; i < 6000; i += 100) {
    std::vector<int64_t> batch(l.begin() + i, l.begin() + i + 100);
    ASSERT_TRUE(idx.Add(batch, v.data() + 16 * i).ok());
    idx.Remove({l[i - 4000]});
    (void)idx.Search(v.data(), 5);
  }
  builder.join();
  EXPECT_EQ(idx.size(), 6000u - 20u);
  auto labels = idx.Labels();
  EXPECT_EQ(labels.size(), 6000u - 20u);
  EXPECT_TRUE(std::is_sorted(labels.begin(), labels.end()));
  EXPECT_EQ(idx.Search(v.data() + 16 * 5999, 1)[0].label, l[5999]);
}

TEST(VectorIndexTest, SnapshotRoundTripAndCorruptionIsDetected) {
  auto dir = std::filesystem::temp_directory_path() /
             ("argus-index-test-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "c.idx").string();
  for (bool graph : {false, true}) {
    VectorIndex idx(Small());
    auto v = RandomUnit(800, 16, 5);
    auto l = Labels(800);
    ASSERT_TRUE(idx.Add(l, v.data()).ok());
    if (graph) {
      ASSERT_TRUE(idx.Rebuild().ok());
    }
    idx.Remove({l[3]});
    ASSERT_TRUE(idx.Save(path, {"c", 77, "m1"}).ok());
    SnapshotMeta meta;
    auto loaded = VectorIndex::Load(path, Small(), &meta);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(meta.collection, "c");
    EXPECT_EQ(meta.collection_created_ms, 77);
    EXPECT_EQ(meta.model_version, "m1");
    EXPECT_EQ(loaded.value()->is_graph(), graph);
    EXPECT_EQ(loaded.value()->Labels(), idx.Labels());
    EXPECT_EQ(loaded.value()->Search(v.data() + 16 * 9, 1)[0].label, l[9]);
  }
  // Flip one byte in the middle: the checksum refuses it.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::filesystem::file_size(path) / 2);
    char c = 0;
    f.read(&c, 1);
    f.seekp(std::filesystem::file_size(path) / 2);
    c ^= 0x40;
    f.write(&c, 1);
  }
  EXPECT_FALSE(VectorIndex::Load(path, Small(), nullptr).ok());
  std::filesystem::resize_file(path, 100);
  EXPECT_FALSE(VectorIndex::Load(path, Small(), nullptr).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace argus::index
