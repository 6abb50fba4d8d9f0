#include "service/moderation.h"

#include <algorithm>

namespace argus::service {

Result<std::unique_ptr<ModerationService>> ModerationService::Create(ml::Registry& registry) {
  auto c = vision::NsfwClassifier::Create(registry);
  if (!c.ok()) return c.status();
  auto s = std::unique_ptr<ModerationService>(new ModerationService());
  s->classifier_ = std::move(c.value());
  return s;
}

const char* ModerationService::ModerationModelVersion() { return "argus-nsfwjs-mid-1.0"; }

// nsfwjs classes → Rekognition's (version 6) moderation taxonomy:
//   Porn + Hentai  → "Explicit Nudity" (level 1)
//     Porn         →   "Nudity" (level 2)
//     Hentai       →   "Illustrated Explicit Nudity" (level 2)
//   Sexy           → "Suggestive" (level 1)
// Hentai also gives the content type "Illustrated"; Drawing and Neutral map
// to nothing (an empty answer is a safe image).
ModerationResult ModerationService::FromScores(const vision::NsfwScores& s, float min_confidence) {
  using C = vision::NsfwScores;
  auto pct = [](float p) { return std::clamp(p * 100.f, 0.f, 100.f); };
  ModerationResult r;
  auto add = [&](const char* name, const char* parent, int level, float conf) {
    if (conf >= min_confidence && conf > 0) r.labels.push_back({name, parent, level, conf});
  };
  struct Group {
    ModerationLabel top;
    std::vector<ModerationLabel> children;
  };
  const float explicit_conf = pct(s.p[C::kPorn] + s.p[C::kHentai]);
  const float suggestive_conf = pct(s.p[C::kSexy]);
  std::vector<Group> groups;
  groups.push_back({{"Explicit Nudity", "", 1, explicit_conf},
                    {{"Nudity", "Explicit Nudity", 2, pct(s.p[C::kPorn])},
                     {"Illustrated Explicit Nudity", "Explicit Nudity", 2, pct(s.p[C::kHentai])}}});
  groups.push_back({{"Suggestive", "", 1, suggestive_conf}, {}});
  std::stable_sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    return a.top.confidence > b.top.confidence;
  });
  for (auto& g : groups) {
    add(g.top.name.c_str(), "", 1, g.top.confidence);
    std::stable_sort(g.children.begin(), g.children.end(),
                     [](const ModerationLabel& a, const ModerationLabel& b) {
                       return a.confidence > b.confidence;
                     });
    for (const auto& c : g.children)
      add(c.name.c_str(), c.parent.c_str(), c.taxonomy_level, c.confidence);
  }
  // Hentai is illustrated by definition. nsfwjs's "Drawing" is not used: it
  // scores retouched studio photos (face-api's demo samples) 0.76-0.98.
  const float illustrated = pct(s.p[C::kHentai]);
  if (illustrated >= min_confidence && illustrated > 0)
    r.content_types.push_back({"Illustrated", illustrated});
  return r;
}

Result<ModerationResult> ModerationService::Detect(const Image& image, float min_confidence) {
  auto s = classifier_->Classify(image.bgr);
  if (!s.ok()) return s.status();
  return FromScores(s.value(), min_confidence);
}

}  // namespace argus::service
