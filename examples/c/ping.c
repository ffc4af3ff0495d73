/* ping: connects to a libp2p peer and measures round trips with /ipfs/ping/1.0.0.
 *
 * Usage: ping MULTIADDR [-n N]     (MULTIADDR like /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...)
 * Build: cc ping.c -o ping $(pkg-config --cflags --libs weft)
 *
 * The program runs one operation at a time: submit, then wait for its completion event. */
#include <weft.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TOKEN_DIAL = 1, TOKEN_PING = 2 };
/* Completions always arrive (weft.h, rule 3); the bound only guards against a stuck peer
 * setup beyond weft's own deadlines. */
#define WAIT_MS 60000

static int report(const char* what, int status) {
  fprintf(stderr, "ping: %s: %s (%s)\n", what, weft_strerror(status), weft_last_error());
  return 1;
}

/* Waits for the completion of the operation submitted with `token`. NULL if none came. */
static weft_event* wait_for(weft_node node, uint64_t token) {
  for (;;) {
    weft_event* event = NULL;
    size_t count = 0;
    int status = weft_node_poll(node, &event, 1, WAIT_MS, &count);
    if (status != WEFT_OK) {
      report("poll", status);
      return NULL;
    }
    if (count == 0) {
      fprintf(stderr, "ping: no completion within %d ms\n", WAIT_MS);
      return NULL;
    }
    if (weft_event_token(event) == token) return event;
    weft_event_free(event);
  }
}

/* Waits for `token` and checks its status; NULL (after a message) on failure. */
static weft_event* wait_ok(weft_node node, uint64_t token, const char* what) {
  weft_event* event = wait_for(node, token);
  if (event != NULL && weft_event_status(event) != WEFT_OK) {
    fprintf(stderr, "ping: %s: %s (%s)\n", what, weft_strerror(weft_event_status(event)),
            weft_event_error(event));
    weft_event_free(event);
    return NULL;
  }
  return event;
}

static int run(weft_node node, const char* target, long pings) {
  int status = weft_dial(node, target, TOKEN_DIAL);
  if (status != WEFT_OK) return report("dial", status);
  weft_event* dialed = wait_ok(node, TOKEN_DIAL, "dial");
  if (dialed == NULL) return 1;
  weft_conn conn = weft_event_conn(dialed);
  printf("connected to %s\n", weft_event_peer_id(dialed));
  weft_event_free(dialed);

  int failed = 0;
  for (long i = 1; i <= pings; ++i) {
    status = weft_ping(conn, TOKEN_PING);
    if (status != WEFT_OK) {
      failed = report("ping", status);
      break;
    }
    weft_event* pong = wait_ok(node, TOKEN_PING, "ping");
    if (pong == NULL) {
      failed = 1;
      break;
    }
    printf("ping %ld: %.3f ms\n", i, (double)weft_event_count(pong) / 1e6);
    fflush(stdout);
    weft_event_free(pong);
  }
  weft_conn_close(conn);
  return failed;
}

int main(int argc, char** argv) {
  const char* target = NULL;
  long pings = 3;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
      char* end = NULL;
      pings = strtol(argv[++i], &end, 10);
      if (*end != '\0' || pings < 1 || pings > 1000000) {
        fprintf(stderr, "ping: -n wants a count between 1 and 1000000\n");
        return 2;
      }
    } else if (target == NULL && argv[i][0] == '/') {
      target = argv[i];
    } else {
      target = NULL;
      break;
    }
  }
  if (target == NULL) {
    fprintf(stderr, "usage: ping MULTIADDR [-n N]\n");
    return 2;
  }

  weft_config config;
  int status = weft_config_new(&config);
  if (status != WEFT_OK) return report("config", status);
  weft_node node;
  status = weft_node_new(config, &node);
  weft_config_free(config);
  if (status != WEFT_OK) return report("node", status);

  int failed = 1;
  status = weft_node_start(node);
  if (status == WEFT_OK) {
    failed = run(node, target, pings);
  } else {
    report("start", status);
  }
  weft_node_stop(node, 1000);
  weft_node_close(node);
  return failed ? 1 : 0;
}
