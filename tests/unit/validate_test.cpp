#include "api/rekognition/validate.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/rekognition/router.h"

namespace argus::api {
namespace {

using nlohmann::json;

std::string Message(const char* op, const json& req) { return ValidateRequest(op, req).message(); }

TEST(Validate, EveryPatternOfTheModelCompiles) {
  EXPECT_EQ(BrokenPatterns(), std::vector<std::string>{});
}

TEST(Validate, CoversEveryRoutedOperation) {
  // Adding a route is enough for its requests to be validated: the
  // validators cover every operation of the model and the Users supplement.
  for (const auto& op : SupportedOperations()) EXPECT_TRUE(HasValidator(op)) << op;
  auto ops = ModelOperations();
  EXPECT_GE(ops.size(), 70u);
  for (const char* op : {"DetectFaces", "IndexFaces", "SearchFacesByImage", "DetectLabels",
                         "CreateUser", "SearchUsersByImage", "AssociateFaces"}) {
    EXPECT_TRUE(HasValidator(op)) << op;
  }
}

TEST(Validate, RequiredMemberInAwsWording) {
  Status st = ValidateRequest("DetectFaces", json::object());
  EXPECT_EQ(st.code(), Code::kInvalidParameter);
  EXPECT_EQ(st.message(),
            "1 validation error detected: Value null at 'image' failed to satisfy constraint: "
            "Member must not be null");
}

TEST(Validate, SeveralViolationsAreListed) {
  json req = {{"CollectionId", "bad id!"}, {"MaxFaces", 0}};
  EXPECT_EQ(Message("IndexFaces", req),
            "3 validation errors detected: Value 'bad id!' at 'collectionId' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.\\-]+; "
            "Value null at 'image' failed to satisfy constraint: Member must not be null; "
            "Value '0' at 'maxFaces' failed to satisfy constraint: Member must have value greater "
            "than or equal to 1");
}

TEST(Validate, LengthsRangesAndEnums) {
  json img = {{"Bytes", "AAAA"}};
  EXPECT_EQ(
      Message("SearchFacesByImage", {{"CollectionId", std::string(256, 'a')}, {"Image", img}}),
      "1 validation error detected: Value '" + std::string(256, 'a') +
          "' at 'collectionId' failed to satisfy constraint: Member must have length less "
          "than or equal to 255");
  EXPECT_NE(Message("SearchFacesByImage",
                    {{"CollectionId", "c"}, {"Image", img}, {"FaceMatchThreshold", 100.5}})
                .find("at 'faceMatchThreshold' failed to satisfy constraint: Member must have "
                      "value less than or equal to 100"),
            std::string::npos);
  EXPECT_EQ(
      Message("DetectFaces", {{"Image", img}, {"Attributes", {"ALL", "HAIR"}}})
          .rfind(
              "1 validation error detected: Value '[ALL, HAIR]' at 'attributes' failed to satisfy "
              "constraint: Member must satisfy constraint: [Member must satisfy enum value set: [",
              0),
      0u);
  EXPECT_NE(
      Message("IndexFaces", {{"CollectionId", "c"}, {"Image", img}, {"QualityFilter", "BEST"}})
          .find("Member must satisfy enum value set: [NONE, AUTO, LOW, MEDIUM, HIGH]"),
      std::string::npos);
  EXPECT_NE(Message("DetectFaces", {{"Image", {{"Bytes", ""}}}})
                .find("at 'image.bytes' failed to satisfy constraint: Member must have length "
                      "greater than or equal to 1"),
            std::string::npos);
}

TEST(Validate, NestedPathsNameTheField) {
  json req = {{"Image", {{"S3Object", {{"Bucket", "x"}, {"Name", "a.jpg"}}}}}};
  EXPECT_NE(Message("DetectFaces", req).find("at 'image.s3Object.bucket'"), std::string::npos);
  json del = {{"CollectionId", "c"}, {"FaceIds", {"not-a-uuid"}}};
  EXPECT_NE(Message("DeleteFaces", del).find("Value '[not-a-uuid]' at 'faceIds'"),
            std::string::npos);
}

TEST(Validate, UsersOperationsAreCheckedFromTheSupplement) {
  EXPECT_NE(Message("CreateUser", {{"CollectionId", "c"}, {"UserId", "has space"}})
                .find("at 'userId' failed to satisfy constraint: Member must satisfy regular "
                      "expression pattern: [a-zA-Z0-9_.\\-:]+"),
            std::string::npos);
  EXPECT_NE(Message("AssociateFaces",
                    {{"CollectionId", "c"}, {"UserId", "u"}, {"FaceIds", json::array()}})
                .find("at 'faceIds' failed to satisfy constraint: Member must have length greater "
                      "than or equal to 1"),
            std::string::npos);
  EXPECT_NE(Message("ListUsers", {{"CollectionId", "c"}, {"MaxResults", 501}}).find("500"),
            std::string::npos);
  EXPECT_TRUE(ValidateRequest("CreateUser", {{"CollectionId", "c"}, {"UserId", "user:1"}}).ok());
}

TEST(Validate, UnknownFieldsAreIgnoredAndNullIsAbsent) {
  json req = {{"Image", {{"Bytes", "AAAA"}, {"Extra", 1}}},
              {"NotInTheModel", {1, 2}},
              {"Attributes", nullptr}};
  EXPECT_TRUE(ValidateRequest("DetectFaces", req).ok());
}

TEST(Validate, WrongJsonTypeIsSerializationNamingTheField) {
  Status st = ValidateRequest(
      "IndexFaces", {{"CollectionId", "c"}, {"Image", {{"Bytes", "AAAA"}}}, {"MaxFaces", "three"}});
  EXPECT_EQ(st.code(), Code::kSerialization);
  EXPECT_EQ(st.message(), "Value at 'maxFaces' must be an integer, not a string.");
  EXPECT_EQ(ValidateRequest("DetectFaces", {{"Image", "abc"}}).code(), Code::kSerialization);
}

TEST(Validate, RouterValidatesBeforeTheHandlerRuns) {
  Services none;  // no services: a handler that ran would crash
  Response r = Handle("RekognitionService.DetectFaces",
                      R"({"Image":{"Bytes":"AAAA"},"Attributes":["X"]})", none);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.error_type, "InvalidParameterException");
  EXPECT_NE(r.body.find("enum value set"), std::string::npos);
}

}  // namespace
}  // namespace argus::api
