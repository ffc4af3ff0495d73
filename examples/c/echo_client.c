/* echo_client: sends a message over /example/echo/1.0.0 (see echo_server.c), closes its
 * side, reads the reply to the end and checks it is the message.
 *
 * Usage: echo_client MULTIADDR [MESSAGE]
 * Build: cc echo_client.c -o echo_client $(pkg-config --cflags --libs weft)
 *
 * The program runs one operation at a time: submit, then wait for its completion event. */
#include <weft.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROTOCOL "/example/echo/1.0.0"
#define WAIT_MS 60000
enum { TOKEN_DIAL = 1, TOKEN_OPEN, TOKEN_WRITE, TOKEN_CLOSE_WRITE, TOKEN_READ };

static int report(const char* what, int status) {
  fprintf(stderr, "echo_client: %s: %s (%s)\n", what, weft_strerror(status), weft_last_error());
  return 1;
}

/* Waits for the completion of the operation submitted with `token`; NULL (after a message)
 * if none came. The caller checks its status. */
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
      fprintf(stderr, "echo_client: no completion within %d ms\n", WAIT_MS);
      return NULL;
    }
    if (weft_event_token(event) == token) return event;
    weft_event_free(event);
  }
}

/* Waits for `token`; NULL (after a message) unless its status is `expected`. */
static weft_event* expect(weft_node node, uint64_t token, int expected, const char* what) {
  weft_event* event = wait_for(node, token);
  if (event != NULL && weft_event_status(event) != expected) {
    fprintf(stderr, "echo_client: %s: %s (%s)\n", what, weft_strerror(weft_event_status(event)),
            weft_event_error(event));
    weft_event_free(event);
    return NULL;
  }
  return event;
}

/* Reads the whole reply into a new buffer (*reply, *reply_len). Returns 0 on success. */
static int read_reply(weft_node node, weft_stream stream, char** reply, size_t* reply_len) {
  *reply = NULL;
  *reply_len = 0;
  for (;;) {
    int status = weft_stream_read(stream, 65536, TOKEN_READ);
    if (status != WEFT_OK) return report("read", status);
    weft_event* event = wait_for(node, TOKEN_READ);
    if (event == NULL) return 1;
    status = weft_event_status(event);
    if (status == WEFT_EOF) {
      weft_event_free(event);
      return 0;
    }
    if (status != WEFT_OK) {
      fprintf(stderr, "echo_client: read: %s (%s)\n", weft_strerror(status),
              weft_event_error(event));
      weft_event_free(event);
      return 1;
    }
    size_t len = 0;
    const uint8_t* data = weft_event_data(event, &len);
    char* grown = realloc(*reply, *reply_len + len + 1);
    if (grown == NULL) {
      weft_event_free(event);
      return report("read", WEFT_ENOMEM);
    }
    memcpy(grown + *reply_len, data, len);
    *reply = grown;
    *reply_len += len;
    (*reply)[*reply_len] = '\0';
    weft_event_free(event);
  }
}

static int exchange(weft_node node, weft_conn conn, const char* message) {
  const char* protocols[] = {PROTOCOL};
  int status = weft_open_stream(conn, protocols, 1, TOKEN_OPEN);
  if (status != WEFT_OK) return report("open stream", status);
  weft_event* opened = expect(node, TOKEN_OPEN, WEFT_OK, "open stream");
  if (opened == NULL) return 1;
  weft_stream stream = weft_event_stream(opened);
  weft_event_free(opened);

  int failed = 1;
  char* reply = NULL;
  size_t reply_len = 0;
  size_t len = strlen(message);
  weft_event* done = NULL;
  /* Writes and the half-close go out in submission order: both may be pending at once. */
  if ((status = weft_stream_write(stream, (const uint8_t*)message, len, TOKEN_WRITE)) != WEFT_OK) {
    report("write", status);
  } else if ((status = weft_stream_close_write(stream, TOKEN_CLOSE_WRITE)) != WEFT_OK) {
    report("close write", status);
    weft_event_free(expect(node, TOKEN_WRITE, WEFT_OK, "write"));
  } else if ((done = expect(node, TOKEN_WRITE, WEFT_OK, "write")) != NULL) {
    weft_event_free(done);
    if ((done = expect(node, TOKEN_CLOSE_WRITE, WEFT_OK, "close write")) != NULL) {
      weft_event_free(done);
      failed = read_reply(node, stream, &reply, &reply_len);
    }
  }
  if (!failed) {
    if (reply_len == len && (len == 0 || memcmp(reply, message, len) == 0)) {
      printf("echoed %zu bytes: %s\n", len, message);
    } else {
      fprintf(stderr, "echo_client: the reply (%zu bytes) differs from the message (%zu)\n",
              reply_len, len);
      failed = 1;
    }
  }
  free(reply);
  weft_stream_free(stream);
  return failed;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || argv[1][0] != '/') {
    fprintf(stderr, "usage: echo_client MULTIADDR [MESSAGE]\n");
    return 2;
  }
  const char* message = argc == 3 ? argv[2] : "hello from weft";

  weft_config config;
  int status = weft_config_new(&config);
  if (status != WEFT_OK) return report("config", status);
  weft_node node;
  status = weft_node_new(config, &node);
  weft_config_free(config);
  if (status != WEFT_OK) return report("node", status);

  int failed = 1;
  if ((status = weft_node_start(node)) != WEFT_OK) {
    report("start", status);
  } else if ((status = weft_dial(node, argv[1], TOKEN_DIAL)) != WEFT_OK) {
    report("dial", status);
  } else {
    weft_event* dialed = expect(node, TOKEN_DIAL, WEFT_OK, "dial");
    if (dialed != NULL) {
      weft_conn conn = weft_event_conn(dialed);
      weft_event_free(dialed);
      failed = exchange(node, conn, message);
      weft_conn_close(conn);
    }
  }
  weft_node_stop(node, 1000);
  weft_node_close(node);
  return failed;
}
