#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "api/rekognition/errors.h"
#include "api/rekognition/operations.h"
#include "api/rekognition/router.h"
#include "api/rekognition/validate.h"
#include "api/rekognition/validate_model.h"

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
  Response r =
      Handle("RekognitionService.DetectFaces", R"({"Image": {"Bytes": "aGVsbG8gd29ybGQ="}})", s);
  EXPECT_EQ(r.error_type, "InvalidImageFormatException");
}

TEST(DetectFacesValidation, BadBase64AndBadAttributes) {
  Services s = NoServices();
  EXPECT_EQ(
      Handle("RekognitionService.DetectFaces", R"({"Image": {"Bytes": "@@@"}})", s).error_type,
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

// The members of `op`'s input shape in the service model.
std::set<std::string> InputMembers(const std::string& op) {
  std::set<std::string> out;
  for (int i = 0; i < model::kOperationCount; ++i) {
    if (op != model::kOperations[i].name || model::kOperations[i].input < 0) continue;
    const model::ShapeDef& s = model::kShapes[model::kOperations[i].input];
    for (int m = 0; m < s.member_count; ++m) out.insert(model::kMembers[s.member_begin + m].name);
  }
  return out;
}

TEST(OperationTable, EveryOperationOfTheModelHasARow) {
  for (const auto& name : ModelOperations()) EXPECT_NE(FindOperation(name), nullptr) << name;
  EXPECT_EQ(FindOperation("NoSuchOperation"), nullptr);
  std::string previous;
  for (const auto& op : Operations()) {
    EXPECT_LT(previous, op.name);
    previous = op.name;
  }
}

// A routed operation's row names every member of its input shape that the
// gate reads: a new operation with a CollectionId, a threshold or a cap
// cannot slip past tenancy or the policy's constraints.
TEST(OperationTable, EveryRoutedOperationHasACompleteRow) {
  const std::set<std::string> thresholds = {"FaceMatchThreshold", "UserMatchThreshold",
                                            "SimilarityThreshold"};
  int routed = 0;
  for (const auto& op : Operations()) {
    if (!op.handler) continue;
    ++routed;
    SCOPED_TRACE(op.name);
    EXPECT_TRUE(HasValidator(op.name));
    auto members = InputMembers(op.name);
    std::string collection = members.count("CollectionId")  ? "CollectionId"
                             : members.count("ResourceArn") ? "ResourceArn"
                                                            : "";
    EXPECT_EQ(op.collection ? op.collection : "", collection);
    if (op.stream_processor) {
      // The collection is Settings.FaceSearch.CollectionId (or the stored
      // processor's), read by ReadRequestFacts.
      EXPECT_EQ(op.access, OpSpec::Access::kRead);
    } else {
      EXPECT_EQ(op.collection != nullptr,
                op.access != OpSpec::Access::kNone && op.access != OpSpec::Access::kList);
    }
    std::string threshold;
    for (const auto& t : thresholds) {
      if (members.count(t)) threshold = t;
    }
    EXPECT_EQ(op.threshold ? op.threshold : "", threshold);
    if (op.threshold) {
      EXPECT_TRUE(members.count(op.threshold));
    }
    if (op.max_results) {
      EXPECT_TRUE(members.count(op.max_results));
    }
    // Searches carry a cap the policy may lower (where their input has one:
    // StartFaceSearch's cap applies to the pages of GetFaceSearch).
    if (op.op_class == policy::OpClass::kFaceIdentification &&
        (members.count("MaxFaces") || members.count("MaxUsers") || members.count("MaxResults"))) {
      EXPECT_NE(op.max_results, nullptr);
    }
    std::string attributes = members.count("Attributes")            ? "Attributes"
                             : members.count("DetectionAttributes") ? "DetectionAttributes"
                                                                    : "";
    EXPECT_EQ(op.attributes ? op.attributes : "", attributes);
    if (op.similarity) {
      EXPECT_NE(op.results, nullptr);
    }
    if (op.unmatched) {
      EXPECT_NE(op.similarity, nullptr);
    }
    if (op.erases || op.counts_faces_indexed) {
      EXPECT_NE(op.collection, nullptr);
    }
    if (std::string(op.name).rfind("Delete", 0) == 0 && op.collection) {
      EXPECT_TRUE(op.erases);  // deleting a collection's faces or users
    }
  }
  EXPECT_EQ(routed, int(SupportedOperations().size()));
  EXPECT_EQ(FindOperation("IndexFaces")->counts_faces_indexed, true);
  EXPECT_EQ(FindOperation("ListCollections")->access, OpSpec::Access::kList);
}

TEST(OperationTable, ClassesOfRequests) {
  auto cls = [](const char* op, json request) {
    return policy::OpClassName(ClassOf(*FindOperation(op), request));
  };
  EXPECT_STREQ(cls("CompareFaces", json::object()), "face_verification_1to1");
  EXPECT_STREQ(cls("SearchUsersByImage", json::object()), "face_identification_1toN");
  EXPECT_STREQ(cls("AssociateFaces", json::object()), "face_enrollment");
  EXPECT_STREQ(cls("DetectFaces", {{"Attributes", {"DEFAULT"}}}), "face_detection");
  EXPECT_STREQ(cls("DetectFaces", {{"Attributes", {"ALL"}}}), "face_attributes");
  EXPECT_STREQ(cls("DetectFaces", {{"Attributes", "ALL"}}), "face_detection");
  EXPECT_STREQ(cls("CreateStreamProcessor", json::object()), "realtime_identification");
}

TEST(OperationTable, FactsOfARequestAndItsAnswer) {
  Services s = NoServices();
  const OpSpec& op = *FindOperation("SearchFacesByImage");
  RequestFacts f = ReadRequestFacts(op, {{"CollectionId", "c1"}, {"MaxFaces", 7}}, s);
  EXPECT_EQ(f.collection, "c1");
  EXPECT_EQ(f.threshold, 80);
  EXPECT_EQ(f.max_results, 7);
  f.threshold = 99;
  f.threshold_changed = true;
  json request = {{"CollectionId", "c1"}};
  ApplyRequestFacts(f, request);
  EXPECT_EQ(request["FaceMatchThreshold"], 99);
  EXPECT_FALSE(request.contains("MaxFaces"));
  // A member of the wrong type reads as absent.
  EXPECT_EQ(ReadRequestFacts(op, {{"CollectionId", 3}}, s).collection, "");
  ResultFacts r =
      ReadResultFacts(op, {{"FaceMatches", {{{"Similarity", 91.5}}, {{"Similarity", 99.5}}}}});
  EXPECT_EQ(r.count, 2);
  EXPECT_EQ(r.similarities, (std::vector<double>{91.5, 99.5}));
  const OpSpec& compare = *FindOperation("CompareFaces");
  json answer = {{"FaceMatches",
                  {{{"Similarity", 91.5}, {"Face", {{"Confidence", 99}}}},
                   {{"Similarity", 99.5}, {"Face", {{"Confidence", 98}}}}}},
                 {"UnmatchedFaces", json::array()}};
  DropResultsUnder(compare, 99, answer);
  EXPECT_EQ(answer["FaceMatches"].size(), 1u);
  EXPECT_EQ(answer["UnmatchedFaces"], json::array({{{"Confidence", 99}}}));
  EXPECT_EQ(ReadResultFacts(compare, answer).unmatched, 1);
}

TEST(Router, UnimplementedOperationsOfTheModelAreUnknown) {
  Services s = NoServices();
  Response r = Handle("RekognitionService.CreateProject", "{}", s);
  EXPECT_EQ(r.error_type, "UnknownOperationException");
  auto supported = SupportedOperations();
  EXPECT_EQ(std::count(supported.begin(), supported.end(), "CreateProject"), 0);
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
