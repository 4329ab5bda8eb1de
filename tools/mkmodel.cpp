// npuwhisper-mkmodel: writes a random-weight Whisper model in whisper.cpp's GGML format at the real
// dimensions of any released model, so that every size and weight type can be loaded, timed and
// compared between backends (and with whisper.cpp) without downloading trained weights.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "model/ggml_file.h"
#include "model/ggml_types.h"
#include "model/mapped_file.h"
#include "model/random_model.h"
#include "util/error.h"

namespace {

constexpr const char* kUsage =
    "usage: npuwhisper-mkmodel --dims NAME --type TYPE --out FILE [--seed N] [--vocab-from GGML_FILE]\n"
    "  --dims        tiny, tiny.en, base, base.en, small, small.en, medium, medium.en, large-v3, test\n"
    "  --type        f32, f16, q8_0, q5_0, q5_1, q4_0, q4_1\n"
    "  --seed        32-bit unsigned seed of the weights (default 1)\n"
    "  --out         the model file to write (replaced only once complete)\n"
    "  --vocab-from  a GGML Whisper model whose stored vocabulary is copied\n"
#ifdef NPW_DEFAULT_VOCAB_MODEL
    "                (default: " NPW_DEFAULT_VOCAB_MODEL ")\n"
#endif
    ;

struct Options {
  std::string dims, type, out, vocab_from;
  uint32_t seed = 1;
};

npw::Error usage_error(const std::string& msg) { return npw::Error(npw::ErrorKind::InvalidArgument, msg); }

uint32_t parse_seed(const std::string& s) {
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || s[0] == '-' || *end != '\0' || errno != 0 || v > 0xFFFFFFFFull) {
    throw usage_error("--seed: '" + s + "' is not an integer from 0 to 4294967295");
  }
  return static_cast<uint32_t>(v);
}

npw::GgmlType parse_type(const std::string& s) {
  for (npw::GgmlType t : {npw::GgmlType::F32, npw::GgmlType::F16, npw::GgmlType::Q8_0, npw::GgmlType::Q5_0,
                          npw::GgmlType::Q5_1, npw::GgmlType::Q4_0, npw::GgmlType::Q4_1}) {
    if (s == npw::ggml_type_name(t)) return t;
  }
  throw usage_error("--type: unknown weight type '" + s + "' (known: f32, f16, q8_0, q5_0, q5_1, q4_0, q4_1)");
}

Options parse_args(int argc, char** argv) {
  Options o;
  bool have_seed = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    std::string* dst = nullptr;
    if (flag == "--dims") dst = &o.dims;
    else if (flag == "--type") dst = &o.type;
    else if (flag == "--out") dst = &o.out;
    else if (flag == "--vocab-from") dst = &o.vocab_from;
    else if (flag != "--seed") throw usage_error("unknown option '" + flag + "'");
    if (i + 1 >= argc) throw usage_error(flag + " needs a value");
    const std::string value = argv[++i];
    if (dst == nullptr) {
      if (have_seed) throw usage_error("--seed given twice");
      o.seed = parse_seed(value);
      have_seed = true;
      continue;
    }
    if (!dst->empty()) throw usage_error(flag + " given twice");
    if (value.empty()) throw usage_error(flag + " needs a non-empty value");
    *dst = value;
  }
  if (o.dims.empty()) throw usage_error("--dims is required");
  if (o.type.empty()) throw usage_error("--type is required");
  if (o.out.empty()) throw usage_error("--out is required");
  if (o.vocab_from.empty()) {
#ifdef NPW_DEFAULT_VOCAB_MODEL
    o.vocab_from = NPW_DEFAULT_VOCAB_MODEL;
#else
    throw usage_error("--vocab-from is required (this build has no default vocabulary model)");
#endif
  }
  return o;
}

std::vector<std::string> read_vocab(const std::string& path) {
  npw::MappedFile file(path);
  npw::GgmlFile parsed = npw::parse_ggml_file(file.data(), file.size(), path);
  if (parsed.vocab.empty()) throw npw::Error(npw::ErrorKind::Format, path + ": stores no vocabulary");
  return std::move(parsed.vocab);
}

void run(const Options& o) {
  npw::HParams hp = npw::whisper_dims(o.dims);
  const npw::GgmlType wtype = parse_type(o.type);
  std::vector<std::string> vocab = read_vocab(o.vocab_from);
  // A model stores at most its own vocabulary; ids past the stored ones are synthesised by readers.
  if (vocab.size() > static_cast<std::size_t>(hp.n_vocab)) vocab.resize(static_cast<std::size_t>(hp.n_vocab));

  const std::string tmp = o.out + ".part";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw npw::Error(npw::ErrorKind::Io, tmp + ": cannot create (" + std::strerror(errno) + ")");
    try {
      npw::write_random_whisper(out, tmp, hp, wtype, o.seed, vocab);
      out.close();
      if (!out) throw npw::Error(npw::ErrorKind::Io, tmp + ": write failed (" + std::strerror(errno) + ")");
    } catch (...) {
      out.close();
      std::remove(tmp.c_str());
      throw;
    }
  }
  if (std::rename(tmp.c_str(), o.out.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(tmp.c_str());
    throw npw::Error(npw::ErrorKind::Io, o.out + ": cannot move the finished file into place (" + reason + ")");
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse_args(argc, argv);
  } catch (const npw::Error& e) {
    std::cerr << "npuwhisper-mkmodel: " << e.what() << "\n" << kUsage;
    return 2;
  }
  try {
    run(o);
  } catch (const npw::Error& e) {
    std::cerr << "npuwhisper-mkmodel: " << e.what() << "\n";
    return e.kind() == npw::ErrorKind::InvalidArgument ? 2 : 1;
  } catch (const std::exception& e) {
    std::cerr << "npuwhisper-mkmodel: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
