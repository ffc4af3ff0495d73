/* The client side of each benchmark metric (bench/README.md), over weft's C ABI.
 *
 * Every operation is asynchronous and completes once through the node's event queue, so the
 * concurrent metrics are small state machines: the token of an operation is its slot number + 1
 * and the event type says which operation of that slot finished. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer.h"

#define PERF_PROTOCOL "/perf/1.0.0"
#define PING_PROTOCOL "/ipfs/ping/1.0.0"
#define ECHO_PROTOCOL "/echo/1.0.0"

/* Several writes and reads stay in flight so one event round trip per chunk is not the limit. */
#define PERF_CHUNK_BYTES (256u << 10)
#define PERF_WRITES_IN_FLIGHT 8
#define PERF_READS_IN_FLIGHT 2
#define READ_BYTES (1u << 20) /* WEFT_LIMIT_MAX_READ_SIZE's default */
#define PING_SIZE 32
#define PING_WARMUP 10
#define HOLD_POLL_MS 20
#define DEFAULT_HANDSHAKE_CONCURRENCY 4
#define DEFAULT_HOLD_CONCURRENCY 64
#define DEFAULT_CHURN_CONCURRENCY 4 /* weft gains from a few streams in flight (reported) */
#define MAX_CONCURRENCY 1024 /* the usage messages say so too */
#define MAX_CHURN_SIZE (1u << 30)

static void* allocate(size_t count, size_t size) {
  void* p = calloc(count ? count : 1, size);
  if (!p) die("out of memory");
  return p;
}

static uint64_t slot_of(const weft_event* event, uint64_t slots) {
  const uint64_t token = weft_event_token(event);
  if (token == 0 || token > slots) die("an event with unknown token %llu", (unsigned long long)token);
  return token - 1;
}

static void print_array(const char* name, const uint64_t* values, uint64_t count) {
  printf("{\"%s\":[", name);
  for (uint64_t i = 0; i < count; ++i)
    printf(i ? ",%llu" : "%llu", (unsigned long long)values[i]);
  printf("]}\n");
}

static uint64_t seconds_to_ns(double seconds) { return (uint64_t)(seconds * 1e9); }

/* ---- perf: one /perf/1.0.0 stream, `upload` bytes up then `download` bytes down ---------- */

void metric_perf(bench_node* bn, const run_options* o) {
  const weft_conn conn = dial_sync(bn, o->remote, "dial");
  uint8_t* chunk = allocate(PERF_CHUNK_BYTES, 1);
  uint8_t header[8];
  for (int i = 0; i < 8; ++i) header[i] = (uint8_t)(o->download >> (56 - 8 * i));

  const uint64_t start = now_ns();
  const weft_stream stream = open_stream_sync(bn, conn, PERF_PROTOCOL);
  check(weft_stream_write(stream, header, sizeof header, 1), "perf: send the size");
  unsigned writes = 1, reads = 0;
  uint64_t submitted = 0, downloaded = 0;
  int close_submitted = 0, close_done = 0, eof = 0;
  for (;;) {
    while (writes < PERF_WRITES_IN_FLIGHT && submitted < o->upload) {
      const uint64_t left = o->upload - submitted;
      const size_t len = left < PERF_CHUNK_BYTES ? (size_t)left : PERF_CHUNK_BYTES;
      check(weft_stream_write_nocopy(stream, chunk, len, 1), "perf: upload");
      submitted += len;
      ++writes;
    }
    if (submitted == o->upload && !close_submitted) {
      check(weft_stream_close_write(stream, 1), "perf: close the write side");
      close_submitted = 1;
      for (; reads < PERF_READS_IN_FLIGHT; ++reads)
        check(weft_stream_read(stream, READ_BYTES, 1), "perf: download");
    }
    if (close_done && eof && reads == 0 && writes == 0) break;

    weft_event* event = next_event(bn);
    switch (weft_event_type_of(event)) {
      case WEFT_EVENT_WRITE: require_ok(event, "perf: upload"); --writes; break;
      case WEFT_EVENT_CLOSE_WRITE: require_ok(event, "perf: close the write side"); close_done = 1; break;
      case WEFT_EVENT_READ:
        --reads;
        if (weft_event_status(event) == WEFT_EOF) {
          eof = 1;
        } else {
          require_ok(event, "perf: download");
          size_t len = 0;
          weft_event_data(event, &len);
          downloaded += len;
          if (downloaded > o->download) die("perf: the server sent more than requested");
          if (!eof) {
            check(weft_stream_read(stream, READ_BYTES, 1), "perf: download");
            ++reads;
          }
        }
        break;
      default: die("perf: unexpected event type %d", weft_event_type_of(event));
    }
    weft_event_free(event);
  }
  const uint64_t elapsed = now_ns() - start;
  if (downloaded != o->download)
    die("perf: received %llu of %llu bytes", (unsigned long long)downloaded,
        (unsigned long long)o->download);
  printf("{\"upload_bytes\":%llu,\"download_bytes\":%llu,\"ns\":%llu}\n",
         (unsigned long long)o->upload, (unsigned long long)downloaded,
         (unsigned long long)elapsed);
  weft_stream_free(stream);
  weft_conn_close(conn);
  free(chunk);
}

/* ---- setup: new connection + first ping reply, N times in a row ------------------------- */

void metric_setup(bench_node* bn, const run_options* o) {
  if (o->count == 0 || o->count > 1000000) usage("setup: --count must be 1..1000000");
  uint64_t* values = allocate(o->count, sizeof *values);
  for (uint64_t i = 0; i < o->count; ++i) {
    const uint64_t start = now_ns();
    const weft_conn conn = dial_sync(bn, o->remote, "setup: dial");
    check(weft_ping(conn, 1), "setup: ping");
    weft_event_free(expect_event(bn, WEFT_EVENT_PING, "setup: ping"));
    values[i] = now_ns() - start;
    check(weft_conn_close(conn), "setup: close");
  }
  print_array("setup_ns", values, o->count);
  free(values);
}

/* ---- handshake-rate: C loops of new connection -> first ping reply -> close ------------- */

void metric_handshake_rate(bench_node* bn, const run_options* o) {
  const uint64_t slots = o->concurrency ? o->concurrency : DEFAULT_HANDSHAKE_CONCURRENCY;
  if (slots == 0 || slots > MAX_CONCURRENCY) usage("handshake-rate: --concurrency must be 1..1024");
  weft_conn* conns = allocate(slots, sizeof *conns);
  const uint64_t start = now_ns();
  const uint64_t stop_at = start + seconds_to_ns(o->seconds);
  for (uint64_t i = 0; i < slots; ++i) submit_dial(bn, o->remote, i + 1, "dial");
  uint64_t active = slots, completed = 0, last = start;
  while (active > 0) {
    weft_event* event = next_event(bn);
    const uint64_t slot = slot_of(event, slots);
    if (weft_event_type_of(event) == WEFT_EVENT_DIAL) {
      require_ok(event, "handshake-rate: dial");
      conns[slot] = weft_event_conn(event);
      check(weft_ping(conns[slot], slot + 1), "handshake-rate: ping");
    } else if (weft_event_type_of(event) == WEFT_EVENT_PING) {
      require_ok(event, "handshake-rate: ping");
      ++completed;
      last = now_ns();
      check(weft_conn_close(conns[slot]), "handshake-rate: close");
      if (last < stop_at) submit_dial(bn, o->remote, slot + 1, "dial");
      else --active;
    } else {
      die("handshake-rate: unexpected event type %d", weft_event_type_of(event));
    }
    weft_event_free(event);
  }
  printf("{\"connections\":%llu,\"ns\":%llu,\"concurrency\":%llu}\n",
         (unsigned long long)completed, (unsigned long long)(last - start),
         (unsigned long long)slots);
  free(conns);
}

/* ---- ping: one stream, 32-byte payloads echoed, after a warm-up ------------------------- */

void metric_ping(bench_node* bn, const run_options* o) {
  if (o->count == 0 || o->count > 10000000) usage("ping: --count must be 1..10000000");
  uint64_t* rtts = allocate(o->count, sizeof *rtts);
  const weft_conn conn = dial_sync(bn, o->remote, "dial");
  const weft_stream stream = open_stream_sync(bn, conn, PING_PROTOCOL);
  for (uint64_t i = 0; i < PING_WARMUP + o->count; ++i) {
    uint8_t payload[PING_SIZE], reply[PING_SIZE];
    random_fill(payload, sizeof payload);
    size_t got = 0;
    int written = 0;
    uint64_t end = 0;
    const uint64_t start = now_ns();
    check(weft_stream_read(stream, PING_SIZE, 1), "ping: read");
    check(weft_stream_write(stream, payload, PING_SIZE, 1), "ping: write");
    while (got < PING_SIZE || !written) {
      weft_event* event = next_event(bn);
      if (weft_event_type_of(event) == WEFT_EVENT_WRITE) {
        require_ok(event, "ping: write");
        written = 1;
      } else if (weft_event_type_of(event) == WEFT_EVENT_READ) {
        require_ok(event, "ping: read");  /* EOF included: the server must answer */
        size_t len = 0;
        const uint8_t* data = weft_event_data(event, &len);
        if (len > PING_SIZE - got) die("ping: the reply is longer than the payload");
        memcpy(reply + got, data, len);
        got += len;
        if (got == PING_SIZE) end = now_ns();
        else check(weft_stream_read(stream, PING_SIZE - got, 1), "ping: read");
      } else {
        die("ping: unexpected event type %d", weft_event_type_of(event));
      }
      weft_event_free(event);
    }
    if (memcmp(payload, reply, PING_SIZE) != 0) die("ping: the reply differs from the payload");
    if (i >= PING_WARMUP) rtts[i - PING_WARMUP] = end - start;
  }
  check(weft_stream_close_write(stream, 1), "ping: close");
  weft_event_free(expect_event(bn, WEFT_EVENT_CLOSE_WRITE, "ping: close"));
  print_array("rtt_ns", rtts, o->count);
  weft_stream_free(stream);
  weft_conn_close(conn);
  free(rtts);
}

/* ---- hold: N connections kept open until stdin ends ------------------------------------- */

void metric_hold(bench_node* bn, const run_options* o) {
  const uint64_t total = o->connections;
  const uint64_t slots = o->concurrency ? o->concurrency : DEFAULT_HOLD_CONCURRENCY;
  if (total == 0 || total > 1000000) usage("hold: --connections must be 1..1000000");
  if (slots > MAX_CONCURRENCY) usage("hold: --concurrency is at most 1024");
  uint64_t submitted = 0, opened = 0, in_flight = 0;
  while (opened < total) {
    for (; in_flight < slots && submitted < total; ++in_flight, ++submitted)
      submit_dial(bn, o->remote, 1, "hold: dial");
    weft_event* event = expect_event(bn, WEFT_EVENT_DIAL, "hold: dial");
    weft_event_free(event);  /* the connection stays open; the node closes it at the end */
    ++opened;
    --in_flight;
  }
  printf("{\"opened\":%llu}\n", (unsigned long long)opened);
  fflush(stdout);

  /* Until stdin ends: the node's I/O runs in weft_node_poll (the client's node has no I/O
   * threads), so the wait for stdin is a check between polls of HOLD_POLL_MS. */
  for (;;) {
    weft_event* events[64];
    size_t count = 0;
    check(weft_node_poll(bn->node, events, 64, HOLD_POLL_MS, &count), "weft_node_poll");
    for (size_t i = 0; i < count; ++i) weft_event_free(events[i]);
    struct pollfd input = {STDIN_FILENO, POLLIN, 0};
    const int ready = poll(&input, 1, 0);
    if (ready < 0 && errno != EINTR) die("hold: poll: %s", strerror(errno));
    if (ready > 0) {
      char buffer[256];
      const ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;
    }
  }
}

/* ---- churn: open /echo/1.0.0, write B, close write, read B back, close; for S seconds --- */

typedef struct churn_slot {
  weft_stream stream;
  uint64_t got;
  int written, closed, eof, reads; /* reads: submitted, not yet completed */
} churn_slot;

static size_t churn_read_size(uint64_t size) { return size < READ_BYTES ? (size_t)size : READ_BYTES; }

/* Lazily, as go-libp2p opens every single-protocol stream: the echo's bytes follow the
 * proposal without waiting a round trip for the answer. */
static void churn_open(weft_conn conn, uint64_t slot) {
  check(weft_open_stream_lazy(conn, ECHO_PROTOCOL, slot + 1), "churn: open");
}

void metric_churn(bench_node* bn, const run_options* o) {
  const uint64_t slots = o->concurrency ? o->concurrency : DEFAULT_CHURN_CONCURRENCY;
  if (slots > MAX_CONCURRENCY) usage("churn: --concurrency is at most 1024");
  if (o->size == 0 || o->size > MAX_CHURN_SIZE) usage("churn: --size must be 1..1073741824");
  uint8_t* payload = allocate(o->size, 1);
  random_fill(payload, o->size);
  churn_slot* state = allocate(slots, sizeof *state);
  const weft_conn conn = dial_sync(bn, o->remote, "dial");

  const uint64_t start = now_ns();
  const uint64_t stop_at = start + seconds_to_ns(o->seconds);
  for (uint64_t i = 0; i < slots; ++i) churn_open(conn, i);
  uint64_t active = slots, streams = 0, last = start;
  while (active > 0) {
    weft_event* event = next_event(bn);
    const uint64_t slot = slot_of(event, slots);
    churn_slot* s = &state[slot];
    switch (weft_event_type_of(event)) {
      case WEFT_EVENT_OPEN_STREAM:
        require_ok(event, "churn: open");
        memset(s, 0, sizeof *s);
        s->stream = weft_event_stream(event);
        check(weft_stream_write(s->stream, payload, o->size, slot + 1), "churn: write");
        check(weft_stream_close_write(s->stream, slot + 1), "churn: close write");
        /* Two reads at once (they take the bytes in order): when the echo and its end
         * arrive together, the second read reports the end without another hand-off. */
        check(weft_stream_read(s->stream, churn_read_size(o->size), slot + 1), "churn: read");
        check(weft_stream_read(s->stream, churn_read_size(o->size), slot + 1), "churn: read");
        s->reads = 2;
        break;
      case WEFT_EVENT_WRITE: require_ok(event, "churn: write"); s->written = 1; break;
      case WEFT_EVENT_CLOSE_WRITE: require_ok(event, "churn: close write"); s->closed = 1; break;
      case WEFT_EVENT_READ:
        --s->reads;
        if (weft_event_status(event) == WEFT_EOF) {
          s->eof = 1;
        } else {
          require_ok(event, "churn: read");
          size_t len = 0;
          const uint8_t* data = weft_event_data(event, &len);
          if (len > o->size - s->got || memcmp(data, payload + s->got, len) != 0)
            die("churn: the echo differs from what was sent");
          s->got += len;
          if (s->reads == 0) {
            check(weft_stream_read(s->stream, churn_read_size(o->size), slot + 1), "churn: read");
            s->reads = 1;
          }
        }
        break;
      default: die("churn: unexpected event type %d", weft_event_type_of(event));
    }
    weft_event_free(event);
    if (s->written && s->closed && s->eof && s->reads == 0) {
      if (s->got != o->size) die("churn: the echo ended early");
      check(weft_stream_free(s->stream), "churn: free");
      memset(s, 0, sizeof *s);
      ++streams;
      last = now_ns();
      if (last < stop_at) churn_open(conn, slot);
      else --active;
    }
  }
  printf("{\"streams\":%llu,\"ns\":%llu,\"concurrency\":%llu}\n", (unsigned long long)streams,
         (unsigned long long)(last - start), (unsigned long long)slots);
  weft_conn_close(conn);
  free(state);
  free(payload);
}
