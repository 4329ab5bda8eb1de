// The 64-byte operand of AMX's ldtilecfg (palette 1: up to 8 tiles of up to 16 rows x 64 bytes), as
// every AMX kernel (int8 products, bf16 attention) fills it before its first tile instruction.
#pragma once

#include <cstdint>

namespace npw {

struct alignas(64) AmxTileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];  // bytes per row of each tile
  uint8_t rows[16];
};

}  // namespace npw
