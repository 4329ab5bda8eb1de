// Runs npuwhisper-cli as a user would (through the shell, stdout and stderr captured), for the CLI
// tests. Shared so every CLI test file quotes and captures the same way.
#pragma once

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "golden_io.h"

namespace npw_test {

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A file in the temporary directory private to this process: several builds' test runs (plain,
// sanitizer) may share /tmp at the same time.
// Every such file is removed when the test program exits.
inline std::string temp_file(const std::string& name) {
  static std::set<std::string>* made = [] {
    static std::set<std::string> files;
    std::atexit([] {
      for (const std::string& f : files) std::remove(f.c_str());
    });
    return &files;
  }();
  const std::string path = ::testing::TempDir() + "/npw-cli-" + std::to_string(static_cast<long>(getpid())) + "-" + name;
  made->insert(path);
  return path;
}

inline CliRun run_cli(const std::string& args) {
  const std::string out = temp_file("stdout.txt"), err = temp_file("stderr.txt");
  const std::string cmd = quote(NPW_CLI_PATH) + " " + args + " >" + quote(out) + " 2>" + quote(err);
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

// A quoted path under tests/data.
inline std::string data(const std::string& rel) { return quote(data_path(rel)); }

}  // namespace npw_test
