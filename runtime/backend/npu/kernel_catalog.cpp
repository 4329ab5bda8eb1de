// The two kernel catalogs: the contract's (emulator) and the kernel directory's manifest (hardware).
#include "backend/npu/kernel_catalog.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <tuple>

#include "backend/npu/instruction_stream.h"
#include "backend/npu/op_shapes.h"
#include "util/error.h"

#include "backend/npu_build_config.h"  // NPW_DEFAULT_KERNEL_DIR

namespace npw {
namespace npu {

namespace {

std::string shape_text(const std::string& op, Generation g, int M, int Np, int Kp) {
  return op + " " + (M > 0 ? std::to_string(M) : std::string("?")) + "x" + std::to_string(Np) + "x" +
         std::to_string(Kp) + " (" + generation_name(g) + ")";
}

class ContractCatalog : public KernelCatalog {
 public:
  explicit ContractCatalog(Generation g) : g_(g) {}
  int rows_for(const std::string& op, int M, int Np, int Kp) const override {
    if (M < 1 || M > kMaxGemmM) {
      throw Error(ErrorKind::Unavailable, "no NPU kernel for " + shape_text(op, g_, M, Np, Kp) + ": rows outside 1.." +
                                              std::to_string(kMaxGemmM));
    }
    return round_up(M, gemm_padding(g_).m);
  }
  int max_rows(const std::string&, int, int) const override { return kMaxGemmM; }
  KernelSpec spec(const std::string& op, int Mp, int Np, int Kp) const override {
    KernelSpec s;
    s.op = op;
    s.dims = {Mp, Np, Kp};
    s.kernel_name = op;
    return s;
  }
  // The smallest product that still gives every core of the array work beyond one tile of K and N.
  std::vector<int> smallest_shape(const std::string&) const override { return {256, 256, 128}; }
  std::string describe() const override { return std::string("emulated kernels (") + generation_name(g_) + ")"; }

 private:
  Generation g_;
};

struct OpEntry {
  std::string xclbin;
  std::string kernel;
};

struct ShapeEntry {
  std::string insts;
  std::string xclbin;  // empty: the op's
};

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

class ManifestCatalog : public KernelCatalog {
 public:
  ManifestCatalog(const std::string& dir, Generation g) : dir_(dir), g_(g) {
    if (!is_dir(dir)) {
      throw Error(ErrorKind::Unavailable, "NPU kernel directory \"" + dir +
                                              "\" does not exist (set the kernel-dir property or NPW_KERNEL_DIR to the "
                                              "directory the kernels' build rule wrote; see kernels/README.md)");
    }
    const std::string path = dir + "/manifest.txt";
    std::ifstream in(path);
    if (!in) throw Error(ErrorKind::Unavailable, "NPU kernel directory \"" + dir + "\" has no manifest.txt");
    std::string line;
    int line_no = 0;
    bool header = false;
    auto bad = [&](const std::string& why) {
      throw Error(ErrorKind::Format, path + ":" + std::to_string(line_no) + ": " + why);
    };
    while (std::getline(in, line)) {
      ++line_no;
      const std::size_t hash = line.find('#');
      if (hash != std::string::npos) line.resize(hash);
      std::istringstream fields(line);
      std::vector<std::string> f;
      for (std::string w; fields >> w;) f.push_back(w);
      if (f.empty()) continue;
      if (!header) {
        if (f.size() != 2 || f[0] != "npuwhisper-kernels") bad("the first line must be \"npuwhisper-kernels 1\"");
        if (f[1] != "1") bad("manifest format " + f[1] + " is not supported (this build reads 1)");
        header = true;
        continue;
      }
      if (f[0] != "op" && f[0] != "shape") bad("unknown record \"" + f[0] + "\" (expected op or shape)");
      if (f.size() < 4) bad("a record needs at least 4 fields");
      if (!is_known_op(f[1])) bad("unknown op \"" + f[1] + "\"");
      if (f[2] != "npu1" && f[2] != "npu2") bad("unknown generation \"" + f[2] + "\"");
      std::map<std::string, std::string> kv;
      for (std::size_t i = (f[0] == "op" ? 3 : 4); i < f.size(); ++i) {
        const std::size_t eq = f[i].find('=');
        if (eq == std::string::npos || eq == 0) bad("expected key=value, got \"" + f[i] + "\"");
        kv[f[i].substr(0, eq)] = f[i].substr(eq + 1);
      }
      if (f[2] != generation_name(g_)) continue;
      if (f[0] == "op") {
        if (kv["xclbin"].empty() || kv["kernel"].empty()) bad("an op record needs xclbin= and kernel=");
        ops_[f[1]] = OpEntry{kv["xclbin"], kv["kernel"]};
      } else {
        int d[3];
        if (std::sscanf(f[3].c_str(), "%d,%d,%d", &d[0], &d[1], &d[2]) != 3) bad("shape dims must be Mp,Np,Kp");
        KernelSpec probe;
        probe.op = f[1];
        probe.dims = {d[0], d[1], d[2]};
        try {
          check_kernel_shape(probe, g_);
        } catch (const Error& e) {
          bad(e.what());
        }
        if (kv["insts"].empty()) bad("a shape record needs insts=");
        shapes_[std::make_tuple(f[1], d[1], d[2])][d[0]] = ShapeEntry{kv["insts"], kv["xclbin"]};
      }
    }
    if (!header) throw Error(ErrorKind::Format, path + ": empty manifest");
  }

  int rows_for(const std::string& op, int M, int Np, int Kp) const override {
    const auto* rows = find(op, Np, Kp, M);
    for (const auto& r : *rows)
      if (r.first >= M) return r.first;
    return rows->rbegin()->first;  // not reached: find() checked
  }
  int max_rows(const std::string& op, int Np, int Kp) const override { return find(op, Np, Kp, 1)->rbegin()->first; }

  KernelSpec spec(const std::string& op, int Mp, int Np, int Kp) const override {
    const auto* rows = find(op, Np, Kp, Mp);
    const auto it = rows->find(Mp);
    if (it == rows->end()) throw Error(ErrorKind::Unavailable, "no instruction stream for " + shape_text(op, g_, Mp, Np, Kp) + " in " + dir_);
    const OpEntry& o = ops_.at(op);
    KernelSpec s;
    s.op = op;
    s.dims = {Mp, Np, Kp};
    s.kernel_name = o.kernel;
    s.xclbin_path = dir_ + "/" + (it->second.xclbin.empty() ? o.xclbin : it->second.xclbin);
    s.instructions = read_instruction_stream(dir_ + "/" + it->second.insts).words;  // Io / Format errors name it
    return s;
  }

  std::vector<int> smallest_shape(const std::string& op) const override {
    std::vector<int> best;
    double best_macs = 0.0;
    for (const auto& entry : shapes_) {
      if (std::get<0>(entry.first) != op) continue;
      for (const auto& rows : entry.second) {
        const double macs = static_cast<double>(rows.first) * std::get<1>(entry.first) * std::get<2>(entry.first);
        if (best.empty() || macs < best_macs) {
          best = {rows.first, std::get<1>(entry.first), std::get<2>(entry.first)};
          best_macs = macs;
        }
      }
    }
    if (best.empty() || !ops_.count(op)) {
      throw Error(ErrorKind::Unavailable, dir_ + "/manifest.txt has no " + op + " kernel for " + generation_name(g_));
    }
    return best;
  }
  std::string describe() const override { return "kernels in " + dir_ + " (" + generation_name(g_) + ")"; }

 private:
  const std::map<int, ShapeEntry>* find(const std::string& op, int Np, int Kp, int M) const {
    if (!ops_.count(op)) {
      throw Error(ErrorKind::Unavailable, dir_ + "/manifest.txt has no " + op + " kernel for " + generation_name(g_));
    }
    const auto it = shapes_.find(std::make_tuple(op, Np, Kp));
    if (it == shapes_.end() || it->second.rbegin()->first < M) {
      throw Error(ErrorKind::Unavailable, dir_ + "/manifest.txt has no instruction stream for " +
                                              shape_text(op, g_, M, Np, Kp) + " (rebuild the kernels for this model's sizes)");
    }
    return &it->second;
  }

  std::string dir_;
  Generation g_;
  std::map<std::string, OpEntry> ops_;
  std::map<std::tuple<std::string, int, int>, std::map<int, ShapeEntry>> shapes_;
};

}  // namespace

std::unique_ptr<KernelCatalog> contract_catalog(Generation g) { return std::make_unique<ContractCatalog>(g); }

std::unique_ptr<KernelCatalog> manifest_catalog(const std::string& dir, Generation g) {
  return std::make_unique<ManifestCatalog>(dir, g);
}

std::string resolve_kernel_dir(const std::string& configured, std::string* source) {
  if (!configured.empty()) {
    if (source) *source = "the kernel-dir setting";
    return configured;
  }
  if (const char* env = std::getenv("NPW_KERNEL_DIR"); env && *env) {
    if (source) *source = "NPW_KERNEL_DIR";
    return env;
  }
  if (source) *source = "the installed default";
  return NPW_DEFAULT_KERNEL_DIR;
}

}  // namespace npu
}  // namespace npw
