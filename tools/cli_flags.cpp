// Strict flag parsing for the tools: a typo or a stray argument is an error naming it, never ignored.
#include "cli_flags.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "util/error.h"

namespace npw {

namespace {

[[noreturn]] void bad(const std::string& why) { throw Error(ErrorKind::InvalidArgument, why); }

}  // namespace

FlagParser::FlagParser(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void FlagParser::add_value(const std::string& name, const std::string& metavar, const std::string& help,
                           bool required) {
  flags_.push_back({name, metavar.empty() ? "VALUE" : metavar, help, required});
}

void FlagParser::add_switch(const std::string& name, const std::string& help) {
  flags_.push_back({name, "", help, false});
}

const FlagParser::Flag* FlagParser::find(const std::string& name) const {
  for (const auto& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void FlagParser::parse(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      bad("unexpected argument '" + arg + "' (flags start with --; see --help)");
    }
    std::string name = arg.substr(2), value;
    bool inline_value = false;
    const std::size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    const Flag* flag = find(name);
    if (!flag) bad("unknown flag '--" + name + "' (see --help)");
    if (given_.count(name)) bad("flag '--" + name + "' given more than once");
    if (flag->metavar.empty()) {
      if (inline_value) bad("flag '--" + name + "' takes no value");
    } else if (!inline_value) {
      if (i + 1 >= argc) bad("flag '--" + name + "' needs a value (" + flag->metavar + ")");
      value = argv[++i];
    }
    given_[name] = value;
  }
}

bool FlagParser::has(const std::string& name) const { return given_.count(name) != 0; }

const std::string& FlagParser::required(const std::string& name) const {
  auto it = given_.find(name);
  if (it == given_.end()) bad("missing required flag '--" + name + "' (see --help)");
  return it->second;
}

std::string FlagParser::value_or(const std::string& name, const std::string& fallback) const {
  auto it = given_.find(name);
  return it == given_.end() ? fallback : it->second;
}

double FlagParser::number_or(const std::string& name, double fallback) const {
  auto it = given_.find(name);
  if (it == given_.end()) return fallback;
  const std::string& s = it->second;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(v)) {
    bad("flag '--" + name + "': '" + s + "' is not a finite number");
  }
  return v;
}

int FlagParser::integer_or(const std::string& name, int fallback, int lo, int hi) const {
  auto it = given_.find(name);
  if (it == given_.end()) return fallback;
  const std::string& s = it->second;
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE) {
    bad("flag '--" + name + "': '" + s + "' is not an integer");
  }
  if (v < lo || v > hi) {
    bad("flag '--" + name + "': " + s + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<int>(v);
}

std::string FlagParser::usage() const {
  std::string u = "usage: " + program_;
  for (const auto& f : flags_) {
    const std::string text = "--" + f.name + (f.metavar.empty() ? "" : " " + f.metavar);
    u += f.required ? " " + text : " [" + text + "]";
  }
  u += "\n\n" + summary_ + "\n\n";
  for (const auto& f : flags_) {
    std::string left = "  --" + f.name + (f.metavar.empty() ? "" : " " + f.metavar);
    if (left.size() < 26) left.resize(26, ' ');
    else left += "  ";
    u += left + f.help + "\n";
  }
  return u;
}

}  // namespace npw
