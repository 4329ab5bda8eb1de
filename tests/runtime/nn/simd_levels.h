// Runs a test body at every SIMD level this CPU has, for the nn unit tests whose fast paths are picked
// by the active level (kernels, element-wise ops, backend products).
#pragma once

#include <gtest/gtest.h>

#include "util/cpu_features.h"

namespace npw_test {

// body() once per level from the scalar reference up to the CPU's own, with that level active (and
// named in any failure); the level active before is restored afterwards.
template <typename Fn>
void at_every_level(Fn&& body) {
  const npw::SimdLevel saved = npw::active_simd_level();
  for (npw::SimdLevel l : {npw::SimdLevel::Scalar, npw::SimdLevel::Avx2, npw::SimdLevel::Avx512}) {
    if (static_cast<int>(l) > static_cast<int>(npw::cpu_simd_level())) continue;
    npw::set_active_simd_level(l);
    SCOPED_TRACE(npw::simd_level_name(l));
    body();
  }
  npw::set_active_simd_level(saved);
}

}  // namespace npw_test
