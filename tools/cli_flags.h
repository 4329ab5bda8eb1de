// A small strict command-line flag parser for the tools: declared flags only, "--name value" or
// "--name=value", each at most once, no positional arguments. Every refusal is an
// npw::Error(InvalidArgument) naming the flag, so a tool reports it and exits 1. Kept separate from
// any tool's flag list so that adding a flag is one declaration plus one read.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace npw {

class FlagParser {
 public:
  FlagParser(std::string program, std::string summary);

  // A flag that takes a value (metavar names it in the usage text, e.g. "FILE"). `required` only
  // shapes the usage line; the tool asks for the value with required().
  void add_value(const std::string& name, const std::string& metavar, const std::string& help,
                 bool required = false);
  // A flag without a value.
  void add_switch(const std::string& name, const std::string& help);

  void parse(int argc, const char* const* argv);

  bool has(const std::string& name) const;
  // The flag's value; throws when the flag was not given (for required flags: says so).
  const std::string& required(const std::string& name) const;
  std::string value_or(const std::string& name, const std::string& fallback) const;
  // The whole value as a finite number / an integer within [lo, hi]; fallback when the flag is absent.
  double number_or(const std::string& name, double fallback) const;
  int integer_or(const std::string& name, int fallback, int lo, int hi) const;

  std::string usage() const;

 private:
  struct Flag {
    std::string name;
    std::string metavar;  // empty for a switch
    std::string help;
    bool required = false;
  };
  const Flag* find(const std::string& name) const;

  std::string program_;
  std::string summary_;
  std::vector<Flag> flags_;
  std::map<std::string, std::string> given_;
};

}  // namespace npw
