// Cancellation of a window in flight: a stand-in backend whose products block until the stop flag
// is set holds the window in the encoder, or in a decoder step, for as long as the test likes; setting
// the flag must make transcribe_window() throw Cancelled (the test hangs, and times out, if any loop
// fails to look), and the Transcriber must then carry on as if the window had never been started.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../../common/stalled_backend.h"
#include "audio/wav.h"
#include "decode/transcriber.h"
#include "model/model.h"
#include "util/cancel.h"
#include "util/error.h"

namespace npw {
namespace {

const std::string kDir = NPW_TEST_DATA_DIR;

std::vector<std::vector<int>> tokens_of(const WindowResult& r) {
  std::vector<std::vector<int>> out;
  for (const Segment& s : r.segments) out.push_back(s.tokens);
  return out;
}

class CancelTest : public testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    npwtest::register_stalled_backend("npu");
    model_ = ModelCache::instance().get(kDir + "/ggml-test-f32.bin");
    audio_ = read_wav(kDir + "/audio/jfk.wav").samples;
    audio_.resize(16000 * 4);
    options_.n_threads = 1;
    options_.beam_size = 2;  // a beam: the decoder runs a batch, as with the default decoding
    options_.temperatures = {0.0f};
  }
  void TearDown() override {
    npwtest::stall_control().stall = false;
    npwtest::stall_control().min_rows = 0;
    npwtest::stall_control().only_rows = 0;
  }
  std::shared_ptr<const Model> model_;
  std::vector<float> audio_;
  Options options_;
};

// GetParam(): the fewest rows a product needs to stall. 0 stalls the first product of the window
// (a convolution block, on a pool thread); 1500 the first window-sized one (an encoder layer).
TEST_P(CancelTest, AbandonsTheWindowAndCarriesOn) {
  Options cpu = options_;
  cpu.backend = "cpu";
  Transcriber reference(model_, cpu);
  const auto want = tokens_of(reference.transcribe_window(audio_.data(), audio_.size(), true));

  Options o = options_;
  o.backend = "npu";  // the options accept only known names: the stand-in takes the NPU's
  Transcriber t(model_, o);
  CancelFlag cancel{false};
  t.set_cancel(&cancel);

  npwtest::StallControl& c = npwtest::stall_control();
  c.min_rows = GetParam();
  c.stalled = 0;
  c.released = 0;
  c.stall = true;
  ErrorKind kind = ErrorKind::Internal;
  bool threw = false;
  std::thread worker([&] {
    try {
      t.transcribe_window(audio_.data(), audio_.size(), true);
    } catch (const Error& e) {
      threw = true;
      kind = e.kind();
    }
  });
  while (c.stalled == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  cancel = true;
  worker.join();  // hangs (and the test times out) if cancelling does not end the window
  EXPECT_TRUE(threw);
  EXPECT_EQ(static_cast<int>(kind), static_cast<int>(ErrorKind::Cancelled));
  EXPECT_GE(c.released.load(), 1);

  // The abandoned window left nothing behind: cleared, reset, the same audio decodes as it would
  // have on a fresh stream.
  c.stall = false;
  cancel = false;
  t.reset();
  EXPECT_EQ(tokens_of(t.transcribe_window(audio_.data(), audio_.size(), true)), want);
}

INSTANTIATE_TEST_SUITE_P(Where, CancelTest, testing::Values(0, 1500));

TEST_F(CancelTest, AbandonsADecoderStep) {
  Options o = options_;
  o.backend = "npu";  // the options accept only known names: the stand-in takes the NPU's
  Transcriber t(model_, o);
  CancelFlag cancel{false};
  t.set_cancel(&cancel);
  npwtest::StallControl& c = npwtest::stall_control();
  // Only products of exactly the beam's rows stall: the decoder's (the encoder's have 1500 rows).
  c.stalled = 0;
  c.released = 0;
  c.only_rows = o.beam_size;
  c.stall = true;
  bool cancelled = false;
  std::thread worker([&] {
    try {
      t.transcribe_window(audio_.data(), audio_.size(), true);
    } catch (const Error& e) {
      cancelled = e.kind() == ErrorKind::Cancelled;
    }
  });
  while (c.stalled == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  cancel = true;
  worker.join();
  EXPECT_TRUE(cancelled);
}

TEST_F(CancelTest, ASetFlagStopsBeforeAnyWork) {
  Transcriber t(model_, options_);
  CancelFlag cancel{true};
  t.set_cancel(&cancel);
  try {
    t.transcribe_window(audio_.data(), audio_.size(), true);
    ADD_FAILURE() << "no Cancelled error";
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(ErrorKind::Cancelled));
  }
  t.set_cancel(nullptr);
  EXPECT_NO_THROW(t.transcribe_window(audio_.data(), 1600, true));
}

}  // namespace
}  // namespace npw
