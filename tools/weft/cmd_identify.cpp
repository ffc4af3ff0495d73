// weft identify MA: what the remote says about itself in /ipfs/id/1.0.0.
#include "commands.hpp"
#include "json.hpp"
#include "remote.hpp"

namespace weft_cli {

namespace {

void print_list(const char* title, const std::vector<std::string>& items) {
  print_line(std::string(title) + " (" + std::to_string(items.size()) + "):");
  for (const std::string& item : items) print_line("  " + item);
}

}  // namespace

int run_identify(const CommandLine& line) {
  Driver driver(dialer_setup(line));
  const Connection connection = dial(driver, line.positionals.at(0));
  const std::uint64_t token = driver.submit(
      "identify " + connection.peer_id,
      [&](std::uint64_t t) { return weft_identify(connection.conn, t); });
  Completion done = driver.wait(token);
  done.require_ok();

  const std::string agent = weft_event_text(done.event.get());
  const std::vector<std::string> protocols = split_lines(weft_event_list(done.event.get(), 0));
  const std::vector<std::string> addrs = split_lines(weft_event_list(done.event.get(), 1));
  if (line.json) {
    print_line(JsonObject()
                   .add("peer_id", connection.peer_id)
                   .add("agent_version", agent)
                   .add("protocols", protocols)
                   .add("listen_addrs", addrs)
                   .text());
  } else {
    print_line("peer id: " + connection.peer_id);
    print_line("agent version: " + agent);
    print_list("protocols", protocols);
    print_list("listen addresses", addrs);
  }
  return kExitOk;
}

}  // namespace weft_cli
