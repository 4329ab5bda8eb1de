// WAV reader: every accepted encoding, skipped and odd-sized chunks, each rejection reason, and
// robustness against truncated and random bytes. Files are generated here into a temp dir.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "audio/wav.h"
#include "test_data.h"
#include "util/error.h"

namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, uint16_t v) {
  b.push_back(v & 0xFF);
  b.push_back(v >> 8);
}
void put32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back((v >> (8 * i)) & 0xFF);
}

Bytes chunk(const char* id, const Bytes& body, bool pad = true, int64_t declared = -1) {
  Bytes b(id, id + 4);
  put32(b, declared >= 0 ? static_cast<uint32_t>(declared) : static_cast<uint32_t>(body.size()));
  b.insert(b.end(), body.begin(), body.end());
  if (pad && (body.size() & 1)) b.push_back(0);
  return b;
}

Bytes fmt_body(uint16_t tag, uint16_t channels, uint32_t rate, uint16_t bits) {
  Bytes b;
  put16(b, tag);
  put16(b, channels);
  put32(b, rate);
  put32(b, rate * channels * bits / 8);
  put16(b, channels * bits / 8);
  put16(b, bits);
  return b;
}

Bytes fmt_extensible(uint16_t subformat, uint32_t rate, uint16_t bits) {
  Bytes b = fmt_body(0xFFFE, 1, rate, bits);
  put16(b, 22);    // cbSize
  put16(b, bits);  // valid bits
  put32(b, 0x4);   // channel mask: front centre
  put16(b, subformat);
  const uint8_t tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
  b.insert(b.end(), tail, tail + 14);
  return b;
}

Bytes pcm16_body(const std::vector<int16_t>& s) {
  Bytes b;
  for (int16_t v : s) put16(b, static_cast<uint16_t>(v));
  return b;
}

Bytes float_body(const std::vector<float>& s) {
  Bytes b;
  for (float v : s) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    put32(b, u);
  }
  return b;
}

Bytes riff(const std::vector<Bytes>& chunks) {
  Bytes body = {'W', 'A', 'V', 'E'};
  for (const Bytes& c : chunks) body.insert(body.end(), c.begin(), c.end());
  Bytes b = {'R', 'I', 'F', 'F'};
  put32(b, static_cast<uint32_t>(body.size()));
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

npw::WavData parse(const Bytes& b, const std::string& name = "test.wav") { return npw::parse_wav(b.data(), b.size(), name); }

// Runs parse and returns the error (kind + message); fails the test when nothing is thrown.
npw::Error parse_error(const Bytes& b, const std::string& name = "test.wav") {
  try {
    parse(b, name);
  } catch (const npw::Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error";
  return npw::Error(npw::ErrorKind::Internal, "");
}

const std::vector<int16_t> kPcm = {0, 1, -1, 16384, -16384, 32767, -32768};

void expect_pcm(const npw::WavData& w) {
  ASSERT_EQ(w.samples.size(), kPcm.size());
  for (std::size_t i = 0; i < kPcm.size(); ++i) EXPECT_EQ(w.samples[i], kPcm[i] / 32768.0f);
  EXPECT_FALSE(w.truncated);
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "npw_wav_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    path_ = buf.data();
  }
  ~TempDir() {
    for (const std::string& f : files_) std::remove(f.c_str());
    std::remove(path_.c_str());
  }
  std::string write(const std::string& name, const Bytes& b) {
    const std::string p = path_ + "/" + name;
    std::FILE* f = std::fopen(p.c_str(), "wb");
    std::fwrite(b.data(), 1, b.size(), f);
    std::fclose(f);
    files_.push_back(p);
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

TEST(Wav, Pcm16FromFile) {
  TempDir dir;
  const std::string p = dir.write("pcm16.wav", riff({chunk("fmt ", fmt_body(1, 1, 16000, 16)), chunk("data", pcm16_body(kPcm))}));
  expect_pcm(npw::read_wav(p));
}

TEST(Wav, Float32) {
  const std::vector<float> s = {0.0f, 0.5f, -1.0f, 1.5f, 1e-8f};
  TempDir dir;
  const std::string p = dir.write("f32.wav", riff({chunk("fmt ", fmt_body(3, 1, 16000, 32)), chunk("data", float_body(s))}));
  EXPECT_EQ(npw::read_wav(p).samples, s);
}

TEST(Wav, Extensible) {
  expect_pcm(parse(riff({chunk("fmt ", fmt_extensible(1, 16000, 16)), chunk("data", pcm16_body(kPcm))})));
  const std::vector<float> s = {0.25f, -0.75f};
  EXPECT_EQ(parse(riff({chunk("fmt ", fmt_extensible(3, 16000, 32)), chunk("data", float_body(s))})).samples, s);

  Bytes odd_guid = fmt_extensible(1, 16000, 16);
  odd_guid[30] ^= 0xFF;
  EXPECT_EQ(parse_error(riff({chunk("fmt ", odd_guid), chunk("data", pcm16_body(kPcm))})).kind(),
            npw::ErrorKind::Unsupported);
  Bytes short_ext = fmt_body(0xFFFE, 1, 16000, 16);
  EXPECT_EQ(parse_error(riff({chunk("fmt ", short_ext), chunk("data", pcm16_body(kPcm))})).kind(), npw::ErrorKind::Format);
}

TEST(Wav, SkipsOtherChunksAndOddSizes) {
  Bytes list_body = {'I', 'N', 'F', 'O', 'I', 'S', 'F', 'T'};
  put32(list_body, 5);
  for (char c : std::string("Lavf\0", 5)) list_body.push_back(static_cast<uint8_t>(c));
  const Bytes odd = {1, 2, 3};  // 3 bytes + a pad byte
  expect_pcm(parse(riff({chunk("LIST", list_body), chunk("fmt ", fmt_body(1, 1, 16000, 16)), chunk("junk", odd),
                         chunk("fact", Bytes{7, 0, 0, 0}), chunk("data", pcm16_body(kPcm)), chunk("id3 ", odd)})));
  // data before fmt is legal RIFF.
  expect_pcm(parse(riff({chunk("data", pcm16_body(kPcm)), chunk("fmt ", fmt_body(1, 1, 16000, 16))})));
  // An odd-sized fmt chunk (18 bytes with cbSize is even; 17 is odd) followed by its pad byte.
  Bytes fmt17 = fmt_body(1, 1, 16000, 16);
  fmt17.push_back(0);
  expect_pcm(parse(riff({chunk("fmt ", fmt17), chunk("data", pcm16_body(kPcm))})));
}

TEST(Wav, RealFile) {
  const npw::WavData w = npw::read_wav(npw_test::data_path("audio/jfk.wav"));
  EXPECT_EQ(w.samples.size(), 176000u);
  EXPECT_FALSE(w.truncated);
}

TEST(Wav, RejectsOtherRatesChannelsEncodings) {
  auto make = [](Bytes fmt, std::size_t data_bytes = 14) {
    return riff({chunk("fmt ", fmt), chunk("data", Bytes(data_bytes, 0))});
  };
  npw::Error e = parse_error(make(fmt_body(1, 1, 44100, 16)), "jfk.wav");
  EXPECT_EQ(e.kind(), npw::ErrorKind::Unsupported);
  EXPECT_STREQ(e.what(), "jfk.wav: sample rate 44100 Hz, need 16000 Hz (resample first, e.g. with sox or ffmpeg)");

  e = parse_error(make(fmt_body(1, 2, 16000, 16)), "st.wav");
  EXPECT_EQ(e.kind(), npw::ErrorKind::Unsupported);
  EXPECT_NE(std::string(e.what()).find("st.wav: 2 channels"), std::string::npos) << e.what();

  for (uint16_t bits : {8, 24, 32}) {
    e = parse_error(make(fmt_body(1, 1, 16000, bits), 12));
    EXPECT_EQ(e.kind(), npw::ErrorKind::Unsupported) << bits;
    EXPECT_NE(std::string(e.what()).find("PCM " + std::to_string(bits) + "-bit"), std::string::npos) << e.what();
  }
  e = parse_error(make(fmt_body(3, 1, 16000, 64), 16));
  EXPECT_EQ(e.kind(), npw::ErrorKind::Unsupported);
  e = parse_error(make(fmt_body(2, 1, 16000, 4)));
  EXPECT_EQ(e.kind(), npw::ErrorKind::Unsupported);
  EXPECT_NE(std::string(e.what()).find("ADPCM"), std::string::npos) << e.what();

  Bytes rf64 = make(fmt_body(1, 1, 16000, 16));
  std::memcpy(rf64.data(), "RF64", 4);
  EXPECT_EQ(parse_error(rf64).kind(), npw::ErrorKind::Unsupported);

  Bytes bad_align = fmt_body(1, 1, 16000, 16);
  bad_align[12] = 4;
  EXPECT_EQ(parse_error(make(bad_align)).kind(), npw::ErrorKind::Format);
}

TEST(Wav, MalformedHeaders) {
  const Bytes good = riff({chunk("fmt ", fmt_body(1, 1, 16000, 16)), chunk("data", pcm16_body(kPcm))});
  EXPECT_EQ(parse_error(Bytes(good.begin(), good.begin() + 6)).kind(), npw::ErrorKind::Format);
  EXPECT_EQ(parse_error(Bytes{}).kind(), npw::ErrorKind::Format);
  Bytes not_riff = good;
  not_riff[0] = 'X';
  EXPECT_EQ(parse_error(not_riff).kind(), npw::ErrorKind::Format);
  Bytes not_wave = good;
  not_wave[8] = 'A';
  EXPECT_EQ(parse_error(not_wave).kind(), npw::ErrorKind::Format);
  // Cut inside the fmt chunk.
  EXPECT_EQ(parse_error(Bytes(good.begin(), good.begin() + 30)).kind(), npw::ErrorKind::Format);
  // Cut right after fmt: no data chunk.
  EXPECT_EQ(parse_error(Bytes(good.begin(), good.begin() + 36)).kind(), npw::ErrorKind::Format);
  // No fmt at all.
  EXPECT_EQ(parse_error(riff({chunk("data", pcm16_body(kPcm))})).kind(), npw::ErrorKind::Format);
  // fmt too small.
  EXPECT_EQ(parse_error(riff({chunk("fmt ", Bytes(12, 0)), chunk("data", pcm16_body(kPcm))})).kind(),
            npw::ErrorKind::Format);
  // Two data chunks.
  EXPECT_EQ(parse_error(riff({chunk("fmt ", fmt_body(1, 1, 16000, 16)), chunk("data", pcm16_body(kPcm)),
                              chunk("data", pcm16_body(kPcm))}))
                .kind(),
            npw::ErrorKind::Format);
  // A chunk whose size runs past the end before any data chunk.
  EXPECT_EQ(parse_error(riff({chunk("fmt ", fmt_body(1, 1, 16000, 16)), chunk("LIST", Bytes{1, 2}, true, 1000),
                              chunk("data", pcm16_body(kPcm))}))
                .kind(),
            npw::ErrorKind::Format);
}

TEST(Wav, TruncatedDataKeepsWholeSamples) {
  // The data chunk claims 100 samples; the file holds 7 and half of an eighth.
  Bytes data = pcm16_body(kPcm);
  data.push_back(0x12);
  const Bytes b = riff({chunk("fmt ", fmt_body(1, 1, 16000, 16)), chunk("data", data, false, 200)});
  const npw::WavData w = parse(b);
  ASSERT_EQ(w.samples.size(), kPcm.size());
  for (std::size_t i = 0; i < kPcm.size(); ++i) EXPECT_EQ(w.samples[i], kPcm[i] / 32768.0f);
  EXPECT_TRUE(w.truncated);
  // A streaming writer's placeholder size.
  const npw::WavData s =
      parse(riff({chunk("fmt ", fmt_body(1, 1, 16000, 16)), chunk("data", pcm16_body(kPcm), false, 0xFFFFFFFFu)}));
  EXPECT_EQ(s.samples.size(), kPcm.size());
  EXPECT_TRUE(s.truncated);
}

TEST(Wav, DataSizeThatDisagreesWithWhatFollowsReadsTheFileWithAWarning) {
  // A writer that never filled in the size (0), and one that got it wrong: the samples follow anyway.
  for (uint32_t declared : {0u, 4u}) {
    const npw::WavData w =
        parse(riff({chunk("fmt ", fmt_body(1, 1, 16000, 16)), chunk("data", pcm16_body(kPcm), false, declared)}));
    ASSERT_EQ(w.samples.size(), kPcm.size()) << declared;
    for (std::size_t i = 0; i < kPcm.size(); ++i) EXPECT_EQ(w.samples[i], kPcm[i] / 32768.0f);
    EXPECT_FALSE(w.truncated);
    ASSERT_EQ(w.warnings.size(), 1u);
    EXPECT_NE(w.warnings[0].find("declares " + std::to_string(declared) + " bytes"), std::string::npos) << w.warnings[0];
    EXPECT_NE(w.warnings[0].find(std::to_string(kPcm.size() * 2) + " bytes follow"), std::string::npos) << w.warnings[0];
  }
  // A correct size followed by real chunks (or a pad byte) is no disagreement.
  Bytes list = {'I', 'N', 'A', 'M', 3, 0, 0, 0, 'a', 'b', 'c', 0};
  for (const Bytes& b : {riff({chunk("fmt ", fmt_body(1, 1, 16000, 16)), chunk("data", pcm16_body(kPcm)), chunk("LIST", list)}),
                         riff({chunk("fmt ", fmt_body(1, 1, 16000, 16)), chunk("data", Bytes{1, 0, 2})})}) {
    const npw::WavData w = parse(b);
    EXPECT_TRUE(w.warnings.empty()) << w.warnings.front();
  }
  EXPECT_EQ(parse(riff({chunk("fmt ", fmt_body(1, 1, 16000, 16)), chunk("data", pcm16_body(kPcm)), chunk("LIST", list)}))
                .samples.size(),
            kPcm.size());
}

TEST(Wav, IoErrorsNameTheFile) {
  TempDir dir;
  try {
    npw::read_wav(dir.path() + "/missing.wav");
    FAIL() << "missing file accepted";
  } catch (const npw::Error& e) {
    EXPECT_EQ(e.kind(), npw::ErrorKind::Io);
    EXPECT_NE(std::string(e.what()).find("missing.wav"), std::string::npos);
  }
  try {
    npw::read_wav(dir.path());  // a directory opens but cannot be read
    FAIL() << "directory accepted";
  } catch (const npw::Error& e) {
    EXPECT_EQ(e.kind(), npw::ErrorKind::Io);
  }
}

// Every prefix and many random mutations of a valid file: parse either succeeds or throws
// npw::Error, and a successful parse never returns more samples than the bytes can hold. Run under
// ASan/valgrind, this is also the over-read check.
TEST(Wav, GarbageNeverCrashes) {
  Bytes list_body(9, 'x');
  const Bytes good = riff({chunk("LIST", list_body), chunk("fmt ", fmt_extensible(1, 16000, 16)),
                           chunk("data", pcm16_body(kPcm))});
  auto try_parse = [](const Bytes& b) {
    // Copy into an exact-size heap block so any over-read lands outside the allocation.
    std::vector<uint8_t> exact(b.begin(), b.end());
    try {
      const npw::WavData w = npw::parse_wav(exact.data(), exact.size(), "fuzz.wav");
      EXPECT_LE(w.samples.size() * 2, exact.size());
    } catch (const npw::Error&) {
    }
  };
  for (std::size_t n = 0; n <= good.size(); ++n) try_parse(Bytes(good.begin(), good.begin() + n));

  std::mt19937 rng(11);
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes b = good;
    const int flips = 1 + rng() % 6;
    for (int i = 0; i < flips; ++i) b[rng() % b.size()] = static_cast<uint8_t>(rng());
    if (rng() % 4 == 0) b.resize(rng() % (b.size() + 1));
    try_parse(b);
  }
  for (int iter = 0; iter < 2000; ++iter) {
    Bytes b(rng() % 128);
    for (uint8_t& v : b) v = static_cast<uint8_t>(rng());
    if (b.size() >= 12 && rng() % 2) {
      std::memcpy(b.data(), "RIFF", 4);
      std::memcpy(b.data() + 8, "WAVE", 4);
    }
    try_parse(b);
  }
}

}  // namespace
