#include "api/rekognition/video_results.h"

#include <algorithm>
#include <map>
#include <set>

#include "api/rekognition/collection_shapes.h"
#include "api/rekognition/handlers.h"
#include "api/rekognition/request_params.h"
#include "api/rekognition/shapes.h"

namespace argus::api {
namespace {

// The interval between two sampled frames of a label or moderation
// analysis; a label unseen for more than twice it ends its segment.
int64_t SegmentGapMs(double fps) { return fps > 0 ? int64_t(2 * 1000 / fps) : 1000; }

json MetadataJson(const video::VideoMetadata& m) {
  return {{"Codec", m.codec},
          {"DurationMillis", m.duration_ms},
          {"Format", m.format},
          {"FrameRate", m.frame_rate},
          {"FrameHeight", m.height},
          {"FrameWidth", m.width},
          {"ColorRange", m.color_range.empty() ? "LIMITED" : m.color_range}};
}

json Names(const std::vector<std::string>& names) {
  json out = json::array();
  for (const auto& n : names) out.push_back({{"Name", n}});
  return out;
}

json PersonJson(const video::PersonItem& p, cv::Size size) {
  json person = {{"Index", p.index}};
  if (p.body) person["BoundingBox"] = BoundingBoxJson(*p.body, size);
  if (p.face) person["Face"] = FaceDetailJson(*p.face, size, false);
  return person;
}

// Ranks of names in name order, for SortBy NAME.
std::map<std::string, int64_t> NameRanks(const std::set<std::string>& names) {
  std::map<std::string, int64_t> ranks;
  int64_t r = 0;
  for (const auto& n : names) ranks[n] = r++;
  return ranks;
}

// A label seen at sampled frames: runs of sightings no further apart than
// `gap` become one segment, answered with its most confident sighting.
struct Sighting {
  int64_t timestamp_ms;
  float confidence;
  json body;  // the item's label member
};
std::vector<VideoItem> Segments(const std::map<std::string, std::vector<Sighting>>& by_name,
                                const char* member, int64_t gap,
                                const std::map<std::string, json>& extra_of_name) {
  std::vector<VideoItem> out;
  auto ranks = NameRanks([&] {
    std::set<std::string> s;
    for (const auto& [n, v] : by_name) s.insert(n);
    return s;
  }());
  for (const auto& [name, sightings] : by_name) {
    size_t i = 0;
    while (i < sightings.size()) {
      size_t best = i, j = i;
      while (j + 1 < sightings.size() &&
             sightings[j + 1].timestamp_ms - sightings[j].timestamp_ms <= gap) {
        ++j;
        if (sightings[j].confidence > sightings[best].confidence) best = j;
      }
      int64_t start = sightings[i].timestamp_ms, end = sightings[j].timestamp_ms;
      json item = {{"Timestamp", start},
                   {member, sightings[best].body},
                   {"StartTimestampMillis", start},
                   {"EndTimestampMillis", end},
                   {"DurationMillis", end - start}};
      if (auto e = extra_of_name.find(name); e != extra_of_name.end()) {
        for (const auto& [k, v] : e->second.items()) item[k] = v;
      }
      out.push_back({start, ranks[name], std::move(item)});
      i = j + 1;
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const VideoItem& a, const VideoItem& b) {
    return a.timestamp_ms < b.timestamp_ms;
  });
  return out;
}

struct SegmentRequest {
  video::SegmentOptions options;
  std::vector<std::string> types;  // as asked, in the model's order
};

Result<SegmentRequest> ParseSegmentRequest(const json& request) {
  SegmentRequest r;
  r.options.shots = r.options.technical_cues = false;
  auto types = request.find("SegmentTypes");
  if (types == request.end() || !types->is_array() || types->empty()) {
    return InvalidParameter(
        "1 validation error detected: Value at 'segmentTypes' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1");
  }
  for (const auto& t : *types) {
    if (t == "SHOT") {
      r.options.shots = true;
    } else if (t == "TECHNICAL_CUE") {
      r.options.technical_cues = true;
    } else {
      return InvalidParameter(
          "1 validation error detected: Value at 'segmentTypes' failed to satisfy constraint: "
          "Member must satisfy constraint: [Member must satisfy enum value set: [TECHNICAL_CUE, "
          "SHOT]]");
    }
  }
  if (r.options.technical_cues) r.types.push_back("TECHNICAL_CUE");
  if (r.options.shots) r.types.push_back("SHOT");
  auto filters = ObjectParam(request, "Filters");
  if (!filters.ok()) return filters.status();
  if (const json* f = filters.value()) {
    auto cue = ObjectParam(*f, "TechnicalCueFilter", "filters");
    if (!cue.ok()) return cue.status();
    if (const json* c = cue.value()) {
      const std::string at = "filters.technicalCueFilter";
      auto conf = NumberParam(*c, "MinSegmentConfidence", 50, 100, 50, at);
      if (!conf.ok()) return conf.status();
      r.options.cue_min_confidence = float(conf.value());
      auto black = ObjectParam(*c, "BlackFrame", at);
      if (!black.ok()) return black.status();
      if (const json* b = black.value()) {
        auto px = NumberParam(*b, "MaxPixelThreshold", 0, 1, 0.2, at + ".blackFrame");
        if (!px.ok()) return px.status();
        auto cov = NumberParam(*b, "MinCoveragePercentage", 0, 100, 99, at + ".blackFrame");
        if (!cov.ok()) return cov.status();
        r.options.black_max_pixel_threshold = float(px.value());
        r.options.black_min_coverage = float(cov.value() / 100);
      }
      if (auto fl = c->find("Filtering"); fl != c->end() && !fl->is_null()) {
        if (*fl != "STRICT" && *fl != "LOOSE") {
          return InvalidParameter(
              "1 validation error detected: Value at 'filters.technicalCueFilter.filtering' "
              "failed to satisfy constraint: Member must satisfy enum value set: [STRICT, "
              "LOOSE]");
        }
      }
    }
    auto shot = ObjectParam(*f, "ShotFilter", "filters");
    if (!shot.ok()) return shot.status();
    if (const json* s = shot.value()) {
      auto conf = NumberParam(*s, "MinSegmentConfidence", 50, 100, 50, "filters.shotFilter");
      if (!conf.ok()) return conf.status();
      r.options.shot_min_confidence = float(conf.value());
    }
  }
  return r;
}

Result<service::LabelOptions> ParseLabelRequest(const json& request) {
  service::LabelOptions o;
  auto min_conf = NumberParam(request, "MinConfidence", 0, 100, 50);
  if (!min_conf.ok()) return min_conf.status();
  o.min_confidence = float(min_conf.value());
  ARGUS_RETURN_IF_ERROR(ParseLabelFeatures(request, o));
  if (o.image_properties) {
    return InvalidParameter(
        "1 validation error detected: Value at 'features' failed to satisfy constraint: Member "
        "must satisfy constraint: [Member must satisfy enum value set: [GENERAL_LABELS]]");
  }
  o.general_labels = true;
  return o;
}

Result<std::string> CollectionOf(const json& request) {
  auto c = request.find("CollectionId");
  if (c == request.end() || !c->is_string())
    return InvalidParameter("StartFaceSearch needs a CollectionId.");
  return c->get<std::string>();
}

}  // namespace

const char* VideoResultsMember(const std::string& api) {
  if (api == "StartFaceDetection") return "Faces";
  if (api == "StartFaceSearch" || api == "StartPersonTracking") return "Persons";
  if (api == "StartLabelDetection") return "Labels";
  if (api == "StartContentModeration") return "ModerationLabels";
  if (api == "StartTextDetection") return "TextDetections";
  if (api == "StartSegmentDetection") return "Segments";
  return nullptr;
}

Status CheckVideoRequest(const std::string& api, const json& request) {
  if (!VideoResultsMember(api)) return InvalidParameter(api + " is not a stored-video operation.");
  if (api == "StartFaceSearch") {
    ARGUS_RETURN_IF_ERROR(CollectionOf(request).status());
    return NumberParam(request, "FaceMatchThreshold", 0, 100, 80).status();
  }
  if (api == "StartLabelDetection") return ParseLabelRequest(request).status();
  if (api == "StartContentModeration")
    return NumberParam(request, "MinConfidence", 0, 100, 50).status();
  if (api == "StartTextDetection") {
    service::TextOptions o;
    return ParseTextFilters(request, o);
  }
  if (api == "StartSegmentDetection") return ParseSegmentRequest(request).status();
  return Status::Ok();
}

Result<VideoAnalysis> AnalyseVideo(const std::string& api, const json& request,
                                   video::VideoReader& reader, const video::Services& services,
                                   const video::SampleRates& rates,
                                   const video::ProgressFn& progress) {
  ARGUS_RETURN_IF_ERROR(CheckVideoRequest(api, request));
  const video::VideoMetadata& m = reader.metadata();
  const cv::Size size(std::max(1, m.width), std::max(1, m.height));
  VideoAnalysis out;
  out.video_metadata = MetadataJson(m);
  out.extra = json::object();

  if (api == "StartFaceDetection") {
    bool all = request.value("FaceAttributes", std::string("DEFAULT")) == "ALL";
    ARGUS_ASSIGN(faces, video::DetectFaces(reader, services, all, rates, progress));
    for (const auto& f : faces) {
      out.items.push_back(
          {f.timestamp_ms,
           0,
           {{"Timestamp", f.timestamp_ms}, {"Face", FaceDetailJson(f.face, size, all)}}});
    }
  } else if (api == "StartPersonTracking") {
    ARGUS_ASSIGN(persons, video::TrackPersons(reader, services, rates, progress));
    for (const auto& p : persons) {
      out.items.push_back({p.timestamp_ms,
                           p.index,
                           {{"Timestamp", p.timestamp_ms}, {"Person", PersonJson(p, size)}}});
    }
  } else if (api == "StartFaceSearch") {
    ARGUS_ASSIGN(collection, CollectionOf(request));
    ARGUS_ASSIGN(threshold, NumberParam(request, "FaceMatchThreshold", 0, 100, 80));
    ARGUS_ASSIGN(persons, video::SearchFaces(reader, services, collection, float(threshold), rates,
                                             progress));
    for (const auto& p : persons) {
      if (p.matches.empty()) continue;  // Persons lists the people whose faces matched
      json matches = json::array();
      for (const auto& fm : p.matches)
        matches.push_back(
            {{"Similarity", fm.similarity}, {"Face", coll::FaceJson(fm.face, false)}});
      out.items.push_back({p.timestamp_ms,
                           p.index,
                           {{"Timestamp", p.timestamp_ms},
                            {"Person", PersonJson(p, size)},
                            {"FaceMatches", matches}}});
    }
  } else if (api == "StartLabelDetection") {
    ARGUS_ASSIGN(options, ParseLabelRequest(request));
    ARGUS_ASSIGN(labels, video::DetectLabels(reader, services, options, false, rates, progress));
    std::set<std::string> names;
    for (const auto& l : labels) names.insert(l.label.name);
    auto ranks = NameRanks(names);
    std::map<std::string, std::vector<Sighting>> by_name;
    for (const auto& l : labels) {
      json instances = json::array();
      for (const auto& i : l.label.instances)
        instances.push_back(
            {{"BoundingBox", BoundingBoxJson(i.box, size)}, {"Confidence", i.confidence}});
      json label = {{"Name", l.label.name},
                    {"Confidence", l.label.confidence},
                    {"Instances", instances},
                    {"Parents", Names(l.label.parents)},
                    {"Aliases", Names(l.label.aliases)},
                    {"Categories", Names(l.label.categories)}};
      by_name[l.label.name].push_back({l.timestamp_ms, l.label.confidence, label});
      out.items.push_back({l.timestamp_ms,
                           ranks[l.label.name],
                           {{"Timestamp", l.timestamp_ms},
                            {"Label", std::move(label)},
                            {"StartTimestampMillis", l.timestamp_ms},
                            {"EndTimestampMillis", l.timestamp_ms},
                            {"DurationMillis", 0}}});
    }
    out.segments = Segments(by_name, "Label", SegmentGapMs(rates.labels), {});
    out.extra["LabelModelVersion"] = service::LabelService::LabelModelVersion();
  } else if (api == "StartContentModeration") {
    ARGUS_ASSIGN(min_conf, NumberParam(request, "MinConfidence", 0, 100, 50));
    ARGUS_ASSIGN(
        labels, video::DetectModeration(reader, services, float(min_conf), false, rates, progress));
    std::set<std::string> names;
    for (const auto& l : labels) names.insert(l.label.name);
    auto ranks = NameRanks(names);
    std::map<std::string, std::vector<Sighting>> by_name;
    std::map<std::string, json> types_of_name;
    for (const auto& l : labels) {
      json label = {{"Confidence", l.label.confidence},
                    {"Name", l.label.name},
                    {"ParentName", l.label.parent},
                    {"TaxonomyLevel", l.label.taxonomy_level}};
      json types = json::array();
      for (const auto& t : l.content_types)
        types.push_back({{"Confidence", t.confidence}, {"Name", t.name}});
      by_name[l.label.name].push_back({l.timestamp_ms, l.label.confidence, label});
      types_of_name[l.label.name] = {{"ContentTypes", types}};
      out.items.push_back({l.timestamp_ms,
                           ranks[l.label.name],
                           {{"Timestamp", l.timestamp_ms},
                            {"ModerationLabel", std::move(label)},
                            {"StartTimestampMillis", l.timestamp_ms},
                            {"EndTimestampMillis", l.timestamp_ms},
                            {"DurationMillis", 0},
                            {"ContentTypes", std::move(types)}}});
    }
    out.segments =
        Segments(by_name, "ModerationLabel", SegmentGapMs(rates.moderation), types_of_name);
    out.extra["ModerationModelVersion"] = service::ModerationService::ModerationModelVersion();
  } else if (api == "StartTextDetection") {
    service::TextOptions o;
    ARGUS_RETURN_IF_ERROR(ParseTextFilters(request, o));
    ARGUS_ASSIGN(texts, video::DetectText(reader, services, o, rates, progress));
    for (const auto& t : texts) {
      const auto& d = t.text;
      json j = {{"DetectedText", d.text},
                {"Type", d.type == service::TextDetection::Type::kLine ? "LINE" : "WORD"},
                {"Id", d.id}};
      if (d.parent_id >= 0) j["ParentId"] = d.parent_id;
      j["Confidence"] = d.confidence;
      j["Geometry"] = TextGeometryJson(d.quad, size);
      out.items.push_back(
          {t.timestamp_ms, 0, {{"Timestamp", t.timestamp_ms}, {"TextDetection", std::move(j)}}});
    }
    out.extra["TextModelVersion"] = service::TextService::TextModelVersion();
  } else if (api == "StartSegmentDetection") {
    ARGUS_ASSIGN(sr, ParseSegmentRequest(request));
    ARGUS_ASSIGN(segments, video::DetectSegments(reader, sr.options, progress));
    for (const auto& s : segments) {
      bool shot = s.type == video::SegmentItem::Type::kShot;
      json j = {{"Type", shot ? "SHOT" : "TECHNICAL_CUE"}, {"StartTimestampMillis", s.start_ms},
                {"EndTimestampMillis", s.end_ms},          {"DurationMillis", s.duration_ms},
                {"StartTimecodeSMPTE", s.start_timecode},  {"EndTimecodeSMPTE", s.end_timecode},
                {"DurationSMPTE", s.duration_timecode},    {"StartFrameNumber", s.start_frame},
                {"EndFrameNumber", s.end_frame},           {"DurationFrames", s.duration_frames}};
      if (shot)
        j["ShotSegment"] = {{"Index", s.shot_index}, {"Confidence", s.confidence}};
      else
        j["TechnicalCueSegment"] = {{"Type", s.cue_type}, {"Confidence", s.confidence}};
      out.items.push_back({s.start_ms, 0, std::move(j)});
    }
    // One video stream; argus analyses no audio, so AudioMetadata stays empty.
    out.video_metadata = json::array({out.video_metadata});
    json selected = json::array();
    for (const auto& t : sr.types) selected.push_back({{"Type", t}, {"ModelVersion", "1.0"}});
    out.extra["SelectedSegmentTypes"] = selected;
    out.extra["AudioMetadata"] = json::array();
  }
  return out;
}

Result<json> RunVideoAnalysis(const std::string& api, const json& request,
                              const std::string& video_path, const video::Services& services,
                              const video::SampleRates& rates, const video::ProgressFn& progress) {
  const char* member = VideoResultsMember(api);
  if (!member) return InvalidParameter(api + " is not a stored-video operation.");
  bool by_segment = false;
  if (auto a = request.find("AggregateBy"); a != request.end() && !a->is_null()) {
    if (*a != "TIMESTAMPS" && *a != "SEGMENTS")
      return InvalidParameter("AggregateBy must be TIMESTAMPS or SEGMENTS.");
    by_segment = *a == "SEGMENTS";
  }
  ARGUS_ASSIGN(reader, video::VideoReader::Open(video_path));
  ARGUS_ASSIGN(analysis, AnalyseVideo(api, request, *reader, services, rates, progress));
  json out = {{"VideoMetadata", analysis.video_metadata}};
  for (const auto& [k, v] : analysis.extra.items()) out[k] = v;
  json list = json::array();
  const bool segments =
      by_segment && (api == "StartLabelDetection" || api == "StartContentModeration");
  const auto& items = segments ? analysis.segments : analysis.items;
  for (const auto& i : items) list.push_back(i.body);
  out[member] = std::move(list);
  return out;
}

}  // namespace argus::api
