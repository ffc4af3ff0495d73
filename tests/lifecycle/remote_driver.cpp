// Usage:
//   weft-lifecycle-remote stop-under-load MA [--conns N] [--streams N] [--deadline-ms N]
//   weft-lifecycle-remote cancel-storm MA [--ops N]
//   weft-lifecycle-remote writers MA [--writers N] [--records N] [--size N]
//   weft-lifecycle-remote ping-faults MA [--cycles N] [--conns N] [--in-flight N] [--min-gap-ms N] [--max-gap-ms N]
//   weft-lifecycle-remote stall-listen [--deadline-ms N]
// MA is the remote's multiaddr with /p2p/<id>. Prints one JSON line (stall-
// listen prints a ready line first) with "ok", "error" and the figures;
// exits 0 iff ok, 2 on a usage error. Figures and progress go to stderr.
// Sanitized builds divide --ops and --cycles by 4 (ASan) or 10 (TSan) and
// report the divisor in "sanitizer_divisor".
#include "remote_driver.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "lifecycle_util.hpp"

namespace lcr {

std::uint64_t Options::number(const std::string& name, std::uint64_t fallback) const {
  auto it = values.find(name);
  if (it == values.end()) return fallback;
  return std::stoull(it->second);
}

std::uint64_t Options::count(const std::string& name, std::uint64_t fallback) const {
  return std::max<std::uint64_t>(1, number(name, fallback) / lc::sanitizer_divisor());
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

void Result::set(const std::string& key, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  fields_.emplace_back(key, buf);
}
void Result::set(const std::string& key, std::uint64_t value) { fields_.emplace_back(key, std::to_string(value)); }
void Result::set(const std::string& key, const std::string& value) { fields_.emplace_back(key, json_string(value)); }

void Result::fail(const std::string& what) {
  std::cerr << "weft-lifecycle-remote: check failed: " << what << std::endl;
  ++failures_;
  if (error_.empty()) error_ = what;
}

std::string Result::json() const {
  std::string out = "{\"ok\": " + std::string(ok() ? "true" : "false") + ", \"error\": " + json_string(error_) +
                    ", \"failed_checks\": " + std::to_string(failures_);
  for (const auto& [key, value] : fields_) out += ", " + json_string(key) + ": " + value;
  return out + "}";
}

}  // namespace lcr

namespace {

lcr::Result* current = nullptr;

void record_failure(const std::string& what) {
  if (current != nullptr) current->fail(what);
}

int usage(const std::string& why) {
  std::cerr << "weft-lifecycle-remote: " << why << "\n"
            << "usage: weft-lifecycle-remote stop-under-load|cancel-storm|writers|ping-faults MA [--name N]...\n"
            << "       weft-lifecycle-remote stall-listen [--deadline-ms N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage("no scenario given");
  const std::string scenario = argv[1];
  const bool needs_target = scenario != "stall-listen";
  int first_option = needs_target ? 3 : 2;
  if (needs_target && argc < 3) return usage(scenario + " needs the remote's multiaddr");
  const std::string target = needs_target ? argv[2] : "";
  lcr::Options options;
  for (int i = first_option; i < argc; i += 2) {
    const std::string name = argv[i];
    if (name.rfind("--", 0) != 0 || i + 1 >= argc) return usage("bad option '" + name + "'");
    options.values[name.substr(2)] = argv[i + 1];
  }
  lcr::Result result;
  result.set("build", std::string(lc::build_kind()));
  result.set("sanitizer_divisor", static_cast<std::uint64_t>(lc::sanitizer_divisor()));
  current = &result;
  lc::set_failure_handler(record_failure);
  try {
    if (scenario == "stop-under-load") lcr::stop_under_load(target, options, result);
    else if (scenario == "cancel-storm") lcr::cancel_storm(target, options, result);
    else if (scenario == "writers") lcr::writers(target, options, result);
    else if (scenario == "ping-faults") lcr::ping_faults(target, options, result);
    else if (scenario == "stall-listen") lcr::stall_listen(options, result);
    else return usage("unknown scenario '" + scenario + "'");
  } catch (const std::exception& e) {
    result.fail(std::string("exception: ") + e.what());
  }
  std::cout << result.json() << std::endl;
  return result.ok() ? 0 : 1;
}
