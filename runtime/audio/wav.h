// RIFF/WAVE input for the command-line tools and tests. The GStreamer element gets its audio from
// upstream caps instead; this reader exists so that a file can be transcribed (and golden data
// reproduced) without a resampler: it accepts exactly what Whisper consumes - 16 kHz mono, 16-bit
// PCM or 32-bit float - and explains anything else instead of guessing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace npw {

constexpr int kWavSampleRate = 16000;

struct WavData {
  std::vector<float> samples;  // mono, [-1, 1) for PCM; float files are passed through unchanged
  bool truncated = false;      // the data chunk claimed more bytes than the file holds
  // What was read other than as declared (a data size that disagrees with the bytes that follow),
  // one sentence each, for the tool to print.
  std::vector<std::string> warnings;
};

// Decodes a WAV image held in memory. `name` only labels error messages. Accepts WAVE_FORMAT_PCM
// (1) with 16 bits, WAVE_FORMAT_IEEE_FLOAT (3) with 32 bits, and WAVE_FORMAT_EXTENSIBLE (0xFFFE)
// with either of those as subformat; 16000 Hz; one channel. Chunks other than "fmt " and "data"
// are skipped (RIFF pads odd-sized chunks to an even length).
//
// A data chunk that runs past the end of the file (a recording cut short, or a streaming writer's
// 0xFFFFFFFF placeholder size) is not an error: the whole samples present are returned and
// `truncated` is set, so a tool can warn. A partial trailing sample is dropped. A data chunk that
// declares fewer bytes than follow it, when what follows is not a chunk list (a size of 0 left by a
// writer that never filled it in), is read to the end of the file with a sentence in `warnings`.
//
// Throws npw::Error: Format for bytes that are not a well-formed WAV, Unsupported for a valid file
// in another rate, channel count or encoding. Reads only inside [data, data + size).
WavData parse_wav(const uint8_t* data, std::size_t size, const std::string& name);

// Reads and decodes a file. Io errors for open/read failures; otherwise as parse_wav.
WavData read_wav(const std::string& path);

}  // namespace npw
