// tiktoken's byte-pair merge with a heap of candidate pairs; see byte_pair.h.
#include "decode/byte_pair.h"

#include <queue>
#include <tuple>

namespace npw {

std::vector<std::size_t> byte_pair_merge(std::string_view piece, const ByteRank& rank) {
  const std::size_t n = piece.size();
  std::vector<std::size_t> starts;
  if (n == 0) return starts;
  // Parts as a linked list over their start offsets: end[s] is where the part starting at s ends
  // (its successor's start), prev[s] its predecessor's start; alive[s] while s starts a part.
  std::vector<std::size_t> end(n), prev(n);
  std::vector<char> alive(n, 1);
  for (std::size_t i = 0; i < n; ++i) {
    end[i] = i + 1;
    prev[i] = i == 0 ? n : i - 1;  // n: none
  }
  // A candidate: (rank, left part's start, the pair's end when it was ranked). Smallest rank first,
  // then the leftmost, which is tiktoken's order since part starts keep the parts' order.
  using Candidate = std::tuple<int64_t, std::size_t, std::size_t>;
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto consider = [&](std::size_t s) {
    if (s >= n || end[s] >= n) return;  // no right neighbour
    const std::size_t pair_end = end[end[s]];
    const int64_t r = rank(piece.substr(s, pair_end - s));
    if (r >= 0) heap.emplace(r, s, pair_end);
  };
  for (std::size_t i = 0; i + 1 < n; ++i) consider(i);
  while (!heap.empty()) {
    const auto [r, s, pair_end] = heap.top();
    heap.pop();
    // Stale when either part has been merged into something else since it was ranked.
    if (!alive[s] || end[s] >= n || end[end[s]] != pair_end) continue;
    const std::size_t right = end[s];
    alive[right] = 0;
    end[s] = pair_end;
    if (pair_end < n) prev[pair_end] = s;
    if (prev[s] < n) consider(prev[s]);
    consider(s);
  }
  for (std::size_t s = 0; s < n; s = end[s]) starts.push_back(s);
  return starts;
}

}  // namespace npw
