// weft id [--key FILE]: the peer id of a key file (created if missing), or of a throwaway one.
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "commands.hpp"
#include "driver.hpp"
#include "json.hpp"

namespace weft_cli {

namespace {

std::string peer_id_of(const std::string& path) {
  return read_text([&](char* buf, std::size_t len, std::size_t* needed) {
    return weft_identity_peer_id(path.c_str(), buf, len, needed);
  }, "read key file " + path);
}

// A fresh identity in a private temporary directory, removed before returning.
std::string throwaway_peer_id() {
  std::error_code error;
  std::filesystem::path base = std::filesystem::temp_directory_path(error);
  if (error) base = "/tmp";
  std::string directory = (base / "weft-id-XXXXXX").string();
  if (!::mkdtemp(directory.data())) fail("create a temporary directory in " + base.string());
  const std::string path = directory + "/key";
  struct Cleanup {
    const std::string& directory;
    ~Cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(directory, ignored);
    }
  } cleanup{directory};
  ensure_identity_file(path);
  return peer_id_of(path);
}

}  // namespace

int run_id(const CommandLine& line) {
  const std::string key = line.text("key");
  const bool created = key.empty() || ensure_identity_file(key);
  const std::string peer_id = key.empty() ? throwaway_peer_id() : peer_id_of(key);
  if (line.json) {
    JsonObject json;
    json.add("peer_id", peer_id);
    if (key.empty()) json.add_null("key_file");
    else json.add("key_file", key);
    print_line(json.add("created", created).text());
  } else {
    print_line(peer_id);
  }
  return kExitOk;
}

}  // namespace weft_cli
