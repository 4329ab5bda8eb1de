// Edge cases of the log-mel front end, checked against a direct double-precision DFT of the same
// definition (reflect padding, periodic Hann, |X|^2, mel, log10 floor) and against the documented
// differences between whole-file and per-window clamping.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "audio/mel.h"
#include "test_data.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace {

constexpr int kMels = 80;

const npw_test::MelFilters& filters() {
  static const npw_test::MelFilters f = npw_test::load_mel_filters(npw_test::data_path("ggml-test-f32.bin"));
  return f;
}

// Raw log10 mel of x (already zero-extended to its full length), frames [0, n_frames), by a
// direct DFT in double precision.
std::vector<double> reference_raw(const std::vector<float>& x, int64_t n_frames) {
  const int64_t length = static_cast<int64_t>(x.size());
  std::vector<double> cos_t(400), sin_t(400), w(400);
  for (int i = 0; i < 400; ++i) {
    cos_t[i] = std::cos(2.0 * M_PI * i / 400.0);
    sin_t[i] = std::sin(2.0 * M_PI * i / 400.0);
    w[i] = 0.5 - 0.5 * cos_t[i];
  }
  const std::vector<float>& f = filters().data;
  std::vector<double> out(static_cast<std::size_t>(kMels) * n_frames);
  std::vector<double> frame(400), power(201);
  for (int64_t t = 0; t < n_frames; ++t) {
    for (int j = 0; j < 400; ++j) {
      int64_t p = t * 160 - 200 + j;
      if (p < 0) p = -p;
      if (p >= length) p = 2 * (length - 1) - p;
      frame[j] = x[p] * w[j];
    }
    for (int k = 0; k < 201; ++k) {
      double re = 0, im = 0;
      for (int j = 0; j < 400; ++j) {
        re += frame[j] * cos_t[(j * k) % 400];
        im -= frame[j] * sin_t[(j * k) % 400];
      }
      power[k] = re * re + im * im;
    }
    for (int m = 0; m < kMels; ++m) {
      double s = 0;
      for (int k = 0; k < 201; ++k) s += f[m * 201 + k] * power[k];
      out[m * n_frames + t] = std::log10(std::max(s, 1e-10));
    }
  }
  return out;
}

std::vector<float> noise(std::size_t n, float amplitude, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-amplitude, amplitude);
  std::vector<float> v(n);
  for (float& s : v) s = u(rng);
  return v;
}

double max_abs_diff(const float* a, const double* b, std::size_t n) {
  double m = 0;
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

TEST(Mel, RawMatchesDirectDft) {
  npw::MelSpectrogram mel(filters().data.data(), kMels);
  std::vector<float> x = noise(2000, 0.5f, 1);
  for (int i = 0; i < 2000; ++i) x[i] += 0.3f * std::sin(0.05f * i * i / 2000.0f);  // chirp
  const int64_t n_zeros = 300;
  const int64_t frames = npw::mel_frames(2000 + n_zeros);
  ASSERT_EQ(frames, 14);
  std::vector<float> out(kMels * frames);
  EXPECT_EQ(mel.compute_raw(x.data(), 2000, n_zeros, out.data(), frames), 0);
  std::vector<float> padded = x;
  padded.resize(2000 + n_zeros, 0.0f);
  const std::vector<double> ref = reference_raw(padded, frames);
  const double d = max_abs_diff(out.data(), ref.data(), out.size());
  std::printf("[ raw      ] direct DFT max_abs %.3g (log10 units)\n", d);
  EXPECT_LT(d, 2e-5);
}

TEST(Mel, OutputStrideLeavesOtherColumnsAlone) {
  npw::MelSpectrogram mel(filters().data.data(), kMels);
  const std::vector<float> x = noise(1600, 0.2f, 2);
  const int64_t frames = npw::mel_frames(1600);
  const int64_t stride = frames + 5;
  std::vector<float> out(kMels * stride, 123.0f);
  mel.compute_raw(x.data(), 1600, 0, out.data(), stride);
  const std::vector<double> ref = reference_raw(x, frames);
  for (int m = 0; m < kMels; ++m) {
    for (int64_t t = 0; t < frames; ++t) EXPECT_NEAR(out[m * stride + t], ref[m * frames + t], 2e-5);
    for (int64_t t = frames; t < stride; ++t) EXPECT_EQ(out[m * stride + t], 123.0f);
  }
  EXPECT_THROW(mel.compute_raw(x.data(), 1600, 0, out.data(), frames - 1), npw::Error);
}

TEST(Mel, ShortSignalIsZeroExtendedForReflection) {
  npw::MelSpectrogram mel(filters().data.data(), kMels);
  const std::vector<float> x = noise(50, 0.5f, 3);
  // 50 + 130 = 180 samples: one frame, too short for torch's reflect pad; defined as zero-extended
  // to 201 samples.
  std::vector<float> out(kMels, 7.0f);
  EXPECT_EQ(mel.compute_raw(x.data(), 50, 130, out.data(), 1), 0);
  std::vector<float> extended = x;
  extended.resize(201, 0.0f);
  const std::vector<double> ref = reference_raw(extended, 1);
  EXPECT_LT(max_abs_diff(out.data(), ref.data(), out.size()), 2e-5);

  // Fewer than 160 samples: no frame at all, the output is untouched.
  std::vector<float> none(kMels, 7.0f);
  EXPECT_EQ(mel.compute_raw(x.data(), 50, 0, none.data(), 0), 0);
  for (float v : none) EXPECT_EQ(v, 7.0f);
  EXPECT_EQ(mel.compute_raw(nullptr, 0, 0, none.data(), 0), 0);
}

TEST(Mel, EmptyAudio) {
  npw::MelSpectrogram mel(filters().data.data(), kMels);
  std::vector<float> full;
  EXPECT_EQ(mel.compute_file_mel(nullptr, 0, full), 0);
  ASSERT_EQ(full.size(), static_cast<std::size_t>(kMels) * 3000);
  for (float v : full) ASSERT_EQ(v, -1.5f);  // log10(1e-10) = -10, (-10 + 4) / 4
  std::vector<float> window(kMels * 3000, 0.0f);
  EXPECT_EQ(mel.compute_window_mel(nullptr, 0, window.data()), 0);
  for (float v : window) ASSERT_EQ(v, -1.5f);
}

TEST(Mel, FewSamples) {
  npw::MelSpectrogram mel(filters().data.data(), kMels);
  const std::vector<float> x = {0.5f, -0.25f, 0.125f, 0.9f, -0.7f, 0.3f, 0.01f};
  const int64_t frames = npw::file_mel_frames(7);
  ASSERT_EQ(frames, 3000);
  std::vector<float> raw(kMels * frames);
  EXPECT_EQ(mel.compute_raw(x.data(), 7, npw::kMelWindowSamples, raw.data(), frames), 0);
  // Frames 0 and 1 see the samples (frame 1 through the left reflection); later ones only zeros.
  std::vector<float> head = x;
  head.resize(1000, 0.0f);
  const std::vector<double> ref = reference_raw(head, 3);
  for (int m = 0; m < kMels; ++m) {
    for (int t = 0; t < 3; ++t) EXPECT_NEAR(raw[m * frames + t], ref[m * 3 + t], 2e-5) << m << "," << t;
    for (int64_t t = 3; t < frames; ++t) ASSERT_EQ(raw[m * frames + t], -10.0f);
  }
  EXPECT_GT(raw[10 * frames + 0], -10.0f);
  EXPECT_GT(raw[10 * frames + 1], -10.0f);

  std::vector<float> full;
  mel.compute_file_mel(x.data(), 7, full);
  const float top = npw::mel_max(raw.data(), raw.size());
  for (std::size_t i = 0; i < full.size(); ++i)
    ASSERT_FLOAT_EQ(full[i], (std::max(raw[i], top - 8.0f) + 4.0f) / 4.0f);
}

// A 30 s signal whose loudest part is in the middle, so that the max is the same in both modes.
std::vector<float> thirty_seconds(std::size_t n) {
  std::vector<float> x = noise(n, 0.05f, 4);
  for (std::size_t i = 200000; i < 216000; ++i) x[i] += 0.8f * std::sin(0.3f * i);
  return x;
}

TEST(Mel, WindowModeEqualsFileModeUpTo479800Samples) {
  npw::MelSpectrogram mel(filters().data.data(), kMels);
  const std::vector<float> x = thirty_seconds(479800);
  std::vector<float> full, from_file(kMels * 3000), window(kMels * 3000);
  mel.compute_file_mel(x.data(), 479800, full);
  npw::slice_window(full.data(), kMels, npw::file_mel_frames(479800), 0, from_file.data());
  mel.compute_window_mel(x.data(), 479800, window.data());
  for (std::size_t i = 0; i < window.size(); ++i) ASSERT_EQ(window[i], from_file[i]) << i;
}

// The whole-file spectrogram by compute_file_mel (its head computed, the 30 s of zeros filled), and
// not kept at all (a file transcription scans the audio for the max, then computes each window from
// the samples its frames see), is the definition's - the raw spectrogram of audio + 30 s of zeros,
// clamped by its max - bit for bit. Lengths around the frame and window edges, loud, quiet (a max
// below -2: the floor under the zeros' -10), silent and NaN-holding input, with and without a pool.
TEST(Mel, FileSpectrogramComputedInPiecesIsTheDefinitions) {
  npw::ThreadPool pool(2);
  for (npw::ThreadPool* p : {static_cast<npw::ThreadPool*>(nullptr), &pool}) {
    npw::MelSpectrogram mel(filters().data.data(), kMels, p);
    for (const int64_t n : {0, 1, 7, 199, 200, 201, 399, 400, 401, 12345, 48000, 48159, 479800, 480000, 480161, 720000}) {
      for (const float level : {0.8f, 1e-6f, 0.0f}) {
        std::vector<float> x = noise(static_cast<std::size_t>(n), level, 5);
        if (n > 300 && level == 0.8f) x[n / 2] = std::numeric_limits<float>::quiet_NaN();
        const int64_t frames = npw::file_mel_frames(n), head = npw::file_mel_head_frames(n);
        ASSERT_LT(head, frames);
        ASSERT_GE(head, npw::mel_frames(n) + 3);
        std::vector<float> want(static_cast<std::size_t>(kMels) * frames);
        const int64_t bad = mel.compute_raw(x.data(), n, npw::kMelWindowSamples, want.data(), frames);
        npw::mel_clamp_scale(want.data(), want.size(), npw::mel_max(want.data(), want.size()));
        std::vector<float> full;
        EXPECT_EQ(mel.compute_file_mel(x.data(), n, full), bad);
        ASSERT_EQ(full.size(), want.size());
        ASSERT_EQ(std::memcmp(full.data(), want.data(), want.size() * sizeof(float)), 0) << n << " " << level;
        // Not kept: the scan's max, then windows computed a piece at a time, anywhere (piece edges, the
        // file's start, past the audio, the tail), padded with -5 after `count` frames.
        std::vector<float> b(kMels * 3000), pieces(static_cast<std::size_t>(kMels) * mel.piece_stride());
        const auto scan = mel.scan_file_mel(x.data(), n, pieces.data());
        const int64_t content = npw::mel_frames(n);
        for (const int64_t f0 : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{3}, int64_t{255}, int64_t{257}, content / 2,
                                 std::max<int64_t>(content - 1, 0), head - 1, head + 5}) {
          for (const int64_t count : {int64_t{1}, int64_t{300}, int64_t{3000}}) {
            if (f0 + count > frames) continue;
            std::fill(b.begin(), b.end(), 9.0f);
            mel.file_mel_window(x.data(), n, scan, f0, count, -5.0f, pieces.data(), b.data());
            for (int m = 0; m < kMels; ++m) {
              for (int64_t t = 0; t < 3000; ++t) {
                const float w = t < count ? want[static_cast<std::size_t>(m) * frames + f0 + t] : -5.0f;
                ASSERT_EQ(b[static_cast<std::size_t>(m) * 3000 + t], w)
                    << "n " << n << " level " << level << " f0 " << f0 << " count " << count << " mel " << m << " frame " << t;
              }
            }
          }
        }
      }
    }
  }
}

TEST(Mel, ExactlyThirtySeconds) {
  npw::MelSpectrogram mel(filters().data.data(), kMels);
  const std::vector<float> x = thirty_seconds(480000);
  std::vector<float> full, from_file(kMels * 3000), window(kMels * 3000);
  mel.compute_file_mel(x.data(), 480000, full);
  ASSERT_EQ(full.size(), static_cast<std::size_t>(kMels) * 6000);
  npw::slice_window(full.data(), kMels, 6000, 0, from_file.data());
  mel.compute_window_mel(x.data(), 480000, window.data());
  // Only the last frame differs: the window reflects its own audio at the 30 s edge where the
  // file-mode signal continues with zeros.
  double last = 0;
  for (int m = 0; m < kMels; ++m) {
    for (int t = 0; t < 2999; ++t) ASSERT_EQ(window[m * 3000 + t], from_file[m * 3000 + t]) << m << "," << t;
    last = std::max(last, static_cast<double>(std::fabs(window[m * 3000 + 2999] - from_file[m * 3000 + 2999])));
  }
  EXPECT_GT(last, 1e-3);
}

TEST(Mel, LongAudioWindowsAtOffsets) {
  npw::MelSpectrogram mel(filters().data.data(), kMels);
  const std::vector<float> x = noise(720000, 0.1f, 5);
  std::vector<float> full;
  const auto t0 = std::chrono::steady_clock::now();
  mel.compute_file_mel(x.data(), 720000, full);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  // Printed for the reader, not asserted: timings belong in benchmarks (npuwhisper-bench), and a shared or
  // sanitised CI machine may run this arbitrarily slower.
  std::printf("[ speed    ] 45 s whole-file mel, one thread: %.2f ms (%.0fx realtime)\n", ms, 45000.0 / ms);
  const int64_t frames = npw::file_mel_frames(720000);
  ASSERT_EQ(frames, 7500);

  std::vector<float> w(kMels * 3000);
  npw::slice_window(full.data(), kMels, frames, 3000, w.data());
  for (int m = 0; m < kMels; ++m)
    for (int c = 0; c < 3000; ++c) ASSERT_EQ(w[m * 3000 + c], full[m * frames + 3000 + c]);
  // The third window runs past the spectrogram: pad_or_trim fills with 0 (not the clamp floor).
  npw::slice_window(full.data(), kMels, frames, 6000, w.data());
  for (int m = 0; m < kMels; ++m) {
    for (int c = 0; c < 1500; ++c) ASSERT_EQ(w[m * 3000 + c], full[m * frames + 6000 + c]);
    for (int c = 1500; c < 3000; ++c) ASSERT_EQ(w[m * 3000 + c], 0.0f);
  }
  npw::slice_window(full.data(), kMels, frames, 9000, w.data());
  for (float v : w) ASSERT_EQ(v, 0.0f);
}

TEST(Mel, NonFiniteSamplesAreZeroedAndCounted) {
  npw::MelSpectrogram mel(filters().data.data(), kMels);
  std::vector<float> x = noise(48000, 0.3f, 6);
  x[0] = 0.0f;
  x[100] = 0.0f;
  x[47999] = 0.0f;
  std::vector<float> clean_file, clean_window(kMels * 3000);
  mel.compute_file_mel(x.data(), 48000, clean_file);
  mel.compute_window_mel(x.data(), 48000, clean_window.data());

  x[0] = std::numeric_limits<float>::infinity();
  x[100] = std::numeric_limits<float>::quiet_NaN();
  x[47999] = -std::numeric_limits<float>::infinity();
  std::vector<float> dirty_file, dirty_window(kMels * 3000);
  EXPECT_EQ(mel.compute_file_mel(x.data(), 48000, dirty_file), 3);
  EXPECT_EQ(mel.compute_window_mel(x.data(), 48000, dirty_window.data()), 3);
  EXPECT_TRUE(all_finite(dirty_file));
  EXPECT_TRUE(all_finite(dirty_window));
  EXPECT_EQ(dirty_file, clean_file);
  EXPECT_EQ(dirty_window, clean_window);
  EXPECT_TRUE(std::isnan(x[100]));  // the caller's samples are not modified

  // Samples so large that |X|^2 overflows float32 still give finite output.
  std::vector<float> huge(16000, 3e30f);
  for (std::size_t i = 1; i < huge.size(); i += 2) huge[i] = -3e30f;
  std::vector<float> out(kMels * 3000);
  EXPECT_EQ(mel.compute_window_mel(huge.data(), 16000, out.data()), 0);
  EXPECT_TRUE(all_finite(out));
}

// Loud audio in the first 30 s, quiet audio in the second window: the file-wide clamp floor is
// far above the quiet window's own floor, so the two modes disagree where OpenAI's transcribe()
// and a per-window streaming element would.
TEST(Mel, PerWindowClampDiffersFromWholeFileClamp) {
  npw::MelSpectrogram mel(filters().data.data(), kMels);
  std::vector<float> x = noise(720000, 0.5f, 7);
  const std::vector<float> quiet = noise(160000, 1e-4f, 8);
  for (std::size_t i = 480000; i < 720000; ++i) x[i] = i < 640000 ? quiet[i - 480000] : 0.0f;

  std::vector<float> full, file_w1(kMels * 3000), window_w1(kMels * 3000);
  mel.compute_file_mel(x.data(), 720000, full);
  npw::slice_window(full.data(), kMels, 7500, 3000, file_w1.data());
  mel.compute_window_mel(x.data() + 480000, 240000, window_w1.data());

  std::vector<float> raw(kMels * 7500);
  mel.compute_raw(x.data(), 720000, npw::kMelWindowSamples, raw.data(), 7500);
  const float file_floor = (npw::mel_max(raw.data(), raw.size()) - 8.0f + 4.0f) / 4.0f;
  std::vector<float> raw_w(kMels * 3000);
  mel.compute_raw(x.data() + 480000, 240000, 240000, raw_w.data(), 3000);
  const float window_floor = (std::max(npw::mel_max(raw_w.data(), raw_w.size()) - 8.0f, -10.0f) + 4.0f) / 4.0f;
  ASSERT_GT(file_floor - window_floor, 0.25f);

  double largest = 0;
  int agree = 0;
  for (int m = 0; m < kMels; ++m) {
    for (int c = 0; c < 3000; ++c) {
      const float f = file_w1[m * 3000 + c], w = window_w1[m * 3000 + c];
      largest = std::max(largest, static_cast<double>(std::fabs(f - w)));
      // Away from the window's first two frames (which see the loud audio in file mode), values
      // above both floors are the same raw mel.
      if (c >= 2 && f > file_floor + 1e-3f && w > window_floor + 1e-3f) {
        ASSERT_NEAR(f, w, 1e-6) << m << "," << c;
        ++agree;
      }
    }
  }
  const float file_min = *std::min_element(file_w1.begin(), file_w1.end());
  const float window_min = *std::min_element(window_w1.begin(), window_w1.end());
  std::printf("[ clamp    ] floors: file %.3f, window %.3f; max difference %.3f; %d values agree\n", file_floor,
              window_floor, largest, agree);
  EXPECT_FLOAT_EQ(file_min, file_floor);
  EXPECT_FLOAT_EQ(window_min, window_floor);
  EXPECT_GT(largest, 0.25);
  EXPECT_GT(agree, 1000);
}

// Frames are independent, so splitting them over threads must not change a single bit; the pool
// is also reused across calls of different lengths (scratch buffers are per thread).
TEST(Mel, ThreadPoolGivesIdenticalResults) {
  npw::ThreadPool pool(3);
  npw::MelSpectrogram serial(filters().data.data(), kMels);
  npw::MelSpectrogram parallel(filters().data.data(), kMels, &pool);
  std::vector<float> x = noise(500000, 0.2f, 9);
  for (std::size_t i = 100000; i < 200000; ++i) x[i] = 0.0f;  // silence inside the audio
  x[12345] = std::numeric_limits<float>::quiet_NaN();
  for (int64_t n : {int64_t{500000}, int64_t{1234}, int64_t{0}, int64_t{480000}}) {
    std::vector<float> a, b;
    EXPECT_EQ(serial.compute_file_mel(x.data(), n, a), parallel.compute_file_mel(x.data(), n, b));
    EXPECT_EQ(a, b) << n;
  }
  std::vector<float> a(kMels * 3000), b(kMels * 3000);
  serial.compute_window_mel(x.data() + 1000, 300000, a.data());
  parallel.compute_window_mel(x.data() + 1000, 300000, b.data());
  EXPECT_EQ(a, b);
}

// Subnormal samples (a fade's tail in float audio) are read as zeros: their powers lie far below the
// log floor, so the mel is the silent one, bit for bit, on every thread; and the calling thread's
// float mode (MXCSR on x86) is what it was before, whatever the front end set for itself.
TEST(Mel, SubnormalSamplesGiveTheSilentMelAndLeaveTheThreadsFloatMode) {
  npw::ThreadPool pool(2);
  npw::MelSpectrogram mel(filters().data.data(), kMels, &pool);
  const std::size_t n = 320000;
  std::vector<float> tiny = noise(n, 1.0f, 4);
  for (float& s : tiny) s *= 1e-38f;  // |s| < FLT_MIN: subnormal or zero
  std::vector<float> silent(n, 0.0f);
#if defined(__x86_64__) || defined(__i386__)
  const unsigned before = _mm_getcsr();
#endif
  std::vector<float> a(kMels * 3000), b(kMels * 3000);
  mel.compute_window_mel(tiny.data(), static_cast<int64_t>(n), a.data());
  mel.compute_window_mel(silent.data(), static_cast<int64_t>(n), b.data());
  EXPECT_EQ(a, b);
  // And on the calling thread alone (no pool).
  npw::MelSpectrogram inline_mel(filters().data.data(), kMels);
  std::vector<float> c(kMels * 3000);
  inline_mel.compute_window_mel(tiny.data(), static_cast<int64_t>(n), c.data());
  EXPECT_EQ(c, b);
#if defined(__x86_64__) || defined(__i386__)
  EXPECT_EQ(_mm_getcsr(), before);
#endif
}

TEST(Mel, RejectsBadArguments) {
  std::vector<float> f = filters().data;
  EXPECT_THROW(npw::MelSpectrogram(nullptr, kMels), npw::Error);
  EXPECT_THROW(npw::MelSpectrogram(f.data(), 0), npw::Error);
  f[5 * 201 + 7] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(npw::MelSpectrogram(f.data(), kMels), npw::Error);

  npw::MelSpectrogram mel(filters().data.data(), kMels);
  std::vector<float> x(480001, 0.0f), out(kMels * 3000);
  try {
    mel.compute_window_mel(x.data(), 480001, out.data());
    FAIL() << "window of 480001 samples accepted";
  } catch (const npw::Error& e) {
    EXPECT_EQ(e.kind(), npw::ErrorKind::InvalidArgument);
  }
  EXPECT_THROW(mel.compute_raw(x.data(), -1, 0, out.data(), 3000), npw::Error);
}

TEST(Mel, ClampHelpers) {
  std::vector<float> v = {-12.0f, -3.0f, 1.0f, -9.5f, 0.5f};
  EXPECT_EQ(npw::mel_max(v.data(), v.size()), 1.0f);
  EXPECT_EQ(npw::mel_max(v.data(), 0), -std::numeric_limits<float>::infinity());
  std::vector<float> big(1000, -5.0f);
  big[997] = 2.0f;
  EXPECT_EQ(npw::mel_max(big.data(), big.size()), 2.0f);
  npw::mel_clamp_scale(v.data(), v.size(), 1.0f);
  const std::vector<float> expect = {(-7.0f + 4) / 4, (-3.0f + 4) / 4, (1.0f + 4) / 4, (-7.0f + 4) / 4, (0.5f + 4) / 4};
  EXPECT_EQ(v, expect);
}

}  // namespace
