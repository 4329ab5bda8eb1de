// Measurement of the emulated NPU's windows (see bench_device.h).
#include "bench_device.h"

#include <chrono>
#include <memory>

#include "audio/mel.h"
#include "backend/npu/cost_model.h"
#include "backend/npu/npu_backend.h"
#include "backend/npu/npu_context.h"
#include "model/model.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "util/aligned_buffer.h"
#include "util/thread_pool.h"

namespace npw {

namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

DeviceFigures measure_device_windows(const Model& model, const std::vector<float>& signal, int threads, int repeat) {
  DeviceFigures f;
  f.present = true;
  const HParams& hp = model.hparams();
  for (npu::Generation g : {npu::Generation::Npu1, npu::Generation::Npu2}) {
    auto context = npu::shared_emulator_context(g);
    npu::NpuBackend backend(context, threads);
    ThreadPool& pool = *backend.thread_pool();  // one pool for the stream and its backend, as a Transcriber has
    MelSpectrogram mel(model.mel_filters().data(), hp.n_mels, &pool);
    Encoder encoder(model, backend, pool);
    Decoder decoder(model, backend, pool, 1);
    AlignedBuffer<float> window(static_cast<std::size_t>(hp.n_mels) * kMelWindowFrames);
    const int64_t n = static_cast<int64_t>(std::min<std::size_t>(signal.size(), kMelWindowSamples));
    DeviceGeneration gen;
    gen.name = npu::generation_name(g);
    gen.cost_model = npu::CostModel::for_generation(g).describe();
    std::vector<double> dev, enc_dev, enc_host, win_host, enc_total, win_total;
    AcceleratorBooks first, last;
    for (int r = -1; r < repeat; ++r) {  // r = -1: warm-up (kernels, self-tests, pooled buffers)
      AcceleratorBooks b0, b1, b2;
      backend.accelerator_books(&b0);
      const auto t0 = std::chrono::steady_clock::now();
      mel.compute_window_mel(signal.data(), n, window.data());
      const double mel_ms = ms_since(t0);
      const auto t1 = std::chrono::steady_clock::now();
      const float* out = encoder.encode(window.data());
      const double encoder_ms = ms_since(t1);
      backend.accelerator_books(&b1);
      const auto t2 = std::chrono::steady_clock::now();
      decoder.set_audio(out);
      const double cross_ms = ms_since(t2);
      backend.accelerator_books(&b2);
      if (r < 0) {
        first = b2;
        continue;
      }
      const double e_dev = (b1.device_seconds - b0.device_seconds) * 1e3;
      const double w_dev = (b2.device_seconds - b0.device_seconds) * 1e3;
      const double e_host = encoder_ms - (b1.run_wall_seconds - b0.run_wall_seconds) * 1e3;
      const double w_host = mel_ms + encoder_ms + cross_ms - (b2.run_wall_seconds - b0.run_wall_seconds) * 1e3;
      dev.push_back(w_dev);
      enc_dev.push_back(e_dev);
      enc_host.push_back(e_host);
      win_host.push_back(w_host);
      enc_total.push_back(e_host + e_dev);
      win_total.push_back(w_host + w_dev);
      last = b2;
    }
    gen.device_ms = summarize(dev);
    gen.encoder_device_ms = summarize(enc_dev);
    gen.encoder_host_ms = summarize(enc_host);
    gen.window_host_ms = summarize(win_host);
    gen.encoder_ms = summarize(enc_total);
    gen.window_ms = summarize(win_total);
    f.generations.push_back(gen);
    if (g == npu::Generation::Npu1) {
      const double w = repeat;
      f.device = last.device;
      f.launches = (last.launches - first.launches) / w;
      f.batches = (last.batches - first.batches) / w;
      f.bytes_to_device = (last.bytes_to_device - first.bytes_to_device) / w;
      f.bytes_from_device = (last.bytes_from_device - first.bytes_from_device) / w;
      f.buffers_allocated = (last.buffers_allocated - first.buffers_allocated) / w;
      f.products_on_device = (last.products_on_device - first.products_on_device) / w;
      f.products_on_cpu = (last.products_on_cpu - first.products_on_cpu) / w;
    }
  }
  return f;
}

}  // namespace npw
