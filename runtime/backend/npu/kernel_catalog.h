// Where the NPU backend gets its kernels: on hardware, the kernel directory's manifest
// (kernels/manifest.md) lists per op and generation the xclbin, the kernel name, and per shape the
// instruction stream; the emulator needs none of that and takes any shape the contract allows. Both
// answer the same two questions: which kernel shape serves a product of M rows, and its KernelSpec.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/npu/device.h"

namespace npw {
namespace npu {

class KernelCatalog {
 public:
  virtual ~KernelCatalog() = default;
  // The Mp of the kernel that runs a product of M rows (M <= the largest Mp available) for op with
  // run sizes Np, Kp; throws npw::Error(Unavailable) naming op, generation and shape when none is.
  virtual int rows_for(const std::string& op, int M, int Np, int Kp) const = 0;
  // The largest Mp this catalog offers for (op, Np, Kp); products of more rows run in chunks.
  virtual int max_rows(const std::string& op, int Np, int Kp) const = 0;
  virtual KernelSpec spec(const std::string& op, int Mp, int Np, int Kp) const = 0;
  // The shape with the fewest multiply-adds this catalog has for op (the start-up self-test's);
  // throws npw::Error(Unavailable) naming the op when there is none.
  virtual std::vector<int> smallest_shape(const std::string& op) const = 0;
  virtual std::string describe() const = 0;
};

// Any shape the contract allows, no files (the emulator).
std::unique_ptr<KernelCatalog> contract_catalog(Generation g);

// Reads `dir`/manifest.txt and keeps the entries of generation g. Throws npw::Error(Unavailable)
// naming the directory when it or its manifest is missing, npw::Error(Format) naming file and line
// when the manifest is malformed, and reads instruction streams lazily in spec() (Io errors name the
// file).
std::unique_ptr<KernelCatalog> manifest_catalog(const std::string& dir, Generation g);

// The kernel directory to use: `configured` when not empty, else $NPW_KERNEL_DIR, else the installed
// default (NPW_DEFAULT_KERNEL_DIR, set by meson). `source` receives where it came from.
std::string resolve_kernel_dir(const std::string& configured, std::string* source = nullptr);

}  // namespace npu
}  // namespace npw
