// make_backend(): turns the name a user gave (element property, CLI flag) into a backend, through the
// provider registry, and explains every refusal: unknown names list the valid ones, hardware names
// without hardware say what is missing, and "auto" says why it fell back to the CPU.
#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "backend/backend_registry.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/int8_backend.h"
#include "backend/npu/npu_providers.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {

namespace {

// Names that denote hardware this program knows about even when no provider for it is registered:
// asking for one is a missing-resource error, not a typo.
struct HardwareName {
  const char* name;
  const char* missing;
};
constexpr HardwareName kHardwareNames[] = {
    {"npu", "no AMD XDNA NPU driver/module available on this machine (this build registers no NPU backend)"},
};

struct Registry {
  std::mutex mutex;
  std::vector<BackendProvider> providers;

  Registry() {
    BackendProvider cpu;
    cpu.name = "cpu";
    cpu.create = [](int n_threads) { return std::unique_ptr<Backend>(new CpuBackend(n_threads)); };
    // Given the stream's pool, the CPU backends start on it (no pool of their own made and dropped).
    cpu.create_with_settings = [](const BackendSettings& s) {
      return std::unique_ptr<Backend>(s.pool ? new CpuBackend(s.pool) : new CpuBackend(s.n_threads));
    };
    providers.push_back(std::move(cpu));
    BackendProvider int8;
    int8.name = "cpu-int8";
    int8.create = [](int n_threads) { return std::unique_ptr<Backend>(new CpuInt8Backend(n_threads)); };
    int8.create_with_settings = [](const BackendSettings& s) {
      return std::unique_ptr<Backend>(s.pool ? new CpuInt8Backend(s.pool) : new CpuInt8Backend(s.n_threads));
    };
    providers.push_back(std::move(int8));
    npu::add_npu_providers(providers);
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

std::vector<BackendProvider> snapshot() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.providers;
}

const BackendProvider* find(const std::vector<BackendProvider>& providers, const std::string& name) {
  for (const auto& p : providers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

void register_backend(BackendProvider provider) {
  if (provider.name.empty() || provider.name == "auto" || !provider.create) {
    throw Error(ErrorKind::InvalidArgument, "register_backend: a provider needs a name other than 'auto' and a create function");
  }
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (auto& p : r.providers) {
    if (p.name == provider.name) {
      p = std::move(provider);
      return;
    }
  }
  r.providers.push_back(std::move(provider));
}

std::vector<std::string> backend_names() {
  std::vector<std::string> names{"auto"};
  for (const auto& p : snapshot()) names.push_back(p.name);
  for (const auto& h : kHardwareNames) {
    if (std::find(names.begin(), names.end(), h.name) == names.end()) names.push_back(h.name);
  }
  return names;
}

namespace {

std::unique_ptr<Backend> create(const BackendProvider& p, const BackendSettings& s) {
  std::unique_ptr<Backend> b = p.create_with_settings ? p.create_with_settings(s) : p.create(s.n_threads);
  if (b && s.pool && b->thread_pool() != s.pool) b->use_thread_pool(s.pool);
  return b;
}

}  // namespace

std::unique_ptr<Backend> make_backend(const std::string& name, int n_threads, std::string* chosen_note) {
  BackendSettings s;
  s.n_threads = n_threads;
  return make_backend(name, s, chosen_note);
}

std::unique_ptr<Backend> make_backend(const std::string& name, const BackendSettings& settings, std::string* chosen_note,
                                      bool* note_is_warning) {
  if (chosen_note) chosen_note->clear();
  if (note_is_warning) *note_is_warning = false;
  const int n_threads = settings.n_threads;
  if (n_threads < 1) {
    throw Error(ErrorKind::InvalidArgument,
                "backend '" + name + "': the number of threads must be at least 1 (got " + std::to_string(n_threads) + ")");
  }
  if (settings.pool && settings.pool->size() != n_threads) {
    throw Error(ErrorKind::InvalidArgument, "backend '" + name + "': the pool given has " +
                                                std::to_string(settings.pool->size()) + " threads, the settings say " +
                                                std::to_string(n_threads));
  }
  const std::vector<BackendProvider> providers = snapshot();

  if (name == "auto") {
    std::string why_not;
    for (const auto& p : providers) {
      if (!p.accelerator) continue;
      try {
        return create(p, settings);
      } catch (const HardwareUnusable& e) {
        why_not += (why_not.empty() ? "" : "; ") + p.name + ": " + e.what();
        if (note_is_warning) *note_is_warning = true;
      } catch (const Error& e) {
        why_not += (why_not.empty() ? "" : "; ") + p.name + ": " + e.what();
      }
    }
    // With no accelerator registered there is nothing to fall back from, hence no note.
    if (chosen_note && !why_not.empty()) *chosen_note = "no usable accelerator (" + why_not + "): using cpu";
    return create(*find(providers, "cpu"), settings);
  }

  if (const BackendProvider* p = find(providers, name)) return create(*p, settings);
  for (const auto& h : kHardwareNames) {
    if (name == h.name) throw Error(ErrorKind::Unavailable, "backend '" + name + "': " + h.missing);
  }
  throw Error(ErrorKind::InvalidArgument, "unknown backend '" + name + "' (valid: " + join(backend_names()) + ")");
}

}  // namespace npw
