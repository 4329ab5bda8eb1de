// The memory ledger: a labelled buffer's resident pages are reported under its label (and only
// the pages it touched), leave the report with the buffer, and the split adds up to the process's
// resident memory.
#include "util/memory_ledger.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <optional>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/int8_backend.h"
#include "backend/cpu/int8_packed.h"
#include "util/aligned_buffer.h"

namespace {

using npw::AlignedBuffer;
using npw::MemoryLabel;
using npw::MemoryUse;

constexpr std::size_t kMiB = std::size_t{1} << 20;

std::optional<MemoryUse> find(const std::vector<MemoryUse>& v, const std::string& what) {
  for (const MemoryUse& u : v) {
    if (u.what == what) return u;
  }
  return std::nullopt;
}

TEST(MemoryLedger, LabelledBufferShowsWhatItTouched) {
  const char* label = "test: half-touched buffer";
  {
    AlignedBuffer<float> b{MemoryLabel{label}};
    b.resize(16 * kMiB / sizeof(float));
    std::memset(b.data(), 1, 4 * kMiB);  // a quarter of it
    const npw::MemoryReport r = npw::memory_report();
    const auto u = find(r.buffers, label);
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->count, 1);
    EXPECT_EQ(u->mapped_bytes, 16 * kMiB);
    EXPECT_GE(u->resident_bytes, 4 * kMiB);
    // Exactly the touched part: 4 KiB pages (Pages::Small), also where the kernel would back the
    // mapping with 2 MiB pages.
    EXPECT_LE(u->resident_bytes, 4 * kMiB);
  }
  EXPECT_FALSE(find(npw::memory_report().buffers, label).has_value());
}

TEST(MemoryLedger, MovedBufferKeepsItsOwnLabel) {
  AlignedBuffer<float> named{MemoryLabel{"test: named"}};
  named = AlignedBuffer<float>(2 * kMiB / sizeof(float));
  std::memset(named.data(), 1, 2 * kMiB);
  const auto r = npw::memory_report();
  const auto u = find(r.buffers, "test: named");
  ASSERT_TRUE(u.has_value());
  EXPECT_GE(u->resident_bytes, 2 * kMiB);
}

// The VmFlags line of the mapping that holds p ("nh": MADV_NOHUGEPAGE, "hg": MADV_HUGEPAGE), or "".
std::string vm_flags_of(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto at = reinterpret_cast<unsigned long>(p);
  bool inside = false;
  std::string line;
  while (std::getline(smaps, line)) {
    unsigned long lo = 0, hi = 0;
    char dash = 0;
    if (std::sscanf(line.c_str(), "%lx%c%lx ", &lo, &dash, &hi) == 3 && dash == '-') {
      inside = at >= lo && at < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line + " ";
    }
  }
  return "";
}

TEST(AlignedBuffer, MappingsAreBackedAsTheirPagesSay) {
  if (!std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled")) {
    GTEST_SKIP() << "this kernel has no transparent huge pages to advise on";
  }
  AlignedBuffer<float> plain(8 * kMiB / sizeof(float));
  AlignedBuffer<float> small{MemoryLabel{"test: small pages"}};
  AlignedBuffer<float> huge{MemoryLabel{"test: huge pages"}, npw::Pages::Huge};
  small.resize(8 * kMiB / sizeof(float));
  huge.resize(8 * kMiB / sizeof(float));
  EXPECT_NE(vm_flags_of(plain.data()).find(" nh "), std::string::npos) << vm_flags_of(plain.data());
  EXPECT_NE(vm_flags_of(small.data()).find(" nh "), std::string::npos) << vm_flags_of(small.data());
  EXPECT_NE(vm_flags_of(huge.data()).find(" hg "), std::string::npos) << vm_flags_of(huge.data());
  // A buffer moved into an unlabelled one takes its backing for its next allocation too.
  AlignedBuffer<float> taken;
  taken = std::move(huge);
  taken.resize(4 * kMiB / sizeof(float));
  EXPECT_NE(vm_flags_of(taken.data()).find(" hg "), std::string::npos) << vm_flags_of(taken.data());
}

// Weights packed for few rows (streamed whole every decoder step) ask for huge pages; those packed
// for many rows (panels, read from cache block by block) stay on 4 KiB pages.
TEST(AlignedBuffer, PackedWeightsAreBackedByHowTheyAreRead) {
  if (!std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled")) {
    GTEST_SKIP() << "this kernel has no transparent huge pages to advise on";
  }
  using npw::CpuPackedMatrix;
  using S = CpuPackedMatrix::Storage;
  const auto has = [](const void* p, const char* flag) { return vm_flags_of(p).find(flag) != std::string::npos; };
  const CpuPackedMatrix f32_rows(1024, 1024, S::F32), f16_rows(1024, 1024, S::F16), q8_rows(2048, 1024, S::Q8);
  EXPECT_TRUE(has(f32_rows.data(), " hg ")) << vm_flags_of(f32_rows.data());
  EXPECT_TRUE(has(f16_rows.half_data(), " hg ")) << vm_flags_of(f16_rows.half_data());
  EXPECT_TRUE(has(q8_rows.q8().q, " hg ")) << vm_flags_of(q8_rows.q8().q);
  const CpuPackedMatrix f32_panels(1024, 1024, S::F32Panels), f16_panels(1024, 1024, S::F16Panels),
      q8_panels(2048, 1024, S::Q8Panels);
  EXPECT_TRUE(has(f32_panels.panel_data(), " nh ")) << vm_flags_of(f32_panels.panel_data());
  EXPECT_TRUE(has(f16_panels.panel_half_data(), " nh ")) << vm_flags_of(f16_panels.panel_half_data());
  EXPECT_TRUE(has(q8_panels.panel_q8().q, " nh ")) << vm_flags_of(q8_panels.panel_q8().q);
  // cpu-int8's: the same records, backed as its pack() and pack_for_many_rows() ask.
  const auto w = std::vector<float>(1024 * 2048, 0.25f);
  npw::TensorView view;
  view.name = "test: int8";
  view.type = npw::GgmlType::F32;
  view.n_dims = 2;
  view.ne[0] = 1024;
  view.ne[1] = 2048;
  view.data = reinterpret_cast<const uint8_t*>(w.data());
  view.nbytes = w.size() * sizeof(float);
  npw::CpuInt8Backend int8(1);
  const auto few = int8.pack(view), many = int8.pack_for_many_rows(view);
  const auto* few8 = dynamic_cast<const npw::Int8PackedMatrix*>(few.get());
  const auto* many8 = dynamic_cast<const npw::Int8PackedMatrix*>(many.get());
  ASSERT_TRUE(few8 && many8);
  EXPECT_TRUE(has(few8->quants(0, 0), " hg ")) << vm_flags_of(few8->quants(0, 0));
  EXPECT_TRUE(has(many8->quants(0, 0), " nh ")) << vm_flags_of(many8->quants(0, 0));
}

TEST(MemoryLedger, SplitAddsUpToResidentMemory) {
  AlignedBuffer<float> b{MemoryLabel{"test: sum"}};
  b.resize(8 * kMiB / sizeof(float));
  std::memset(b.data(), 1, 8 * kMiB);
  const npw::MemoryReport r = npw::memory_report();
  ASSERT_GT(r.rss_bytes, 8 * kMiB);
  std::size_t sum = 0;
  for (const MemoryUse& u : r.buffers) sum += u.resident_bytes;
  for (const MemoryUse& u : r.process) sum += u.resident_bytes;
  // Counted once each (a buffer's pages come out of its mapping's kind); the report's own reading
  // of smaps allocates a little between the two looks.
  EXPECT_NEAR(static_cast<double>(sum), static_cast<double>(r.rss_bytes), 512.0 * 1024);
  EXPECT_TRUE(find(r.process, "shared libraries").has_value());
  const std::string text = npw::format_memory_report(r);
  EXPECT_NE(text.find("test: sum"), std::string::npos) << text;
}

// The model's buffers ("packed ...", "model: ...") and the streams' (every other label) are summed
// apart, and together are every labelled buffer; the peak is at least what is resident now.
TEST(MemoryLedger, SplitsTheModelsBuffersFromTheStreams) {
  EXPECT_TRUE(npw::is_model_label("packed weights"));
  EXPECT_TRUE(npw::is_model_label("model: small tensors widened to f32"));
  EXPECT_FALSE(npw::is_model_label("decoder: self-attention KV cache"));
  EXPECT_FALSE(npw::is_model_label("packedweights"));
  EXPECT_FALSE(npw::is_model_label(nullptr));
  AlignedBuffer<float> model_side{MemoryLabel{"packed test weights"}}, stream_side{MemoryLabel{"test: stream state"}};
  model_side.resize(4 * kMiB / sizeof(float));
  stream_side.resize(6 * kMiB / sizeof(float));
  std::memset(model_side.data(), 1, 3 * kMiB);
  std::memset(stream_side.data(), 1, 5 * kMiB);
  const npw::MemoryReport r = npw::memory_report();
  std::size_t model = 0, stream = 0;
  for (const MemoryUse& u : r.buffers) (npw::is_model_label(u.what.c_str()) ? model : stream) += u.resident_bytes;
  EXPECT_EQ(r.model_buffer_bytes, model);
  EXPECT_EQ(r.stream_buffer_bytes, stream);
  EXPECT_GE(r.model_buffer_bytes, 3 * kMiB);
  EXPECT_GE(r.stream_buffer_bytes, 5 * kMiB);
  EXPECT_GE(r.peak_rss_bytes, r.rss_bytes - 512 * 1024);
  const std::string text = npw::format_memory_report(r);
  EXPECT_NE(text.find("(peak "), std::string::npos) << text;
  EXPECT_NE(text.find("the model's buffers"), std::string::npos) << text;
}

}  // namespace
