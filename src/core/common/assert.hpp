// core/common/assert.hpp
//
// CRIMECAST_ASSERT is for programmer errors only: it must never be reachable from user input
// (DuckDB's rule). Bad input is reported through Result<T>.
#pragma once

#include <cstdio>
#include <cstdlib>

#define CRIMECAST_ASSERT(cond, why)                                                               \
  do {                                                                                            \
    if (!(cond)) {                                                                                \
      std::fprintf(stderr, "%s:%d: assertion failed: %s (%s)\n", __FILE__, __LINE__, #cond, why); \
      std::abort();                                                                               \
    }                                                                                             \
  } while (0)
