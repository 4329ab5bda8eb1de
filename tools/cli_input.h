// The two inputs every npuwhisper-cli mode starts from: the model (refused early when its mel
// filters do not fit Whisper's front end) and the WAV samples (a truncated file, or NaN/Inf samples
// in a float file, are read with a warning on stderr, as the rest of the tool reports problems).
#pragma once

#include <memory>
#include <string>

#include "audio/wav.h"
#include "model/model.h"

namespace npw {

std::shared_ptr<const Model> load_cli_model(const std::string& path);
WavData load_cli_audio(const std::string& path);

}  // namespace npw
