// The command line of the weft tool: parsing, the help text, and the way a command ends in
// failure (a Failure carries the exit status and the one-line message for stderr).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace weft_cli {

// Scripts must be able to tell a mistake in the command line from a failure at run time.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Ends the running command: main prints "weft: <message>" as one stderr line and exits with
// `exit_code`. Thrown so that every object on the way out (the node above all) is released first.
struct Failure {
  int exit_code;
  std::string message;
};

[[noreturn]] void fail(std::string message);         // runtime failure, exit 1
[[noreturn]] void usage_error(std::string message);  // bad command line, exit 2

inline constexpr int kDefaultTimeoutMs = 30000;

struct CommandLine {
  std::string command;                   // "id", "listen", "ping", ...; empty with --help/--version
  std::vector<std::string> positionals;  // the multiaddr, for the commands that take one
  // Command options by long name ("count" for -n/--count), each value in the order given.
  std::map<std::string, std::vector<std::string>, std::less<>> options;

  bool json = false;
  bool verbose = false;
  bool help = false;
  bool version = false;
  int timeout_ms = kDefaultTimeoutMs;  // 0: no limit
  bool timeout_given = false;

  bool has(std::string_view option) const;
  // The last value given for `option`, or `fallback`.
  std::string text(std::string_view option, std::string fallback = {}) const;
  std::vector<std::string> all(std::string_view option) const;
  // A count or byte size ("16M", "1MiB", "4096"); usage_error if malformed.
  std::uint64_t number(std::string_view option, std::uint64_t fallback) const;
};

// Throws Failure with kExitUsage on any malformed command line.
CommandLine parse_command_line(int argc, char** argv);

std::string_view help_text();

// Parses "123", "64K", "16M", "1GiB" (binary multiples); false if malformed or too large.
bool parse_size(std::string_view text, std::uint64_t& out);

}  // namespace weft_cli
