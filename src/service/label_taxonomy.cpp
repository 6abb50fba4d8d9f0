#include "service/label_taxonomy.h"

#include <algorithm>
#include <map>
#include <set>

namespace argus::service {
namespace {

struct Node {
  const char* name;
  std::vector<const char*> parents;  // immediate parents
  std::vector<const char*> aliases;
  std::vector<const char*> categories;
};

constexpr const char* kVehicles = "Vehicles and Automotive";
constexpr const char* kAnimals = "Animals and Pets";
constexpr const char* kFood = "Food and Beverage";
constexpr const char* kFurniture = "Furniture and Furnishings";
constexpr const char* kHome = "Home and Indoors";
constexpr const char* kTech = "Technology and Computing";
constexpr const char* kKitchen = "Kitchen and Dining";
constexpr const char* kSports = "Sports";
constexpr const char* kApparel = "Apparel and Accessories";
constexpr const char* kEveryday = "Everyday Objects";
constexpr const char* kSafety = "Public Safety";
constexpr const char* kToys = "Toys and Gaming";
constexpr const char* kPlants = "Plants and Flowers";
constexpr const char* kText = "Text and Documents";
constexpr const char* kTravel = "Travel and Adventure";
constexpr const char* kCare = "Beauty and Personal Care";
constexpr const char* kPerson = "Person Description";

// Inner nodes (ancestors only) and the 80 classes, parents before children
// is not required.
const std::vector<Node>& Nodes() {
  static const std::vector<Node> nodes = {
      // Ancestors.
      {"Transportation", {}, {}, {kVehicles}},
      {"Vehicle", {"Transportation"}, {}, {kVehicles}},
      {"Aircraft", {"Vehicle"}, {}, {kVehicles}},
      {"Watercraft", {"Vehicle"}, {"Vessel"}, {kVehicles}},
      {"Animal", {}, {}, {kAnimals}},
      {"Mammal", {"Animal"}, {}, {kAnimals}},
      {"Pet", {"Animal"}, {}, {kAnimals}},
      {"Wildlife", {"Animal"}, {}, {kAnimals}},
      {"Livestock", {"Animal"}, {}, {kAnimals}},
      {"Furniture", {}, {}, {kFurniture}},
      {"Table", {"Furniture"}, {}, {kFurniture}},
      {"Accessories", {}, {"Accessory"}, {kApparel}},
      {"Bag", {"Accessories"}, {}, {kApparel}},
      {"Sports Equipment", {}, {}, {kSports}},
      {"Toy", {}, {}, {kToys}},
      {"Glass", {}, {}, {kKitchen}},
      {"Cutlery", {}, {"Silverware"}, {kKitchen}},
      {"Food", {}, {}, {kFood}},
      {"Fruit", {"Food"}, {}, {kFood}},
      {"Vegetable", {"Food"}, {}, {kFood}},
      {"Dessert", {"Food"}, {}, {kFood}},
      {"Plant", {}, {}, {kPlants}},
      {"Electronics", {}, {}, {kTech}},
      {"Screen", {"Electronics"}, {"Display"}, {kTech}},
      {"Computer", {"Electronics"}, {}, {kTech}},
      {"Computer Hardware", {"Electronics"}, {}, {kTech}},
      {"Phone", {"Electronics"}, {}, {kTech}},
      {"Appliance", {}, {}, {kHome}},
      {"Publication", {}, {}, {kText}},
      {"Sign", {"Symbol"}, {}, {kSafety}},
      {"Symbol", {}, {}, {kText}},
      {"Road Sign", {"Sign"}, {}, {kSafety}},
      {"Light", {}, {}, {kEveryday}},
      {"Pottery", {}, {}, {kHome}},
      {"Canopy", {}, {}, {kEveryday}},
      {"Brush", {"Tool"}, {}, {kEveryday}},
      {"Tool", {}, {}, {kEveryday}},
      {"People", {"Person"}, {}, {kPerson}},
      // The 80 COCO classes (in vision::CocoLabels() order; see kCoco below).
      {"Person", {}, {"Human"}, {kPerson}},
      {"Bicycle", {"Vehicle"}, {"Bike"}, {kVehicles}},
      {"Car", {"Vehicle"}, {"Automobile"}, {kVehicles}},
      {"Motorcycle", {"Vehicle"}, {"Motorbike"}, {kVehicles}},
      {"Airplane", {"Aircraft"}, {"Aeroplane", "Airliner"}, {kVehicles}},
      {"Bus", {"Vehicle"}, {}, {kVehicles}},
      {"Train", {"Vehicle"}, {"Railway"}, {kVehicles}},
      {"Truck", {"Vehicle"}, {"Lorry"}, {kVehicles}},
      {"Boat", {"Watercraft"}, {}, {kVehicles}},
      {"Traffic Light", {"Light"}, {"Traffic Signal", "Stoplight"}, {kSafety}},
      {"Fire Hydrant", {}, {"Hydrant"}, {kSafety}},
      {"Stop Sign", {"Road Sign"}, {}, {kSafety}},
      {"Parking Meter", {}, {}, {kSafety}},
      {"Bench", {"Furniture"}, {}, {kFurniture}},
      {"Bird", {"Animal"}, {}, {kAnimals}},
      {"Cat", {"Mammal", "Pet"}, {"Kitty"}, {kAnimals}},
      {"Dog", {"Mammal", "Pet"}, {"Canine"}, {kAnimals}},
      {"Horse", {"Mammal"}, {}, {kAnimals}},
      {"Sheep", {"Mammal", "Livestock"}, {}, {kAnimals}},
      {"Cow", {"Mammal", "Livestock"}, {"Cattle"}, {kAnimals}},
      {"Elephant", {"Mammal", "Wildlife"}, {}, {kAnimals}},
      {"Bear", {"Mammal", "Wildlife"}, {}, {kAnimals}},
      {"Zebra", {"Mammal", "Wildlife"}, {}, {kAnimals}},
      {"Giraffe", {"Mammal", "Wildlife"}, {}, {kAnimals}},
      {"Backpack", {"Bag"}, {"Rucksack"}, {kApparel}},
      {"Umbrella", {"Canopy"}, {}, {kEveryday}},
      {"Handbag", {"Bag"}, {"Purse"}, {kApparel}},
      {"Tie", {"Accessories"}, {"Necktie"}, {kApparel}},
      {"Suitcase", {"Bag"}, {"Luggage"}, {kTravel}},
      {"Frisbee", {"Toy"}, {"Flying Disc"}, {kSports}},
      {"Ski", {"Sports Equipment"}, {"Skis"}, {kSports}},
      {"Snowboard", {"Sports Equipment"}, {}, {kSports}},
      {"Ball", {"Sports Equipment"}, {"Sports Ball"}, {kSports}},
      {"Kite", {"Toy"}, {}, {kToys}},
      {"Baseball Bat", {"Sports Equipment"}, {}, {kSports}},
      {"Baseball Glove", {"Sports Equipment"}, {"Baseball Mitt"}, {kSports}},
      {"Skateboard", {"Sports Equipment"}, {}, {kSports}},
      {"Surfboard", {"Sports Equipment"}, {}, {kSports}},
      {"Tennis Racket", {"Sports Equipment"}, {"Racquet"}, {kSports}},
      {"Bottle", {}, {}, {kKitchen}},
      {"Wine Glass", {"Glass"}, {"Goblet"}, {kKitchen}},
      {"Cup", {}, {"Mug"}, {kKitchen}},
      {"Fork", {"Cutlery"}, {}, {kKitchen}},
      {"Knife", {"Cutlery"}, {}, {kKitchen}},
      {"Spoon", {"Cutlery"}, {}, {kKitchen}},
      {"Bowl", {}, {}, {kKitchen}},
      {"Banana", {"Fruit"}, {}, {kFood}},
      {"Apple", {"Fruit"}, {}, {kFood}},
      {"Sandwich", {"Food"}, {}, {kFood}},
      {"Orange", {"Fruit"}, {"Citrus Fruit"}, {kFood}},
      {"Broccoli", {"Vegetable"}, {}, {kFood}},
      {"Carrot", {"Vegetable"}, {}, {kFood}},
      {"Hot Dog", {"Food"}, {}, {kFood}},
      {"Pizza", {"Food"}, {}, {kFood}},
      {"Donut", {"Dessert"}, {"Doughnut"}, {kFood}},
      {"Cake", {"Dessert"}, {}, {kFood}},
      {"Chair", {"Furniture"}, {}, {kFurniture}},
      {"Couch", {"Furniture"}, {"Sofa"}, {kFurniture}},
      {"Potted Plant", {"Plant"}, {"Houseplant"}, {kPlants}},
      {"Bed", {"Furniture"}, {}, {kFurniture}},
      {"Dining Table", {"Table"}, {}, {kFurniture}},
      {"Toilet", {}, {}, {kHome}},
      {"TV", {"Screen"}, {"Television"}, {kTech}},
      {"Laptop", {"Computer"}, {"Notebook Computer"}, {kTech}},
      {"Mouse", {"Computer Hardware"}, {"Computer Mouse"}, {kTech}},
      {"Remote Control", {"Electronics"}, {"Remote"}, {kTech}},
      {"Computer Keyboard", {"Computer Hardware"}, {"Keyboard"}, {kTech}},
      {"Mobile Phone", {"Phone"}, {"Cell Phone", "Smartphone"}, {kTech}},
      {"Microwave", {"Appliance"}, {"Microwave Oven"}, {kKitchen}},
      {"Oven", {"Appliance"}, {}, {kKitchen}},
      {"Toaster", {"Appliance"}, {}, {kKitchen}},
      {"Sink", {}, {}, {kHome}},
      {"Refrigerator", {"Appliance"}, {"Fridge"}, {kKitchen}},
      {"Book", {"Publication"}, {}, {kText}},
      {"Clock", {}, {}, {kEveryday}},
      {"Vase", {"Pottery"}, {}, {kHome}},
      {"Scissors", {"Tool"}, {}, {kEveryday}},
      {"Teddy Bear", {"Toy"}, {}, {kToys}},
      {"Hair Dryer", {"Appliance"}, {"Blow Dryer", "Hair Drier"}, {kCare}},
      {"Toothbrush", {"Brush"}, {}, {kCare}},
  };
  return nodes;
}

// COCO-80 index → taxonomy name.
constexpr const char* kCoco[80] = {"Person",
                                   "Bicycle",
                                   "Car",
                                   "Motorcycle",
                                   "Airplane",
                                   "Bus",
                                   "Train",
                                   "Truck",
                                   "Boat",
                                   "Traffic Light",
                                   "Fire Hydrant",
                                   "Stop Sign",
                                   "Parking Meter",
                                   "Bench",
                                   "Bird",
                                   "Cat",
                                   "Dog",
                                   "Horse",
                                   "Sheep",
                                   "Cow",
                                   "Elephant",
                                   "Bear",
                                   "Zebra",
                                   "Giraffe",
                                   "Backpack",
                                   "Umbrella",
                                   "Handbag",
                                   "Tie",
                                   "Suitcase",
                                   "Frisbee",
                                   "Ski",
                                   "Snowboard",
                                   "Ball",
                                   "Kite",
                                   "Baseball Bat",
                                   "Baseball Glove",
                                   "Skateboard",
                                   "Surfboard",
                                   "Tennis Racket",
                                   "Bottle",
                                   "Wine Glass",
                                   "Cup",
                                   "Fork",
                                   "Knife",
                                   "Spoon",
                                   "Bowl",
                                   "Banana",
                                   "Apple",
                                   "Sandwich",
                                   "Orange",
                                   "Broccoli",
                                   "Carrot",
                                   "Hot Dog",
                                   "Pizza",
                                   "Donut",
                                   "Cake",
                                   "Chair",
                                   "Couch",
                                   "Potted Plant",
                                   "Bed",
                                   "Dining Table",
                                   "Toilet",
                                   "TV",
                                   "Laptop",
                                   "Mouse",
                                   "Remote Control",
                                   "Computer Keyboard",
                                   "Mobile Phone",
                                   "Microwave",
                                   "Oven",
                                   "Toaster",
                                   "Sink",
                                   "Refrigerator",
                                   "Book",
                                   "Clock",
                                   "Vase",
                                   "Scissors",
                                   "Teddy Bear",
                                   "Hair Dryer",
                                   "Toothbrush"};

const std::map<std::string, TaxonomyEntry, std::less<>>& Entries() {
  static const std::map<std::string, TaxonomyEntry, std::less<>> entries = [] {
    std::map<std::string, const Node*, std::less<>> by_name;
    for (const auto& n : Nodes()) by_name[n.name] = &n;
    std::map<std::string, TaxonomyEntry, std::less<>> out;
    for (const auto& n : Nodes()) {
      TaxonomyEntry e;
      e.name = n.name;
      // Ancestors breadth-first, nearest first, each once.
      std::vector<std::string> queue(n.parents.begin(), n.parents.end());
      std::set<std::string> seen;
      for (size_t i = 0; i < queue.size(); ++i) {
        if (!seen.insert(queue[i]).second) continue;
        e.parents.push_back(queue[i]);
        auto it = by_name.find(queue[i]);
        if (it != by_name.end())
          for (const char* p : it->second->parents) queue.push_back(p);
      }
      e.aliases.assign(n.aliases.begin(), n.aliases.end());
      e.categories.assign(n.categories.begin(), n.categories.end());
      out[e.name] = std::move(e);
    }
    return out;
  }();
  return entries;
}

}  // namespace

const TaxonomyEntry* LabelForCocoClass(int class_id) {
  if (class_id < 0 || class_id >= 80) return nullptr;
  return FindLabel(kCoco[class_id]);
}

const TaxonomyEntry* FindLabel(std::string_view name) {
  auto it = Entries().find(name);
  return it == Entries().end() ? nullptr : &it->second;
}

std::vector<std::string> AllLabelNames() {
  std::vector<std::string> names;
  for (const auto& [name, e] : Entries()) names.push_back(name);
  return names;
}

std::vector<std::string> AllCategories() {
  std::set<std::string> cats;
  for (const auto& [name, e] : Entries()) cats.insert(e.categories.begin(), e.categories.end());
  return {cats.begin(), cats.end()};
}

}  // namespace argus::service
