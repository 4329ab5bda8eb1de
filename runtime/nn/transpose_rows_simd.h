// The register-tile kernels of transpose_rows.cpp, one file per instruction set: rows and cols are
// whole multiples of the tile (16 for AVX-512, 8 for AVX2). Only called at a level that has them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npw {

void transpose_tiles_avx512(const float* src, std::size_t lds, int rows, int cols, float* dst, std::size_t ldd);
void transpose_tiles_to_halves_avx512(const float* src, std::size_t lds, int rows, int cols, uint16_t* dst,
                                      std::size_t ldd);
void transpose_tiles_avx2(const float* src, std::size_t lds, int rows, int cols, float* dst, std::size_t ldd);
void transpose_tiles_to_halves_avx2(const float* src, std::size_t lds, int rows, int cols, uint16_t* dst,
                                    std::size_t ldd);

}  // namespace npw
