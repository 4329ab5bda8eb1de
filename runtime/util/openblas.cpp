// Opens OpenBLAS on first use (openblas.h says why) and calls it through the few entry points the
// project needs. The types come from OpenBLAS's own cblas.h, so a call cannot drift from its ABI.
#include "util/openblas.h"

#include <cblas.h>
#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "util/error.h"

namespace npw::openblas {
namespace {

struct Library {
  decltype(&cblas_sgemm) sgemm = nullptr;
  decltype(&openblas_set_num_threads) set_threads = nullptr;
  decltype(&openblas_get_config) config = nullptr;
  decltype(&openblas_get_corename) corename = nullptr;
};

// Where to look, in order: NPW_OPENBLAS alone when set (the user chose), else the configured build's
// directory, then the dynamic linker's search (Debian's alternatives link).
std::vector<std::string> candidates() {
  const char* chosen = std::getenv("NPW_OPENBLAS");
  if (chosen && *chosen) return {chosen};
  std::vector<std::string> files;
#ifdef NPW_OPENBLAS_LIBDIR
  std::string dir = NPW_OPENBLAS_LIBDIR;
  if (!dir.empty()) {
    if (dir.back() != '/') dir += '/';
    files.push_back(dir + "libopenblas.so.0");
  }
#endif
  files.push_back("libopenblas.so.0");
  files.push_back("libopenblas.so");
  return files;
}

Library open_library() {
  std::string reasons;
  for (const std::string& file : candidates()) {
    void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = ::dlerror();
      reasons += (reasons.empty() ? "" : "; ") + std::string(why ? why : file + ": not found");
      continue;
    }
    Library lib;
    lib.sgemm = reinterpret_cast<decltype(lib.sgemm)>(::dlsym(handle, "cblas_sgemm"));
    lib.set_threads = reinterpret_cast<decltype(lib.set_threads)>(::dlsym(handle, "openblas_set_num_threads"));
    lib.config = reinterpret_cast<decltype(lib.config)>(::dlsym(handle, "openblas_get_config"));
    lib.corename = reinterpret_cast<decltype(lib.corename)>(::dlsym(handle, "openblas_get_corename"));
    if (!lib.sgemm || !lib.set_threads) {
      reasons += (reasons.empty() ? "" : "; ") + file + ": no cblas_sgemm or openblas_set_num_threads in it";
      ::dlclose(handle);
      continue;
    }
    // Our thread pool splits the work; inside one of its chunks OpenBLAS must not start its own.
    lib.set_threads(1);
    return lib;  // kept open for the life of the process, as a linked library would be
  }
  throw Error(ErrorKind::Unavailable,
              "OpenBLAS (needed for f32 products below AVX-512) could not be opened: " + reasons);
}

std::mutex& load_mutex() {
  static std::mutex m;
  return m;
}

// Published once the library is open (a failed open is retried, and reported, by the next call);
// after that, a call costs one acquire load, not the lock: products call in from every pool thread.
Library g_storage;
std::atomic<const Library*> g_library{nullptr};

const Library& library() {
  if (const Library* lib = g_library.load(std::memory_order_acquire)) return *lib;
  std::lock_guard<std::mutex> lock(load_mutex());
  if (const Library* lib = g_library.load(std::memory_order_relaxed)) return *lib;
  g_storage = open_library();
  g_library.store(&g_storage, std::memory_order_release);
  return g_storage;
}

}  // namespace

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc) {
  library().sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
                  alpha, A, lda, B, ldb, beta, C, ldc);
}

void set_threads(int n) { library().set_threads(n); }

const char* config() {
  const Library& lib = library();
  return lib.config ? lib.config() : "";
}

const char* corename() {
  const Library& lib = library();
  return lib.corename ? lib.corename() : "";
}

bool loaded() {
  if (g_library.load(std::memory_order_acquire)) return true;
  for (const std::string& file : candidates()) {
    void* handle = ::dlopen(file.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (handle) {
      ::dlclose(handle);
      return true;
    }
  }
  return false;
}

}  // namespace npw::openblas
