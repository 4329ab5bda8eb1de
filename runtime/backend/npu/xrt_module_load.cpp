// Locates libnpw-npu-xrt.so, dlopens it and checks that it is a module of ours speaking our ABI. The
// loader's own text is passed on word for word (it is what names a missing libxrt or a GLIBC_2.38
// requirement), with one sentence saying what the user can do about it.
#include "backend/npu/xrt_module_load.h"

#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <sys/stat.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "backend/npu/xrt/module_paths.h"
#include "util/error.h"

namespace npw {
namespace npu {

namespace {

bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// The directory of the shared object (plugin, or program when linked statically) holding this code.
std::string own_directory() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<const void*>(&own_directory), &info) == 0 || !info.dli_fname) return {};
  return directory_of(info.dli_fname);
}

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

// What the user can do about a loader error, when we can tell.
std::string advice_for(const std::string& dl_error) {
  if (contains(dl_error, "GLIBC_") || contains(dl_error, "GLIBCXX_") || contains(dl_error, "CXXABI_")) {
    return " (the XRT libraries were built for a newer C/C++ library than this system's glibc " +
           std::string(::gnu_get_libc_version()) +
           ": use an XRT built for this distribution, or a distribution that ships one, such as Debian "
           "unstable or Ubuntu 26.04)";
  }
  if (contains(dl_error, "libxrt") && contains(dl_error, "cannot open shared object")) {
    return " (XRT is not installed: install libxrt2 and libxrt-npu2, or XRT from AMD's xdna-driver)";
  }
  return {};
}

struct Loaded {
  std::mutex mutex;
  std::map<std::string, XrtModule> by_path;
};

Loaded& loaded() {
  static Loaded l;
  return l;
}

XrtModule open_module(const std::string& path) {
  Loaded& l = loaded();
  std::lock_guard<std::mutex> lock(l.mutex);
  auto it = l.by_path.find(path);
  if (it != l.by_path.end()) return it->second;

  ::dlerror();
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    const std::string text = why ? why : "unknown loader error";
    throw Error(ErrorKind::Unavailable, "the NPU's XRT module " + path + " could not be loaded: " + text + advice_for(text));
  }
  auto entry = reinterpret_cast<npw_xrt_module_api_fn>(::dlsym(handle, NPW_XRT_MODULE_API_SYMBOL));
  const npw_xrt_api* api = entry ? entry() : nullptr;
  if (!api) {
    ::dlclose(handle);
    throw Error(ErrorKind::Unavailable, "the file " + path + " is not an npuwhisper XRT module (it exports no " +
                                            NPW_XRT_MODULE_API_SYMBOL + " table)");
  }
  if (api->abi_version != NPW_XRT_ABI_VERSION) {
    const unsigned theirs = api->abi_version;
    ::dlclose(handle);
    throw Error(ErrorKind::Unavailable, "the NPU's XRT module " + path + " speaks ABI version " + std::to_string(theirs) +
                                            " but this npuwhisper needs version " +
                                            std::to_string(NPW_XRT_ABI_VERSION) +
                                            ": install the module built with this npuwhisper");
  }
  // Kept loaded for good: XRT starts threads and registers exit handlers inside its libraries.
  XrtModule m{api, path};
  l.by_path.emplace(path, m);
  return m;
}

}  // namespace

XrtModule load_xrt_module() {
  if (const char* env = std::getenv("NPW_NPU_MODULE"); env && *env) {
    const std::string path = env;
    if (!is_file(path)) {
      throw Error(ErrorKind::Unavailable, "NPW_NPU_MODULE names the XRT module " + path + ", which does not exist");
    }
    return open_module(path);
  }
  std::vector<std::string> tried;
  const std::string here = own_directory();
  if (!here.empty()) tried.push_back(here + "/" + NPW_NPU_MODULE_NAME);
  tried.push_back(std::string(NPW_NPU_MODULE_DIR) + "/" + NPW_NPU_MODULE_NAME);
  for (const auto& path : tried) {
    if (is_file(path)) return open_module(path);
  }
  std::string where;
  for (const auto& path : tried) where += (where.empty() ? "" : ", ") + path;
  throw Error(ErrorKind::Unavailable, std::string("the NPU's XRT module ") + NPW_NPU_MODULE_NAME +
                                          " was not found (looked at " + where +
                                          "; NPW_NPU_MODULE is unset): this npuwhisper was built without XRT, or "
                                          "the module was not installed");
}

}  // namespace npu
}  // namespace npw
