#include "api/rekognition/shapes.h"

#include "api/rekognition/s3_object.h"
#include "core/base64.h"

namespace argus::api {

Status CheckMemberType(const json& request, const char* name, json::value_t type,
                       const char* type_name) {
  auto it = request.find(name);
  if (it == request.end() || it->is_null()) return Status::Ok();
  bool ok = it->type() == type || (type == json::value_t::number_float && it->is_number()) ||
            (type == json::value_t::number_integer && it->is_number_integer());
  if (!ok) return InvalidParameter(std::string(name) + " must be " + type_name + ".");
  return Status::Ok();
}

Result<Image> ImageFromRequest(const json& request, const char* member) {
  auto it = request.find(member);
  if (it == request.end() || it->is_null()) {
    return InvalidParameter(std::string("1 validation error detected: Value null at '") + member +
                            "' failed to satisfy constraint: Member must not be null");
  }
  if (!it->is_object()) return InvalidParameter(std::string(member) + " must be an object.");
  const json& img = *it;
  if (auto s3 = img.find("S3Object"); s3 != img.end() && !s3->is_null()) {
    if (img.contains("Bytes") && !img["Bytes"].is_null()) {
      return InvalidParameter(std::string(member) + " must have Bytes or S3Object, not both.");
    }
    auto raw = ReadS3Object(*s3, kMaxImageBytes);  // --s3-root maps buckets to directories
    if (!raw.ok()) return raw.status();
    return DecodeImage(raw.value());
  }
  auto bytes = img.find("Bytes");
  if (bytes == img.end() || !bytes->is_string()) {
    return InvalidParameter(std::string(member) + ".Bytes is required (base64-encoded image).");
  }
  const std::string& b64 = bytes->get_ref<const std::string&>();
  // Base64 of 5 MB is ~7 MB; refuse early, before decoding.
  if (b64.size() > (kMaxImageBytes + 2) / 3 * 4) {
    return Status(Code::kImageTooLarge, "Image size exceeds the limit of 5242880 bytes for Bytes.");
  }
  auto raw = Base64Decode(b64, std::string(member) + ".Bytes");
  if (!raw.ok()) return raw.status();
  return DecodeImage(raw.value());
}

json BoundingBoxJson(const cv::Rect2f& box, cv::Size image) {
  return {{"Width", box.width / image.width},
          {"Height", box.height / image.height},
          {"Left", box.x / image.width},
          {"Top", box.y / image.height}};
}

json LandmarkJson(const char* type, cv::Point2f p, cv::Size image) {
  return {{"Type", type}, {"X", p.x / image.width}, {"Y", p.y / image.height}};
}

}  // namespace argus::api
