// Output: JSON objects written one per line (the --json format and listen's ready line), and
// text lines, each flushed at once so that a script reading the pipe sees it immediately.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace weft_cli {

class JsonObject {
 public:
  JsonObject& add(std::string_view key, std::string_view value);
  JsonObject& add(std::string_view key, const char* value) {
    return add(key, std::string_view(value));
  }
  JsonObject& add(std::string_view key, const std::string& value) {
    return add(key, std::string_view(value));
  }
  JsonObject& add(std::string_view key, bool value);
  JsonObject& add(std::string_view key, double value);
  JsonObject& add(std::string_view key, std::uint64_t value);
  JsonObject& add(std::string_view key, const std::vector<std::string>& values);
  JsonObject& add(std::string_view key, const std::vector<double>& values);
  JsonObject& add_null(std::string_view key);

  std::string text() const { return "{" + body_ + "}"; }

 private:
  void key(std::string_view name);
  std::string body_;
};

std::string json_string(std::string_view text);
// The shortest text that reads back as `value`; null if it is not finite.
std::string json_number(double value);

// Writes `line` and a newline to stdout and flushes.
void print_line(const std::string& line);

}  // namespace weft_cli
