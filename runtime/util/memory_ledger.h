// Where the process's resident memory goes. The runtime's large buffers (AlignedBuffer's anonymous
// mappings) are entered in a ledger under a label, so that a resident-memory figure can be split
// into the buffers that hold it: the bench and the CLI print the split, and the memory targets can
// say where every MiB goes instead of guessing at "slack". The rest of the process is split from
// /proc/self/smaps by kind (the model file's mapped pages, libraries, the malloc heap, other
// anonymous mappings such as thread stacks and BLAS work buffers).
//
// The ledger allocates nothing (a fixed table under a mutex), so entering a buffer does not count as
// an allocation in the steady-state allocation tests; buffers beyond its capacity are counted as
// "unlabelled" by the smaps side, not lost.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace npw {

// A name for a buffer in the ledger (a string literal: the ledger keeps the pointer).
struct MemoryLabel {
  const char* name = nullptr;
};

namespace memory_ledger {

// Enters the mapping [p, p + bytes) under `label` (null: "unlabelled buffers"); p page-aligned.
void enter(const void* p, std::size_t bytes, const char* label) noexcept;
// Removes the mapping that starts at p (nothing if it is not entered).
void leave(const void* p) noexcept;

}  // namespace memory_ledger

// One line of the split: a label (or a kind of mapping), its resident and mapped bytes, how many
// mappings or buffers it sums.
struct MemoryUse {
  std::string what;
  std::size_t resident_bytes = 0;
  std::size_t mapped_bytes = 0;
  int count = 0;
};

struct MemoryReport {
  std::size_t rss_bytes = 0;       // the sum of every mapping's Rss in smaps (= VmRSS, give or take a page table)
  std::size_t peak_rss_bytes = 0;  // the process's high-water mark so far (VmHWM)
  // The ledger's resident bytes split by owner: the model's buffers (packed weights, widened small
  // tensors: one copy shared by every stream of the model) and the streams' (everything else).
  std::size_t model_buffer_bytes = 0, stream_buffer_bytes = 0;
  std::vector<MemoryUse> buffers;  // the ledger's labels, largest resident first
  std::vector<MemoryUse> process;  // the rest of the process by kind, largest resident first
};

// Whether a ledger label names one of the model's buffers (it starts with "packed " or "model:")
// rather than one of a stream's.
bool is_model_label(const char* label);

// Bytes of the whole pages inside [p, p + bytes) that this process has resident (its page tables,
// not the page cache; 0 if the range is not mapped).
std::size_t resident_bytes(const void* p, std::size_t bytes);

// Reads /proc/self/smaps and the ledger. `model_paths` are files to report as model files rather
// than as other mapped files. On a system without /proc, rss_bytes is 0 and `process` empty.
MemoryReport memory_report(const std::vector<std::string>& model_paths = {});

// The report as aligned text lines (MiB), for a tool's stderr.
std::string format_memory_report(const MemoryReport& r);

}  // namespace npw
