// core/ingest/event.hpp
//
// The crimecast event: one recorded crime or incident, from any feed.
//
// Invariants of an event that has passed validation (ingest/validate):
// * (source, source_id) identifies it; re-importing the same record never creates a second one.
// * `when` is an honest occurrence interval [start, end): month-only data spans the month.
// * When quality != kWithheld, lon/lat are WGS84 degrees (lon in [-180,180], lat in [-90,90])
//   and x/y are metres in the projected CRS `epsg` (EPSG:27700 for UK data, a UTM zone
//   otherwise). When quality == kWithheld the event is "unlocated": lon/lat/x/y are NaN and it
//   still counts in totals.
// * category is one of the 14 canonical data.police.uk categories; source_type keeps the
//   feed's own wording (e.g. Vancouver's "Theft from Vehicle").
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/time.hpp"

namespace crimecast {

// The canonical taxonomy: the 14 data.police.uk street-crime categories. Values are stored in
// the database, so they are append-only.
enum class Category : std::uint8_t {
  kAntiSocialBehaviour = 0,
  kBicycleTheft = 1,
  kBurglary = 2,
  kCriminalDamageArson = 3,
  kDrugs = 4,
  kOtherCrime = 5,
  kOtherTheft = 6,
  kPossessionOfWeapons = 7,
  kPublicOrder = 8,
  kRobbery = 9,
  kShoplifting = 10,
  kTheftFromPerson = 11,
  kVehicleCrime = 12,
  kViolenceSexualOffences = 13,
};
inline constexpr int kCategoryCount = 14;

// data.police.uk wording, e.g. "Violence and sexual offences".
std::string_view DisplayName(Category c);
// Short stable slug used on the command line and in the API, e.g. "violence", "asb".
std::string_view Slug(Category c);
// Accepts the display name, the slug, or the police.uk API slug ("violent-crime",
// "anti-social-behaviour"), case-insensitively.
std::optional<Category> ParseCategory(std::string_view text);

// How precise the location is.
enum class LocationQuality : std::uint8_t {
  kExact = 0,     // a real point (e.g. a geocoded address from a local feed)
  kSnapped = 1,   // anonymised: moved to a public "map point" or block centre line
  kWithheld = 2,  // no usable location (missing, or withheld for privacy): "unlocated"
};
std::string_view Name(LocationQuality q);

// Whether the record came from a member of the public or from police activity. Counts of
// police-generated offences (drugs, weapons possession) measure enforcement as much as crime,
// which matters for fairness: a model trained on them can learn where police patrol.
enum class Origin : std::uint8_t {
  kReported = 0,
  kPoliceGenerated = 1,
};
std::string_view Name(Origin o);
// The default origin of a category (Drugs and Possession of weapons: police-generated).
Origin DefaultOrigin(Category c);

struct Event {
  std::string source;     // feed name, e.g. "police-uk", "vancouver-vpd", "demo"
  std::string source_id;  // the feed's record id (a stable derived id when the feed has none)
  Category category = Category::kOtherCrime;
  std::string source_type;  // the feed's own category text
  TimeInterval when{};
  double lon = std::numeric_limits<double>::quiet_NaN();
  double lat = std::numeric_limits<double>::quiet_NaN();
  double x = std::numeric_limits<double>::quiet_NaN();  // metres in `epsg`
  double y = std::numeric_limits<double>::quiet_NaN();
  int epsg = 0;  // CRS of x/y; 0 when unlocated
  LocationQuality quality = LocationQuality::kWithheld;
  std::string location_text;  // "On or near High Street", "7XX DUNSMUIR ST"
  std::string area_code;      // LSOA code when given
  std::string force;          // data.police.uk "Falls within", or the feed's agency
  std::string outcome;        // last outcome as published
  Origin origin = Origin::kReported;
  bool out_of_area = false;   // far outside the force's area: kept, but excluded from models
  std::int64_t batch_id = 0;  // import batch that last wrote this event

  bool Located() const { return quality != LocationQuality::kWithheld; }
};

}  // namespace crimecast
