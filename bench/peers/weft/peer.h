/* The weft benchmark peer: shared declarations of peer.c (command line, listener, event
 * helpers) and metrics.c (the client side of each metric). bench/README.md has the contract. */
#ifndef WEFT_BENCH_PEER_H
#define WEFT_BENCH_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "weft.h"

/* The client's node and its queue of polled events (weft_node_poll hands them out in batches). */
typedef struct bench_node {
  weft_node node;
  weft_event* batch[64];
  size_t batch_len;
  size_t batch_next;
  uint64_t deadline_ns; /* no wait goes past this: a stuck run fails instead of hanging */
} bench_node;

/* Prints "peer-weft: <message>" on stderr and exits 1. */
void die(const char* format, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Prints `message` (if any) and the usage on stderr and exits 2. */
void usage(const char* message) __attribute__((noreturn));
/* Dies with weft_last_error() unless status is WEFT_OK. */
void check(int status, const char* what);
/* Dies with the event's status and error unless it is WEFT_OK. */
void require_ok(const weft_event* event, const char* what);

uint64_t now_ns(void);
void random_fill(uint8_t* out, size_t len);

/* The next completion of the node, waiting as long as needed up to the node's deadline. The
 * caller frees it with weft_event_free. */
weft_event* next_event(bench_node* bn);
/* The next completion, which must be of `type` (the caller has exactly one operation pending). */
weft_event* expect_event(bench_node* bn, int type, const char* what);

/* Submits a dial of `remote` (a malformed address is a usage error). */
void submit_dial(bench_node* bn, const char* remote, uint64_t token, const char* what);
/* Dials `remote` and returns the connection; `what` names the step for error messages. */
weft_conn dial_sync(bench_node* bn, const char* remote, const char* what);
weft_stream open_stream_sync(bench_node* bn, weft_conn conn, const char* protocol);

/* The metrics (metrics.c); each prints its one JSON line. */
typedef struct run_options {
  const char* remote;
  const char* metric;
  uint64_t upload, download; /* perf */
  uint64_t count;            /* setup, ping */
  uint64_t concurrency;      /* handshake-rate, churn */
  double seconds;            /* handshake-rate, churn */
  uint64_t connections;      /* hold */
  uint64_t size;             /* churn */
} run_options;

void metric_perf(bench_node* bn, const run_options* options);
void metric_setup(bench_node* bn, const run_options* options);
void metric_handshake_rate(bench_node* bn, const run_options* options);
void metric_ping(bench_node* bn, const run_options* options);
void metric_hold(bench_node* bn, const run_options* options);
void metric_churn(bench_node* bn, const run_options* options);

#endif
