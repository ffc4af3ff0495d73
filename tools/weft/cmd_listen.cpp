// weft listen [--addr MA]... [--key FILE] [--stdin-eof]: a node serving the built-in protocols
// until a stop signal, end of stdin (--stdin-eof) or an explicit --timeout.
//
// Signals reach the waiting loop through a pipe (the handler only writes one byte), so the node
// is stopped from main's thread, never from a signal handler.
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "commands.hpp"
#include "driver.hpp"
#include "json.hpp"

namespace weft_cli {

namespace {

constexpr const char* kDefaultListenAddr = "/ip4/127.0.0.1/tcp/0";
constexpr std::uint32_t kStopTimeoutMs = 3000;

int signal_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int signal_number) {
  const int saved_errno = errno;
  const unsigned char byte = static_cast<unsigned char>(signal_number);
  [[maybe_unused]] ssize_t ignored = ::write(signal_pipe[1], &byte, 1);
  errno = saved_errno;
}

void install_stop_signals() {
  if (::pipe(signal_pipe) != 0) fail("create the signal pipe");
  for (int fd : signal_pipe) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

// True once stdin has reached end of file (or cannot be read at all).
bool stdin_ended() {
  char buffer[4096];
  const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
  return n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN);
}

}  // namespace

int run_listen(const CommandLine& line) {
  NodeSetup setup;
  setup.listen_addrs = line.all("addr");
  if (setup.listen_addrs.empty()) setup.listen_addrs.push_back(kDefaultListenAddr);
  setup.key_file = line.text("key");
  const bool stop_at_stdin_eof = line.has("stdin-eof");
  // A listener runs until told to stop: the default command timeout does not apply to it.
  std::optional<Clock::time_point> serve_until;
  if (line.timeout_given && line.timeout_ms > 0)
    serve_until = Clock::now() + std::chrono::milliseconds(line.timeout_ms);

  install_stop_signals();
  Driver driver(setup);
  print_line(
      JsonObject().add("peer_id", driver.peer_id()).add("addrs", driver.listen_addrs()).text());

  int event_fd = -1;
  if (int status = weft_node_event_fd(driver.node(), &event_fd); status != WEFT_OK)
    fail(describe_failure("read the node's event fd", status, weft_last_error()));

  for (;;) {
    pollfd fds[3] = {{signal_pipe[0], POLLIN, 0},
                     {event_fd, POLLIN, 0},
                     {stop_at_stdin_eof ? STDIN_FILENO : -1, POLLIN, 0}};
    int timeout = -1;
    if (serve_until) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*serve_until - Clock::now());
      timeout = static_cast<int>(std::max<long long>(left.count(), 0));
    }
    const int ready = ::poll(fds, 3, timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      fail("wait for a stop signal: poll failed");
    }
    if (ready == 0) break;                   // served for --timeout
    if (fds[0].revents) break;               // SIGINT or SIGTERM
    if (fds[2].revents && stdin_ended()) break;
    if (fds[1].revents) driver.poll_ready();  // nothing is submitted: these are not ours
  }

  driver.shut_down(kStopTimeoutMs);
  return kExitOk;
}

}  // namespace weft_cli
