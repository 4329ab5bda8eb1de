// The generated benchmark model (see bench_model.h).
#include "bench_model.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "model/ggml_file.h"
#include "model/ggml_types.h"
#include "model/mapped_file.h"
#include "model/model.h"
#include "model/random_model.h"
#include "util/error.h"

namespace npw {

namespace {

GgmlType parse_type(const std::string& s) {
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q4_0,
                     GgmlType::Q4_1}) {
    if (s == ggml_type_name(t)) return t;
  }
  throw Error(ErrorKind::InvalidArgument, "--type: unknown weight type '" + s + "' (known: f32, f16, q8_0, q5_0, q5_1, q4_0, q4_1)");
}

}  // namespace

std::shared_ptr<const Model> generated_model(const std::string& dims, const std::string& type,
                                             const std::string& vocab_model) {
  HParams hp = whisper_dims(dims);
  const GgmlType wtype = parse_type(type);
  std::vector<std::string> vocab;
  {
    MappedFile file(vocab_model);
    vocab = parse_ggml_file(file.data(), file.size(), vocab_model).vocab;
  }
  if (vocab.size() > static_cast<std::size_t>(hp.n_vocab)) vocab.resize(static_cast<std::size_t>(hp.n_vocab));

  const char* tmpdir = std::getenv("TMPDIR");
  const std::string path = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/npuwhisper-bench-" + dims + "-" + type +
                           "-" + std::to_string(static_cast<long>(getpid())) + ".bin";
  std::shared_ptr<const Model> model;
  try {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      if (!out) throw Error(ErrorKind::Io, path + ": cannot create (" + std::strerror(errno) + ")");
      write_random_whisper(out, path, hp, wtype, 1u, vocab);
      out.close();
      if (!out) throw Error(ErrorKind::Io, path + ": write failed (" + std::strerror(errno) + ")");
    }
    model = Model::load(path);
  } catch (...) {
    std::remove(path.c_str());
    throw;
  }
  std::remove(path.c_str());  // the mapping keeps the data
  return model;
}

}  // namespace npw
