// How the register-blocked attention tasks walk a tile's query rows: blocks of kTaskRowBlock, then one
// block of what is left, each block size a compile-time constant. Plain C++ (no instruction set of its
// own), so that the AVX-512 tasks and the AVX-VNNI one share it; the blocks it calls carry theirs.
#pragma once

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

}  // namespace attention_rows
}  // namespace npw
