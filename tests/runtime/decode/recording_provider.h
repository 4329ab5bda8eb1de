// A BufferProvider for tests: heap memory like the default, but it records every acquisition and
// release, so a test can see which memory the runtime computed in and how often it asked.
#pragma once

#include <cstddef>
#include <map>

#include "util/buffer_provider.h"

namespace npwtest {

class RecordingProvider : public npw::BufferProvider {
 public:
  ~RecordingProvider() override {
    for (auto& kv : live) npw::heap_buffer_provider().release(kv.first);
  }
  void* acquire(std::size_t bytes) override {
    void* p = npw::heap_buffer_provider().acquire(bytes);
    live[p] = bytes;
    ++acquires;
    return p;
  }
  void release(void* data) noexcept override {
    auto it = live.find(data);
    if (it == live.end()) {
      ++foreign_releases;  // memory this provider never gave out (or gave back twice)
      return;
    }
    live.erase(it);
    npw::heap_buffer_provider().release(data);
    ++releases;
  }
  // The live buffer of exactly `bytes`, or nullptr (none, or more than one).
  const float* live_buffer(std::size_t bytes) const {
    const float* found = nullptr;
    int n = 0;
    for (const auto& kv : live) {
      if (kv.second != bytes) continue;
      found = static_cast<const float*>(kv.first);
      ++n;
    }
    return n == 1 ? found : nullptr;
  }

  std::map<void*, std::size_t> live;
  int acquires = 0;
  int releases = 0;
  int foreign_releases = 0;
};

}  // namespace npwtest
