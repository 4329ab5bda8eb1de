// Cancellation of work in flight: a flag another thread sets (the element on FLUSH_START or when it
// stops) and the long loops of a transcription poll between their steps - encoder layers and their
// products, decoder layers and steps, the temperature ladder - so that a window is abandoned within
// one step instead of finishing. A cancelled call throws npw::Error(ErrorKind::Cancelled), which
// callers treat as silent: nothing of the abandoned window is output.
#pragma once

#include <atomic>
#include <string>

#include "util/error.h"

namespace npw {

using CancelFlag = std::atomic<bool>;

// Whether `flag` (may be null: never) asks to stop.
inline bool cancel_requested(const CancelFlag* flag) { return flag && flag->load(std::memory_order_relaxed); }

// Throws Error(ErrorKind::Cancelled) when `flag` asks to stop; `where` (a literal) says which step
// noticed, for logs.
inline void check_cancel(const CancelFlag* flag, const char* where) {
  if (cancel_requested(flag)) throw Error(ErrorKind::Cancelled, std::string("cancelled at ") + where);
}

}  // namespace npw
