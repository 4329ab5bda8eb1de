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

  // Drops this process's resident pages of the whole pages inside [p, p + n) (madvise DONTNEED), for
  // weights a backend has copied into its own layout: without it every repacked weight stays
  // resident twice. The mapping is read-only, so a later read faults the bytes back in from the file
  // unchanged. Ranges (or parts) outside the mapping are ignored; partial pages at either end are
  // kept, since they hold neighbouring data (but the file's last page goes with a range that reaches the
  // end of the file). Returns the bytes released.
  std::size_t release(const void* p, std::size_t n) const;

  // Copies the n bytes at p (inside the mapping) into dst with pread, without mapping them into this
  // process: for the few rows of a released weight that are still read (a token's embedding where
  // the backend's copy is not exact), which through the mapping faulted in 64 KiB around each one.
  // False, and dst unspecified, if the range is not inside the mapping or the read fails.
  bool read(const void* p, std::size_t n, void* dst) const;

 private:
  std::string path_;
  int fd_ = -1;  // kept open for read()
  const uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace npw
