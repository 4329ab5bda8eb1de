// The module's objects behind the C table's opaque handles, over XRT's native C++ API: one device,
// one hardware context per xclbin (creating one costs ~35 ms on amdxdna, so kernels of the same
// xclbin share it), kernels with their instruction buffer synced once, buffers in the memory group
// the kernel's xclbin gives their argument, and xrt::run objects (and runlists) built once per set of
// arguments and reused. Functions throw std::exception; module_api.cpp turns them into error text.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_hw_context.h>
#include <xrt/xrt_kernel.h>
#include <xrt/experimental/xrt_xclbin.h>
#ifdef NPW_XRT_HAS_RUNLIST
#include <xrt/experimental/xrt_kernel.h>
#endif

#include "backend/npu/xrt/xclbin_layout.h"
#include "backend/npu/xrt_module_abi.h"

namespace npw {
namespace npu {
namespace xrt_module {

struct HwContext {
  std::string xclbin_path;
  xrt::xclbin xclbin;
  xrt::hw_context context;
};

}  // namespace xrt_module
}  // namespace npu
}  // namespace npw

struct npw_xrt_device {
  unsigned index = 0;
  xrt::device device;
  std::string name;
  int generation = 0;  // 1: npu1, 2: npu2, 0: not one npuwhisper has kernels for
  int columns = 0, rows = 0;

  std::mutex mutex;  // guards everything below
  std::uint64_t next_id = 1;
  std::map<std::string, std::weak_ptr<npw::npu::xrt_module::HwContext>> contexts;  // by xclbin path
  // Keys are ids, never addresses: a freed buffer's address may come back for a new one.
  std::map<std::array<std::uint64_t, 1 + NPW_XRT_MAX_ARGS>, xrt::run> runs;  // kernel id, buffer ids, 0s
#ifdef NPW_XRT_HAS_RUNLIST
  std::map<std::vector<std::uint64_t>, xrt::runlist> runlists;  // key: the launches' keys, 0-separated
#endif
  std::string broken;  // why the device can no longer be trusted (a run that timed out)
};

struct npw_xrt_kernel {
  npw_xrt_device* dev = nullptr;
  std::uint64_t id = 0;
  std::string name;
  std::shared_ptr<npw::npu::xrt_module::HwContext> context;
  xrt::kernel kernel;
  npw::npu::xrt_module::KernelArgLayout layout;
  xrt::bo instructions;
  std::size_t n_instruction_words = 0;
};

struct npw_xrt_buffer {
  npw_xrt_device* dev = nullptr;
  std::uint64_t id = 0;
  xrt::bo bo;
  std::size_t size = 0;
};

namespace npw {
namespace npu {
namespace xrt_module {

npw_xrt_device* open_device(unsigned index);
npw_xrt_kernel* load_kernel(npw_xrt_device* dev, const std::string& xclbin_path, const std::string& kernel_name,
                            const std::uint32_t* words, std::size_t n_words);
void unload_kernel(npw_xrt_kernel* kernel);
npw_xrt_buffer* alloc_buffer(npw_xrt_device* dev, npw_xrt_kernel* kernel, unsigned arg_index, std::size_t bytes);
void free_buffer(npw_xrt_buffer* buffer);
void sync_buffer(npw_xrt_buffer* buffer, bool to_device, std::size_t offset, std::size_t bytes);
// Returns the measured seconds from the first start to the last completion. When `stop` (may be
// null) is raised, a single run is aborted and the wait ends with *stopped = true; a runlist (XRT has
// no abort for one) is waited out, its later launches not mattering to a caller that discards them.
double run(npw_xrt_device* dev, const npw_xrt_launch* launches, std::size_t n, unsigned timeout_ms,
           const std::atomic<bool>* stop, bool* stopped);

}  // namespace xrt_module
}  // namespace npu
}  // namespace npw
