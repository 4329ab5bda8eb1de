// Typed errors of the runtime: every failure a user can cause is reported as an npw::Error whose
// message names the thing (file, tensor, field, option) and the reason. gst/ turns these into
// GST_ELEMENT_ERROR; nothing may let one escape into a C callback.
#pragma once

#include <stdexcept>
#include <string>

namespace npw {

enum class ErrorKind {
  InvalidArgument,  // a bad option, flag or call argument
  Io,               // a file could not be opened, read or mapped
  Format,           // a file's bytes are not what its format allows
  Unsupported,      // well-formed but not handled (e.g. an old quantisation version)
  Unavailable,      // a requested resource (e.g. an NPU) is not present
  Internal,         // a bug: an invariant of our own was broken
  Cancelled,        // the caller asked the work to stop (util/cancel.h); not a failure
};

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace npw
