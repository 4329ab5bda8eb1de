// The Slaney-style mel filterbank Whisper's model files carry (OpenAI made theirs with
// librosa.filters.mel(sr=16000, n_fft=400, n_mels=80 or 128), i.e. htk=False, norm='slaney'), so that
// generated models hold real filters rather than noise.
#pragma once

#include <vector>

namespace npw {

// [n_mels][n_fft / 2 + 1] float32, computed in double and rounded the way librosa's float32 output is.
std::vector<float> slaney_mel_filterbank(int sample_rate, int n_fft, int n_mels);

}  // namespace npw
