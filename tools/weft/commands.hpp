// The subcommands. Each returns the exit status, or throws Failure (cli.hpp).
#pragma once

#include "cli.hpp"

namespace weft_cli {

int run_id(const CommandLine& line);
int run_listen(const CommandLine& line);
int run_ping(const CommandLine& line);
int run_echo(const CommandLine& line);
int run_perf(const CommandLine& line);
int run_identify(const CommandLine& line);

}  // namespace weft_cli
