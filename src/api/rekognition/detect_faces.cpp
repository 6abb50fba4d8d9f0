#include <map>
#include <string>

#include "api/rekognition/collection_shapes.h"
#include "api/rekognition/handlers.h"
#include "api/rekognition/shapes.h"

namespace argus::api {
namespace {

json Judged(const service::Judgement& j) {
  return {{"Value", j.value}, {"Confidence", j.confidence}};
}

// The requested attributes that were computed, in Rekognition's shapes.
void AttributesJson(const service::FaceAttributes& a, json& out) {
  if (a.computed & service::kAttrAgeRange)
    out["AgeRange"] = {{"Low", a.age_low}, {"High", a.age_high}};
  if (a.computed & service::kAttrGender)
    out["Gender"] = {{"Value", a.male ? "Male" : "Female"}, {"Confidence", a.gender_confidence}};
  if (a.computed & service::kAttrEmotions) {
    json e = json::array();
    for (const auto& s : a.emotions) e.push_back({{"Type", s.type}, {"Confidence", s.confidence}});
    out["Emotions"] = e;
  }
  if (a.computed & service::kAttrSmile) out["Smile"] = Judged(a.smile);
  if (a.computed & service::kAttrEyesOpen) out["EyesOpen"] = Judged(a.eyes_open);
  if (a.computed & service::kAttrMouthOpen) out["MouthOpen"] = Judged(a.mouth_open);
  if (a.computed & service::kAttrEyeDirection)
    out["EyeDirection"] = {
        {"Yaw", a.gaze_yaw}, {"Pitch", a.gaze_pitch}, {"Confidence", a.gaze_confidence}};
}

cv::Point2f Mean(const std::vector<cv::Point2f>& p, std::initializer_list<int> idx) {
  cv::Point2f s(0, 0);
  for (int i : idx) s += p[i];
  return s * (1.f / idx.size());
}

// Rekognition's landmark types from the 68-point iBUG layout. "left" is the
// image's left, as Rekognition reports it.
json Landmarks(const std::vector<cv::Point2f>& p, cv::Size size, bool all) {
  json out = json::array();
  if (p.size() != 68) return out;
  cv::Point2f eye_l = Mean(p, {36, 37, 38, 39, 40, 41}), eye_r = Mean(p, {42, 43, 44, 45, 46, 47});
  out.push_back(LandmarkJson("eyeLeft", eye_l, size));
  out.push_back(LandmarkJson("eyeRight", eye_r, size));
  out.push_back(LandmarkJson("mouthLeft", p[48], size));
  out.push_back(LandmarkJson("mouthRight", p[54], size));
  out.push_back(LandmarkJson("nose", p[30], size));
  if (!all) return out;
  const std::pair<const char*, cv::Point2f> more[] = {{"leftEyeBrowLeft", p[17]},
                                                      {"leftEyeBrowUp", p[19]},
                                                      {"leftEyeBrowRight", p[21]},
                                                      {"rightEyeBrowLeft", p[22]},
                                                      {"rightEyeBrowUp", p[24]},
                                                      {"rightEyeBrowRight", p[26]},
                                                      {"leftEyeLeft", p[36]},
                                                      {"leftEyeRight", p[39]},
                                                      {"leftEyeUp", Mean(p, {37, 38})},
                                                      {"leftEyeDown", Mean(p, {40, 41})},
                                                      {"rightEyeLeft", p[42]},
                                                      {"rightEyeRight", p[45]},
                                                      {"rightEyeUp", Mean(p, {43, 44})},
                                                      {"rightEyeDown", Mean(p, {46, 47})},
                                                      {"noseLeft", p[31]},
                                                      {"noseRight", p[35]},
                                                      {"mouthUp", p[51]},
                                                      {"mouthDown", p[57]},
                                                      {"leftPupil", eye_l},
                                                      {"rightPupil", eye_r},
                                                      {"upperJawlineLeft", p[1]},
                                                      {"midJawlineLeft", p[4]},
                                                      {"chinBottom", p[8]},
                                                      {"midJawlineRight", p[12]},
                                                      {"upperJawlineRight", p[15]}};
  for (const auto& [type, pt] : more) out.push_back(LandmarkJson(type, pt, size));
  return out;
}

}  // namespace

Result<json> DetectFaces(const json& request, Services& services) {
  auto attrs = coll::ParseAttributes(request, "Attributes");
  if (!attrs.ok()) return attrs.status();
  const auto [all, want] = attrs.value();
  auto image = ImageFromRequest(request);
  if (!image.ok()) return image.status();
  auto faces = services.faces->DetectFaces(image.value());
  if (!faces.ok()) return faces.status();
  const cv::Size size = image->bgr.size();
  // A face whose landmarking failed keeps its default attributes only.
  std::vector<service::FaceDetail*> analysed;
  for (auto& f : faces.value())
    if (want && f.landmarks68.size() == 68) analysed.push_back(&f);
  if (Status s = services.faces->AnalyzeAll(image.value(), analysed, want); !s.ok()) return s;
  json details = json::array();
  for (const auto& f : faces.value()) details.push_back(FaceDetailJson(f, size, all));
  return json{{"FaceDetails", details}};
}

json FaceDetailJson(const service::FaceDetail& f, cv::Size size, bool all) {
  json out = {
      {"BoundingBox", BoundingBoxJson(f.box, size)},
      {"Landmarks", Landmarks(f.landmarks68, size, all)},
      {"Pose", {{"Roll", f.pose.roll}, {"Yaw", f.pose.yaw}, {"Pitch", f.pose.pitch}}},
      {"Quality", {{"Brightness", f.quality.brightness}, {"Sharpness", f.quality.sharpness}}},
      {"Confidence", f.confidence},
  };
  if (f.attributes) AttributesJson(*f.attributes, out);
  return out;
}

}  // namespace argus::api
