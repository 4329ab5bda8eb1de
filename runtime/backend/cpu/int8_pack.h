// Turns a weight tensor of any GGML type into the int8 record layout once at load: q8_0 blocks are
// re-laid out unchanged (quants and half scales as the file holds them), every other type is quantised
// with int8_quantize_block() (through f32 for the other block formats), its scale kept as a half.
#pragma once

#include <memory>

#include "backend/cpu/int8_packed.h"
#include "model/ggml_file.h"

namespace npw {

class ThreadPool;

// Throws npw::Error(InvalidArgument) naming the tensor when it is not a 2-D matrix its bytes can hold.
// `pool` (may be null) splits the work over output tiles. `pages`: how the records are backed (huge
// pages for a matrix streamed whole every decoder step, see int8_packed.h).
std::unique_ptr<Int8PackedMatrix> int8_pack(const TensorView& w, ThreadPool* pool, Pages pages = Pages::Small);

}  // namespace npw
