// A read-only memory map of a whole file, so that weights are shared by every stream (and every
// process) that loads the same model, and pages are read only when touched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace npw {

class MappedFile {
 public:
  // Throws npw::Error(Io) naming the path and the system's reason.
  explicit MappedFile(const std::string& path);
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace npw
