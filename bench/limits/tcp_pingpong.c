/* The machine's floor for a ping round trip: two processes bouncing 32 bytes
 * over a loopback TCP connection (TCP_NODELAY, blocking reads and writes, no
 * library). A libp2p ping adds framing, encryption and its own threads on top
 * of exactly this.
 *
 *   weft-tcp-pingpong [--count N] [--cpus A,B]
 *       prints {"median_ns":..,"p99_ns":..,"count":N}
 *
 * --cpus pins the echo side to CPU A and the measuring side to CPU B (A may
 * equal B). Where the two run decides the figure: on one CPU a round trip is
 * two context switches; on two, two cross-CPU wake-ups of an idle CPU, which
 * on a virtual machine cost far more.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kPayload = 32, kWarmup = 200 };

static void die(const char* what) {
  perror(what);
  exit(1);
}

static int transfer(int fd, uint8_t* buf, int writing) {
  size_t done = 0;
  while (done < kPayload) {
    ssize_t n = writing ? write(fd, buf + done, kPayload - done) : read(fd, buf + done, kPayload - done);
    if (n <= 0) return -1;
    done += (size_t)n;
  }
  return 0;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int by_value(const void* a, const void* b) {
  const uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

static void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
}

static void usage(const char* program) {
  fprintf(stderr, "usage: %s [--count 1..10000000] [--cpus A,B]\n", program);
  exit(2);
}

int main(int argc, char** argv) {
  long count = 1000;
  int echo_cpu = -1, measure_cpu = -1;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) usage(argv[0]);
    if (strcmp(argv[i], "--count") == 0) {
      count = strtol(argv[i + 1], NULL, 10);
    } else if (strcmp(argv[i], "--cpus") == 0) {
      if (sscanf(argv[i + 1], "%d,%d", &echo_cpu, &measure_cpu) != 2 || echo_cpu < 0 || measure_cpu < 0 ||
          echo_cpu >= CPU_SETSIZE || measure_cpu >= CPU_SETSIZE)
        usage(argv[0]);
    } else {
      usage(argv[0]);
    }
  }
  if (count < 1 || count > 10000000) usage(argv[0]);
  const int one = 1;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) die("socket");
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listener, (struct sockaddr*)&addr, sizeof addr) < 0) die("bind");
  if (listen(listener, 1) < 0 || getsockname(listener, (struct sockaddr*)&addr, &len) < 0) die("listen");

  const pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {  /* the echo side */
    if (echo_cpu >= 0) pin_to(echo_cpu);
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) die("accept");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    uint8_t buf[kPayload];
    while (transfer(fd, buf, 0) == 0 && transfer(fd, buf, 1) == 0) {
    }
    _exit(0);
  }
  close(listener);
  if (measure_cpu >= 0) pin_to(measure_cpu);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr*)&addr, sizeof addr) < 0) die("connect");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  uint64_t* rtts = calloc((size_t)count, sizeof *rtts);
  if (rtts == NULL) die("calloc");
  uint8_t out[kPayload], in[kPayload];
  for (long i = 0; i < kWarmup + count; ++i) {
    memset(out, (int)(i & 0xff), sizeof out);
    const uint64_t start = now_ns();
    if (transfer(fd, out, 1) != 0 || transfer(fd, in, 0) != 0) die("ping");
    const uint64_t rtt = now_ns() - start;
    if (memcmp(in, out, kPayload) != 0) {
      fprintf(stderr, "the echo differs from the payload\n");
      return 1;
    }
    if (i >= kWarmup) rtts[i - kWarmup] = rtt;
  }
  close(fd);
  waitpid(child, NULL, 0);
  qsort(rtts, (size_t)count, sizeof *rtts, by_value);
  printf("{\"median_ns\":%llu,\"p99_ns\":%llu,\"count\":%ld}\n", (unsigned long long)rtts[(count - 1) / 2],
         (unsigned long long)rtts[(count * 99 + 99) / 100 - 1], count);
  free(rtts);
  return 0;
}
