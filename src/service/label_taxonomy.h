#pragma once
// The label taxonomy of DetectLabels: Rekognition-style names for the 80
// COCO classes, their ancestors (Parents), Aliases and Categories.
#include <string>
#include <string_view>
#include <vector>

namespace argus::service {

struct TaxonomyEntry {
  std::string name;                  // e.g. "Car"
  std::vector<std::string> parents;  // every ancestor, nearest first ("Vehicle", "Transportation")
  std::vector<std::string> aliases;  // e.g. "Automobile"
  std::vector<std::string> categories;  // e.g. "Vehicles and Automotive"
};

// The entry of a COCO-80 class index (vision::CocoLabels() order); nullptr if out of range.
const TaxonomyEntry* LabelForCocoClass(int class_id);
// Any label of the taxonomy (classes and their ancestors) by exact name; nullptr if unknown.
const TaxonomyEntry* FindLabel(std::string_view name);
// Every label name and every category name, sorted.
std::vector<std::string> AllLabelNames();
std::vector<std::string> AllCategories();

}  // namespace argus::service
