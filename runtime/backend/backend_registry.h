// Named backend factories. make_backend() only looks names up here, so an accelerator (the NPU module,
// possibly loaded at run time) plugs in by registering a provider instead of editing the factory.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "util/error.h"

namespace npw {

struct BackendProvider {
  std::string name;  // what users type: "npu"
  // Accelerators are tried by "auto", in registration order, before falling back to "cpu".
  bool accelerator = false;
  // Creates a backend with n_threads CPU threads; throws npw::Error(Unavailable) naming what is missing
  // when the hardware or its driver is absent.
  std::function<std::unique_ptr<Backend>(int n_threads)> create;
  // When set, used instead of `create` (a provider that needs more than the thread count).
  std::function<std::unique_ptr<Backend>(const BackendSettings& settings)> create_with_settings;
};

// What a provider throws when its hardware is present but unusable (its kernels are missing or fail
// the self-test): "auto" falls back to the CPU as for absent hardware, but reports it as a warning.
class HardwareUnusable : public Error {
 public:
  explicit HardwareUnusable(const std::string& message) : Error(ErrorKind::Unavailable, message) {}
};

// Adds a provider, replacing one of the same name. Thread-safe. "cpu" is always present.
void register_backend(BackendProvider provider);

// Every name make_backend accepts, "auto" first.
std::vector<std::string> backend_names();

}  // namespace npw
