/* peer-weft: weft's benchmark peer, written against the C ABI (weft.h) alone.
 *
 *   peer listen [--addr MA]
 *   peer run --remote MA --metric NAME [options]
 *
 * The contract every benchmark peer follows is in bench/README.md. The listener serves ping,
 * echo and perf with weft's built-in handlers; the client side of each metric is in metrics.c.
 */
#define _GNU_SOURCE
#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Generous limits: the benchmark holds thousands of connections from one peer and measures the
 * protocols, not weft's admission policies. 1 << 20 is the largest count weft accepts. */
#define MANY (1u << 20)
#define PENDING_HANDSHAKES 4096
#define STOP_TIMEOUT_MS 2000
/* No client run may take longer than this, whatever the metric's own duration. */
#define RUN_TIME_LIMIT_S 600

void die(const char* format, ...) {
  va_list args;
  va_start(args, format);
  fputs("peer-weft: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(1);
}

void check(int status, const char* what) {
  if (status != WEFT_OK) die("%s: %s (%s)", what, weft_strerror(status), weft_last_error());
}

void require_ok(const weft_event* event, const char* what) {
  const int status = weft_event_status(event);
  if (status != WEFT_OK) die("%s: %s (%s)", what, weft_strerror(status), weft_event_error(event));
}

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void random_fill(uint8_t* out, size_t len) {
  while (len > 0) {
    const ssize_t n = getrandom(out, len, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("getrandom failed: %s", strerror(errno));
    }
    out += n;
    len -= (size_t)n;
  }
}

weft_event* next_event(bench_node* bn) {
  while (bn->batch_next == bn->batch_len) {
    const uint64_t now = now_ns();
    if (now >= bn->deadline_ns) die("timed out waiting for a completion");
    const uint64_t left_ms = (bn->deadline_ns - now) / 1000000u + 1;
    size_t count = 0;
    check(weft_node_poll(bn->node, bn->batch, sizeof bn->batch / sizeof bn->batch[0],
                         left_ms > 1000 ? 1000 : (int)left_ms, &count),
          "weft_node_poll");
    bn->batch_len = count;
    bn->batch_next = 0;
  }
  return bn->batch[bn->batch_next++];
}

weft_event* expect_event(bench_node* bn, int type, const char* what) {
  weft_event* event = next_event(bn);
  if (weft_event_type_of(event) != type)
    die("%s: got an event of type %d instead of %d", what, weft_event_type_of(event), type);
  require_ok(event, what);
  return event;
}

void submit_dial(bench_node* bn, const char* remote, uint64_t token, const char* what) {
  const int status = weft_dial(bn->node, remote, token);
  if (status == WEFT_EPARSE) {  /* the command line's fault */
    fprintf(stderr, "peer-weft: --remote %s: %s\n", remote, weft_last_error());
    usage(NULL);
  }
  check(status, what);
}

weft_conn dial_sync(bench_node* bn, const char* remote, const char* what) {
  submit_dial(bn, remote, 1, what);
  weft_event* done = expect_event(bn, WEFT_EVENT_DIAL, what);
  const weft_conn conn = weft_event_conn(done);
  weft_event_free(done);
  return conn;
}

weft_stream open_stream_sync(bench_node* bn, weft_conn conn, const char* protocol) {
  const char* protocols[1] = {protocol};
  check(weft_open_stream(conn, protocols, 1, 1), protocol);
  weft_event* done = expect_event(bn, WEFT_EVENT_OPEN_STREAM, protocol);
  const weft_stream stream = weft_event_stream(done);
  weft_event_free(done);
  return stream;
}

/* Thousands of sockets need more descriptors than the usual soft limit of 1024. */
static void raise_file_limit(void) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
      fprintf(stderr, "peer-weft: cannot raise RLIMIT_NOFILE: %s\n", strerror(errno));
  }
}

static weft_node new_node(const char* listen_addr) {
  weft_config config;
  check(weft_config_new(&config), "weft_config_new");
  if (listen_addr) {
    const int status = weft_config_add_listen_addr(config, listen_addr);
    if (status == WEFT_EPARSE || status == WEFT_EINVAL) {
      fprintf(stderr, "peer-weft: --addr %s: %s\n", listen_addr, weft_last_error());
      usage(NULL);
    }
    check(status, listen_addr);
  }
  check(weft_config_set_limit(config, WEFT_LIMIT_MAX_INBOUND_CONNECTIONS, MANY), "limit");
  check(weft_config_set_limit(config, WEFT_LIMIT_MAX_OUTBOUND_CONNECTIONS, MANY), "limit");
  check(weft_config_set_limit(config, WEFT_LIMIT_MAX_CONNECTIONS_PER_PEER, MANY), "limit");
  check(weft_config_set_limit(config, WEFT_LIMIT_MAX_PENDING_HANDSHAKES, PENDING_HANDSHAKES),
        "limit");
  /* The client is a single thread that waits for completions and nothing else: its node has no
   * I/O threads and runs inside weft_node_poll, which saves two thread hand-offs per round trip.
   * The listener keeps weft's default of one I/O thread (it waits on signals and stdin too).
   * WEFT_BENCH_IO_THREADS=N sets the I/O threads of either. */
  unsigned io_threads = listen_addr ? 1 : 0;
  const char* threads = getenv("WEFT_BENCH_IO_THREADS");
  if (threads && *threads) io_threads = (unsigned)strtoul(threads, NULL, 10);
  check(weft_config_set_io_threads(config, io_threads), "WEFT_BENCH_IO_THREADS");
  /* WEFT_BENCH_IO_SPIN_US=N overrides weft's default I/O-thread spin, to measure its effect. */
  const char* spin = getenv("WEFT_BENCH_IO_SPIN_US");
  if (spin && *spin) check(weft_config_set_limit(config, WEFT_LIMIT_IO_SPIN_US, strtoull(spin, NULL, 10)),
                           "WEFT_BENCH_IO_SPIN_US");
  weft_node node;
  check(weft_node_new(config, &node), "weft_node_new");
  weft_config_free(config);
  check(weft_node_start(node), "weft_node_start");
  return node;
}

static void close_node(weft_node node) {
  check(weft_node_stop(node, STOP_TIMEOUT_MS), "weft_node_stop");
  check(weft_node_close(node), "weft_node_close");
}

/* WEFT_BENCH_LOG=debug|info|warn|error sends weft's log to stderr, for finding why a run failed. */
static void log_to_stderr(void* user, int level, const char* message) {
  (void)user;
  fprintf(stderr, "peer-weft [%d] %s\n", level, message);
}

static void enable_log_from_environment(void) {
  const char* wanted = getenv("WEFT_BENCH_LOG");
  if (!wanted || !*wanted) return;
  int level = WEFT_LOG_WARN;
  if (strcmp(wanted, "trace") == 0) level = WEFT_LOG_TRACE;
  else if (strcmp(wanted, "debug") == 0) level = WEFT_LOG_DEBUG;
  else if (strcmp(wanted, "info") == 0) level = WEFT_LOG_INFO;
  else if (strcmp(wanted, "error") == 0) level = WEFT_LOG_ERROR;
  weft_set_log_callback(level, log_to_stderr, NULL);
}

/* ---- listen ------------------------------------------------------------------------------ */

static int signal_pipe[2] = {-1, -1};

static void on_stop_signal(int signal_number) {
  const int saved_errno = errno;
  const unsigned char byte = (unsigned char)signal_number;
  if (write(signal_pipe[1], &byte, 1) < 0) { /* the pipe is full: a stop is pending anyway */ }
  errno = saved_errno;
}

static void install_stop_signals(void) {
  if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) die("pipe2: %s", strerror(errno));
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
}

/* Serves until SIGTERM/SIGINT or end of stdin. Nothing is submitted, so the events that can
 * arrive are none of ours; they are drained so the queue never fills. */
static int run_listen(const char* addr) {
  install_stop_signals();
  const weft_node node = new_node(addr);
  char addrs[4096];
  check(weft_node_listen_addrs(node, addrs, sizeof addrs, NULL), "weft_node_listen_addrs");
  char* end_of_first = strchr(addrs, '\n');
  if (end_of_first) *end_of_first = '\0';
  printf("LISTEN %s\n", addrs);
  fflush(stdout);

  int event_fd = -1;
  check(weft_node_event_fd(node, &event_fd), "weft_node_event_fd");
  int stdin_open = 1;
  for (;;) {
    struct pollfd fds[3] = {{signal_pipe[0], POLLIN, 0},
                            {event_fd, POLLIN, 0},
                            {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll: %s", strerror(errno));
    }
    if (fds[0].revents) break;
    if (fds[2].revents) {
      char buffer[256];
      const ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;
    }
    if (fds[1].revents) {
      weft_event* events[64];
      size_t count = 0;
      check(weft_node_poll(node, events, 64, 0, &count), "weft_node_poll");
      for (size_t i = 0; i < count; ++i) weft_event_free(events[i]);
    }
  }
  close_node(node);
  return 0;
}

/* ---- run --------------------------------------------------------------------------------- */

_Noreturn void usage(const char* message) {
  if (message) fprintf(stderr, "peer-weft: %s\n", message);
  fputs("usage: peer listen [--addr MA]\n"
        "       peer run --remote MA --metric perf|setup|handshake-rate|ping|hold|churn\n"
        "                [--upload N] [--download N] [--count N] [--concurrency C]\n"
        "                [--seconds S] [--connections N] [--size B]\n",
        stderr);
  exit(2);
}

static uint64_t parse_count(const char* name, const char* text) {
  char* end = NULL;
  errno = 0;
  const unsigned long long value = strtoull(text, &end, 10);
  if (errno || end == text || *end != '\0' || text[0] == '-') {
    fprintf(stderr, "peer-weft: %s needs a non-negative integer, got '%s'\n", name, text);
    usage(NULL);
  }
  return value;
}

/* Which options each metric needs: a missing one is a usage error, as is one it does not use. */
enum { OPT_UPLOAD = 1, OPT_DOWNLOAD = 2, OPT_COUNT = 4, OPT_CONCURRENCY = 8, OPT_SECONDS = 16,
       OPT_CONNECTIONS = 32, OPT_SIZE = 64 };

typedef struct metric_spec {
  const char* name;
  void (*run)(bench_node*, const run_options*);
  unsigned required, optional;
} metric_spec;

static const metric_spec METRICS[] = {
    {"perf", metric_perf, OPT_UPLOAD | OPT_DOWNLOAD, 0},
    {"setup", metric_setup, OPT_COUNT, 0},
    {"handshake-rate", metric_handshake_rate, OPT_CONCURRENCY | OPT_SECONDS, 0},
    {"ping", metric_ping, OPT_COUNT, 0},
    {"hold", metric_hold, OPT_CONNECTIONS, OPT_CONCURRENCY},
    {"churn", metric_churn, OPT_SECONDS | OPT_SIZE, OPT_CONCURRENCY},
};

static const metric_spec* parse_run_options(int argc, char** argv, run_options* o) {
  unsigned given = 0;
  memset(o, 0, sizeof *o);
  for (int i = 2; i < argc; i += 2) {
    const char* name = argv[i];
    if (i + 1 >= argc) usage("every option takes a value");
    const char* value = argv[i + 1];
    if (strcmp(name, "--remote") == 0) o->remote = value;
    else if (strcmp(name, "--metric") == 0) o->metric = value;
    else if (strcmp(name, "--upload") == 0) o->upload = parse_count(name, value), given |= OPT_UPLOAD;
    else if (strcmp(name, "--download") == 0) o->download = parse_count(name, value), given |= OPT_DOWNLOAD;
    else if (strcmp(name, "--count") == 0) o->count = parse_count(name, value), given |= OPT_COUNT;
    else if (strcmp(name, "--concurrency") == 0)
      o->concurrency = parse_count(name, value), given |= OPT_CONCURRENCY;
    else if (strcmp(name, "--connections") == 0)
      o->connections = parse_count(name, value), given |= OPT_CONNECTIONS;
    else if (strcmp(name, "--size") == 0) o->size = parse_count(name, value), given |= OPT_SIZE;
    else if (strcmp(name, "--seconds") == 0) {
      char* end = NULL;
      o->seconds = strtod(value, &end);
      if (end == value || *end != '\0' || !(o->seconds > 0) || o->seconds > 3600)
        usage("--seconds needs a number of seconds in (0, 3600]");
      given |= OPT_SECONDS;
    } else {
      fprintf(stderr, "peer-weft: unknown option '%s'\n", name);
      usage(NULL);
    }
  }
  if (!o->remote || !strstr(o->remote, "/p2p/")) usage("--remote needs a multiaddr with /p2p/");
  if (!o->metric) usage("--metric is required");
  for (size_t i = 0; i < sizeof METRICS / sizeof METRICS[0]; ++i) {
    const metric_spec* spec = &METRICS[i];
    if (strcmp(o->metric, spec->name) != 0) continue;
    if ((given & spec->required) != spec->required)
      usage("an option this metric needs is missing");
    if (given & ~(spec->required | spec->optional)) usage("an option this metric does not take");
    return spec;
  }
  usage("unknown metric");
}

static int run_metric(int argc, char** argv) {
  run_options options;
  const metric_spec* metric = parse_run_options(argc, argv, &options);

  bench_node bn;
  memset(&bn, 0, sizeof bn);
  bn.node = new_node(NULL);
  bn.deadline_ns = now_ns() + (uint64_t)RUN_TIME_LIMIT_S * 1000000000u;
  metric->run(&bn, &options);
  fflush(stdout);
  while (bn.batch_next < bn.batch_len) weft_event_free(bn.batch[bn.batch_next++]);
  close_node(bn.node);
  return 0;
}

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  raise_file_limit();
  enable_log_from_environment();
  if (argc < 2) usage(NULL);
  if (weft_abi_version() != WEFT_ABI_VERSION) die("libweft has another ABI version");
  if (strcmp(argv[1], "listen") == 0) {
    const char* addr = "/ip4/127.0.0.1/tcp/0";
    if (argc == 4 && strcmp(argv[2], "--addr") == 0) addr = argv[3];
    else if (argc != 2) usage(NULL);
    return run_listen(addr);
  }
  if (strcmp(argv[1], "run") == 0) return run_metric(argc, argv);
  usage(NULL);
}
