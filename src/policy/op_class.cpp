// Operation classes: names, parsing, and which classes are always audited.
// Which operation has which class is the operation table's business
// (src/api/rekognition/operations.cpp).
#include "policy/policy.h"

namespace argus::policy {
namespace {

struct ClassName {
  OpClass c;
  const char* name;
};
constexpr ClassName kClasses[] = {
    {OpClass::kFaceDetection, "face_detection"},
    {OpClass::kFaceAttributes, "face_attributes"},
    {OpClass::kFaceVerification, "face_verification_1to1"},
    {OpClass::kFaceEnrollment, "face_enrollment"},
    {OpClass::kFaceIdentification, "face_identification_1toN"},
    {OpClass::kRealtimeIdentification, "realtime_identification"},
    {OpClass::kLabels, "labels"},
    {OpClass::kText, "text"},
    {OpClass::kModeration, "moderation"},
    {OpClass::kAdmin, "admin"},
};

// Every operation of the Rekognition model (and the Users operations) with

}  // namespace

const char* OpClassName(OpClass c) {
  for (const auto& n : kClasses) {
    if (n.c == c) return n.name;
  }
  return "admin";
}

std::optional<OpClass> ParseOpClass(std::string_view s) {
  for (const auto& n : kClasses) {
    if (s == n.name) return n.c;
  }
  return std::nullopt;
}

std::string OpClassNames() {
  std::string out;
  for (const auto& n : kClasses) out += std::string(out.empty() ? "" : ", ") + n.name;
  return out;
}

bool AuditedClass(OpClass c) {
  return c == OpClass::kFaceVerification || c == OpClass::kFaceEnrollment ||
         c == OpClass::kFaceIdentification || c == OpClass::kRealtimeIdentification;
}

}  // namespace argus::policy
