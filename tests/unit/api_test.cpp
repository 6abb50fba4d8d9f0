#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/rekognition/errors.h"
#include "api/rekognition/router.h"

namespace argus::api {
namespace {

using nlohmann::json;

// Requests that fail validation never reach a service, so no models are needed.
Services NoServices() { return Services{}; }

TEST(Router, UnknownOperation) {
  Services s = NoServices();
  Response r = Handle("RekognitionService.NoSuchThing", "{}", s);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(json::parse(r.body)["__type"], "UnknownOperationException");
  r = Handle("", "{}", s);
  EXPECT_EQ(r.error_type, "UnknownOperationException");
  r = Handle("OtherService.DetectFaces", "{}", s);
  EXPECT_EQ(r.error_type, "UnknownOperationException");
}

TEST(Router, MalformedJsonIsInvalidParameter) {
  Services s = NoServices();
  for (const char* body : {"{not json", "[1,2]", "\"str\""}) {
    Response r = Handle("RekognitionService.DetectFaces", body, s);
    EXPECT_EQ(r.http_status, 400) << body;
    EXPECT_EQ(r.error_type, "InvalidParameterException") << body;
  }
}

TEST(Router, EmptyBodyCountsAsEmptyObject) {
  Services s = NoServices();
  Response r = Handle("RekognitionService.DetectFaces", "", s);
  EXPECT_EQ(r.error_type, "InvalidParameterException");
  // AWS's wording names the member in lower camel case: 'image'.
  EXPECT_NE(json::parse(r.body)["message"].get<std::string>().find("'image'"), std::string::npos);
}

TEST(DetectFacesValidation, NotAnImage) {
  Services s = NoServices();
  Response r = Handle("RekognitionService.DetectFaces",
                      R"({"Image": {"Bytes": "aGVsbG8gd29ybGQ="}})", s);
  EXPECT_EQ(r.error_type, "InvalidImageFormatException");
}

TEST(DetectFacesValidation, BadBase64AndBadAttributes) {
  Services s = NoServices();
  EXPECT_EQ(Handle("RekognitionService.DetectFaces", R"({"Image": {"Bytes": "@@@"}})", s)
                .error_type,
            "InvalidParameterException");
  EXPECT_EQ(Handle("RekognitionService.DetectFaces",
                   R"({"Image": {"Bytes": "aGVsbG8="}, "Attributes": ["NOPE"]})", s)
                .error_type,
            "InvalidParameterException");
  EXPECT_EQ(Handle("RekognitionService.DetectFaces",
                   R"({"Image": {"S3Object": {"Bucket": "bucket", "Name": "n"}}})", s)
                .error_type,
            "InvalidS3ObjectException");
}

TEST(Errors, HttpStatusByKind) {
  EXPECT_EQ(MapError(Code::kInvalidParameter).http_status, 400);
  EXPECT_EQ(MapError(Code::kInternal).http_status, 500);
  EXPECT_EQ(MapError(Code::kInternal).type, "InternalServerError");
  EXPECT_EQ(MapError(Code::kImageTooLarge).type, "ImageTooLargeException");
}

TEST(Errors, BodyIsValidJsonEvenForBinaryMessages) {
  std::string body = ErrorBody(InvalidParameter(std::string("bad \xff\xfe byte")));
  auto j = json::parse(body);
  EXPECT_EQ(j["__type"], "InvalidParameterException");
}

}  // namespace
}  // namespace argus::api
