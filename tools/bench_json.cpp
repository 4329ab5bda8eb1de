// JSON writers shared by npuwhisper-bench's reports (bench_json.h).
#include "bench_json.h"

#include <cmath>
#include <cstdio>

namespace npw {

std::string json_escape(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o;
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string summary_json(const Summary& s) {
  return "{\"median\": " + json_number(s.median) + ", \"min\": " + json_number(s.min) + ", \"q1\": " +
         json_number(s.q1) + ", \"q3\": " + json_number(s.q3) + ", \"max\": " + json_number(s.max) +
         ", \"n\": " + std::to_string(s.n) + "}";
}

}  // namespace npw
