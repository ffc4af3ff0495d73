// Lifecycle of a node through the C ABI: stop with operations pending,
// calls after stop and after close, the event fd, resources returned on
// close, and many threads using one node at once.
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <set>

#include "capi/capi_test_util.hpp"
#include "capi/silent_listener.hpp"

using namespace capi_test;

namespace {

bool fd_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

const uint8_t* bytes(const char* s) { return reinterpret_cast<const uint8_t*>(s); }

// Polls without waiting, up to `max` (at most 4) events, frees them and
// returns how many there were.
size_t poll_now_and_free(weft_node node, size_t max) {
  weft_event* ev[4];
  size_t n = 0;
  EXPECT_EQ(weft_node_poll(node, ev, std::min<size_t>(max, 4), 0, &n), WEFT_OK);
  for (size_t i = 0; i < n; ++i) weft_event_free(ev[i]);
  return n;
}

}  // namespace

TEST(CapiLifecycle, OperationsBeforeStartAndDoubleStopClose) {
  weft_node n = make_node({0}, false);
  EXPECT_EQ(weft_dial(n, "/ip4/127.0.0.1/tcp/1", 1), WEFT_ESTATE);
  EXPECT_EQ(weft_node_handle(n, "/early/1"), WEFT_OK);  // registering is fine
  EXPECT_EQ(weft_accept_stream(n, "/early/1", 2), WEFT_ESTATE);
  EXPECT_EQ(stat(n, WEFT_STAT_PENDING_OPS), 0u);
  EXPECT_EQ(weft_node_stop(n, 0), WEFT_OK);
  EXPECT_EQ(weft_node_stop(n, 0), WEFT_OK);
  EXPECT_EQ(weft_node_start(n), WEFT_ESTOPPED);
  EXPECT_EQ(weft_node_close(n), WEFT_OK);
  EXPECT_EQ(weft_node_close(n), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_node_stop(n, 0), WEFT_ENOTFOUND);
}

TEST(CapiLifecycle, StopCompletesEveryPendingOperationOnce) {
  SilentListener silent;
  weft_node a = make_node();
  weft_node b = make_node();
  Poller pb(b);
  weft_conn conn = dial(b, pb, a);
  ASSERT_EQ(weft_node_handle(b, "/waiting/1"), WEFT_OK);
  const char* echo[] = {"/echo/1.0.0"};
  ASSERT_EQ(weft_open_stream(conn, echo, 1, 2), WEFT_OK);
  weft_stream s = pb.expect(2).stream;
  ASSERT_NE(s.id, 0u);

  std::set<uint64_t> submitted;
  uint64_t token = 100;
  auto submit = [&](int st) {
    EXPECT_EQ(st, WEFT_OK) << weft_last_error();
    if (st == WEFT_OK) submitted.insert(token);
    ++token;
  };
  for (int i = 0; i < 20; ++i) submit(weft_stream_read(s, 100, token));
  for (int i = 0; i < 5; ++i) submit(weft_accept_stream(b, "/waiting/1", token));
  for (int i = 0; i < 3; ++i) submit(weft_dial(b, silent.multiaddr().c_str(), token));
  for (int i = 0; i < 5; ++i) submit(weft_ping(conn, token));
  for (int i = 0; i < 5; ++i) submit(weft_stream_write(s, bytes("xyz"), 3, token));
  submit(weft_identify(conn, token));

  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(weft_node_stop(b, 500), WEFT_OK);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  // Every completion is queued by the time stop returns.
  EXPECT_EQ(stat(b, WEFT_STAT_PENDING_OPS), 0u);
  EXPECT_EQ(stat(b, WEFT_STAT_QUEUED_EVENTS), submitted.size());
  pb.settle(50ms);
  for (uint64_t t : submitted) EXPECT_EQ(pb.seen(t), 1) << t;
  EXPECT_EQ(pb.all_seen().size(), submitted.size() + 2);  // + the dial and the open
  for (uint64_t t = 100; t < 120; ++t) {
    Event e = pb.expect(t, 0ms);
    EXPECT_TRUE(e.status == WEFT_ESTOPPED || e.status == WEFT_ECLOSED || e.status == WEFT_ERESET ||
                e.status == WEFT_OK)
        << e.status << " " << e.error;
  }
  for (uint64_t t = 120; t < 125; ++t) EXPECT_EQ(pb.expect(t, 0ms).status, WEFT_ESTOPPED);

  // After stop: submissions and registrations are refused, inspection works.
  EXPECT_EQ(weft_dial(b, listen_addr(a).c_str(), 1), WEFT_ESTOPPED);
  EXPECT_EQ(weft_ping(conn, 1), WEFT_ESTOPPED);
  EXPECT_EQ(weft_identify(conn, 1), WEFT_ESTOPPED);
  EXPECT_EQ(weft_open_stream(conn, echo, 1, 1), WEFT_ESTOPPED);
  EXPECT_EQ(weft_stream_read(s, 1, 1), WEFT_ESTOPPED);
  EXPECT_EQ(weft_stream_write(s, bytes("x"), 1, 1), WEFT_ESTOPPED);
  EXPECT_EQ(weft_stream_close_write(s, 1), WEFT_ESTOPPED);
  EXPECT_EQ(weft_accept_stream(b, "/waiting/1", 1), WEFT_ESTOPPED);
  EXPECT_EQ(weft_node_handle(b, "/late/1"), WEFT_ESTOPPED);
  EXPECT_EQ(weft_node_unhandle(b, "/waiting/1"), WEFT_ESTOPPED);
  EXPECT_EQ(weft_node_start(b), WEFT_ESTOPPED);
  EXPECT_EQ(weft_node_stop(b, 0), WEFT_OK);
  EXPECT_EQ(weft_cancel(b, 100), WEFT_OK);
  char buf[256];
  EXPECT_EQ(weft_node_peer_id(b, buf, sizeof buf, nullptr), WEFT_OK);
  EXPECT_EQ(weft_conn_peer_id(conn, buf, sizeof buf, nullptr), WEFT_OK);
  EXPECT_EQ(weft_stream_protocol(s, buf, sizeof buf, nullptr), WEFT_OK);
  EXPECT_EQ(weft_stream_reset(s), WEFT_OK);
  EXPECT_EQ(stat(b, WEFT_STAT_CONNECTIONS), 0u);
  EXPECT_FALSE(pb.wait(1, 100ms).has_value());  // no event from a refused call

  // After close: everything is unknown, the node's conn and stream included.
  ASSERT_EQ(weft_node_close(b), WEFT_OK);
  EXPECT_EQ(weft_node_close(b), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_node_stop(b, 0), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_node_peer_id(b, buf, sizeof buf, nullptr), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_cancel(b, 1), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_conn_peer_id(conn, buf, sizeof buf, nullptr), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_conn_close(conn), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_stream_protocol(s, buf, sizeof buf, nullptr), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_stream_free(s), WEFT_ENOTFOUND);
  weft_event* ev[1];
  size_t n = 5;
  EXPECT_EQ(weft_node_poll(b, ev, 1, 0, &n), WEFT_ENOTFOUND);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(weft_node_close(a), WEFT_OK);
}

TEST(CapiLifecycle, EventFdReadableExactlyWhileEventsQueued) {
  weft_node a = make_node();
  weft_node b = make_node();
  Poller pb(b);
  weft_conn conn = dial(b, pb, a);
  int fd = -1;
  ASSERT_EQ(weft_node_event_fd(b, &fd), WEFT_OK);
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(fd_readable(fd));

  ASSERT_EQ(weft_ping(conn, 1), WEFT_OK);
  ASSERT_TRUE(eventually([&] { return fd_readable(fd); }));
  EXPECT_EQ(stat(b, WEFT_STAT_QUEUED_EVENTS), 1u);
  EXPECT_TRUE(fd_readable(fd));  // level-triggered: still readable
  ASSERT_EQ(poll_now_and_free(b, 4), 1u);
  EXPECT_FALSE(fd_readable(fd));

  ASSERT_EQ(weft_ping(conn, 2), WEFT_OK);
  ASSERT_EQ(weft_ping(conn, 3), WEFT_OK);
  ASSERT_TRUE(eventually([&] { return stat(b, WEFT_STAT_QUEUED_EVENTS) == 2; }));
  EXPECT_TRUE(fd_readable(fd));
  ASSERT_EQ(poll_now_and_free(b, 1), 1u);
  EXPECT_TRUE(fd_readable(fd));  // one left
  ASSERT_EQ(poll_now_and_free(b, 4), 1u);
  EXPECT_FALSE(fd_readable(fd));
  // Poll with nothing queued: times out empty.
  weft_event* ev[4];
  size_t n = 0;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(weft_node_poll(b, ev, 4, 50, &n), WEFT_OK);
  EXPECT_EQ(n, 0u);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 40ms);
  EXPECT_FALSE(fd_readable(fd));
  EXPECT_EQ(weft_node_close(b), WEFT_OK);
  EXPECT_EQ(weft_node_close(a), WEFT_OK);
}

// The fd is kept in step only once asked for (poll-only users skip its
// system calls); events queued before that make it readable at once.
TEST(CapiLifecycle, EventFdAskedForLateIsReadableForEventsAlreadyQueued) {
  weft_node a = make_node();
  weft_node b = make_node();
  Poller pb(b);
  weft_conn conn = dial(b, pb, a);
  ASSERT_EQ(weft_ping(conn, 1), WEFT_OK);
  ASSERT_TRUE(eventually([&] { return stat(b, WEFT_STAT_QUEUED_EVENTS) == 1; }));
  int fd = -1;
  ASSERT_EQ(weft_node_event_fd(b, &fd), WEFT_OK);
  EXPECT_TRUE(fd_readable(fd));
  ASSERT_EQ(poll_now_and_free(b, 4), 1u);
  EXPECT_FALSE(fd_readable(fd));
  int again = -1;
  ASSERT_EQ(weft_node_event_fd(b, &again), WEFT_OK);
  EXPECT_EQ(again, fd);
  EXPECT_FALSE(fd_readable(fd));
  ASSERT_EQ(weft_ping(conn, 2), WEFT_OK);
  ASSERT_TRUE(eventually([&] { return fd_readable(fd); }));
  EXPECT_EQ(weft_node_close(b), WEFT_OK);
  EXPECT_EQ(weft_node_close(a), WEFT_OK);
}

// Operations still running when stop's deadline passes are completed by
// stop and released by close. Their coroutines and the operations
// themselves hold strands of the node's io_context; close must release them
// while the io_context's services still exist (AddressSanitizer sees it).
TEST(CapiLifecycle, CloseReleasesOperationsStopLeftRunning) {
  SilentListener silent;
  for (int round = 0; round < 20; ++round) {
    weft_node n = make_node();
    ASSERT_EQ(weft_dial(n, silent.multiaddr().c_str(), 1), WEFT_OK);
    ASSERT_EQ(weft_dial(n, silent.multiaddr().c_str(), 2), WEFT_OK);
    if (round % 2 == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(round));
    }
    ASSERT_EQ(weft_cancel(n, 1), WEFT_OK);
    ASSERT_EQ(weft_node_stop(n, 0), WEFT_OK);
    EXPECT_EQ(stat(n, WEFT_STAT_PENDING_OPS), 0u);
    EXPECT_EQ(stat(n, WEFT_STAT_QUEUED_EVENTS), 2u);
    ASSERT_EQ(weft_node_close(n), WEFT_OK);
  }
}

TEST(CapiLifecycle, PollWaitingForeverReturnsWhenClosed) {
  weft_node n = make_node();
  std::atomic<int> status{-1};
  std::thread poller([&] {
    weft_event* ev[1];
    size_t count = 0;
    status = weft_node_poll(n, ev, 1, -1, &count);
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(status.load(), -1);
  ASSERT_EQ(weft_node_close(n), WEFT_OK);
  poller.join();
  EXPECT_EQ(status.load(), WEFT_ENOTFOUND);
}

TEST(CapiLifecycle, ThreadsAndFdsBackToBaselineAfterClose) {
  // Runtimes that start a helper thread of their own when the first thread
  // is created (ThreadSanitizer does) get to do so before the baseline.
  const size_t before_helper = thread_count();
  std::thread([] {}).join();
  // A joined thread can stay listed in /proc/self/task for a moment; the
  // runtime's helper (if any) stays.
  eventually([&] { return thread_count() <= before_helper + 1; }, 2s);
  eventually([&] { return thread_count() <= before_helper; }, 200ms);
  const size_t threads0 = thread_count();
  const size_t fds0 = fd_count();
  {
    weft_config cfg;
    ASSERT_EQ(weft_config_new(&cfg), WEFT_OK);
    ASSERT_EQ(weft_config_add_listen_addr(cfg, "/ip4/127.0.0.1/tcp/0"), WEFT_OK);
    ASSERT_EQ(weft_config_add_listen_addr(cfg, "/ip6/::1/tcp/0"), WEFT_OK);
    ASSERT_EQ(weft_config_set_io_threads(cfg, 3), WEFT_OK);
    weft_node a = make_node(cfg);
    weft_node b = make_node(cfg);
    ASSERT_EQ(weft_config_free(cfg), WEFT_OK);
    EXPECT_GT(thread_count(), threads0);
    Poller pb(b);
    weft_conn conn = dial(b, pb, a);
    ASSERT_EQ(weft_ping(conn, 2), WEFT_OK);
    EXPECT_EQ(pb.expect(2).status, WEFT_OK);
    // A DNS dial starts the resolver's thread; close must end it too.
    const std::string a_addr = listen_addr(a);
    const std::string by_name = "/dns4/localhost/tcp/" + a_addr.substr(a_addr.find("/tcp/") + 5);
    ASSERT_EQ(weft_dial(b, by_name.c_str(), 5), WEFT_OK);
    EXPECT_EQ(pb.expect(5).status, WEFT_OK);
    const char* echo[] = {"/echo/1.0.0"};
    ASSERT_EQ(weft_open_stream(conn, echo, 1, 3), WEFT_OK);
    weft_stream s = pb.expect(3).stream;
    ASSERT_EQ(weft_stream_read(s, 10, 4), WEFT_OK);  // left pending
    int fd;
    ASSERT_EQ(weft_node_event_fd(b, &fd), WEFT_OK);
    EXPECT_EQ(live(WEFT_LIVE_NODES), 2u);
    EXPECT_EQ(live(WEFT_LIVE_THREADS), 6u);
    EXPECT_GE(live(WEFT_LIVE_SOCKETS), 2u * 2 + 2 * 2);  // 4 listeners, 2 connections
    EXPECT_GE(live(WEFT_LIVE_CONNECTIONS), 4u);
    EXPECT_GE(live(WEFT_LIVE_STREAMS), 2u);
    EXPECT_GE(live(WEFT_LIVE_TIMERS), 4u);  // keep-alive tickers at least
    EXPECT_EQ(live(WEFT_LIVE_OPERATIONS), 1u);
    // Closed without stopping first, with handles and an operation pending.
    ASSERT_EQ(weft_node_close(b), WEFT_OK);
    ASSERT_EQ(weft_node_close(a), WEFT_OK);
  }
  EXPECT_TRUE(eventually([&] { return thread_count() == threads0; }, 2s))
      << thread_count() << " threads, " << threads0 << " before";
  EXPECT_EQ(fd_count(), fds0);
  for (int what = WEFT_LIVE_NODES; what <= WEFT_LIVE_OPERATIONS; ++what)
    EXPECT_EQ(live(what), 0u) << "weft_live " << what;
  uint64_t v = 0;
  EXPECT_EQ(weft_live_count(0, &v), WEFT_EINVAL);
  EXPECT_EQ(weft_live_count(WEFT_LIVE_OPERATIONS + 1, &v), WEFT_EINVAL);
  EXPECT_EQ(weft_live_count(WEFT_LIVE_NODES, nullptr), WEFT_EINVAL);
}

TEST(CapiLifecycle, EightThreadsAtOnce) {
  weft_config cfg;
  ASSERT_EQ(weft_config_new(&cfg), WEFT_OK);
  ASSERT_EQ(weft_config_add_listen_addr(cfg, "/ip4/127.0.0.1/tcp/0"), WEFT_OK);
  ASSERT_EQ(weft_config_set_io_threads(cfg, 2), WEFT_OK);
  weft_node a = make_node(cfg);
  weft_node b = make_node(cfg);
  ASSERT_EQ(weft_config_free(cfg), WEFT_OK);
  Poller setup(b);
  weft_conn conn = dial(b, setup, a);
  const char* echo[] = {"/echo/1.0.0"};
  ASSERT_EQ(weft_open_stream(conn, echo, 1, 2), WEFT_OK);
  weft_stream s = setup.expect(2).stream;
  ASSERT_NE(s.id, 0u);

  constexpr int kThreads = 8;
  constexpr int kRounds = 60;
  std::mutex mu;
  std::map<uint64_t, int> events_per_token;
  std::set<uint64_t> submitted;
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<int> done_threads{0};
  auto record = [&](weft_event** evs, size_t n) {
    std::lock_guard lock(mu);
    for (size_t i = 0; i < n; ++i) {
      ++events_per_token[weft_event_token(evs[i])];
      size_t len = 0;
      weft_event_data(evs[i], &len);
      bytes_read += len;
      weft_event_free(evs[i]);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int r = 0; r < kRounds; ++r) {
        const uint64_t base = (uint64_t(t + 1) << 32) | (uint64_t(r) << 4);
        int st[4] = {
            weft_ping(conn, base + 0),
            weft_stream_write(s, bytes("0123456789"), 10, base + 1),
            weft_stream_read(s, 64, base + 2),
            weft_identify(conn, base + 3),
        };
        {
          std::lock_guard lock(mu);
          for (int k = 0; k < 4; ++k) {
            EXPECT_EQ(st[k], WEFT_OK) << weft_last_error();
            if (st[k] == WEFT_OK) submitted.insert(base + k);
          }
        }
        if (rng() % 3 == 0) EXPECT_EQ(weft_cancel(b, base + (rng() % 4)), WEFT_OK);
        uint64_t v;
        EXPECT_EQ(weft_node_stat(b, WEFT_STAT_PENDING_OPS, &v), WEFT_OK);
        weft_event* evs[16];
        size_t n = 0;
        EXPECT_EQ(weft_node_poll(b, evs, 16, rng() % 3, &n), WEFT_OK);
        record(evs, n);
      }
      ++done_threads;
    });
  }
  for (auto& th : threads) th.join();
  // Reads may wait for echoed bytes that the other reads took: cancel what
  // is left, then everything must have completed exactly once.
  for (uint64_t token : submitted) weft_cancel(b, token);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    weft_event* evs[64];
    size_t n = 0;
    ASSERT_EQ(weft_node_poll(b, evs, 64, 20, &n), WEFT_OK);
    record(evs, n);
    std::lock_guard lock(mu);
    if (events_per_token.size() >= submitted.size() && stat(b, WEFT_STAT_PENDING_OPS) == 0) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "events: " << events_per_token.size() << " of " << submitted.size();
      break;
    }
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(submitted.size(), size_t(kThreads * kRounds * 4));
  for (uint64_t token : submitted) EXPECT_EQ(events_per_token[token], 1) << token;
  EXPECT_EQ(events_per_token.size(), submitted.size() + 0);
  EXPECT_LE(bytes_read.load(), uint64_t(kThreads * kRounds * 10));
  EXPECT_EQ(weft_node_close(b), WEFT_OK);
  EXPECT_EQ(weft_node_close(a), WEFT_OK);
}

// Submissions racing with stop and close from another thread: each accepted
// submission completes exactly once; refused ones say why.
TEST(CapiLifecycle, SubmissionsRacingStopAndClose) {
  for (int round = 0; round < 3; ++round) {
    weft_node a = make_node();
    weft_node b = make_node();
    Poller setup(b);
    weft_conn conn = dial(b, setup, a);
    const char* echo[] = {"/echo/1.0.0"};
    ASSERT_EQ(weft_open_stream(conn, echo, 1, 2), WEFT_OK);
    weft_stream s = setup.expect(2).stream;

    std::mutex mu;
    std::set<uint64_t> accepted;
    std::map<uint64_t, int> completions;
    std::atomic<bool> closed{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (uint64_t i = 0;; ++i) {
          const uint64_t token = (uint64_t(t + 1) << 32) | i;
          int st = (i % 2) ? weft_stream_read(s, 8, token) : weft_ping(conn, token);
          if (st == WEFT_OK) {
            std::lock_guard lock(mu);
            accepted.insert(token);
          } else {
            EXPECT_TRUE(st == WEFT_ESTOPPED || st == WEFT_ENOTFOUND) << st << weft_last_error();
          }
          weft_event* evs[8];
          size_t n = 0;
          const int pst = weft_node_poll(b, evs, 8, 0, &n);
          EXPECT_TRUE(pst == WEFT_OK || pst == WEFT_ENOTFOUND);
          {
            std::lock_guard lock(mu);
            for (size_t k = 0; k < n; ++k) {
              ++completions[weft_event_token(evs[k])];
              weft_event_free(evs[k]);
            }
          }
          if (st == WEFT_ENOTFOUND && closed) return;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + 30 * round));
    ASSERT_EQ(weft_node_stop(b, 100), WEFT_OK);
    // Everything accepted so far has completed; drain it before close.
    std::map<uint64_t, int> drained;
    for (;;) {
      weft_event* evs[64];
      size_t n = 0;
      ASSERT_EQ(weft_node_poll(b, evs, 64, 0, &n), WEFT_OK);
      if (n == 0) break;
      std::lock_guard lock(mu);
      for (size_t k = 0; k < n; ++k) {
        ++completions[weft_event_token(evs[k])];
        weft_event_free(evs[k]);
      }
    }
    closed = true;
    ASSERT_EQ(weft_node_close(b), WEFT_OK);
    for (auto& th : threads) th.join();
    for (uint64_t token : accepted) EXPECT_EQ(completions[token], 1) << token;
    EXPECT_EQ(weft_node_close(a), WEFT_OK);
  }
}
