// core/ingest/area_check.hpp
//
// Out-of-area flagging for one import batch.
//
// data.police.uk files contain a few points far outside the force that published them (a
// Barnsley row, 200 km away, in the Gwent files): crimes recorded by the force but located
// elsewhere. They are kept (they count in the force's totals) but flagged, so models and maps of
// the force's area do not mix them in. No boundary file is needed: the batch itself says where
// the force is.
//
// Rule (all distances in metres in the batch's projected CRS, Event::x/y):
// 1. centre c = coordinate-wise median of the located points (breakdown point 50%: a handful of
//    far points cannot move it);
// 2. robust radius R = the `quantile` (default 95%) quantile of the distances |p - c|; up to
//    5% of far points cannot inflate it;
// 3. a point is out of area when |p - c| > max(R + margin (default 30 km), factor (default 3) x R).
// The additive margin keeps small forces from flagging their own fringe (a compact force with
// R = 10 km flags only beyond 40 km); the factor keeps large-extent batches from flagging
// anything plausible: British Transport Police, whose points run along rail lines across Great
// Britain, has R of hundreds of km and a cutoff around three times that, so nothing in Great
// Britain is flagged. A batch with fewer than `min_points` located events is too small to define
// an area and is left unflagged.
//
// Cost: O(n) (nth_element selections and one pass); memory: three doubles per located event.
// Points are grouped by (EPSG code, Event::force) and each group gets its own fit: a batch that
// mixes forces (one combined national file) judges every force by its own extent, and points in
// different CRSs are never compared.
//
// FitArea() is the rule's core: a streaming importer can fit it on its first chunk and apply
// AreaFit::Outside() to later chunks.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/ingest/event.hpp"

namespace crimecast::ingest {

struct AreaCheckOptions {
  double quantile = 0.95;       // of distances from the centre, defines the robust radius
  double margin_m = 30'000.0;   // flagged only beyond radius + margin ...
  double radius_factor = 3.0;   // ... and beyond radius_factor x radius
  std::size_t min_points = 20;  // fewer located events: nothing is flagged
};

// The fitted rule for one group of points.
struct AreaFit {
  double centre_x = 0;  // metres
  double centre_y = 0;
  double radius_m = 0;  // robust radius R
  double cutoff_m = 0;  // max(R + margin, factor x R)
  bool Outside(double x, double y) const;
};

// Fits the rule to points (projected metres; xs.size() == ys.size() > 0). Takes copies because
// the selections reorder them.
AreaFit FitArea(std::vector<double> xs, std::vector<double> ys,
                const AreaCheckOptions& options = {});

struct AreaCheckResult {
  std::size_t located = 0;  // events with usable x/y
  std::size_t flagged = 0;  // of which now out_of_area
  // Of the largest (EPSG, force) group (the only one, normally):
  int epsg = 0;
  double centre_x = 0;
  double centre_y = 0;
  double radius_m = 0;  // robust radius R
  double cutoff_m = 0;  // max(R + margin, factor x R); 0 when too few points
};

// Sets Event::out_of_area on every event (false for unlocated ones) and reports the figures.
AreaCheckResult CheckArea(std::vector<Event>& events, const AreaCheckOptions& options = {});

// The same, returning only the number of flagged events.
std::size_t FlagOutOfArea(std::vector<Event>& events, const AreaCheckOptions& options = {});

}  // namespace crimecast::ingest
