// How the register-blocked attention tasks walk a tile's query rows: blocks of kTaskRowBlock, then one
// block of what is left, each block size a compile-time constant, and the keys each row of a block
// sees. Plain C++ (no instruction set of its own), so that the AVX-512 tasks and the AVX-VNNI one share
// it; the blocks it calls carry theirs.
#pragma once

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace npw {
namespace attention_rows {

// Query rows per register block of the tasks (the scratch of a task holds this many rows).
constexpr int kTaskRowBlock = 6;

// A task's rows [0, rows) in register blocks: block(rb, r) for rows [r, r + rb), rb a
// std::integral_constant (kTaskRowBlock, then the 1 to 5 rows left over), so that each task says only
// what one block does.
template <typename Block>
inline void for_row_blocks(int rows, Block&& block) {
  int r = 0;
  for (; r + kTaskRowBlock <= rows; r += kTaskRowBlock) block(std::integral_constant<int, kTaskRowBlock>{}, r);
  switch (rows - r) {
    case 5: block(std::integral_constant<int, 5>{}, r); break;
    case 4: block(std::integral_constant<int, 4>{}, r); break;
    case 3: block(std::integral_constant<int, 3>{}, r); break;
    case 2: block(std::integral_constant<int, 2>{}, r); break;
    case 1: block(std::integral_constant<int, 1>{}, r); break;
    default: break;
  }
  static_assert(kTaskRowBlock == 6, "the cases above cover kTaskRowBlock - 1 rows");
}

// Keys each row of a block of RB rows sees, lim[r] clamped to [0, n_keys], into row_lim; returns the
// most any row sees. When that is none, the rows' d_head outputs are zeroed here.
template <int RB>
inline int block_limits(const int* lim, int n_keys, int* row_lim, float* out, int ldo, int d_head) {
  int nk = 0;
  for (int r = 0; r < RB; ++r) {
    row_lim[r] = std::max(0, std::min(lim[r], n_keys));
    nk = std::max(nk, row_lim[r]);
  }
  if (nk == 0) {
    for (int r = 0; r < RB; ++r) std::memset(out + static_cast<long>(r) * ldo, 0, sizeof(float) * d_head);
  }
  return nk;
}

}  // namespace attention_rows
}  // namespace npw
