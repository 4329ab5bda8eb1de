// Names of error kinds, for messages and logs.
#include "util/error.h"

namespace npw {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidArgument: return "invalid argument";
    case ErrorKind::Io: return "I/O error";
    case ErrorKind::Format: return "format error";
    case ErrorKind::Unsupported: return "unsupported";
    case ErrorKind::Unavailable: return "unavailable";
    case ErrorKind::Internal: return "internal error";
    case ErrorKind::Cancelled: return "cancelled";
  }
  return "error";
}

}  // namespace npw
