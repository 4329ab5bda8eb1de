// The "npu" provider over the XRT module (open_xrt_device, runtime/backend/npu/xrt_loader.cpp):
// compiled only in builds that have that loader, tried first by "auto".
#include <memory>
#include <string>
#include <vector>

#include "backend/backend_registry.h"
#include "backend/npu/device.h"
#include "backend/npu/npu_open.h"
#include "util/error.h"

namespace npw {
namespace npu {

void add_xrt_provider(std::vector<BackendProvider>& providers) {
  BackendProvider p;
  p.name = "npu";
  p.accelerator = true;
  p.create_with_settings = [](const BackendSettings& s) {
    return open_npu_backend("npu", [] {
      try {
        return open_xrt_device(0);
      } catch (const Error& e) {
        throw Error(e.kind(), std::string("backend 'npu': no usable AMD XDNA NPU (") + e.what() + ")");
      }
    }, s, true);
  };
  p.create = [p](int n_threads) {
    BackendSettings s;
    s.n_threads = n_threads;
    return p.create_with_settings(s);
  };
  providers.push_back(std::move(p));
}

}  // namespace npu
}  // namespace npw
