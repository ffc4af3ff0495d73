// weft: a libp2p node on the command line, written against the C ABI alone (weft.h).
// Usage: weft --help (the text is in cli.cpp).
#include <csignal>
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "cli.hpp"
#include "commands.hpp"
#include "weft.h"

namespace {

using namespace weft_cli;

const char* level_name(int level) {
  switch (level) {
    case WEFT_LOG_TRACE: return "trace";
    case WEFT_LOG_DEBUG: return "debug";
    case WEFT_LOG_INFO: return "info";
    case WEFT_LOG_WARN: return "warn";
    default: return "error";
  }
}

extern "C" void log_to_stderr(void*, int level, const char* message) {
  std::fprintf(stderr, "weft [%s] %s\n", level_name(level), message);
}

// One line, whatever the message holds: scripts read errors line by line.
std::string one_line(std::string message) {
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  return message;
}

int run(const CommandLine& line) {
  if (line.command == "id") return run_id(line);
  if (line.command == "listen") return run_listen(line);
  if (line.command == "ping") return run_ping(line);
  if (line.command == "echo") return run_echo(line);
  if (line.command == "perf") return run_perf(line);
  if (line.command == "identify") return run_identify(line);
  usage_error("unknown command '" + line.command + "'");
}

}  // namespace

int main(int argc, char** argv) {
  // A closed stdout must end in a write error, not in death by SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    const CommandLine line = parse_command_line(argc, argv);
    if (line.help) {
      std::fputs(help_text().data(), stdout);
      return kExitOk;
    }
    if (line.version) {
      std::printf("weft %d.%d.%d (libweft %s, ABI %u)\n", WEFT_VERSION_MAJOR, WEFT_VERSION_MINOR,
                  WEFT_VERSION_PATCH, weft_version_string(), weft_abi_version());
      return kExitOk;
    }
    if (weft_abi_version() != WEFT_ABI_VERSION) {
      fail("libweft has ABI version " + std::to_string(weft_abi_version()) + ", this tool needs " +
           std::to_string(WEFT_ABI_VERSION));
    }
    if (line.verbose) weft_set_log_callback(WEFT_LOG_DEBUG, log_to_stderr, nullptr);
    return run(line);
  } catch (const Failure& failure) {
    std::fprintf(stderr, "weft: %s\n", one_line(failure.message).c_str());
    return failure.exit_code;
  } catch (const std::bad_alloc&) {
    std::fputs("weft: out of memory\n", stderr);
    return kExitFailure;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "weft: internal error: %s\n", one_line(error.what()).c_str());
    return kExitFailure;
  }
}
