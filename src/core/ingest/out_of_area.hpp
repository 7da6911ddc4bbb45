// core/ingest/out_of_area.hpp
//
// Flags events that lie far outside their force's area, without needing boundaries.
//
// data.police.uk files occasionally hold a point hundreds of kilometres from the force (the
// Gwent files contain a Barnsley row). Such points are kept (they are real records) but flagged
// out_of_area so that models and maps of the force do not mix them in.
//
// Rule, per force (Event::force; one group when empty), fitted once on the first chunk of a
// batch that holds at least kMinPoints located events of that force:
//   centre = coordinate-wise median of projected x, y;
//   r95    = 95th percentile of distances to the centre;
//   flag when distance > max(3 * r95, r95 + 30 km).
// A compact force (Gwent: r95 ~ 20 km) flags points beyond ~60 km; a force spread over the
// whole country (British Transport Police) gets a radius larger than Great Britain and flags
// nothing. Cost: O(n log n) for the fit on one chunk, O(1) per event afterwards.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/ingest/event.hpp"

namespace crimecast::ingest {

class OutOfAreaChecker {
 public:
  static constexpr std::size_t kMinPoints = 50;
  static constexpr double kMarginM = 30000.0;

  // Fits any force not yet fitted (when it has enough located points in `events`), then sets
  // Event::out_of_area on every located event of a fitted force. Returns how many were flagged.
  std::size_t Apply(std::vector<Event>& events);

  struct Fit {
    double cx = 0, cy = 0;  // metres
    double r95 = 0;         // metres
    double threshold = 0;   // metres
  };
  const std::map<std::string, Fit>& fits() const { return fits_; }

 private:
  std::map<std::string, Fit> fits_;
};

}  // namespace crimecast::ingest
