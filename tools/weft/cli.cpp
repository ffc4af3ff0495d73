#include "cli.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>

namespace weft_cli {

void fail(std::string message) { throw Failure{kExitFailure, std::move(message)}; }

void usage_error(std::string message) {
  throw Failure{kExitUsage, std::move(message) + " (see weft --help)"};
}

namespace {

struct OptionSpec {
  std::string_view name;        // long name, without "--"
  char short_name;              // 0: none
  bool takes_value;
};

struct CommandSpec {
  std::string_view name;
  bool takes_multiaddr;
  std::vector<OptionSpec> options;
};

const std::vector<CommandSpec>& commands() {
  static const std::vector<CommandSpec> specs = {
      {"id", false, {{"key", 0, true}}},
      {"listen", false, {{"addr", 0, true}, {"key", 0, true}, {"stdin-eof", 0, false}}},
      {"ping", true, {{"count", 'n', true}, {"interval", 0, true}, {"key", 0, true}}},
      {"echo", true, {{"bytes", 0, true}, {"key", 0, true}}},
      {"perf", true, {{"upload", 0, true}, {"download", 0, true}, {"key", 0, true}}},
      {"identify", true, {{"key", 0, true}}},
  };
  return specs;
}

const CommandSpec* find_command(std::string_view name) {
  for (const auto& spec : commands())
    if (spec.name == name) return &spec;
  return nullptr;
}

const OptionSpec* find_option(const CommandSpec& spec, std::string_view name, char short_name) {
  for (const auto& option : spec.options)
    if ((!name.empty() && option.name == name) || (short_name && option.short_name == short_name))
      return &option;
  return nullptr;
}

int parse_timeout(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > INT_MAX)
    usage_error("--timeout: expected milliseconds (0 for no limit), got '" + std::string(text) +
                "'");
  return static_cast<int>(value);
}

// The global options, accepted before or after the command. Returns false if `name` is not one.
bool take_global(CommandLine& line, std::string_view name, const std::string* value,
                 bool& used_value) {
  used_value = false;
  if (name == "json") {
    line.json = true;
  } else if (name == "verbose" || name == "v") {
    line.verbose = true;
  } else if (name == "help" || name == "h") {
    line.help = true;
  } else if (name == "version") {
    line.version = true;
  } else if (name == "timeout") {
    if (!value) usage_error("--timeout needs a value in milliseconds");
    line.timeout_ms = parse_timeout(*value);
    line.timeout_given = true;
    used_value = true;
  } else {
    return false;
  }
  return true;
}

}  // namespace

bool parse_size(std::string_view text, std::uint64_t& out) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data()) return false;
  std::string suffix(end, text.data() + text.size());
  std::transform(suffix.begin(), suffix.end(), suffix.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  unsigned shift = 0;
  if (suffix.empty() || suffix == "B") shift = 0;
  else if (suffix == "K" || suffix == "KIB") shift = 10;
  else if (suffix == "M" || suffix == "MIB") shift = 20;
  else if (suffix == "G" || suffix == "GIB") shift = 30;
  else return false;
  if (shift && value > (UINT64_MAX >> shift)) return false;
  out = value << shift;
  return true;
}

bool CommandLine::has(std::string_view option) const {
  return options.find(option) != options.end();
}

std::string CommandLine::text(std::string_view option, std::string fallback) const {
  auto it = options.find(option);
  return it == options.end() ? fallback : it->second.back();
}

std::vector<std::string> CommandLine::all(std::string_view option) const {
  auto it = options.find(option);
  return it == options.end() ? std::vector<std::string>{} : it->second;
}

std::uint64_t CommandLine::number(std::string_view option, std::uint64_t fallback) const {
  if (!has(option)) return fallback;
  std::string value = text(option);
  std::uint64_t out = 0;
  if (!parse_size(value, out))
    usage_error("--" + std::string(option) + ": expected a number (suffixes K, M, G allowed), " +
                "got '" + value + "'");
  return out;
}

CommandLine parse_command_line(int argc, char** argv) {
  CommandLine line;
  std::vector<std::string> args(argv + 1, argv + argc);
  const CommandSpec* spec = nullptr;
  bool only_positionals = false;

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool is_option = !only_positionals && arg.size() > 1 && arg[0] == '-';
    if (!is_option) {
      if (!spec) {
        spec = find_command(arg);
        if (!spec) usage_error("unknown command '" + arg + "'");
        line.command = arg;
      } else {
        line.positionals.push_back(arg);
      }
      continue;
    }
    if (arg == "--") {
      only_positionals = true;
      continue;
    }

    // "--name", "--name=value", "-n", "-n5" / "-n 5".
    std::string name;
    std::string inline_value;
    bool has_inline_value = false;
    char short_name = 0;
    if (arg.rfind("--", 0) == 0) {
      name = arg.substr(2);
      if (auto eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name.resize(eq);
        has_inline_value = true;
      }
    } else {
      short_name = arg[1];
      name = std::string(1, short_name);
      if (arg.size() > 2) {
        inline_value = arg.substr(2);
        has_inline_value = true;
      }
    }
    const std::string* next = has_inline_value ? &inline_value
                              : i + 1 < args.size() ? &args[i + 1]
                                                    : nullptr;

    bool used_value = false;
    if (take_global(line, name, next, used_value)) {
      if (has_inline_value && !used_value) usage_error("option '" + arg + "' takes no value");
      if (used_value && !has_inline_value) ++i;
      continue;
    }
    const OptionSpec* option =
        spec ? find_option(*spec, short_name ? std::string_view{} : name, short_name) : nullptr;
    if (!option) {
      usage_error(spec ? "unknown option '" + arg + "' for '" + line.command + "'"
                       : "unknown option '" + arg + "'");
    }
    if (!option->takes_value) {
      if (has_inline_value) usage_error("option '" + arg + "' takes no value");
      line.options[std::string(option->name)].push_back("");
      continue;
    }
    if (!next) usage_error("option '" + arg + "' needs a value");
    line.options[std::string(option->name)].push_back(*next);
    if (!has_inline_value) ++i;
  }

  if (line.help || line.version) return line;
  if (!spec) usage_error("no command given");
  if (spec->takes_multiaddr) {
    if (line.positionals.empty()) usage_error("'" + line.command + "' needs a multiaddr");
    if (line.positionals.size() > 1)
      usage_error("'" + line.command + "' takes one multiaddr, got '" + line.positionals[1] +
                  "' too");
  } else if (!line.positionals.empty()) {
    usage_error("unexpected argument '" + line.positionals[0] + "' for '" + line.command + "'");
  }
  return line;
}

std::string_view help_text() {
  return R"(usage: weft [GLOBAL OPTIONS] COMMAND [ARGS]

A libp2p node on the command line (TCP + Noise + Yamux; identify, ping, echo, perf).

Commands:
  id [--key FILE]
      Print a peer id. With --key: create the Ed25519 key file FILE (mode 0600) if it does
      not exist, then print its peer id; the same file always gives the same id. Without
      --key: print the id of a throwaway identity (nothing is kept).

  listen [--addr MA]... [--key FILE] [--stdin-eof]
      Run a node that serves identify, ping, /echo/1.0.0 and /perf/1.0.0. Listens on every
      --addr (default /ip4/127.0.0.1/tcp/0; port 0 picks a free port). When ready, prints
      ONE JSON line on stdout, whatever the output format:
        {"peer_id": "...", "addrs": ["/ip4/127.0.0.1/tcp/N/p2p/...", ...]}
      Runs until SIGINT or SIGTERM (or stdin reaches end of file, with --stdin-eof), then
      stops gracefully and exits 0. --timeout applies only when given: the node then serves
      for that long and exits 0. --key FILE as for `id` (created if missing).

  ping MA [-n N] [--interval MS]
      Dial MA and ping N times (default 5), MS milliseconds apart (default 1000); print each
      round trip and min/median/max. --json: {"peer_id", "connect_ms", "rtts_ms": [...],
      "min_ms", "median_ms", "max_ms"}.

  echo MA [--bytes N]
      Send N random bytes (default 1M) on /echo/1.0.0 while reading them back, then compare.
      Exits 1 if what came back differs. --json: {"peer_id", "bytes", "received", "match",
      "seconds", "mb_per_s"}.

  perf MA [--upload N] [--download N]
      The /perf/1.0.0 client (libp2p/specs perf): upload N bytes, then download N bytes
      (defaults 16M each); print both throughputs. --json: {"peer_id", "upload_bytes",
      "upload_seconds", "download_bytes", "download_seconds"}.

  identify MA
      Print the remote's peer id, agent version, protocols and listen addresses. --json:
      {"peer_id", "agent_version", "protocols": [...], "listen_addrs": [...]}.

MA is a multiaddr such as /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...; with /p2p/ the remote must
be that peer. Sizes accept the suffixes K, M and G (binary: 16M = 16777216). The dialing
commands take --key FILE too (their own identity; created if missing).

Global options (before or after the command):
  --json          one JSON object per line on stdout instead of text
  --timeout MS    limit for the whole command (default 30000; 0 = none): on expiry, pending
                  operations are cancelled and weft exits 1
  -v, --verbose   the library's log on stderr
  -h, --help      this text
  --version       the tool's and the library's versions

Exit status: 0 success; 1 failure at run time (unreachable peer, wrong peer id, timeout, echo
mismatch, ...); 2 bad command line (unknown option, malformed number or multiaddr). Errors are
one line on stderr: "weft: <what>: <reason>".
)";
}

}  // namespace weft_cli
