// The bring-up steps of a hardware NPU backend and their error classes (see npu_open.h).
#include "backend/npu/npu_open.h"

#include <map>
#include <mutex>

#include "backend/backend_registry.h"
#include "backend/npu/kernel_catalog.h"
#include "backend/npu/npu_backend.h"
#include "util/error.h"

namespace npw {
namespace npu {

Precision precision_from_env();  // npu_providers.cpp

std::shared_ptr<NpuContext> open_npu_context(const std::string& name, const DeviceOpener& open,
                                             const std::string& kernel_dir, bool use_manifest) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<NpuContext>> contexts;
  std::lock_guard<std::mutex> lock(mutex);
  std::string source;
  const std::string dir = use_manifest ? resolve_kernel_dir(kernel_dir, &source) : std::string();
  const std::string key = name + "|" + dir;
  if (auto c = contexts[key].lock()) {
    try {
      c->check_usable();
      return c;
    } catch (const Error&) {
      // a failed device: try it afresh below
    }
  }
  std::unique_ptr<Device> device = open();  // Unavailable: no module, XRT, driver or device
  const DeviceInfo info = device->info();
  std::unique_ptr<KernelCatalog> catalog;
  try {
    catalog = use_manifest ? manifest_catalog(dir, info.generation) : contract_catalog(info.generation);
  } catch (const Error& e) {
    throw HardwareUnusable(info.name + " is present but its kernels are not (directory from " + source + "): " + e.what());
  }
  auto c = std::make_shared<NpuContext>(name, std::move(device), std::move(catalog));
  contexts[key] = c;
  return c;
}

std::unique_ptr<Backend> open_npu_backend(const std::string& name, const DeviceOpener& open,
                                          const BackendSettings& settings, bool use_manifest) {
  std::shared_ptr<NpuContext> c = open_npu_context(name, open, settings.kernel_dir, use_manifest);
  try {
    return std::make_unique<NpuBackend>(c, settings.n_threads, precision_from_env());
  } catch (const HardwareUnusable&) {
    throw;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::InvalidArgument) throw;
    throw HardwareUnusable(c->info().name + " is present but unusable: " + e.what());
  }
}

}  // namespace npu
}  // namespace npw
