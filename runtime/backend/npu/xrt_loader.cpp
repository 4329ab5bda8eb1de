// open_xrt_device(): the runtime's side of the XRT module. It wraps the module's C table into the
// Device interface and keeps the same books as the emulator (launches, batches, bytes each way,
// buffers, device time as the module measured it), so the backend, its tests and the benchmark read
// a real NPU the way they read the emulator. XRT's types never reach this file.
#include <cstring>
#include <memory>
#include <vector>
#include <mutex>
#include <string>

#include "backend/npu/device.h"
#include "backend/npu/xrt_module_load.h"
#include "util/error.h"

namespace npw {
namespace npu {

namespace {

constexpr std::size_t kErrLen = 512;

struct ErrText {
  char text[kErrLen] = {};
  std::string str() const {
    const std::size_t n = ::strnlen(text, kErrLen);
    return n ? std::string(text, n) : std::string("no reason given by the XRT module");
  }
};

// What the device, its kernels and its buffers share: the module, the module's device handle (closed
// when the last of them goes, whatever order the backend drops them in) and the books.
struct Shared {
  const npw_xrt_api* api = nullptr;
  std::string module_path;
  npw_xrt_device* dev = nullptr;
  std::mutex books_mutex;
  DeviceBooks books;

  ~Shared() {
    if (dev) api->close_device(dev);
  }
};

class XrtKernel final : public Kernel {
 public:
  XrtKernel(std::shared_ptr<Shared> shared, npw_xrt_kernel* handle, KernelSpec spec)
      : shared_(std::move(shared)), handle_(handle), spec_(std::move(spec)) {}
  ~XrtKernel() override { shared_->api->unload_kernel(handle_); }
  const KernelSpec& spec() const override { return spec_; }
  npw_xrt_kernel* handle() const { return handle_; }
  const Shared* owner() const { return shared_.get(); }

 private:
  std::shared_ptr<Shared> shared_;
  npw_xrt_kernel* handle_;
  KernelSpec spec_;
};

class XrtBuffer final : public DeviceBuffer {
 public:
  XrtBuffer(std::shared_ptr<Shared> shared, npw_xrt_buffer* handle, void* host, std::size_t size)
      : shared_(std::move(shared)), handle_(handle), host_(host), size_(size) {}
  ~XrtBuffer() override { shared_->api->free_buffer(handle_); }
  std::size_t size() const override { return size_; }
  void* host() override { return host_; }
  void sync_to_device(std::size_t offset, std::size_t bytes) override { sync(true, offset, bytes); }
  void sync_from_device(std::size_t offset, std::size_t bytes) override { sync(false, offset, bytes); }
  npw_xrt_buffer* handle() const { return handle_; }
  const Shared* owner() const { return shared_.get(); }

 private:
  void sync(bool to_device, std::size_t offset, std::size_t bytes) {
    const char* way = to_device ? "to" : "from";
    if (offset > size_ || bytes > size_ - offset) {
      throw Error(ErrorKind::Internal, std::string("NPU buffer sync ") + way + " the device: bytes " +
                                           std::to_string(offset) + ".." + std::to_string(offset + bytes) +
                                           " lie outside the " + std::to_string(size_) + "-byte buffer");
    }
    if (bytes == 0) return;
    ErrText err;
    if (shared_->api->sync_buffer(handle_, to_device ? 1 : 0, offset, bytes, err.text, kErrLen) != 0) {
      throw Error(ErrorKind::Internal, std::string("NPU buffer sync ") + way + " the device failed: " + err.str());
    }
    std::lock_guard<std::mutex> lock(shared_->books_mutex);
    (to_device ? shared_->books.bytes_to_device : shared_->books.bytes_from_device) += bytes;
  }

  std::shared_ptr<Shared> shared_;
  npw_xrt_buffer* handle_;
  void* host_;
  std::size_t size_;
};

class XrtDevice final : public Device {
 public:
  XrtDevice(std::shared_ptr<Shared> shared, DeviceInfo info) : shared_(std::move(shared)), info_(std::move(info)) {}

  DeviceInfo info() const override { return info_; }

  std::unique_ptr<Kernel> load_kernel(const KernelSpec& spec) override {
    const std::string what = "NPU kernel '" + spec.op + "' (" + spec.kernel_name + " in " + spec.xclbin_path + ")";
    if (spec.xclbin_path.empty() || spec.kernel_name.empty()) {
      throw Error(ErrorKind::Unavailable, what + ": a real device needs the xclbin file and the kernel's name");
    }
    if (spec.instructions.empty()) {
      throw Error(ErrorKind::Unavailable, what + ": the instruction stream is empty");
    }
    npw_xrt_kernel* handle = nullptr;
    ErrText err;
    if (shared_->api->load_kernel(shared_->dev, spec.xclbin_path.c_str(), spec.kernel_name.c_str(),
                                  spec.instructions.data(), spec.instructions.size(), &handle, err.text,
                                  kErrLen) != 0 ||
        !handle) {
      throw Error(ErrorKind::Unavailable, what + " could not be loaded: " + err.str());
    }
    return std::make_unique<XrtKernel>(shared_, handle, spec);
  }

  std::unique_ptr<DeviceBuffer> allocate(std::size_t bytes, const Kernel& kernel, int arg_index) override {
    const auto* k = dynamic_cast<const XrtKernel*>(&kernel);
    if (!k || k->owner() != shared_.get()) {
      throw Error(ErrorKind::Internal, "NPU buffer: kernel '" + kernel.spec().op + "' was not loaded on this device");
    }
    if (arg_index < 0 || arg_index >= kMaxLaunchArgs || bytes == 0) {
      throw Error(ErrorKind::Internal, "NPU buffer for kernel '" + kernel.spec().op + "': argument " +
                                           std::to_string(arg_index) + ", " + std::to_string(bytes) +
                                           " bytes is not a buffer a kernel can take");
    }
    npw_xrt_buffer* handle = nullptr;
    void* host = nullptr;
    ErrText err;
    if (shared_->api->alloc_buffer(shared_->dev, k->handle(), static_cast<unsigned>(arg_index), bytes, &handle, &host,
                                   err.text, kErrLen) != 0 ||
        !handle || !host) {
      throw Error(ErrorKind::Unavailable, "NPU buffer of " + std::to_string(bytes) + " bytes for argument " +
                                              std::to_string(arg_index) + " of kernel '" + kernel.spec().op +
                                              "' could not be allocated: " + err.str());
    }
    {
      std::lock_guard<std::mutex> lock(shared_->books_mutex);
      shared_->books.buffers_allocated += 1;
      shared_->books.bytes_allocated += bytes;
    }
    return std::make_unique<XrtBuffer>(shared_, handle, host, bytes);
  }

  using Device::run;
  void run(const Launch* launches, int n, unsigned timeout_ms, const std::atomic<bool>* stop) override {
    if (n <= 0) return;
    // Reused per thread (streams may run concurrently): after the first window no allocation here.
    thread_local std::vector<npw_xrt_launch> table;
    table.assign(static_cast<std::size_t>(n), npw_xrt_launch{});
    for (int i = 0; i < n; ++i) {
      const Launch& l = launches[i];
      const auto* k = dynamic_cast<const XrtKernel*>(l.kernel);
      if (!k || k->owner() != shared_.get()) {
        throw Error(ErrorKind::Internal, "NPU launch " + std::to_string(i) + ": its kernel was not loaded on this device");
      }
      if (l.n_args < 0 || l.n_args > kMaxLaunchArgs || l.n_args > NPW_XRT_MAX_ARGS) {
        throw Error(ErrorKind::Internal, "NPU launch of '" + k->spec().op + "': " + std::to_string(l.n_args) +
                                             " arguments (at most " + std::to_string(kMaxLaunchArgs) + ")");
      }
      table[i].kernel = k->handle();
      table[i].n_args = static_cast<unsigned>(l.n_args);
      for (int a = 0; a < l.n_args; ++a) {
        const auto* b = dynamic_cast<const XrtBuffer*>(l.args[a]);
        if (!b || b->owner() != shared_.get()) {
          throw Error(ErrorKind::Internal, "NPU launch of '" + k->spec().op + "': argument " + std::to_string(a) +
                                               " is not a buffer of this device");
        }
        table[i].args[a] = b->handle();
      }
    }
    double seconds = 0.0;
    ErrText err;
    const int rc = shared_->api->run(shared_->dev, table.data(), static_cast<std::size_t>(n), timeout_ms, stop, &seconds,
                                     err.text, kErrLen);
    {
      // Launches that were started count even when the batch failed: the books say what the device did.
      std::lock_guard<std::mutex> lock(shared_->books_mutex);
      shared_->books.launches += static_cast<std::uint64_t>(n);
      shared_->books.batches += 1;
      if (seconds > 0.0) shared_->books.device_seconds += seconds;
    }
    if (rc == NPW_XRT_STOPPED) throw Error(ErrorKind::Cancelled, "NPU run stopped: " + err.str());
    if (rc != 0) {
      throw Error(ErrorKind::Internal, "NPU run of " + std::to_string(n) + " launch" + (n == 1 ? "" : "es") +
                                           " (first: '" + launches[0].kernel->spec().op + "') failed: " + err.str());
    }
  }

  const DeviceBooks& books() const override { return shared_->books; }

 private:
  std::shared_ptr<Shared> shared_;
  DeviceInfo info_;
};

}  // namespace

std::unique_ptr<Device> open_xrt_device(unsigned index) {
  const XrtModule module = load_xrt_module();
  auto shared = std::make_shared<Shared>();
  shared->api = module.api;
  shared->module_path = module.path;
  ErrText err;
  npw_xrt_device* dev = nullptr;
  if (module.api->open_device(index, &dev, err.text, kErrLen) != 0 || !dev) {
    throw Error(ErrorKind::Unavailable, "NPU " + std::to_string(index) + " could not be opened through XRT " +
                                            (module.api->xrt_version ? module.api->xrt_version : "") + ": " + err.str());
  }
  shared->dev = dev;

  char name[256] = {};
  int generation = 0, columns = 0, rows = 0;
  if (module.api->device_info(dev, name, sizeof name, &generation, &columns, &rows, err.text, kErrLen) != 0) {
    throw Error(ErrorKind::Unavailable, "NPU " + std::to_string(index) + " opened but could not describe itself: " + err.str());
  }
  if ((generation != 1 && generation != 2) || columns <= 0 || rows <= 0) {
    throw Error(ErrorKind::Unavailable, "NPU " + std::to_string(index) + " ('" + std::string(name) +
                                            "') is not an XDNA generation npuwhisper has kernels for (generation " +
                                            std::to_string(generation) + ", " + std::to_string(columns) + " x " +
                                            std::to_string(rows) + " cores)");
  }
  DeviceInfo info;
  info.name = std::string(name, ::strnlen(name, sizeof name));
  info.generation = generation == 1 ? Generation::Npu1 : Generation::Npu2;
  info.columns = columns;
  info.rows = rows;
  return std::make_unique<XrtDevice>(std::move(shared), std::move(info));
}

}  // namespace npu
}  // namespace npw
