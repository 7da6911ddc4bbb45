// core/simulate/random.hpp
//
// A small, fast, portable random number generator for simulations.
//
// xoshiro256** (Blackman & Vigna 2021, "Scrambled linear pseudorandom number generators"),
// seeded through splitmix64, with the few distributions the simulator needs implemented here so
// that a seed gives the same stream on every platform and standard library
// (std::normal_distribution and friends are implementation-defined). Not cryptographic; not
// thread-safe (one per thread).
#pragma once

#include <cmath>
#include <cstdint>

namespace crimecast::simulate {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    std::uint64_t z = seed;
    for (auto& s : state_) s = SplitMix64(z);
  }

  std::uint64_t Next() {
    const std::uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform on [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform on (0, 1]: safe to take the logarithm of.
  double UniformPositive() { return static_cast<double>((Next() >> 11) + 1) * 0x1.0p-53; }

  // Exponential with the given rate (mean 1/rate), rate > 0.
  double Exponential(double rate) { return -std::log(UniformPositive()) / rate; }

  // Standard normal by the Box-Muller transform; the second variate is cached.
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2.0 * std::log(UniformPositive()));
    const double a = 2.0 * kPi * Uniform();
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
  }

  // Poisson by sequential inversion: exact, O(1 + mean) per draw, meant for small means (the
  // simulator only draws offspring counts, mean theta < 1). Means above 500 would underflow
  // exp(-mean) and are not supported.
  int Poisson(double mean) {
    if (mean <= 0) return 0;
    const double u = Uniform();
    double p = std::exp(-mean);
    double cdf = p;
    int k = 0;
    while (u >= cdf && k < 100000) {
      ++k;
      p *= mean / k;
      cdf += p;
      if (p == 0) break;  // the remaining tail is below double precision
    }
    return k;
  }

 private:
  static constexpr double kPi = 3.14159265358979323846;
  static std::uint64_t Rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t SplitMix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::uint64_t state_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace crimecast::simulate
