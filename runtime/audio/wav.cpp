// RIFF/WAVE decoding: walks the chunk list with bounds checks on every read, so arbitrary bytes
// produce an npw::Error, never an over-read.
#include "audio/wav.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/error.h"

namespace npw {
namespace {

constexpr uint16_t kFormatPcm = 1;
constexpr uint16_t kFormatFloat = 3;
constexpr uint16_t kFormatExtensible = 0xFFFE;

// Bytes 2..15 of every KSDATAFORMAT_SUBTYPE_* GUID derived from a WAVE format tag.
constexpr uint8_t kSubformatGuidTail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                             0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

[[noreturn]] void fail(ErrorKind kind, const std::string& name, const std::string& why) {
  throw Error(kind, name + ": " + why);
}

std::string format_name(uint16_t tag) {
  switch (tag) {
    case 1: return "PCM";
    case 2: return "MS ADPCM";
    case 3: return "IEEE float";
    case 6: return "A-law";
    case 7: return "mu-law";
    case 0x11: return "IMA ADPCM";
    case 0x55: return "MP3";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "format tag 0x%04X", tag);
      return buf;
    }
  }
}

struct Format {
  uint16_t tag = 0;  // after resolving WAVE_FORMAT_EXTENSIBLE
  uint16_t channels = 0;
  uint32_t rate = 0;
  uint16_t block_align = 0;
  uint16_t bits = 0;
};

Format parse_fmt(const uint8_t* p, uint32_t size, const std::string& name) {
  if (size < 16) fail(ErrorKind::Format, name, "fmt chunk is " + std::to_string(size) + " bytes, need at least 16");
  Format f;
  f.tag = le16(p);
  f.channels = le16(p + 2);
  f.rate = le32(p + 4);
  f.block_align = le16(p + 12);
  f.bits = le16(p + 14);
  if (f.tag == kFormatExtensible) {
    if (size < 40) fail(ErrorKind::Format, name, "WAVE_FORMAT_EXTENSIBLE fmt chunk is " + std::to_string(size) + " bytes, need 40");
    const uint8_t* guid = p + 24;
    if (std::memcmp(guid + 2, kSubformatGuidTail, sizeof kSubformatGuidTail) != 0)
      fail(ErrorKind::Unsupported, name, "WAVE_FORMAT_EXTENSIBLE with a non-standard subformat GUID; need 16-bit PCM or 32-bit float");
    f.tag = le16(guid);
  }
  return f;
}

void check_format(const Format& f, const std::string& name) {
  const bool pcm16 = f.tag == kFormatPcm && f.bits == 16;
  const bool float32 = f.tag == kFormatFloat && f.bits == 32;
  if (!pcm16 && !float32)
    fail(ErrorKind::Unsupported, name,
         "encoding " + format_name(f.tag) + " " + std::to_string(f.bits) +
             "-bit, need 16-bit PCM or 32-bit float (convert first, e.g. with sox or ffmpeg)");
  if (f.channels != 1)
    fail(ErrorKind::Unsupported, name,
         std::to_string(f.channels) + " channels, need mono (downmix first, e.g. with sox or ffmpeg)");
  if (f.rate != static_cast<uint32_t>(kWavSampleRate))
    fail(ErrorKind::Unsupported, name,
         "sample rate " + std::to_string(f.rate) + " Hz, need " + std::to_string(kWavSampleRate) +
             " Hz (resample first, e.g. with sox or ffmpeg)");
  if (f.block_align != f.bits / 8)
    fail(ErrorKind::Format, name,
         "block align " + std::to_string(f.block_align) + " does not match one " + std::to_string(f.bits) +
             "-bit mono sample");
}

// Whether `n` bytes are a well-formed run of RIFF chunks (ids of printable ASCII, sizes inside the
// file; a lone pad byte or a few bytes of padding at the very end are tolerated).
bool chunk_list_follows(const uint8_t* p, std::size_t n) {
  std::size_t pos = 0;
  while (n - pos >= 8) {
    for (int i = 0; i < 4; ++i) {
      if (p[pos + i] < 0x20 || p[pos + i] > 0x7e) return false;
    }
    const uint32_t chunk = le32(p + pos + 4);
    if (chunk > n - pos - 8) return false;
    pos += 8 + chunk + (chunk & 1u);
    if (pos > n) return pos == n + 1;  // missing final pad byte
  }
  return n - pos < 8 && (pos == n || n - pos <= 1 || std::all_of(p + pos, p + n, [](uint8_t b) { return b == 0; }));
}

}  // namespace

WavData parse_wav(const uint8_t* data, std::size_t size, const std::string& name) {
  if (size < 12) fail(ErrorKind::Format, name, "too short for a RIFF header (" + std::to_string(size) + " bytes)");
  if (std::memcmp(data, "RF64", 4) == 0) fail(ErrorKind::Unsupported, name, "RF64 (64-bit WAV) is not supported");
  if (std::memcmp(data, "RIFF", 4) != 0) fail(ErrorKind::Format, name, "not a RIFF file");
  if (std::memcmp(data + 8, "WAVE", 4) != 0) fail(ErrorKind::Format, name, "RIFF file is not WAVE");

  // The RIFF size field is often wrong (0 or 0xFFFFFFFF from streaming writers); the file size is
  // the bound that matters.
  const uint8_t* fmt = nullptr;
  uint32_t fmt_size = 0;
  const uint8_t* samples = nullptr;
  std::size_t sample_bytes = 0;
  bool truncated = false;
  std::vector<std::string> warnings;

  std::size_t pos = 12;
  while (size - pos >= 8) {
    const uint8_t* id = data + pos;
    const uint32_t chunk = le32(data + pos + 4);
    pos += 8;
    const std::size_t avail = size - pos;
    if (std::memcmp(id, "fmt ", 4) == 0) {
      if (fmt) fail(ErrorKind::Format, name, "more than one fmt chunk");
      if (chunk > avail) fail(ErrorKind::Format, name, "fmt chunk runs past the end of the file");
      fmt = data + pos;
      fmt_size = chunk;
    } else if (std::memcmp(id, "data", 4) == 0) {
      if (samples) fail(ErrorKind::Format, name, "more than one data chunk");
      samples = data + pos;
      sample_bytes = chunk <= avail ? chunk : avail;
      truncated = chunk > avail;
      if (chunk < avail && !chunk_list_follows(data + pos + chunk + (chunk & 1u), size - pos - chunk - (chunk & 1u))) {
        // A writer that never went back to fill in the size (0), or got it wrong: what follows is
        // not a chunk list, so it is the audio. Read what the file holds, and say so.
        warnings.push_back("data chunk declares " + std::to_string(chunk) + " bytes but " + std::to_string(avail) +
                           " bytes follow it and they are not RIFF chunks; reading all " + std::to_string(avail));
        sample_bytes = avail;
        break;
      }
    }
    if (chunk > avail) break;  // nothing can follow a chunk that reaches the end of the file
    pos += chunk;
    if (chunk & 1u) {
      if (pos == size) break;  // a missing pad byte at the very end is harmless
      ++pos;
    }
  }

  if (!fmt) fail(ErrorKind::Format, name, "no fmt chunk");
  const Format f = parse_fmt(fmt, fmt_size, name);
  check_format(f, name);
  if (!samples) fail(ErrorKind::Format, name, "no data chunk");

  WavData out;
  out.truncated = truncated;
  out.warnings = std::move(warnings);

  const std::size_t width = f.bits / 8;
  const std::size_t n = sample_bytes / width;
  out.samples.resize(n);
  if (f.tag == kFormatPcm) {
    for (std::size_t i = 0; i < n; ++i)
      out.samples[i] = static_cast<float>(static_cast<int16_t>(le16(samples + 2 * i))) / 32768.0f;
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const uint32_t bits = le32(samples + 4 * i);
      std::memcpy(&out.samples[i], &bits, sizeof(float));
    }
  }
  return out;
}

WavData read_wav(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw Error(ErrorKind::Io, path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  for (;;) {
    const std::size_t got = std::fread(buf, 1, sizeof buf, file);
    bytes.insert(bytes.end(), buf, buf + got);
    if (got < sizeof buf) break;
  }
  const bool error = std::ferror(file) != 0;
  const int err = errno;
  std::fclose(file);
  if (error) throw Error(ErrorKind::Io, path + ": read failed: " + std::strerror(err));
  return parse_wav(bytes.data(), bytes.size(), path);
}

}  // namespace npw
