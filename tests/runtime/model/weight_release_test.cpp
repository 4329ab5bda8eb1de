// Issue 14's memory rule: once a backend has copied a weight into its own layout, the original's
// pages in the mapped model file must not stay resident (else the model is held twice). Residency is
// read from /proc/self/pagemap (present bit of this process's page table entries), not mincore():
// for a file the caller may write to, mincore() reports the page cache, which keeps the pages after
// they left this process.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/mapped_file.h"
#include "model/model.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

const std::string kF16Model = std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f16.bin";

struct Residency {
  std::size_t whole_pages = 0;  // pages entirely inside the range
  std::size_t resident = 0;     // of those, mapped in this process now
};

Residency residency(const void* p, std::size_t n) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto lo = reinterpret_cast<uintptr_t>(p), hi = lo + n;
  const uintptr_t first = (lo + page - 1) / page * page, last = hi / page * page;
  Residency r;
  if (last <= first) return r;
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return r;
  for (uintptr_t a = first; a < last; a += page) {
    uint64_t entry = 0;
    ++r.whole_pages;
    if (::pread(fd, &entry, sizeof entry, static_cast<off_t>(a / page * sizeof entry)) == sizeof entry &&
        (entry >> 63) != 0) {
      ++r.resident;
    }
  }
  ::close(fd);
  return r;
}

// Every weight a backend repacks: the linear layers of both stacks and the token embedding.
std::vector<const TensorView*> repacked_weights(const Model& m) {
  std::vector<const TensorView*> out;
  for (const EncoderBlock& b : m.encoder().blocks) {
    for (const Linear* l : {&b.attn.query, &b.attn.key, &b.attn.value, &b.attn.out, &b.mlp0, &b.mlp2}) out.push_back(l->w);
  }
  for (const DecoderBlock& b : m.decoder().blocks) {
    for (const Linear* l : {&b.attn.query, &b.attn.key, &b.attn.value, &b.attn.out, &b.cross_attn.query,
                            &b.cross_attn.key, &b.cross_attn.value, &b.cross_attn.out, &b.mlp0, &b.mlp2}) {
      out.push_back(l->w);
    }
  }
  out.push_back(m.decoder().token_emb);
  return out;
}

// Reads every byte, so that each page of the tensor is mapped in.
unsigned touch(const TensorView& t) {
  unsigned s = 0;
  for (std::size_t i = 0; i < t.nbytes; ++i) s += t.data[i];
  return s;
}

class WeightRelease : public ::testing::TestWithParam<const char*> {};

TEST_P(WeightRelease, RepackedOriginalsLeaveTheProcess) {
  std::shared_ptr<const Model> model = Model::load(kF16Model);
  const std::vector<const TensorView*> weights = repacked_weights(*model);
  Residency before;
  volatile unsigned sink = 0;
  for (const TensorView* t : weights) {
    sink = sink + touch(*t);
    const Residency r = residency(t->data, t->nbytes);
    before.whole_pages += r.whole_pages;
    before.resident += r.resident;
  }
  // The probe itself sees pages that were just read: otherwise the check below could not fail.
  ASSERT_GT(before.whole_pages, 100u);
  ASSERT_EQ(before.resident, before.whole_pages) << "/proc/self/pagemap does not show mapped pages";

  std::unique_ptr<Backend> backend = make_backend(GetParam(), 1);
  ThreadPool pool(1);
  Encoder encoder(*model, *backend, pool);
  Decoder decoder(*model, *backend, pool, 1);
  for (const TensorView* t : weights) {
    const Residency r = residency(t->data, t->nbytes);
    EXPECT_EQ(r.resident, 0u) << t->name << ": " << r.resident << " of " << r.whole_pages
                              << " pages of the original still resident after packing for " << GetParam();
  }
}

// Every tensor is copied out (packed or widened), so after packing no page of the file stays: not
// the pages a weight shares with its neighbours (small tensors, the records' headers), nor those a
// read's fault-around mapped back around the tensor it read (before this held: 43 of this file's 2017
// pages after packing, and 16 pages of weights and small tensors of a base f16 file after a clip).
TEST_P(WeightRelease, NoPageOfTheFileStaysAfterPacking) {
  std::shared_ptr<const Model> model = Model::load(kF16Model);
  const TensorView& first = model->tensors().front();
  const TensorView& last = model->tensors().back();
  const uint8_t* file_start = first.data - first.offset;
  const std::size_t file_bytes = last.offset + last.nbytes;
  std::unique_ptr<Backend> backend = make_backend(GetParam(), 4);
  ThreadPool pool(4);
  Encoder encoder(*model, *backend, pool);
  Decoder decoder(*model, *backend, pool, 1);
  const Residency r = residency(file_start, (file_bytes + 4095) / 4096 * 4096);
  EXPECT_EQ(r.resident, 0u) << r.resident << " of " << r.whole_pages << " pages of the file resident after packing for "
                            << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Backends, WeightRelease, ::testing::Values("cpu", "cpu-int8"));

// Decoding looks up a token embedding row per position: read from the file, each lookup faulted its
// pages back in (64 KiB with the kernel's fault-around), and over a stream the whole embedding was
// resident twice (38 of its 38 MiB for a tiny f16 model next to the packed copy). The rows now come
// from the packed copy (cpu), or with pread where that copy is not exact (cpu-int8 from f16), so the
// file's pages stay out whatever is decoded.
class WeightReleaseDecode : public ::testing::TestWithParam<const char*> {};

TEST_P(WeightReleaseDecode, EmbeddingLookupsLeaveTheFileAlone) {
  std::shared_ptr<const Model> model = Model::load(kF16Model);
  std::unique_ptr<Backend> backend = make_backend(GetParam(), 1);
  ThreadPool pool(1);
  Encoder encoder(*model, *backend, pool);
  Decoder decoder(*model, *backend, pool, 1);
  const HParams& hp = model->hparams();
  std::vector<float> enc(static_cast<std::size_t>(hp.n_audio_ctx) * hp.n_audio_state, 0.01f);
  decoder.set_audio(enc.data());
  const TensorView& emb = *model->decoder().token_emb;
  decoder.reset(1);
  int t = 0;
  // Tokens spread over the whole vocabulary, as many as a sequence holds.
  for (int i = 0; i < hp.n_text_ctx; ++i) {
    t = static_cast<int>((static_cast<long long>(i) * 7919) % hp.n_vocab);
    if (i == 0) {
      const TokenSpan first{&t, 1};
      decoder.decode(&first, 1);
    } else {
      decoder.decode_next(&t);
    }
  }
  const Residency r = residency(emb.data, emb.nbytes);
  ASSERT_GT(r.whole_pages, 100u);
  EXPECT_EQ(r.resident, 0u) << r.resident << " of " << r.whole_pages << " pages of " << emb.name
                            << " faulted back in by decoding on " << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Backends, WeightReleaseDecode, ::testing::Values("cpu", "cpu-int8"));

// The header (vocabulary and mel filters, ~0.5 MiB for a real model) is copied out while loading
// and never read again: its pages must not stay resident for the model's life.
TEST(WeightReleaseHeader, HeaderPagesLeaveTheProcessAfterLoading) {
  std::shared_ptr<const Model> model = Model::load(kF16Model);
  const TensorView& first = model->tensors().front();
  const uint8_t* file_start = first.data - first.offset;
  const Residency r = residency(file_start, first.offset);
  ASSERT_GT(r.whole_pages, 50u) << "the test model's header should span many pages";
  EXPECT_EQ(r.resident, 0u) << r.resident << " of " << r.whole_pages << " header pages resident after loading";
  // What was read from it still answers.
  EXPECT_EQ(model->vocab().bytes(model->vocab().eot()), "[_EOT_]");
  EXPECT_FALSE(model->vocab().bytes(1000).empty());
  EXPECT_EQ(model->mel_filters().size(), static_cast<std::size_t>(model->hparams().n_mels) * model->n_fft_bins());
}

// Rows read with pread are the mapping's bytes; ranges outside the file are refused.
TEST(WeightReleaseFile, ReadCopiesTheFilesBytes) {
  MappedFile file(kF16Model);
  std::vector<uint8_t> got(5000, 0);
  ASSERT_TRUE(file.read(file.data() + 12345, got.size(), got.data()));
  EXPECT_EQ(std::memcmp(got.data(), file.data() + 12345, got.size()), 0);
  ASSERT_TRUE(file.read(file.data() + file.size() - 7, 7, got.data()));
  EXPECT_EQ(std::memcmp(got.data(), file.data() + file.size() - 7, 7), 0);
  EXPECT_FALSE(file.read(file.data() + file.size() - 7, 8, got.data()));
  EXPECT_FALSE(file.read(got.data(), 4, got.data() + 8));
}

TEST(WeightReleaseFile, ReleasedBytesReadBackUnchanged) {
  MappedFile file(kF16Model);
  const std::vector<uint8_t> copy(file.data(), file.data() + file.size());
  const std::size_t released = file.release(file.data() + 100, file.size() - 200);
  EXPECT_GT(released, 0u);
  EXPECT_EQ(residency(file.data() + 4096, file.size() - 8192).resident, 0u);
  EXPECT_EQ(std::memcmp(copy.data(), file.data(), file.size()), 0);
}

TEST(WeightReleaseFile, MemoryOutsideTheMappingIsLeftAlone) {
  MappedFile file(kF16Model);
  std::vector<uint8_t> heap(1 << 16, 0x5a);
  EXPECT_EQ(file.release(heap.data(), heap.size()), 0u);
  for (uint8_t b : heap) ASSERT_EQ(b, 0x5a);
  // A range that starts inside and runs past the end releases only what is inside.
  EXPECT_LE(file.release(file.data() + file.size() / 2, file.size()), file.size() / 2 + 4096);
}

}  // namespace
}  // namespace npw
