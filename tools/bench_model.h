// npuwhisper-bench --dims: the model to measure when no trained file is at hand, a random-weight
// GGML Whisper of real dimensions written by the same generator as npuwhisper-mkmodel (speed does not
// depend on the weight values). Written to a temporary file that is unlinked once mapped.
#pragma once

#include <memory>
#include <string>

namespace npw {

class Model;

// Writes dims/type (names as npuwhisper-mkmodel takes them) with the vocabulary of `vocab_model`,
// loads it and removes the file. Throws npw::Error naming the bad value or the failing file.
std::shared_ptr<const Model> generated_model(const std::string& dims, const std::string& type,
                                             const std::string& vocab_model);

}  // namespace npw
