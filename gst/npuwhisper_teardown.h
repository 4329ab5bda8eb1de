// Frees what a stopped stream held on a thread of its own. Going to READY must return at once (a
// player that stops, an operator who stops a channel), but dropping a stream's transcriber (its
// pools' threads joined, its encoder and KV-cache memory unmapped) and the last reference to a model
// (hundreds of MB of weights) took 10-85 ms each on a busy 2-core machine, most of it waiting for a
// core. The element's next start and its finalisation wait for the previous teardown, so nothing
// outlives the element and a restart never sees half-freed state.
#pragma once

#include <system_error>
#include <thread>
#include <utility>

namespace npwgst {

class Teardown {
 public:
  Teardown() = default;
  ~Teardown() { wait(); }
  Teardown(const Teardown&) = delete;
  Teardown& operator=(const Teardown&) = delete;

  // Runs `work` (a callable owning what it frees) on a new thread after the previous teardown has
  // finished. Without a thread to be had it runs here: slower, never lost.
  template <typename Fn>
  void start(Fn work) {
    wait();
    try {
      thread_ = std::thread(std::move(work));
    } catch (const std::system_error&) {
      // std::thread destroyed its copy of `work` (freeing what it owned) before throwing; what is
      // left to do runs on this thread.
      work();
    }
  }

  // Returns once the last teardown started has finished.
  void wait() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

}  // namespace npwgst
