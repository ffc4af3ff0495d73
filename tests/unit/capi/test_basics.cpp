// The C ABI without networking: versions, errors, configurations, identity
// files, handles (zero, stale, mistyped), argument checks, the log callback.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>

#include "capi/capi_test_util.hpp"

using namespace capi_test;

namespace {

std::string temp_path(const char* name) {
  return testing::TempDir() + "weft_capi_" + std::to_string(::getpid()) + "_" + name;
}

}  // namespace

TEST(CapiBasics, Versions) {
  EXPECT_EQ(weft_version(), unsigned(WEFT_VERSION_NUMBER));
  EXPECT_STREQ(weft_version_string(), "0.1.0");
  EXPECT_EQ(weft_abi_version(), unsigned(WEFT_ABI_VERSION));
}

TEST(CapiBasics, StatusTexts) {
  EXPECT_STREQ(weft_strerror(WEFT_OK), "success");
  EXPECT_STREQ(weft_strerror(WEFT_ETIMEDOUT), "timed out");
  EXPECT_STRNE(weft_strerror(WEFT_ESTATE), "unknown error");
  EXPECT_STREQ(weft_strerror(-1), "unknown error");
  EXPECT_STREQ(weft_strerror(22), "unknown error");
  for (int s = WEFT_OK; s <= WEFT_ESTATE; ++s) EXPECT_STRNE(weft_strerror(s), "unknown error") << s;
}

TEST(CapiBasics, LastErrorIsPerThreadWithDetail) {
  weft_config cfg;
  ASSERT_EQ(weft_config_new(&cfg), WEFT_OK);
  EXPECT_EQ(weft_config_add_listen_addr(cfg, "/ip4/127.0.0.1/tcpx/1"), WEFT_EPARSE);
  const std::string here = weft_last_error();
  EXPECT_NE(here.find("tcpx"), std::string::npos) << here;
  EXPECT_EQ(here.rfind(weft_strerror(WEFT_EPARSE), 0), 0u) << here;
  std::string other = "unset";
  std::thread([&] { other = weft_last_error(); }).join();
  EXPECT_EQ(other, "");
  EXPECT_EQ(weft_config_free(cfg), WEFT_OK);
}

TEST(CapiBasics, ConfigLimits) {
  weft_config cfg;
  ASSERT_EQ(weft_config_new(&cfg), WEFT_OK);
  uint64_t v = 0;
  const std::pair<int, uint64_t> defaults[] = {
      {WEFT_LIMIT_MAX_INBOUND_CONNECTIONS, 256}, {WEFT_LIMIT_MAX_OUTBOUND_CONNECTIONS, 256},
      {WEFT_LIMIT_MAX_CONNECTIONS_PER_PEER, 8},  {WEFT_LIMIT_MAX_PENDING_HANDSHAKES, 64},
      {WEFT_LIMIT_HANDSHAKE_TIMEOUT_MS, 15000},  {WEFT_LIMIT_NEGOTIATION_TIMEOUT_MS, 10000},
      {WEFT_LIMIT_DIAL_TIMEOUT_MS, 10000},       {WEFT_LIMIT_PING_TIMEOUT_MS, 10000},
      {WEFT_LIMIT_IDENTIFY_TIMEOUT_MS, 10000},   {WEFT_LIMIT_MAX_STREAMS_PER_CONNECTION, 1024},
      {WEFT_LIMIT_IDENTIFY_MAX_MESSAGE_SIZE, 8192}, {WEFT_LIMIT_MULTISTREAM_MAX_MESSAGE_SIZE, 1024},
      {WEFT_LIMIT_STREAM_RECEIVE_WINDOW_MAX, 16777216}, {WEFT_LIMIT_INBOUND_STREAM_BACKLOG, 256},
      {WEFT_LIMIT_MAX_READ_SIZE, 1048576},       {WEFT_LIMIT_MAX_PENDING_EVENTS, 65536},
      {WEFT_LIMIT_IO_SPIN_US, 0},                {WEFT_LIMIT_CONNECTION_RECEIVE_WINDOWS_MAX, 67108864},
  };
  for (auto [limit, expected] : defaults) {
    ASSERT_EQ(weft_config_get_limit(cfg, limit, &v), WEFT_OK) << limit;
    EXPECT_EQ(v, expected) << limit;
    ASSERT_EQ(weft_config_set_limit(cfg, limit, expected + 1), WEFT_OK)
        << limit << weft_last_error();
    ASSERT_EQ(weft_config_get_limit(cfg, limit, &v), WEFT_OK);
    EXPECT_EQ(v, expected + 1) << limit;
  }
  EXPECT_EQ(weft_config_set_limit(cfg, 0, 1), WEFT_EINVAL);
  EXPECT_EQ(weft_config_set_limit(cfg, 19, 1), WEFT_EINVAL);
  EXPECT_EQ(weft_config_get_limit(cfg, 99, &v), WEFT_EINVAL);
  EXPECT_EQ(weft_config_get_limit(cfg, WEFT_LIMIT_MAX_READ_SIZE, nullptr), WEFT_EINVAL);
  EXPECT_EQ(weft_config_set_limit(cfg, WEFT_LIMIT_MAX_READ_SIZE, 0), WEFT_EINVAL);
  EXPECT_EQ(weft_config_set_limit(cfg, WEFT_LIMIT_DIAL_TIMEOUT_MS, 0), WEFT_EINVAL);
  EXPECT_EQ(weft_config_set_limit(cfg, WEFT_LIMIT_STREAM_RECEIVE_WINDOW_MAX, 1024), WEFT_EINVAL);
  EXPECT_EQ(weft_config_set_limit(cfg, WEFT_LIMIT_STREAM_RECEIVE_WINDOW_MAX, 1ull << 32),
            WEFT_EINVAL);
  EXPECT_EQ(weft_config_set_limit(cfg, WEFT_LIMIT_MAX_PENDING_EVENTS, UINT64_MAX), WEFT_EINVAL);
  EXPECT_EQ(weft_config_set_limit(cfg, WEFT_LIMIT_IO_SPIN_US, 10001), WEFT_EINVAL);
  EXPECT_EQ(weft_config_set_limit(cfg, WEFT_LIMIT_CONNECTION_RECEIVE_WINDOWS_MAX, 1024), WEFT_EINVAL);
  EXPECT_NE(std::string(weft_last_error()).find("between"), std::string::npos);
  // A rejected value leaves the limit as it was.
  ASSERT_EQ(weft_config_get_limit(cfg, WEFT_LIMIT_MAX_READ_SIZE, &v), WEFT_OK);
  EXPECT_EQ(v, 1048577u);
  EXPECT_EQ(weft_config_free(cfg), WEFT_OK);
}

TEST(CapiBasics, ConfigSettersValidate) {
  weft_config cfg;
  ASSERT_EQ(weft_config_new(&cfg), WEFT_OK);
  EXPECT_EQ(weft_config_new(nullptr), WEFT_EINVAL);
  EXPECT_EQ(weft_config_add_listen_addr(cfg, nullptr), WEFT_EINVAL);
  EXPECT_EQ(weft_config_add_listen_addr(cfg, ""), WEFT_EINVAL);
  EXPECT_EQ(weft_config_add_listen_addr(cfg, "not a multiaddr"), WEFT_EPARSE);
  EXPECT_EQ(weft_config_add_listen_addr(cfg, "/ip4/300.0.0.1/tcp/1"), WEFT_EPARSE);
  EXPECT_EQ(weft_config_add_listen_addr(cfg, "/ip4/127.0.0.1/udp/1/quic-v1"), WEFT_EUNSUPPORTED);
  EXPECT_EQ(weft_config_add_listen_addr(cfg, "/dns4/localhost/tcp/1"), WEFT_EINVAL);
  EXPECT_EQ(weft_config_add_listen_addr(cfg, "/ip6/::1/tcp/0"), WEFT_OK);
  EXPECT_EQ(weft_config_set_agent_version(cfg, nullptr), WEFT_EINVAL);
  EXPECT_EQ(weft_config_set_agent_version(cfg, ""), WEFT_EINVAL);
  EXPECT_EQ(weft_config_set_agent_version(cfg, std::string(2000, 'a').c_str()), WEFT_EINVAL);
  EXPECT_EQ(weft_config_set_agent_version(cfg, "capi-test/1"), WEFT_OK);
  EXPECT_EQ(weft_config_set_io_threads(cfg, 0), WEFT_OK);  // driven by weft_node_poll
  EXPECT_EQ(weft_config_set_io_threads(cfg, 65), WEFT_EINVAL);
  EXPECT_EQ(weft_config_set_io_threads(cfg, 2), WEFT_OK);
  EXPECT_EQ(weft_config_enable_builtin(cfg, 0, 1), WEFT_EINVAL);
  EXPECT_EQ(weft_config_enable_builtin(cfg, 3, 1), WEFT_EINVAL);
  EXPECT_EQ(weft_config_enable_builtin(cfg, WEFT_BUILTIN_ECHO, 0), WEFT_OK);
  EXPECT_EQ(weft_config_enable_builtin(cfg, WEFT_BUILTIN_PERF, 1), WEFT_OK);
  EXPECT_EQ(weft_config_set_identity_file(cfg, nullptr), WEFT_EINVAL);
  EXPECT_EQ(weft_config_set_identity_file(cfg, "/nonexistent/weft/key"), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_config_free(cfg), WEFT_OK);
}

TEST(CapiBasics, StaleZeroAndMistypedHandles) {
  weft_config cfg;
  ASSERT_EQ(weft_config_new(&cfg), WEFT_OK);
  ASSERT_EQ(weft_config_free(cfg), WEFT_OK);
  // Freed: every use is ENOTFOUND, including a second free.
  EXPECT_EQ(weft_config_free(cfg), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_config_add_listen_addr(cfg, "/ip4/127.0.0.1/tcp/0"), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_config_set_identity_file(cfg, "/x"), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_config_set_agent_version(cfg, "x"), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_config_set_io_threads(cfg, 1), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_config_set_limit(cfg, WEFT_LIMIT_MAX_READ_SIZE, 5), WEFT_ENOTFOUND);
  uint64_t v;
  EXPECT_EQ(weft_config_get_limit(cfg, WEFT_LIMIT_MAX_READ_SIZE, &v), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_config_enable_builtin(cfg, WEFT_BUILTIN_ECHO, 1), WEFT_ENOTFOUND);
  weft_node n;
  EXPECT_EQ(weft_node_new(cfg, &n), WEFT_ENOTFOUND);
  EXPECT_EQ(n.id, 0u);

  // The zero handle and never-issued ids.
  const uint64_t ids[] = {0, 0xfffffffffffffull};
  for (uint64_t id : ids) {
    weft_node node{id};
    weft_conn conn{id};
    weft_stream stream{id};
    char buf[64];
    size_t count = 0;
    weft_event* evs[1];
    int fd;
    EXPECT_EQ(weft_node_start(node), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_node_stop(node, 0), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_node_close(node), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_node_peer_id(node, buf, sizeof buf, nullptr), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_node_listen_addrs(node, buf, sizeof buf, nullptr), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_node_stat(node, WEFT_STAT_STREAMS, &v), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_node_event_fd(node, &fd), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_node_poll(node, evs, 1, 0, &count), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_cancel(node, 1), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_dial(node, "/ip4/127.0.0.1/tcp/1", 1), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_node_handle(node, "/x/1"), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_node_unhandle(node, "/x/1"), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_accept_stream(node, "/x/1", 1), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_conn_close(conn), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_conn_peer_id(conn, buf, sizeof buf, nullptr), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_conn_remote_addr(conn, buf, sizeof buf, nullptr), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_ping(conn, 1), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_identify(conn, 1), WEFT_ENOTFOUND);
    const char* protos[] = {"/echo/1.0.0"};
    EXPECT_EQ(weft_open_stream(conn, protos, 1, 1), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_stream_read(stream, 10, 1), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_stream_write(stream, reinterpret_cast<const uint8_t*>("x"), 1, 1),
              WEFT_ENOTFOUND);
    EXPECT_EQ(weft_stream_close_write(stream, 1), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_stream_reset(stream), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_stream_free(stream), WEFT_ENOTFOUND);
    EXPECT_EQ(weft_stream_protocol(stream, buf, sizeof buf, nullptr), WEFT_ENOTFOUND);
  }

  // A live node's id used as another handle type is not found either.
  weft_node node = make_node({0}, false);
  weft_config as_config{node.id};
  weft_conn as_conn{node.id};
  weft_stream as_stream{node.id};
  EXPECT_EQ(weft_config_free(as_config), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_ping(as_conn, 1), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_stream_read(as_stream, 1, 1), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_stream_free(as_stream), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_node_close(node), WEFT_OK);
}

TEST(CapiBasics, NullArguments) {
  weft_node node = make_node();
  char buf[8];
  size_t needed = 0;
  EXPECT_EQ(weft_node_new(weft_config{0}, nullptr), WEFT_EINVAL);
  EXPECT_EQ(weft_node_peer_id(node, nullptr, 10, &needed), WEFT_EINVAL);
  // NULL with length 0 asks for the size.
  EXPECT_EQ(weft_node_peer_id(node, nullptr, 0, &needed), WEFT_ELIMIT);
  EXPECT_GT(needed, 40u);
  EXPECT_EQ(weft_node_peer_id(node, buf, sizeof buf, &needed), WEFT_ELIMIT);
  std::string id(needed, '\0');
  EXPECT_EQ(weft_node_peer_id(node, id.data(), id.size(), nullptr), WEFT_OK);
  EXPECT_EQ(std::strlen(id.c_str()), needed - 1);
  EXPECT_EQ(weft_node_listen_addrs(node, nullptr, 5, nullptr), WEFT_EINVAL);
  EXPECT_EQ(weft_node_stat(node, WEFT_STAT_STREAMS, nullptr), WEFT_EINVAL);
  uint64_t v;
  EXPECT_EQ(weft_node_stat(node, 0, &v), WEFT_EINVAL);
  EXPECT_EQ(weft_node_stat(node, 12, &v), WEFT_EINVAL);
  EXPECT_EQ(weft_node_event_fd(node, nullptr), WEFT_EINVAL);
  weft_event* evs[2];
  size_t count = 7;
  EXPECT_EQ(weft_node_poll(node, nullptr, 1, 0, &count), WEFT_EINVAL);
  EXPECT_EQ(count, 0u);
  EXPECT_EQ(weft_node_poll(node, evs, 1, 0, nullptr), WEFT_EINVAL);
  EXPECT_EQ(weft_node_poll(node, evs, 0, 0, &count), WEFT_EINVAL);
  EXPECT_EQ(weft_node_poll(node, evs, 2, -2, &count), WEFT_EINVAL);
  EXPECT_EQ(weft_dial(node, nullptr, 1), WEFT_EINVAL);
  EXPECT_EQ(weft_dial(node, "", 1), WEFT_EINVAL);
  EXPECT_EQ(weft_node_handle(node, nullptr), WEFT_EINVAL);
  EXPECT_EQ(weft_node_handle(node, ""), WEFT_EINVAL);
  EXPECT_EQ(weft_node_handle(node, "/with\nnewline"), WEFT_EINVAL);
  EXPECT_EQ(weft_node_handle(node, std::string(5000, 'p').c_str()), WEFT_EINVAL);
  EXPECT_EQ(weft_node_unhandle(node, nullptr), WEFT_EINVAL);
  EXPECT_EQ(weft_node_unhandle(node, "/never/registered"), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_accept_stream(node, nullptr, 1), WEFT_EINVAL);
  EXPECT_EQ(weft_accept_stream(node, "/never/registered", 1), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_identity_generate_file(nullptr), WEFT_EINVAL);
  EXPECT_EQ(weft_identity_generate_file(""), WEFT_EINVAL);
  EXPECT_EQ(weft_identity_peer_id(nullptr, buf, sizeof buf, nullptr), WEFT_EINVAL);
  EXPECT_EQ(weft_set_log_callback(-1, nullptr, nullptr), WEFT_EINVAL);
  EXPECT_EQ(weft_set_log_callback(6, nullptr, nullptr), WEFT_EINVAL);
  // Event accessors accept NULL.
  weft_event_free(nullptr);
  size_t len = 9;
  EXPECT_EQ(weft_event_type_of(nullptr), 0);
  EXPECT_EQ(weft_event_token(nullptr), 0u);
  EXPECT_EQ(weft_event_status(nullptr), 0);
  EXPECT_STREQ(weft_event_error(nullptr), "");
  EXPECT_EQ(weft_event_conn(nullptr).id, 0u);
  EXPECT_EQ(weft_event_stream(nullptr).id, 0u);
  EXPECT_STREQ(weft_event_protocol(nullptr), "");
  EXPECT_EQ(weft_event_data(nullptr, &len), nullptr);
  EXPECT_EQ(len, 0u);
  EXPECT_EQ(weft_event_count(nullptr), 0u);
  EXPECT_STREQ(weft_event_text(nullptr), "");
  EXPECT_STREQ(weft_event_peer_id(nullptr), "");
  EXPECT_STREQ(weft_event_list(nullptr, 0), "");
  // No event was queued by any failed call.
  EXPECT_EQ(stat(node, WEFT_STAT_QUEUED_EVENTS), 0u);
  EXPECT_EQ(stat(node, WEFT_STAT_PENDING_OPS), 0u);
  EXPECT_EQ(weft_node_close(node), WEFT_OK);
}

TEST(CapiBasics, MalformedMultiaddrsAndPeerIds) {
  weft_node node = make_node();
  const char* bad_parse[] = {
      "ip4/127.0.0.1/tcp/1",                 // no leading slash
      "/ip4/127.0.0.1/tcpx/1",               // unknown protocol
      "/ip4/127.0.0.1/tcp/99999",            // port out of range
      "/ip4/127.0.0.1/tcp/1/p2p/notapeerid", // bad peer id
      "/ip4/127.0.0.1/tcp/1/p2p/QmQmQmQmQmQm",
      "/",
  };
  for (const char* a : bad_parse) {
    EXPECT_EQ(weft_dial(node, a, 1), WEFT_EPARSE) << a;
    EXPECT_STRNE(weft_last_error(), "");
  }
  EXPECT_EQ(weft_dial(node, "/ip4/127.0.0.1/udp/1/quic-v1", 1), WEFT_EUNSUPPORTED);
  EXPECT_EQ(weft_dial(node, std::string(5000, '/').c_str(), 1), WEFT_EINVAL);
  EXPECT_EQ(stat(node, WEFT_STAT_PENDING_OPS), 0u);
  Poller poller(node);
  poller.settle(50ms);
  EXPECT_TRUE(poller.all_seen().empty());
  EXPECT_EQ(weft_node_close(node), WEFT_OK);
}

TEST(CapiBasics, IdentityFiles) {
  const std::string path = temp_path("key");
  ::unlink(path.c_str());
  ASSERT_EQ(weft_identity_generate_file(path.c_str()), WEFT_OK) << weft_last_error();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(weft_identity_generate_file(path.c_str()), WEFT_EBUSY);

  char id[128];
  size_t needed = 0;
  ASSERT_EQ(weft_identity_peer_id(path.c_str(), id, sizeof id, &needed), WEFT_OK);
  EXPECT_EQ(needed, std::strlen(id) + 1);
  EXPECT_EQ(std::string(id).rfind("12D3KooW", 0), 0u) << id;
  char small[4];
  EXPECT_EQ(weft_identity_peer_id(path.c_str(), small, sizeof small, &needed), WEFT_ELIMIT);
  EXPECT_EQ(needed, std::strlen(id) + 1);

  // A node configured with it has that peer id.
  weft_config cfg;
  ASSERT_EQ(weft_config_new(&cfg), WEFT_OK);
  ASSERT_EQ(weft_config_set_identity_file(cfg, path.c_str()), WEFT_OK) << weft_last_error();
  weft_node node;
  ASSERT_EQ(weft_node_new(cfg, &node), WEFT_OK);
  EXPECT_EQ(peer_id(node), id);
  EXPECT_EQ(weft_node_close(node), WEFT_OK);

  // Garbage is a parse error, not a crash.
  const std::string junk = temp_path("junk");
  FILE* f = std::fopen(junk.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("definitely not a protobuf key", f);
  std::fclose(f);
  EXPECT_EQ(weft_identity_peer_id(junk.c_str(), id, sizeof id, nullptr), WEFT_EPARSE);
  EXPECT_EQ(weft_config_set_identity_file(cfg, junk.c_str()), WEFT_EPARSE);
  EXPECT_EQ(weft_identity_peer_id("/nonexistent/weft/key", id, sizeof id, nullptr), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_identity_generate_file("/nonexistent/dir/key"), WEFT_EIO);
  EXPECT_EQ(weft_config_free(cfg), WEFT_OK);
  ::unlink(path.c_str());
  ::unlink(junk.c_str());
}

TEST(CapiBasics, NodeStartErrors) {
  weft_node a = make_node();
  // A second node on the same port: address in use.
  const std::string addr = listen_addr(a);
  const std::string tcp = addr.substr(0, addr.find("/p2p/"));
  weft_config cfg;
  ASSERT_EQ(weft_config_new(&cfg), WEFT_OK);
  ASSERT_EQ(weft_config_add_listen_addr(cfg, tcp.c_str()), WEFT_OK);
  weft_node b;
  ASSERT_EQ(weft_node_new(cfg, &b), WEFT_OK);
  EXPECT_EQ(weft_node_start(b), WEFT_EBUSY) << weft_last_error();
  EXPECT_EQ(weft_config_free(cfg), WEFT_OK);
  EXPECT_EQ(weft_node_start(a), WEFT_ESTATE);  // already started
  char buf[256];
  EXPECT_EQ(weft_node_listen_addrs(b, buf, sizeof buf, nullptr), WEFT_OK);
  EXPECT_STREQ(buf, "");  // empty before a successful start
  EXPECT_EQ(weft_node_close(b), WEFT_OK);
  EXPECT_EQ(weft_node_close(a), WEFT_OK);
}

namespace {

struct LogSink {
  std::mutex mu;
  std::vector<std::string> messages;
  std::atomic<int> stop_status{-1};
  std::atomic<int> set_status{-1};
  weft_node node{0};
};

void collect_log(void* user, int level, const char* message) {
  auto* sink = static_cast<LogSink*>(user);
  // Calls that are not allowed from here say so instead of deadlocking.
  sink->stop_status = weft_node_stop(sink->node, 0);
  sink->set_status = weft_set_log_callback(WEFT_LOG_OFF, nullptr, nullptr);
  // Other calls are allowed, failing ones included.
  uint64_t v;
  (void)weft_node_stat(sink->node, WEFT_STAT_STREAMS, &v);
  (void)weft_dial(sink->node, "garbage", 1);
  std::lock_guard lock(sink->mu);
  sink->messages.push_back(std::to_string(level) + " " + message);
}

}  // namespace

// Turns logging off even when a test fails half-way (the sink is a local).
struct LogOffAtExit {
  ~LogOffAtExit() { weft_set_log_callback(WEFT_LOG_OFF, nullptr, nullptr); }
};

TEST(CapiBasics, LogCallback) {
  LogSink sink;
  LogOffAtExit log_off;
  sink.node = make_node();
  ASSERT_EQ(weft_set_log_callback(WEFT_LOG_DEBUG, collect_log, &sink), WEFT_OK);
  // A failing call logs on the calling thread; its own error survives the
  // failing calls the callback makes.
  EXPECT_EQ(weft_dial(sink.node, "/ip4/1.2.3.4/tcpx/1", 5), WEFT_EPARSE);
  EXPECT_NE(std::string(weft_last_error()).find("tcpx"), std::string::npos) << weft_last_error();
  ASSERT_EQ(weft_set_log_callback(WEFT_LOG_OFF, nullptr, nullptr), WEFT_OK);
  {
    std::lock_guard lock(sink.mu);
    ASSERT_FALSE(sink.messages.empty());
    EXPECT_NE(sink.messages[0].find("weft_dial"), std::string::npos) << sink.messages[0];
  }
  EXPECT_EQ(sink.stop_status.load(), WEFT_EBUSY);
  EXPECT_EQ(sink.set_status.load(), WEFT_EBUSY);
  const size_t before = sink.messages.size();
  EXPECT_EQ(weft_dial(sink.node, "garbage", 5), WEFT_EPARSE);
  EXPECT_EQ(sink.messages.size(), before);  // logging is off again
  // The node still works after the refused stop.
  uint64_t v;
  EXPECT_EQ(weft_node_stat(sink.node, WEFT_STAT_CONNECTIONS, &v), WEFT_OK);
  EXPECT_EQ(weft_node_close(sink.node), WEFT_OK);
}
