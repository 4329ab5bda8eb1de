// POSIX read-only mmap of a model file.
#include "model/mapped_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

namespace npw {

MappedFile::MappedFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw Error(ErrorKind::Io, "cannot open model file '" + path + "': " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    throw Error(ErrorKind::Io, "cannot stat model file '" + path + "': " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(ErrorKind::Io, "model file '" + path + "' is not a regular file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ == 0) {
    ::close(fd);
    throw Error(ErrorKind::Format, "model file '" + path + "' is empty");
  }
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  int e = errno;
  if (p == MAP_FAILED) {
    ::close(fd);
    throw Error(ErrorKind::Io, "cannot map model file '" + path + "': " + std::strerror(e));
  }
  data_ = static_cast<const uint8_t*>(p);
  fd_ = fd;
}

bool MappedFile::read(const void* p, std::size_t n, void* dst) const {
  const auto at = reinterpret_cast<uintptr_t>(p), base = reinterpret_cast<uintptr_t>(data_);
  if (fd_ < 0 || at < base || at - base > size_ || n > size_ - (at - base)) return false;
  auto* out = static_cast<uint8_t*>(dst);
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd_, out + done, n - done, static_cast<off_t>(at - base + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

std::size_t MappedFile::release(const void* p, std::size_t n) const {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto lo = std::max(reinterpret_cast<uintptr_t>(p), reinterpret_cast<uintptr_t>(data_));
  const auto hi = std::min(reinterpret_cast<uintptr_t>(p) + n, reinterpret_cast<uintptr_t>(data_) + size_);
  // The file's last page holds nothing after the file's end: it goes with a range that reaches it.
  const uintptr_t end = reinterpret_cast<uintptr_t>(data_) + size_;
  const uintptr_t first = (lo + page - 1) / page * page, last = (hi == end ? hi + page - 1 : hi) / page * page;
  if (!data_ || hi <= lo || last <= first) return 0;
  // Advice only: should the kernel refuse, the pages stay resident and nothing else changes.
  if (::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED) != 0) return 0;
  return last - first;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace npw
