// The memory ledger and the resident-memory report; see memory_ledger.h.
#include "util/memory_ledger.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace npw {

namespace {

struct Entry {
  std::uintptr_t p;
  std::size_t bytes;
  const char* label;
};

// A few hundred large buffers live at once in the busiest process (8 elements on 2 models).
constexpr int kCapacity = 4096;
Entry g_entries[kCapacity];
int g_count = 0;
std::mutex g_mutex;

constexpr const char* kUnlabelled = "unlabelled buffers";

std::size_t page_size() {
  static const std::size_t p = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return p;
}

// Pages of this process's page tables that are present (/proc/self/pagemap, bit 63), which for a
// file mapping is not what mincore() says: mincore reports the file's page cache, so pages this
// process dropped (MappedFile::release) but the cache still holds would count as resident.
std::size_t resident_in(std::uintptr_t p, std::size_t bytes) {
  const std::size_t ps = page_size();
  const std::uintptr_t first = (p + ps - 1) / ps * ps, last = (p + bytes) / ps * ps;
  if (last <= first) return 0;
  const std::size_t pages = (last - first) / ps;
  std::vector<uint64_t> entries(pages);
  const int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    const ssize_t want = static_cast<ssize_t>(pages * sizeof(uint64_t));
    const ssize_t got = pread(fd, entries.data(), static_cast<std::size_t>(want), static_cast<off_t>(first / ps * sizeof(uint64_t)));
    close(fd);
    if (got == want) {
      std::size_t n = 0;
      for (uint64_t e : entries) n += (e >> 63) & 1;
      return n * ps;
    }
  }
  // No pagemap (a restricted /proc): mincore, right for anonymous memory.
  std::vector<unsigned char> in(pages);
  if (mincore(reinterpret_cast<void*>(first), last - first, in.data()) != 0) return 0;
  std::size_t n = 0;
  for (unsigned char c : in) n += c & 1;
  return n * ps;
}

struct Mapping {
  std::uintptr_t start = 0, end = 0;
  std::string perms, path;
  std::size_t rss = 0;
  std::string kind;
};

std::vector<Mapping> read_smaps() {
  std::vector<Mapping> maps;
  std::FILE* f = std::fopen("/proc/self/smaps", "r");
  if (!f) return maps;
  char line[4096];
  while (std::fgets(line, sizeof line, f)) {
    unsigned long long a = 0, b = 0;
    char perms[8] = {};
    int consumed = 0;
    // A mapping's header: "start-end perms offset dev inode [path]"; field lines start with a name.
    if (std::sscanf(line, "%llx-%llx %7s %*s %*s %*s%n", &a, &b, perms, &consumed) == 3 && consumed > 0) {
      Mapping m;
      m.start = static_cast<std::uintptr_t>(a);
      m.end = static_cast<std::uintptr_t>(b);
      m.perms = perms;
      const char* path = line + consumed;
      while (*path == ' ' || *path == '\t') ++path;
      m.path = path;
      while (!m.path.empty() && (m.path.back() == '\n' || m.path.back() == ' ')) m.path.pop_back();
      maps.push_back(std::move(m));
    } else if (!maps.empty() && std::strncmp(line, "Rss:", 4) == 0) {
      maps.back().rss = static_cast<std::size_t>(std::strtoull(line + 4, nullptr, 10)) * 1024;
    }
  }
  std::fclose(f);
  return maps;
}

// VmHWM of /proc/self/status, in bytes (0 without /proc).
std::size_t read_peak_rss() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  std::size_t kib = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "VmHWM:", 6) == 0) kib = static_cast<std::size_t>(std::strtoull(line + 6, nullptr, 10));
  }
  std::fclose(f);
  return kib * 1024;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

void classify(std::vector<Mapping>& maps, const std::vector<std::string>& model_paths) {
  for (std::size_t i = 0; i < maps.size(); ++i) {
    Mapping& m = maps[i];
    const bool anon = m.path.empty() || m.path.compare(0, 6, "[anon:") == 0;
    if (m.path == "[heap]") {
      m.kind = "malloc heap ([heap])";
    } else if (m.path == "[stack]") {
      m.kind = "main thread's stack";
    } else if (!m.path.empty() && m.path[0] == '[') {
      m.kind = "kernel pages (" + m.path + ")";
    } else if (!anon) {
      bool model = false;
      for (const std::string& p : model_paths) model = model || (!p.empty() && (m.path == p || ends_with(m.path, "/" + p)));
      if (model) {
        m.kind = "model file (mapped pages)";
      } else if (m.path.find(".so") != std::string::npos) {
        m.kind = "shared libraries";
      } else {
        m.kind = "other mapped files";
      }
    } else if (m.perms.compare(0, 3, "---") == 0) {
      m.kind = "guard pages and reserved address space";
    } else if (i + 1 < maps.size() && maps[i + 1].start == m.end && maps[i + 1].perms.compare(0, 3, "---") == 0 &&
               maps[i + 1].path.empty()) {
      // glibc's thread arenas: the used head of a reserved 64 MiB region, the rest PROT_NONE.
      m.kind = "malloc thread arenas";
    } else if (i > 0 && maps[i - 1].end == m.start && maps[i - 1].perms.compare(0, 3, "---") == 0 &&
               maps[i - 1].path.empty() && maps[i - 1].end - maps[i - 1].start <= 64 * 1024) {
      // A thread's stack sits right above its guard page.
      m.kind = "thread stacks";
    } else {
      m.kind = "other anonymous memory (large mallocs, libraries' buffers, OpenBLAS's once opened)";
    }
  }
}

std::vector<MemoryUse> sorted(std::map<std::string, MemoryUse>& by) {
  std::vector<MemoryUse> v;
  for (auto& kv : by) {
    kv.second.what = kv.first;
    v.push_back(kv.second);
  }
  std::sort(v.begin(), v.end(), [](const MemoryUse& a, const MemoryUse& b) {
    return a.resident_bytes != b.resident_bytes ? a.resident_bytes > b.resident_bytes : a.what < b.what;
  });
  return v;
}

}  // namespace

namespace memory_ledger {

void enter(const void* p, std::size_t bytes, const char* label) noexcept {
  if (!p || bytes == 0) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_count < kCapacity) g_entries[g_count++] = Entry{reinterpret_cast<std::uintptr_t>(p), bytes, label};
}

void leave(const void* p) noexcept {
  if (!p) return;
  const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(p);
  std::lock_guard<std::mutex> lock(g_mutex);
  for (int i = 0; i < g_count; ++i) {
    if (g_entries[i].p == a) {
      g_entries[i] = g_entries[--g_count];
      return;
    }
  }
}

}  // namespace memory_ledger

bool is_model_label(const char* label) {
  return label && (std::strncmp(label, "packed ", 7) == 0 || std::strncmp(label, "model:", 6) == 0);
}

std::size_t resident_bytes(const void* p, std::size_t bytes) {
  return resident_in(reinterpret_cast<std::uintptr_t>(p), bytes);
}

MemoryReport memory_report(const std::vector<std::string>& model_paths) {
  MemoryReport r;
  r.peak_rss_bytes = read_peak_rss();
  std::vector<Mapping> maps = read_smaps();
  classify(maps, model_paths);
  std::map<std::string, MemoryUse> process, buffers;
  for (const Mapping& m : maps) {
    MemoryUse& u = process[m.kind];
    u.resident_bytes += m.rss;
    u.mapped_bytes += m.end - m.start;
    u.count += 1;
    r.rss_bytes += m.rss;
  }
  std::vector<Entry> entries;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    entries.assign(g_entries, g_entries + g_count);
  }
  for (const Entry& e : entries) {
    const std::size_t res = resident_in(e.p, e.bytes);
    MemoryUse& b = buffers[e.label ? e.label : kUnlabelled];
    b.resident_bytes += res;
    (is_model_label(e.label) ? r.model_buffer_bytes : r.stream_buffer_bytes) += res;
    b.mapped_bytes += e.bytes;
    b.count += 1;
    // Counted once: out of the kind of mapping that holds the buffer.
    auto it = std::upper_bound(maps.begin(), maps.end(), e.p,
                               [](std::uintptr_t p, const Mapping& m) { return p < m.start; });
    if (it != maps.begin() && e.p < (it - 1)->end) {
      MemoryUse& u = process[(it - 1)->kind];
      u.resident_bytes -= std::min(u.resident_bytes, res);
      const std::size_t ps = page_size();
      const std::uintptr_t first = (e.p + ps - 1) / ps * ps, last = (e.p + e.bytes) / ps * ps;
      u.mapped_bytes -= std::min<std::size_t>(u.mapped_bytes, last > first ? last - first : 0);
    }
  }
  r.buffers = sorted(buffers);
  r.process = sorted(process);
  return r;
}

std::string format_memory_report(const MemoryReport& r) {
  std::string out;
  char line[256];
  const double mib = 1024.0 * 1024.0;
  std::snprintf(line, sizeof line, "resident memory: %.1f MiB (peak %.1f MiB)\n", static_cast<double>(r.rss_bytes) / mib,
                static_cast<double>(r.peak_rss_bytes) / mib);
  out += line;
  const std::size_t buffers = r.model_buffer_bytes + r.stream_buffer_bytes;
  std::snprintf(line, sizeof line,
                " the model's buffers %.1f MiB (shared by its streams), the streams' buffers %.1f MiB, the rest of "
                "the process %.1f MiB\n",
                static_cast<double>(r.model_buffer_bytes) / mib, static_cast<double>(r.stream_buffer_bytes) / mib,
                static_cast<double>(r.rss_bytes > buffers ? r.rss_bytes - buffers : 0) / mib);
  out += line;
  auto add = [&](const std::vector<MemoryUse>& v, const char* heading) {
    out += heading;
    for (const MemoryUse& u : v) {
      if (u.resident_bytes == 0 && u.mapped_bytes < (1u << 20)) continue;
      std::snprintf(line, sizeof line, "  %8.1f MiB resident of %8.1f MiB  %-4d %s\n",
                    static_cast<double>(u.resident_bytes) / mib, static_cast<double>(u.mapped_bytes) / mib, u.count,
                    u.what.c_str());
      out += line;
    }
  };
  add(r.buffers, " the runtime's buffers:\n");
  add(r.process, " the rest of the process:\n");
  return out;
}

}  // namespace npw
