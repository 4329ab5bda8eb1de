// Writes the seeds the fuzz targets start from (scripts/run-fuzz.sh): the tiny valid model for
// fuzz_model_loader, so that its corpus is 110 KB instead of the 15 MB test model.
#include <cstdio>
#include <fstream>

#include "tiny_model.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds OUT_FILE\n");
    return 2;
  }
  const std::vector<uint8_t> b = npwfuzz::tiny_model_bytes();
  std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  return out ? 0 : 1;
}
