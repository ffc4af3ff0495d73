/* echo_server: serves /example/echo/1.0.0, a custom protocol that sends back every byte it
 * receives and closes its side when the remote closes its own.
 *
 * Usage: echo_server [LISTEN_MULTIADDR]   (default /ip4/127.0.0.1/tcp/0)
 * Prints its listen addresses (with /p2p/<peer id>) on stdout, one a line, then serves until
 * SIGINT or SIGTERM. Build: cc echo_server.c -o echo_server $(pkg-config --cflags --libs weft)
 *
 * Each stream is a small state machine driven by completion events: read -> write what was
 * read -> read ... -> end of stream -> close our side -> free. One operation is pending per
 * stream at a time, so the stream's session pointer serves as the token of that operation. */
#define _POSIX_C_SOURCE 200809L
#include <weft.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROTOCOL "/example/echo/1.0.0"
#define READ_SIZE 65536
/* Session pointers are aligned, so they never equal this token. */
#define TOKEN_ACCEPT 1

typedef struct session {
  weft_stream stream;
} session;

static volatile sig_atomic_t stop_requested = 0;
static int fatal = 0; /* the server cannot go on (accepting failed) */

static void on_signal(int signo) {
  (void)signo;
  stop_requested = 1;
}

static void report(const char* what, int status) {
  fprintf(stderr, "echo_server: %s: %s (%s)\n", what, weft_strerror(status), weft_last_error());
}

static uint64_t token_of(session* s) { return (uint64_t)(uintptr_t)s; }

static void finish(session* s) {
  weft_stream_free(s->stream);
  free(s);
}

/* Submits the next read; a stream that cannot be read any more (node stopping) ends here. */
static void read_next(session* s) {
  int status = weft_stream_read(s->stream, READ_SIZE, token_of(s));
  if (status != WEFT_OK) finish(s);
}

static int accept_next(weft_node node) {
  int status = weft_accept_stream(node, PROTOCOL, TOKEN_ACCEPT);
  if (status != WEFT_OK && status != WEFT_ESTOPPED) report("accept", status);
  return status;
}

/* Handles one completion. */
static void handle(weft_node node, const weft_event* event) {
  int status = weft_event_status(event);
  if (weft_event_type_of(event) == WEFT_EVENT_ACCEPT_STREAM) {
    if (status != WEFT_OK) {
      if (status != WEFT_ESTOPPED) {
        fprintf(stderr, "echo_server: accept: %s (%s)\n", weft_strerror(status),
                weft_event_error(event));
        fatal = 1;
      }
      return;
    }
    session* s = malloc(sizeof *s);
    if (s == NULL) {
      weft_stream_free(weft_event_stream(event));
    } else {
      s->stream = weft_event_stream(event);
      fprintf(stderr, "echo_server: stream from %s\n", weft_event_peer_id(event));
      read_next(s);
    }
    status = accept_next(node);
    if (status != WEFT_OK && status != WEFT_ESTOPPED) fatal = 1;
    return;
  }

  session* s = (session*)(uintptr_t)weft_event_token(event);
  switch (weft_event_type_of(event)) {
    case WEFT_EVENT_READ:
      if (status == WEFT_OK) {
        size_t len = 0;
        const uint8_t* data = weft_event_data(event, &len);
        if (weft_stream_write(s->stream, data, len, token_of(s)) != WEFT_OK) finish(s);
      } else if (status == WEFT_EOF) {
        if (weft_stream_close_write(s->stream, token_of(s)) != WEFT_OK) finish(s);
      } else {
        finish(s);
      }
      break;
    case WEFT_EVENT_WRITE:
      if (status == WEFT_OK) {
        read_next(s);
      } else {
        finish(s);
      }
      break;
    default: /* WEFT_EVENT_CLOSE_WRITE: the exchange is over, whatever its status */
      finish(s);
      break;
  }
}

/* Handles the events that arrive within `timeout_ms`: returns how many, or -1 if polling
 * failed. */
static int drain(weft_node node, int timeout_ms) {
  weft_event* events[16];
  size_t count = 0;
  int status = weft_node_poll(node, events, 16, timeout_ms, &count);
  if (status != WEFT_OK) {
    report("poll", status);
    return -1;
  }
  for (size_t i = 0; i < count; ++i) {
    handle(node, events[i]);
    weft_event_free(events[i]);
  }
  return (int)count;
}

static int serve(weft_node node) {
  char small[1024];
  char* addrs = small;
  size_t needed = 0;
  int status = weft_node_listen_addrs(node, small, sizeof small, &needed);
  if (status == WEFT_ELIMIT && (addrs = malloc(needed)) != NULL) {
    status = weft_node_listen_addrs(node, addrs, needed, NULL);
  }
  if (addrs != NULL && status == WEFT_OK) printf("%s\n", addrs);
  if (addrs != small) free(addrs);
  if (status != WEFT_OK) {
    report("listen addresses", status);
    return -1;
  }
  fflush(stdout);

  status = weft_node_handle(node, PROTOCOL);
  if (status != WEFT_OK) {
    report("handle", status);
    return -1;
  }
  if (accept_next(node) != WEFT_OK) return -1;
  while (!stop_requested && !fatal) {
    if (drain(node, 250) < 0) return -1;
  }
  return fatal ? -1 : 0;
}

int main(int argc, char** argv) {
  const char* listen = argc > 1 ? argv[1] : "/ip4/127.0.0.1/tcp/0";
  if (argc > 2 || listen[0] != '/') {
    fprintf(stderr, "usage: echo_server [LISTEN_MULTIADDR]\n");
    return 2;
  }
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);

  weft_config config;
  int status = weft_config_new(&config);
  if (status != WEFT_OK) {
    report("config", status);
    return 1;
  }
  status = weft_config_add_listen_addr(config, listen);
  weft_node node = {0};
  if (status == WEFT_OK) status = weft_node_new(config, &node);
  weft_config_free(config);
  if (status != WEFT_OK) {
    report("node", status);
    return 1;
  }

  int result = -1;
  status = weft_node_start(node);
  if (status == WEFT_OK) {
    result = serve(node);
  } else {
    report("start", status);
  }
  /* Stop completes every pending operation; handling those last events frees the sessions. */
  weft_node_stop(node, 2000);
  while (drain(node, 0) > 0) {
  }
  weft_node_close(node);
  fprintf(stderr, "echo_server: stopped\n");
  return result == 0 ? 0 : 1;
}
