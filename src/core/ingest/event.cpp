#include "core/ingest/event.hpp"

#include <array>
#include <cctype>

namespace crimecast {
namespace {
struct CategoryInfo {
  Category category;
  std::string_view display;
  std::string_view slug;
  std::string_view api_slug;  // data.police.uk API spelling
};
constexpr std::array<CategoryInfo, kCategoryCount> kCategories = {{
    {Category::kAntiSocialBehaviour, "Anti-social behaviour", "asb", "anti-social-behaviour"},
    {Category::kBicycleTheft, "Bicycle theft", "bicycle-theft", "bicycle-theft"},
    {Category::kBurglary, "Burglary", "burglary", "burglary"},
    {Category::kCriminalDamageArson, "Criminal damage and arson", "criminal-damage",
     "criminal-damage-arson"},
    {Category::kDrugs, "Drugs", "drugs", "drugs"},
    {Category::kOtherCrime, "Other crime", "other-crime", "other-crime"},
    {Category::kOtherTheft, "Other theft", "other-theft", "other-theft"},
    {Category::kPossessionOfWeapons, "Possession of weapons", "weapons", "possession-of-weapons"},
    {Category::kPublicOrder, "Public order", "public-order", "public-order"},
    {Category::kRobbery, "Robbery", "robbery", "robbery"},
    {Category::kShoplifting, "Shoplifting", "shoplifting", "shoplifting"},
    {Category::kTheftFromPerson, "Theft from the person", "theft-from-person",
     "theft-from-the-person"},
    {Category::kVehicleCrime, "Vehicle crime", "vehicle-crime", "vehicle-crime"},
    {Category::kViolenceSexualOffences, "Violence and sexual offences", "violence",
     "violent-crime"},
}};

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}
}  // namespace

std::string_view DisplayName(Category c) { return kCategories[static_cast<int>(c)].display; }
std::string_view Slug(Category c) { return kCategories[static_cast<int>(c)].slug; }

std::optional<Category> ParseCategory(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  for (const auto& info : kCategories) {
    if (IEquals(text, info.display) || IEquals(text, info.slug) || IEquals(text, info.api_slug)) {
      return info.category;
    }
  }
  // Older data.police.uk releases used these names.
  if (IEquals(text, "Violent crime")) return Category::kViolenceSexualOffences;
  if (IEquals(text, "Public disorder and weapons")) return Category::kPublicOrder;
  return std::nullopt;
}

std::string_view Name(LocationQuality q) {
  switch (q) {
    case LocationQuality::kExact:
      return "exact";
    case LocationQuality::kSnapped:
      return "snapped";
    case LocationQuality::kWithheld:
      return "withheld";
  }
  return "withheld";
}

std::string_view Name(Origin o) {
  return o == Origin::kPoliceGenerated ? "police-generated" : "reported";
}

Origin DefaultOrigin(Category c) {
  return (c == Category::kDrugs || c == Category::kPossessionOfWeapons) ? Origin::kPoliceGenerated
                                                                        : Origin::kReported;
}

}  // namespace crimecast
