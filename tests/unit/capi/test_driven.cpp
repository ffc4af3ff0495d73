// A node without I/O threads (weft_config_set_io_threads 0): its I/O runs
// inside weft_node_poll, and in weft_node_stop while that waits.
#include <gtest/gtest.h>

#include <time.h>

#include <atomic>
#include <future>
#include <thread>

#include "capi_test_util.hpp"

using namespace capi_test;

namespace {

weft_node make_driven_node(bool listen, uint64_t spin_us = 50) {
  weft_config cfg{0};
  EXPECT_EQ(weft_config_new(&cfg), WEFT_OK);
  if (listen) EXPECT_EQ(weft_config_add_listen_addr(cfg, "/ip4/127.0.0.1/tcp/0"), WEFT_OK);
  EXPECT_EQ(weft_config_set_io_threads(cfg, 0), WEFT_OK);
  EXPECT_EQ(weft_config_set_limit(cfg, WEFT_LIMIT_IO_SPIN_US, spin_us), WEFT_OK);
  weft_node node = make_node(cfg);
  EXPECT_EQ(weft_config_free(cfg), WEFT_OK);
  return node;
}

weft_stream open_echo(weft_node node, Poller& poller, weft_conn conn, uint64_t token) {
  const char* protocols[] = {"/echo/1.0.0"};
  EXPECT_EQ(weft_open_stream(conn, protocols, 1, token), WEFT_OK) << weft_last_error();
  Event e = poller.expect(token);
  EXPECT_EQ(e.status, WEFT_OK) << e.error;
  return e.stream;
}

// Writes `payload`, closes the write side, and reads the echo to its end.
std::vector<uint8_t> echo(weft_stream s, Poller& poller, const std::vector<uint8_t>& payload) {
  EXPECT_EQ(weft_stream_write(s, payload.data(), payload.size(), 10), WEFT_OK);
  EXPECT_EQ(weft_stream_close_write(s, 11), WEFT_OK);
  EXPECT_EQ(poller.expect(10).status, WEFT_OK);
  EXPECT_EQ(poller.expect(11).status, WEFT_OK);
  std::vector<uint8_t> back;
  for (uint64_t token = 100;; ++token) {
    EXPECT_EQ(weft_stream_read(s, 1 << 16, token), WEFT_OK);
    Event r = poller.expect(token);
    if (r.status == WEFT_EOF) break;
    EXPECT_EQ(r.status, WEFT_OK) << r.error;
    if (r.status != WEFT_OK) break;
    back.insert(back.end(), r.data.begin(), r.data.end());
  }
  return back;
}

std::chrono::microseconds thread_cpu_time() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::microseconds(ts.tv_nsec / 1000);
}

}  // namespace

// The poller spins like an I/O thread (WEFT_LIMIT_IO_SPIN_US) while an
// exchange is fast, and stops once nothing comes: after 50 quick pings with
// the longest spin (10 ms), 50 polls with a 5 ms timeout on an idle node. A
// poller that spun through each of them would use 250 ms of CPU.
TEST(CapiDriven, AnIdlePollerStopsSpinning) {
  weft_node listener = make_node();
  weft_node driven = make_driven_node(false, 10000);
  Poller poller(driven);
  weft_conn conn = dial(driven, poller, listener);
  for (uint64_t token = 1; token <= 50; ++token) {
    ASSERT_EQ(weft_ping(conn, token), WEFT_OK);
    ASSERT_EQ(poller.expect(token).status, WEFT_OK);
  }
  const auto cpu0 = thread_cpu_time();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) {
    weft_event* evs[4];
    size_t n = 0;
    ASSERT_EQ(weft_node_poll(driven, evs, 4, 5, &n), WEFT_OK);
    for (size_t k = 0; k < n; ++k) weft_event_free(evs[k]);
  }
  const auto used = thread_cpu_time() - cpu0;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 240ms) << "the polls did wait";
  EXPECT_LT(used, 60ms) << used.count() << " us of CPU in 50 idle polls of 5 ms";
  EXPECT_EQ(weft_node_close(driven), WEFT_OK);
  EXPECT_EQ(weft_node_close(listener), WEFT_OK);
}

TEST(CapiDriven, PollRunsTheNodeWithoutThreadsOfItsOwn) {
  weft_node listener = make_node();
  const uint64_t threads_before = live(WEFT_LIVE_THREADS);
  weft_node driven = make_driven_node(false);
  EXPECT_EQ(live(WEFT_LIVE_THREADS), threads_before) << "a driven node started a thread";
  Poller poller(driven);

  // Nothing runs until somebody polls: the dial is not even started.
  ASSERT_EQ(weft_dial(driven, listen_addr(listener).c_str(), 1), WEFT_OK);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(stat(driven, WEFT_STAT_CONNECTIONS), 0u);
  EXPECT_EQ(stat(listener, WEFT_STAT_CONNECTIONS_OPENED), 0u);
  Event dialed = poller.expect(1);
  ASSERT_EQ(dialed.status, WEFT_OK) << dialed.error;
  EXPECT_EQ(dialed.peer_id, peer_id(listener));

  for (uint64_t token = 2; token < 22; ++token) {
    ASSERT_EQ(weft_ping(dialed.conn, token), WEFT_OK);
    Event pong = poller.expect(token);
    EXPECT_EQ(pong.status, WEFT_OK) << pong.error;
    EXPECT_GT(pong.count, 0u);  // the round trip in nanoseconds
  }

  std::vector<uint8_t> payload(300 * 1024);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7 + 3);
  weft_stream s = open_echo(driven, poller, dialed.conn, 30);
  EXPECT_EQ(echo(s, poller, payload), payload);
  EXPECT_EQ(weft_stream_free(s), WEFT_OK);

  int fd = -1;
  EXPECT_EQ(weft_node_event_fd(driven, &fd), WEFT_EINVAL);
  EXPECT_NE(std::string(weft_last_error()).find("weft_node_poll"), std::string::npos);

  // Stop drives the graceful close itself: it ends well before its deadline.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(weft_node_stop(driven, 5000), WEFT_OK);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  EXPECT_EQ(weft_node_close(driven), WEFT_OK);
  EXPECT_EQ(weft_node_close(listener), WEFT_OK);
}

// Two driven nodes, each polled by its own thread, talk to each other.
TEST(CapiDriven, TwoDrivenNodesEachPolledByItsThread) {
  weft_node a = make_driven_node(true);
  weft_node b = make_driven_node(false);
  std::atomic<bool> done{false};
  std::thread listener_loop([&] {
    while (!done.load()) {
      weft_event* evs[16];
      size_t n = 0;
      EXPECT_EQ(weft_node_poll(a, evs, 16, 50, &n), WEFT_OK);
      for (size_t i = 0; i < n; ++i) weft_event_free(evs[i]);
    }
  });
  Poller poller(b);
  weft_conn conn = dial(b, poller, a);
  for (uint64_t token = 1; token <= 50; ++token) {
    ASSERT_EQ(weft_ping(conn, token), WEFT_OK);
    EXPECT_EQ(poller.expect(token).status, WEFT_OK);
  }
  std::vector<uint8_t> payload(64 * 1024, 0x5a);
  weft_stream s = open_echo(b, poller, conn, 60);
  EXPECT_EQ(echo(s, poller, payload), payload);
  EXPECT_EQ(weft_stream_free(s), WEFT_OK);
  EXPECT_EQ(weft_node_close(b), WEFT_OK);
  done = true;
  listener_loop.join();
  EXPECT_EQ(weft_node_close(a), WEFT_OK);
}

// A thread waiting in weft_node_poll (so driving the node) while another
// stops and closes it: pending work completes with WEFT_ESTOPPED, the waiter
// gets its events or WEFT_ENOTFOUND, and nothing hangs.
TEST(CapiDriven, StopAndCloseWhileAnotherThreadDrives) {
  for (int round = 0; round < 10; ++round) {
    weft_node listener = make_node();
    weft_node driven = make_driven_node(false);
    Poller poller(driven);
    weft_conn conn = dial(driven, poller, listener);
    weft_stream s = open_echo(driven, poller, conn, 2);
    ASSERT_EQ(weft_stream_read(s, 1024, 3), WEFT_OK);  // the echo never answers: pending

    std::atomic<int> read_events{0};
    std::atomic<int> last_status{-1};
    auto waiter = std::async(std::launch::async, [&] {
      for (;;) {
        weft_event* evs[8];
        size_t n = 0;
        const int st = weft_node_poll(driven, evs, 8, -1, &n);
        for (size_t i = 0; i < n; ++i) {
          if (weft_event_token(evs[i]) == 3) {
            ++read_events;
            last_status = weft_event_status(evs[i]);
          }
          weft_event_free(evs[i]);
        }
        if (st != WEFT_OK) return st;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(round * 3));
    EXPECT_EQ(weft_node_stop(driven, 1000), WEFT_OK);
    EXPECT_EQ(weft_node_close(driven), WEFT_OK);
    ASSERT_EQ(waiter.wait_for(10s), std::future_status::ready) << "a poller hung in round " << round;
    EXPECT_EQ(waiter.get(), WEFT_ENOTFOUND);
    // The read completed at most once (its event may still have been queued
    // when close discarded the queue), ended by the stop: the graceful close
    // of its connection, or the stop's sweep.
    EXPECT_LE(read_events.load(), 1);
    if (read_events.load() == 1)
      EXPECT_TRUE(last_status.load() == WEFT_ESTOPPED || last_status.load() == WEFT_ECLOSED)
          << last_status.load();
    EXPECT_EQ(weft_node_close(listener), WEFT_OK);
  }
}
