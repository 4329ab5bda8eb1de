// The smallest model file the loader accepts (about 110 KB): one layer each side, 4-wide audio
// state, 1-wide text state, one mel filter, contexts of 2 and 4 and a vocabulary block that stores no
// token (the loader synthesises them). Seeds built from it let a fuzzer spend its executions in the
// tensor records and the architecture check instead of copying a 15 MB model.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "model/random_model.h"

namespace npwfuzz {

inline std::vector<uint8_t> tiny_model_bytes() {
  npw::HParams hp;
  hp.n_vocab = 51864;
  hp.n_audio_ctx = 2;
  hp.n_audio_state = 4;
  hp.n_audio_head = 1;
  hp.n_audio_layer = 1;
  hp.n_text_ctx = 4;
  hp.n_text_state = 1;
  hp.n_text_head = 1;
  hp.n_text_layer = 1;
  hp.n_mels = 1;
  std::ostringstream os;
  npw::write_random_whisper(os, "tiny", hp, npw::GgmlType::F16, 1, {});
  const std::string s = os.str();
  return std::vector<uint8_t>(s.begin(), s.end());
}

}  // namespace npwfuzz
