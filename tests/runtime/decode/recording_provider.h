// A BufferProvider for tests: heap memory like the default, but it records every acquisition and
// release, so a test can see which memory the runtime computed in and how often it asked, and keeps
// a copy of what each buffer held when it was given back (by size), to compare after the fact.
#pragma once

#include <cstddef>
#include <cstring>
#include <map>
#include <vector>

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
    std::vector<float>& copy = last_released[it->second];
    copy.resize(it->second / sizeof(float));
    std::memcpy(copy.data(), data, copy.size() * sizeof(float));
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
  std::map<std::size_t, std::vector<float>> last_released;  // bytes -> contents at release
  int acquires = 0;
  int releases = 0;
  int foreign_releases = 0;
};

}  // namespace npwtest
