#pragma once
// The request shapes of the Rekognition service model as flat tables,
// generated at build time by tools/rekognition/gen_validators.py (see
// validate.h for how they are used). Indices refer into the arrays below.
namespace argus::api::model {

enum class ShapeType {
  kStructure,
  kList,
  kMap,
  kString,
  kBlob,
  kInteger,
  kLong,
  kFloat,
  kDouble,
  kBoolean,
  kTimestamp
};

struct ShapeDef {
  const char* name;
  ShapeType type;
  bool has_min, has_max;
  double min, max;                 // length for string/blob/list/map, value for numbers
  int pattern;                     // into kPatterns, -1 for none
  int enum_begin, enum_count;      // into kEnumValues
  int member_begin, member_count;  // into kMembers (structures)
  int element;                     // list member or map value shape, -1 for none
  int key;                         // map key shape, -1 for none
};

struct MemberDef {
  const char* name;
  int shape;
  bool required;
};

struct PatternDef {
  const char* pcre;   // PCRE2 syntax, matched against the whole value
  const char* model;  // as the model writes it (used in messages)
};

struct OperationDef {
  const char* name;
  int input;  // shape index, -1 when the operation takes no input
};

extern const ShapeDef kShapes[];
extern const int kShapeCount;
extern const MemberDef kMembers[];
extern const char* const kEnumValues[];
extern const PatternDef kPatterns[];
extern const int kPatternCount;
extern const OperationDef kOperations[];
extern const int kOperationCount;

}  // namespace argus::api::model
