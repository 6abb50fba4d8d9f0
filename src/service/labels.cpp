#include "service/labels.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgproc.hpp>

#include "service/label_taxonomy.h"

namespace argus::service {
namespace {

// Detections below this CenterNet score are never reported.
constexpr float kMinScore = 0.15f;
// Objects that make the foreground of IMAGE_PROPERTIES.
constexpr float kForegroundConfidence = 50.f;

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

bool AnyIn(const std::vector<std::string>& list, const std::vector<std::string>& values) {
  for (const auto& v : values)
    if (Contains(list, v)) return true;
  return false;
}

bool Passes(const Label& l, const LabelOptions& o) {
  if (!o.include_labels.empty() && !Contains(o.include_labels, l.name)) return false;
  if (Contains(o.exclude_labels, l.name)) return false;
  if (!o.include_categories.empty() && !AnyIn(o.include_categories, l.categories)) return false;
  if (AnyIn(o.exclude_categories, l.categories)) return false;
  return true;
}

Label FromEntry(const TaxonomyEntry& e) {
  Label l;
  l.name = e.name;
  l.parents = e.parents;
  l.aliases = e.aliases;
  l.categories = e.categories;
  return l;
}

}  // namespace

Result<std::unique_ptr<LabelService>> LabelService::Create(ml::Registry& registry) {
  auto d = vision::ObjectDetector::CreateCenterNet(registry);
  if (!d.ok()) return d.status();
  auto s = std::unique_ptr<LabelService>(new LabelService());
  s->detector_ = std::move(d.value());
  return s;
}

float LabelService::ConfidenceFromScore(float score) {
  // sqrt spreads the heat-map peaks (true objects mostly 0.3-0.8) over 55-90;
  // the default MinConfidence 55 is a score of 0.30.
  return std::clamp(std::sqrt(std::max(score, 0.f)) * 100.f, 0.f, 100.f);
}

const char* LabelService::LabelModelVersion() { return "argus-centernet-coco80-1.0"; }

Result<LabelsResult> LabelService::DetectLabels(const Image& image, const LabelOptions& opts) {
  LabelsResult result;
  const cv::Mat& bgr = image.bgr;
  auto objects = detector_->Detect(bgr, kMinScore);
  if (!objects.ok()) return objects.status();

  if (opts.general_labels) {
    std::map<std::string, Label> labels;
    int people = 0;
    float second_person = 0, first_person = 0;
    for (const auto& o : objects.value()) {
      const float conf = ConfidenceFromScore(o.score);
      if (conf < opts.min_confidence) continue;
      const TaxonomyEntry* e = LabelForCocoClass(o.class_id);
      if (!e) continue;
      auto [it, fresh] = labels.try_emplace(e->name, FromEntry(*e));
      Label& l = it->second;
      l.instances.push_back({o.box, conf});
      l.confidence = std::max(l.confidence, conf);
      // Ancestors are labels too, as confident as their best descendant.
      for (const auto& p : e->parents) {
        const TaxonomyEntry* pe = FindLabel(p);
        if (!pe) continue;
        auto [pit, pfresh] = labels.try_emplace(p, FromEntry(*pe));
        pit->second.confidence = std::max(pit->second.confidence, conf);
      }
      if (e->name == "Person") {
        ++people;
        if (conf > first_person) {
          second_person = first_person;
          first_person = conf;
        } else {
          second_person = std::max(second_person, conf);
        }
      }
    }
    // Two or more people: "People", as confident as the second-best person.
    if (people >= 2) {
      if (const TaxonomyEntry* pe = FindLabel("People")) {
        Label l = FromEntry(*pe);
        l.confidence = second_person;
        labels["People"] = std::move(l);
      }
    }
    for (auto& [name, l] : labels) {
      std::stable_sort(l.instances.begin(), l.instances.end(),
                       [](const LabelInstance& a, const LabelInstance& b) {
                         return a.confidence > b.confidence;
                       });
      if (Passes(l, opts)) result.labels.push_back(std::move(l));
    }
    std::stable_sort(result.labels.begin(), result.labels.end(),
                     [](const Label& a, const Label& b) { return a.confidence > b.confidence; });
    if (opts.max_labels >= 0 && int(result.labels.size()) > opts.max_labels)
      result.labels.resize(opts.max_labels);
  }

  if (opts.image_properties) {
    ImageProperties props;
    props.image.quality = vision::MeasureImageQuality(bgr);
    props.image.colors = vision::DominantColors(bgr, opts.max_dominant_colors);
    cv::Mat fg = cv::Mat::zeros(bgr.size(), CV_8U);
    bool any = false;
    for (const auto& o : objects.value()) {
      if (ConfidenceFromScore(o.score) < kForegroundConfidence) continue;
      cv::rectangle(fg, cv::Rect(o.box), cv::Scalar(255), cv::FILLED);
      any = true;
    }
    if (any) {
      cv::Mat bg = 255 - fg;
      const int min_pixels = std::max<int>(16, int(bgr.total() / 100));
      if (cv::countNonZero(fg) >= min_pixels && cv::countNonZero(bg) >= min_pixels) {
        props.foreground =
            RegionProperties{vision::MeasureImageQuality(bgr, fg),
                             vision::DominantColors(bgr, opts.max_dominant_colors, fg)};
        props.background =
            RegionProperties{vision::MeasureImageQuality(bgr, bg),
                             vision::DominantColors(bgr, opts.max_dominant_colors, bg)};
      }
    }
    result.properties = std::move(props);
  }
  return result;
}

}  // namespace argus::service
