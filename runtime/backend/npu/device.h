// The small device interface the NPU backend talks to, so that the same dispatch code runs on a real
// XDNA NPU (through XRT, in a module loaded at run time) and on the emulator (the kernels' contracts
// executed on the CPU, with the same books). Everything the backend knows about a device is here: open
// it, load a kernel for one shape, allocate device-visible buffers, sync byte ranges, run launches.
// No XRT type appears in this header, so the runtime builds and links without XRT.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace npw {
namespace npu {

// The two XDNA generations: npu1 (Phoenix / Hawk Point, 4 columns of 4 AIE2 cores) and npu2
// (Strix / Krackan / Strix Halo, 8 columns of 4 AIE2P cores).
enum class Generation { Npu1, Npu2 };
const char* generation_name(Generation g);  // "npu1", "npu2"

struct DeviceInfo {
  std::string name;  // what the driver or the emulator calls itself
  Generation generation = Generation::Npu1;
  int columns = 4;  // compute columns the kernels may use
  int rows = 4;     // compute rows per column
};

// What a device did, kept alike by every implementation so that tests and the benchmark can read the
// emulator's books as they would read the hardware's.
struct DeviceBooks {
  std::uint64_t launches = 0;           // kernel runs started
  std::uint64_t batches = 0;            // calls of Device::run (one runlist each where XRT has them)
  std::uint64_t bytes_to_device = 0;    // bytes synced host -> device
  std::uint64_t bytes_from_device = 0;  // bytes synced device -> host
  std::uint64_t buffers_allocated = 0;  // device buffers created
  std::uint64_t bytes_allocated = 0;
  double device_seconds = 0.0;          // emulator: modelled by its cost model; XRT: measured run time
};

// One operation compiled for one shape: the xclbin that holds the AIE cores' program and the kernel
// name inside it, plus the instruction stream (the shape's DMA and lock program, 32-bit words as the
// toolchain writes them). The emulator needs only `op` and the sizes; XRT needs the files.
struct KernelSpec {
  std::string op;                       // e.g. "gemm_i8": the contract in kernels/<op>/contract.md
  std::vector<int> dims;                // the op's run sizes, in the order its contract lists them
  std::string xclbin_path;              // empty for the emulator
  std::string kernel_name;              // the kernel's name inside the xclbin
  std::vector<std::uint32_t> instructions;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual const KernelSpec& spec() const = 0;
};

// Device-visible memory mapped into the host's address space. Writes by the host reach the device only
// through sync_to_device, and the device's writes reach the host only through sync_from_device, each
// over exactly the byte range given.
class DeviceBuffer {
 public:
  virtual ~DeviceBuffer() = default;
  virtual std::size_t size() const = 0;
  virtual void* host() = 0;  // valid for the buffer's lifetime
  virtual void sync_to_device(std::size_t offset, std::size_t bytes) = 0;
  virtual void sync_from_device(std::size_t offset, std::size_t bytes) = 0;
};

constexpr int kMaxLaunchArgs = 6;

// One kernel run: the data buffers in the order the op's contract lists them.
struct Launch {
  const Kernel* kernel = nullptr;
  DeviceBuffer* args[kMaxLaunchArgs] = {};
  int n_args = 0;
};

// Failures are npw::Error: Unavailable when the device or a kernel cannot be had, Internal when a run
// fails or does not finish within its time limit (the device is then unusable for this backend).
class Device {
 public:
  virtual ~Device() = default;
  virtual DeviceInfo info() const = 0;
  virtual std::unique_ptr<Kernel> load_kernel(const KernelSpec& spec) = 0;
  // A buffer for argument `arg_index` of `kernel` (XRT places it in that argument's memory group).
  virtual std::unique_ptr<DeviceBuffer> allocate(std::size_t bytes, const Kernel& kernel, int arg_index) = 0;
  // Runs the launches in order (chained in one runlist where the device has them) and waits for all of
  // them, at most timeout_ms in total. When `stop` (may be null) is raised meanwhile, the wait ends
  // as soon as the device allows (a single run is aborted; a runlist, which XRT cannot abort, is
  // waited out - it is a few products long) and npw::Error(Cancelled) is thrown: the outputs are
  // unspecified, the device stays usable. A hung device thus never holds a stop for its time-out.
  virtual void run(const Launch* launches, int n, unsigned timeout_ms, const std::atomic<bool>* stop) = 0;
  void run(const Launch* launches, int n, unsigned timeout_ms) { run(launches, n, timeout_ms, nullptr); }
  virtual const DeviceBooks& books() const = 0;
};

// Opens NPU `index` through the XRT module (libnpw-npu-xrt.so, found in NPW_NPU_MODULE, next to the
// plugin, or in the installed module directory), loaded at run time. Throws npw::Error(Unavailable)
// whose message names what is missing: the module, XRT's libraries (with the loader's own words), the
// driver, or the device.
std::unique_ptr<Device> open_xrt_device(unsigned index = 0);

}  // namespace npu
}  // namespace npw
