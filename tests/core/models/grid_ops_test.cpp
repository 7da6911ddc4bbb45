#include "core/models/grid_ops.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace crimecast::models {
namespace {

TEST(GridOps, BinDropsPointsOutsideTheWindowAndBadCoordinates) {
  const CellWindow w{10, 20, 3, 2};  // cells ix 10..12, iy 20..21 of 100 m
  const std::vector<double> x = {1050, 1150, 1250, 999, 1050, NAN, 1e300, -1e300, 1050};
  const std::vector<double> y = {2050, 2150, 2050, 2050, 2250, 2050, 2050, 2050, 2099.9};
  const std::vector<double> wt = {1, 2, 3, 4, 5, 6, 7, 8, 0.5};
  const auto b = Bin(w, 100, x, y, wt);
  ASSERT_EQ(b.size(), 6u);
  EXPECT_EQ(b[0], 1.5);  // (10,20): weights 1 and 0.5
  EXPECT_EQ(b[2], 3);    // (12,20)
  EXPECT_EQ(b[4], 2);    // (11,21)
  EXPECT_EQ(b[1] + b[3] + b[5], 0);
  const auto unweighted = Bin(w, 100, x, y, {});
  EXPECT_EQ(unweighted[0], 2);
}

TEST(GridOps, ConvolutionsMatchABruteForceSum) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0, 1);
  const CellWindow in{-5, -7, 30, 25};
  std::vector<double> data(static_cast<std::size_t>(in.size()));
  for (double& v : data) v = u(rng) < 0.3 ? u(rng) : 0.0;
  const CellWindow out{0, -2, 15, 12};
  // An asymmetric stencil catches a flipped gather.
  Stencil s;
  s.radius = 2;
  s.w.resize(25);
  for (double& v : s.w) v = u(rng);
  const auto conv = Convolve(data, in, s, out);
  for (std::int64_t oy = 0; oy < out.ny; ++oy) {
    for (std::int64_t ox = 0; ox < out.nx; ++ox) {
      double want = 0;
      for (int dy = -2; dy <= 2; ++dy) {
        for (int dx = -2; dx <= 2; ++dx) {
          const std::int64_t l = in.Local(out.ix0 + ox - dx, out.iy0 + oy - dy);
          want += s.at(dx, dy) * data[static_cast<std::size_t>(l)];
        }
      }
      ASSERT_NEAR(conv[static_cast<std::size_t>(oy * out.nx + ox)], want, 1e-12);
      EXPECT_NEAR(ConvolveAt(data, in, s, out.ix0 + ox, out.iy0 + oy), want, 1e-12);
    }
  }
  // Separable = the 2-D convolution with the outer product.
  const std::vector<double> k = {0.1, 0.2, 0.4, 0.2, 0.1};
  Stencil outer;
  outer.radius = 2;
  for (double ky : k) {
    for (double kx : k) outer.w.push_back(kx * ky);
  }
  const auto sep = ConvolveSeparable(data, in, k, out);
  const auto full = Convolve(data, in, outer, out);
  for (std::size_t i = 0; i < sep.size(); ++i) EXPECT_NEAR(sep[i], full[i], 1e-12);
  const auto crop = Crop(data, in, out);
  EXPECT_EQ(crop[0], data[static_cast<std::size_t>(in.Local(0, -2))]);
}

TEST(GridOps, RadialStencilSubSamplesNarrowKernels) {
  // A disc of radius 0.7 cells: point sampling at centres sees only the centre cell; 4 x 4
  // sub-samples (the nearest at 0.625 cells) see part of the four edge neighbours.
  auto disc = [](double r) { return r < 0.7 ? 1.0 : 0.0; };
  const Stencil point = RadialStencil(1, disc, 1);
  const Stencil sub = RadialStencil(1, disc, 4);
  EXPECT_EQ(point.Sum(), 1.0);
  EXPECT_GT(sub.at(1, 0), 0.0);
  EXPECT_EQ(sub.at(1, 1), 0.0);
  EXPECT_NEAR(sub.Normalised().Sum(), 1.0, 1e-15);
}

}  // namespace
}  // namespace crimecast::models
