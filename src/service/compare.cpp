#include "service/compare.h"

#include <algorithm>
#include <future>

namespace argus::service {

Result<CompareFacesResult> CompareFaces(FaceService& faces, const Image& source,
                                        const Image& target, const CompareFacesRequest& req) {
  // The target's faces are found on another thread while the source face is
  // found and described: the two images are independent until the
  // descriptors meet, and small nets leave a core idle.
  DetectOptions opts;
  opts.max_faces = kMaxCompareTargetFaces;
  auto pending = std::async(std::launch::async, [&] { return faces.DetectFaces(target, opts); });
  auto src_faces = faces.DetectFaces(source);
  if (!src_faces.ok()) return src_faces.status();
  // Largest first: the first source face that can be described is the one compared.
  const FaceDetail* src = nullptr;
  std::vector<float> src_desc;
  for (const auto& f : src_faces.value()) {
    if (!QualityReasons(f, req.quality).empty()) continue;
    auto d = faces.Describe(source, f);
    if (!d.ok()) continue;
    src = &f;
    src_desc = std::move(d.value());
    break;
  }
  if (!src) {
    return InvalidParameter(src_faces->empty()
                                ? "There are no faces in the source image."
                                : "The faces in the source image do not pass the quality filter.");
  }
  CompareFacesResult out;
  out.source = *src;
  auto tgt_faces = pending.get();
  if (!tgt_faces.ok()) return tgt_faces.status();
  std::vector<const FaceDetail*> compared;
  for (const auto& f : tgt_faces.value())
    if (QualityReasons(f, req.quality).empty()) compared.push_back(&f);
  auto described = faces.DescribeAll(target, compared);
  for (size_t i = 0; i < compared.size(); ++i) {
    ComparedFace c;
    const auto& d = described[i];
    c.similarity = d.ok() ? FaceService::Similarity(src_desc, d.value()) : 0.f;
    c.detail = *compared[i];
    (c.similarity >= req.similarity_threshold ? out.matches : out.unmatched)
        .push_back(std::move(c));
  }
  std::stable_sort(
      out.matches.begin(), out.matches.end(),
      [](const ComparedFace& a, const ComparedFace& b) { return a.similarity > b.similarity; });
  return out;
}

}  // namespace argus::service
