/*
 * weft.h: the C interface of weft, a libp2p node (TCP + Noise + Yamux,
 * identify, ping, perf, echo).
 *
 * This header is weft's stable ABI: functions are only ever added, enum
 * values never change meaning, and no structure's layout crosses it.
 *
 * The model, in five rules:
 *
 *  1. Objects are named by handles: small structs holding a 64-bit id. An id
 *     is never reused, so a stale or closed handle is detected and reported
 *     (WEFT_ENOTFOUND), never dereferenced. The zero handle is invalid.
 *
 *  2. Lifecycle: weft_node_new -> weft_node_start -> weft_node_stop ->
 *     weft_node_close. Stop is idempotent and returns within its timeout plus
 *     a small bounded margin whatever peers do; close frees everything and is
 *     the last call on the handle. After close the node owns no thread, file
 *     descriptor or timer.
 *
 *  3. Asynchronous operations (the functions taking a `token`) never block.
 *     When one returns WEFT_OK it was submitted, and exactly one completion
 *     event carrying the caller's token follows, whatever happens: success,
 *     failure, cancellation (WEFT_ECANCELED) or stop (WEFT_ESTOPPED). When it
 *     returns an error nothing was submitted and no event follows.
 *
 *  4. Completions arrive in the node's event queue. Drain it with
 *     weft_node_poll(); weft_node_event_fd() is readable while events are
 *     queued, for select/poll/epoll/asyncio/Go integration. Events are owned
 *     by the caller once polled and freed with weft_event_free().
 *
 *  5. Every function is thread-safe, never throws, never blocks on the
 *     network (only weft_node_stop and weft_node_poll wait, each bounded by
 *     its timeout), and may be called from any thread, including a thread
 *     that is handling events. Protocol work runs on the node's own threads
 *     (or, with weft_config_set_io_threads(config, 0), inside the caller's
 *     weft_node_poll); a caller that gives up on an operation cannot
 *     interrupt it halfway.
 *
 * Errors: every function returns a weft_status (0 = WEFT_OK). On failure,
 * weft_last_error() gives a message with detail for the calling thread.
 */
#ifndef WEFT_H
#define WEFT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(WEFT_BUILDING_LIBRARY) && defined(__GNUC__)
#define WEFT_API __attribute__((visibility("default")))
#else
#define WEFT_API
#endif

/* ======================================================================== */
/* Versions                                                                 */
/* ======================================================================== */

#define WEFT_VERSION_MAJOR 0
#define WEFT_VERSION_MINOR 1
#define WEFT_VERSION_PATCH 0
#define WEFT_VERSION_NUMBER (WEFT_VERSION_MAJOR * 10000 + WEFT_VERSION_MINOR * 100 + WEFT_VERSION_PATCH)
/* Incremented whenever the ABI changes incompatibly (also the soname). */
#define WEFT_ABI_VERSION 0

/* The library's version as WEFT_VERSION_NUMBER computes it, and as text
 * ("0.1.0"). The string is static. Any thread. */
WEFT_API unsigned weft_version(void);
WEFT_API const char* weft_version_string(void);
/* The ABI version the library was built with; compare with WEFT_ABI_VERSION. */
WEFT_API unsigned weft_abi_version(void);

/* ======================================================================== */
/* Errors                                                                   */
/* ======================================================================== */

/* Stable values: never renumbered. */
typedef enum weft_status {
  WEFT_OK = 0,
  WEFT_EINVAL = 1,          /* invalid argument (null pointer, bad value, ...) */
  WEFT_ENOMEM = 2,          /* out of memory */
  WEFT_ECANCELED = 3,       /* the operation was cancelled with weft_cancel */
  WEFT_ETIMEDOUT = 4,       /* a deadline passed */
  WEFT_ESTOPPED = 5,        /* the node is stopping or stopped */
  WEFT_ECLOSED = 6,         /* the stream or connection is closed (for this direction) */
  WEFT_ERESET = 7,          /* the stream or connection was reset */
  WEFT_ECONNREFUSED = 8,    /* the remote refused the TCP connection */
  WEFT_EUNREACHABLE = 9,    /* the address could not be resolved or reached */
  WEFT_EPROTO = 10,         /* the remote violated a wire protocol */
  WEFT_ENOPROTO = 11,       /* the remote supports none of the protocols proposed */
  WEFT_EPEERID = 12,        /* the remote is not the peer named in the address */
  WEFT_EUNSUPPORTED = 13,   /* e.g. an unsupported key type or transport */
  WEFT_ELIMIT = 14,         /* a configured limit was reached */
  WEFT_EPARSE = 15,         /* malformed input: multiaddr, peer id, key file, ... */
  WEFT_ECRYPTO = 16,        /* authentication or decryption failed */
  WEFT_EOF = 17,            /* the remote closed its write side: no more data */
  WEFT_EIO = 18,            /* any other transport or file error */
  WEFT_ENOTFOUND = 19,      /* unknown, stale or closed handle; unknown protocol */
  WEFT_EBUSY = 20,          /* in use: address in use, call not allowed from here */
  WEFT_ESTATE = 21          /* not allowed in the object's current state */
} weft_status;

/* A short static description of a status ("timed out"). Any value is
 * accepted; unknown ones give "unknown error". Any thread. */
WEFT_API const char* weft_strerror(int status);

/* The message of the last failed weft call on the calling thread, with
 * detail ("multiaddr: unknown protocol 'tcpx'"); "" if none failed yet.
 * Valid until the next weft call on this thread. */
WEFT_API const char* weft_last_error(void);

/* ======================================================================== */
/* Handles                                                                  */
/* ======================================================================== */

typedef struct weft_config { uint64_t id; } weft_config;
typedef struct weft_node { uint64_t id; } weft_node;
typedef struct weft_conn { uint64_t id; } weft_conn;
typedef struct weft_stream { uint64_t id; } weft_stream;

/* ======================================================================== */
/* Logging                                                                  */
/* ======================================================================== */

typedef enum weft_log_level {
  WEFT_LOG_TRACE = 0,
  WEFT_LOG_DEBUG = 1,
  WEFT_LOG_INFO = 2,
  WEFT_LOG_WARN = 3,
  WEFT_LOG_ERROR = 4,
  WEFT_LOG_OFF = 5
} weft_log_level;

/* Called from weft's threads (and from the thread of a failing call) with a
 * message valid only during the call. It must not block for long. It may
 * call weft functions other than weft_node_stop/weft_node_close. */
typedef void (*weft_log_fn)(void* user, int level, const char* message);

/* Process-wide: messages at `min_level` and above go to `fn` (NULL turns
 * logging off, the default). Any thread. */
WEFT_API int weft_set_log_callback(int min_level, weft_log_fn fn, void* user);

/* ======================================================================== */
/* Identities                                                               */
/* ======================================================================== */

/* Creates a new Ed25519 identity and writes it to `path` (libp2p's protobuf
 * private key format, mode 0600). Fails with WEFT_EBUSY if the file exists. */
WEFT_API int weft_identity_generate_file(const char* path);

/* Writes the peer id (base58, NUL-terminated) of the identity stored in
 * `path` into buf. `needed` (may be NULL) receives the size the text needs,
 * NUL included; WEFT_ELIMIT if buflen is smaller. */
WEFT_API int weft_identity_peer_id(const char* path, char* buf, size_t buflen, size_t* needed);

/* ======================================================================== */
/* Configuration                                                            */
/* ======================================================================== */

/* A configuration is a plain value owned by the caller: create, set, pass to
 * weft_node_new (which copies it), free. Setters validate their input and
 * report WEFT_EINVAL / WEFT_EPARSE at once. Any thread. */
WEFT_API int weft_config_new(weft_config* out);
WEFT_API int weft_config_free(weft_config config);

/* Adds a TCP listen address ("/ip4/127.0.0.1/tcp/0", "/ip6/::/tcp/4001").
 * Port 0 picks a free port; weft_node_listen_addrs reports the real one. */
WEFT_API int weft_config_add_listen_addr(weft_config config, const char* multiaddr);

/* The node's identity: a private key file (weft_identity_generate_file, or
 * another libp2p tool's protobuf key), read now. Default: a new key. */
WEFT_API int weft_config_set_identity_file(weft_config config, const char* path);

/* The identify agent version (default "weft/<version>"). Copied. */
WEFT_API int weft_config_set_agent_version(weft_config config, const char* agent);

/* I/O threads of the node (default 1, at most 64).
 *
 * 0: the node has no threads of its own; its I/O runs inside the threads
 * that wait in weft_node_poll (and in weft_node_stop while it waits). Each
 * request/response round trip then saves two hand-offs between threads,
 * two kernel wake-ups (several times faster ping round trips on virtual
 * machines), and burns no CPU while idle. The price: the node makes progress
 * only while some thread waits in weft_node_poll, so an application that
 * spends long between polls delays its keep-alives, timers and peers.
 * weft_node_event_fd fails with WEFT_EINVAL for such a node. */
WEFT_API int weft_config_set_io_threads(weft_config config, unsigned threads);

/* Limits. Every limit has a default; values are counts, bytes or
 * milliseconds as named. Stable values. */
typedef enum weft_limit {
  WEFT_LIMIT_MAX_INBOUND_CONNECTIONS = 1,   /* default 256 */
  WEFT_LIMIT_MAX_OUTBOUND_CONNECTIONS = 2,  /* default 256 */
  WEFT_LIMIT_MAX_CONNECTIONS_PER_PEER = 3,  /* default 8 */
  WEFT_LIMIT_MAX_PENDING_HANDSHAKES = 4,    /* default 64 */
  WEFT_LIMIT_HANDSHAKE_TIMEOUT_MS = 5,      /* default 15000 */
  WEFT_LIMIT_NEGOTIATION_TIMEOUT_MS = 6,    /* default 10000 */
  WEFT_LIMIT_DIAL_TIMEOUT_MS = 7,           /* default 10000 */
  WEFT_LIMIT_PING_TIMEOUT_MS = 8,           /* default 10000 */
  WEFT_LIMIT_IDENTIFY_TIMEOUT_MS = 9,       /* default 10000 */
  WEFT_LIMIT_MAX_STREAMS_PER_CONNECTION = 10,  /* default 1024 */
  WEFT_LIMIT_IDENTIFY_MAX_MESSAGE_SIZE = 11,   /* default 8192 */
  WEFT_LIMIT_MULTISTREAM_MAX_MESSAGE_SIZE = 12, /* default 1024 */
  WEFT_LIMIT_STREAM_RECEIVE_WINDOW_MAX = 13,   /* default 16777216 (yamux auto-tuning cap) */
  WEFT_LIMIT_INBOUND_STREAM_BACKLOG = 14,      /* default 256: per registered protocol */
  WEFT_LIMIT_MAX_READ_SIZE = 15,               /* default 1048576: largest weft_stream_read */
  WEFT_LIMIT_MAX_PENDING_EVENTS = 16,          /* default 65536: see weft_node_poll */
  /* default 0 (0 to 10000): microseconds a thread that ran out of work
   * (an I/O thread, or one waiting in weft_node_poll for a node without
   * I/O threads) keeps polling for more before it sleeps in the kernel; 0
   * sleeps at once. Waking a sleeping thread costs tens of microseconds on
   * many (virtual) machines, more than a small message's round trip on one
   * host. The spin is adaptive: a thread spins only while its waits stay
   * short and its spins find work, and backs off (up to 64 waits without a
   * spin) when they do not, so an idle or slow-paced node never spins and
   * answers that come back later than the spin cost little. A spin ends
   * (and backs off) as soon as another thread needs its CPU, a thread that
   * works more than it waits does not spin, and at most half the process's
   * CPUs (at least one) spin at once, across all nodes. For machines with
   * CPUs to spare: where both ends of a transfer share few cores, spinners
   * hold CPUs the other end needs and bulk transfers slow down. */
  WEFT_LIMIT_IO_SPIN_US = 17,
  /* default 67108864 (at least 262144): the receive windows of all streams
   * of one connection together, so the bytes a remote can make weft hold
   * for it, received and not yet read. An inbound stream that would take the
   * sum over it is refused (reset), and windows stop growing at it. Streams
   * the node opens count too, but are never refused for it. */
  WEFT_LIMIT_CONNECTION_RECEIVE_WINDOWS_MAX = 18
} weft_limit;

/* Sets a limit; WEFT_EINVAL for an unknown limit or an out-of-range value. */
WEFT_API int weft_config_set_limit(weft_config config, int limit, uint64_t value);
/* Reads a limit (the default until set). */
WEFT_API int weft_config_get_limit(weft_config config, int limit, uint64_t* value);

/* Built-in protocols served on inbound streams. Stable values. */
typedef enum weft_builtin {
  WEFT_BUILTIN_ECHO = 1,  /* /echo/1.0.0, default on */
  WEFT_BUILTIN_PERF = 2   /* /perf/1.0.0, default on */
} weft_builtin;
WEFT_API int weft_config_enable_builtin(weft_config config, int builtin, int enabled);

/* ======================================================================== */
/* Nodes                                                                    */
/* ======================================================================== */

/* Creates a node from `config` (copied; the config may be freed after).
 * The node does nothing until started. */
WEFT_API int weft_node_new(weft_config config, weft_node* out);

/* Binds the listen addresses and starts the node's threads. */
WEFT_API int weft_node_start(weft_node node);

/* Stops the node: no new dials, accepts or streams from now on (calls
 * return WEFT_ESTOPPED); connections close gracefully until `timeout_ms`,
 * then everything left is aborted. Every pending operation completes (its
 * event is queued) before this returns. Idempotent; WEFT_EBUSY when called
 * from the log callback. Blocks for at most timeout_ms plus a bounded margin. */
WEFT_API int weft_node_stop(weft_node node, uint32_t timeout_ms);

/* Stops (timeout 0) if needed and frees the node, its connections, streams
 * and queued events. The handle, and every conn/stream handle of the node,
 * is invalid afterwards. */
WEFT_API int weft_node_close(weft_node node);

/* The node's peer id, base58, NUL-terminated; see weft_identity_peer_id for
 * buf/needed. */
WEFT_API int weft_node_peer_id(weft_node node, char* buf, size_t buflen, size_t* needed);

/* The listen addresses, each ending in /p2p/<peer id>, separated by '\n',
 * NUL-terminated (empty before start). buf/needed as above. */
WEFT_API int weft_node_listen_addrs(weft_node node, char* buf, size_t buflen, size_t* needed);

/* Statistics. Stable values. */
typedef enum weft_stat {
  WEFT_STAT_CONNECTIONS = 1,       /* open or handshaking, both directions */
  WEFT_STAT_INBOUND = 2,
  WEFT_STAT_OUTBOUND = 3,
  WEFT_STAT_HANDSHAKING = 4,
  WEFT_STAT_STREAMS = 5,           /* stream handles not yet freed */
  WEFT_STAT_PENDING_OPS = 6,       /* submitted operations not yet completed */
  WEFT_STAT_QUEUED_EVENTS = 7,     /* completions waiting to be polled */
  WEFT_STAT_BYTES_SENT = 8,        /* application bytes written to streams */
  WEFT_STAT_BYTES_RECEIVED = 9,    /* application bytes read from streams */
  WEFT_STAT_CONNECTIONS_OPENED = 10,
  WEFT_STAT_CONNECTIONS_FAILED = 11
} weft_stat;
WEFT_API int weft_node_stat(weft_node node, int stat, uint64_t* value);

/* Process-wide counts of what weft holds right now, across all nodes, for
 * leak accounting: once every node is closed, each is back to its value
 * from before the first node was created (zero). Stable values. */
typedef enum weft_live {
  WEFT_LIVE_NODES = 1,        /* nodes created and not yet closed */
  WEFT_LIVE_THREADS = 2,      /* weft I/O threads running */
  WEFT_LIVE_SOCKETS = 3,      /* TCP sockets, connecting, connected or listening */
  WEFT_LIVE_TIMERS = 4,       /* timers in existence (deadlines, keep-alive, ...) */
  WEFT_LIVE_CONNECTIONS = 5,  /* connection objects, handshaking or established */
  WEFT_LIVE_STREAMS = 6,      /* muxed stream objects */
  WEFT_LIVE_OPERATIONS = 7    /* asynchronous operations submitted, not yet completed */
} weft_live;
/* WEFT_EINVAL for an unknown `what` or a NULL `value`. Any thread. */
WEFT_API int weft_live_count(int what, uint64_t* value);

/* ======================================================================== */
/* Events                                                                   */
/* ======================================================================== */

typedef struct weft_event weft_event; /* opaque; owned by the caller once polled */

typedef enum weft_event_type {
  WEFT_EVENT_DIAL = 1,          /* weft_dial: conn */
  WEFT_EVENT_OPEN_STREAM = 2,   /* weft_open_stream(_lazy): stream, protocol */
  WEFT_EVENT_ACCEPT_STREAM = 3, /* weft_accept_stream: stream, conn, protocol */
  WEFT_EVENT_READ = 4,          /* weft_stream_read: data */
  WEFT_EVENT_WRITE = 5,         /* weft_stream_write: count = bytes written (see there) */
  WEFT_EVENT_CLOSE_WRITE = 6,   /* weft_stream_close_write */
  WEFT_EVENT_PING = 7,          /* weft_ping: count = round trip in nanoseconds */
  WEFT_EVENT_IDENTIFY = 8       /* weft_identify: text = agent version, list = protocols, addrs */
} weft_event_type;

/* A file descriptor that is readable while the node's queue has events
 * (level-triggered). Owned by the node: do not close or read it. Valid
 * until weft_node_close. WEFT_EINVAL for a node without I/O threads, which
 * must be driven by weft_node_poll. */
WEFT_API int weft_node_event_fd(weft_node node, int* fd);

/* Moves up to `max` queued events into `events` (in completion order),
 * waiting up to `timeout_ms` for the first one (0: do not wait; -1: wait
 * until one arrives or the node is closed). `count` receives the number
 * moved. Several threads may poll one node; each event goes to one of them.
 * For a node without I/O threads (weft_config_set_io_threads), the waiting
 * threads run the node's I/O until an event is queued or the timeout ends;
 * a timeout of 0 runs what is ready now without waiting.
 * While WEFT_LIMIT_MAX_PENDING_EVENTS events (or more) are queued, new
 * submissions fail with WEFT_ELIMIT until the queue is drained. Returns
 * WEFT_ENOTFOUND if the node is closed while waiting. */
WEFT_API int weft_node_poll(weft_node node, weft_event** events, size_t max, int timeout_ms,
                            size_t* count);

/* Frees a polled event and any data it carries. NULL is ignored. */
WEFT_API void weft_event_free(weft_event* event);

/* Accessors. They never fail; a field the event type does not carry reads
 * as zero / empty / the zero handle. Pointers stay valid until
 * weft_event_free. */
WEFT_API int weft_event_type_of(const weft_event* event);    /* weft_event_type */
WEFT_API uint64_t weft_event_token(const weft_event* event);  /* the caller's token */
WEFT_API int weft_event_status(const weft_event* event);      /* weft_status */
WEFT_API const char* weft_event_error(const weft_event* event); /* detail; "" on success */
WEFT_API weft_conn weft_event_conn(const weft_event* event);
WEFT_API weft_stream weft_event_stream(const weft_event* event);
WEFT_API const char* weft_event_protocol(const weft_event* event);
/* READ: the bytes read (len 0 with status WEFT_EOF at the end of the stream). */
WEFT_API const uint8_t* weft_event_data(const weft_event* event, size_t* len);
WEFT_API uint64_t weft_event_count(const weft_event* event);
/* IDENTIFY: agent version; the remote's peer id for DIAL/ACCEPT_STREAM. */
WEFT_API const char* weft_event_text(const weft_event* event);
WEFT_API const char* weft_event_peer_id(const weft_event* event);
/* IDENTIFY: protocols (which = 0) or listen addresses (which = 1), as a
 * '\n'-separated NUL-terminated list. */
WEFT_API const char* weft_event_list(const weft_event* event, int which);

/* ======================================================================== */
/* Operations (asynchronous: exactly one event each when submitted)        */
/* ======================================================================== */

/* Submitting one fails with WEFT_ESTATE before weft_node_start and with
 * WEFT_ESTOPPED once weft_node_stop has begun. */

/* Requests cancellation of every pending operation of `node` submitted with
 * `token`. Each still completes exactly once: with WEFT_ECANCELED, or with
 * its real result if it finished first. A cancelled operation leaves the node,
 * connection and stream consistent: a cancelled read loses no data, a write
 * cancelled before any byte was sent sends nothing. WEFT_OK even if nothing
 * matched. */
WEFT_API int weft_cancel(weft_node node, uint64_t token);

/* Connects to `multiaddr` (/ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>, with
 * /p2p/<peer id> to check who answers). Event DIAL: conn, peer id. */
WEFT_API int weft_dial(weft_node node, const char* multiaddr, uint64_t token);

/* Closes a connection (GoAway, then the socket) and frees the handle; its
 * streams fail with WEFT_ECLOSED. Synchronous, never blocks. */
WEFT_API int weft_conn_close(weft_conn conn);

/* The connection's remote peer id / remote address as text. buf/needed as
 * for weft_identity_peer_id. */
WEFT_API int weft_conn_peer_id(weft_conn conn, char* buf, size_t buflen, size_t* needed);
WEFT_API int weft_conn_remote_addr(weft_conn conn, char* buf, size_t buflen, size_t* needed);

/* Measures one round trip with /ipfs/ping/1.0.0. Event PING: count = ns.
 * The stream of the last successful ping stays open for the next one, so
 * repeated pings cost one 32-byte exchange each; a ping that finds it busy
 * (pings at once) or ended by the remote uses a new stream. */
WEFT_API int weft_ping(weft_conn conn, uint64_t token);

/* The remote's identify information (waits for the exchange that runs on
 * every connection). Event IDENTIFY. */
WEFT_API int weft_identify(weft_conn conn, uint64_t token);

/* Opens a stream and negotiates the first of `protocols` (an array of
 * `count` NUL-terminated strings, copied) the remote supports.
 * Event OPEN_STREAM: stream, protocol; WEFT_ENOPROTO if none. */
WEFT_API int weft_open_stream(weft_conn conn, const char* const* protocols, size_t count,
                              uint64_t token);

/* Opens a stream proposing `protocol` (copied) without waiting for the
 * remote's answer, saving a round trip: event OPEN_STREAM completes as soon
 * as the proposal is queued, and writes may follow at once. The answer is
 * read before the stream's first data. If the remote refuses the protocol,
 * reads fail with WEFT_ENOPROTO (WEFT_ERESET if it reset the stream before
 * its refusal was read; WEFT_ETIMEDOUT with no answer within
 * WEFT_LIMIT_NEGOTIATION_TIMEOUT_MS), the stream is reset, and bytes already
 * written are lost. Use weft_open_stream where a refusal must be known
 * before writing. weft_stream_close_write on such a stream sends its FIN
 * only once the answer is in (js-libp2p resets a stream whose end arrives
 * before it has finished negotiating); its event reports the refusal. */
WEFT_API int weft_open_stream_lazy(weft_conn conn, const char* protocol, uint64_t token);

/* Registers `protocol` for inbound streams. Streams that negotiate it wait
 * in a backlog (WEFT_LIMIT_INBOUND_STREAM_BACKLOG; beyond it they are reset)
 * until taken with weft_accept_stream. Peers learn of it through identify. */
WEFT_API int weft_node_handle(weft_node node, const char* protocol);
/* Unregisters it; streams waiting in its backlog are reset and pending
 * accepts complete with WEFT_ECLOSED. */
WEFT_API int weft_node_unhandle(weft_node node, const char* protocol);

/* Takes the next inbound stream of a registered protocol (WEFT_ENOTFOUND if
 * not registered). Event ACCEPT_STREAM: stream, conn, protocol, peer id. */
WEFT_API int weft_accept_stream(weft_node node, const char* protocol, uint64_t token);

/* Reads between 1 and `max_bytes` bytes (at most WEFT_LIMIT_MAX_READ_SIZE,
 * else WEFT_ELIMIT). Several reads may be pending on one stream: they take
 * the stream's bytes in submission order (calls racing on several threads
 * are ordered as they reach the stream).
 * Event READ: data; status WEFT_EOF once the remote closed its write side
 * and everything was read. */
WEFT_API int weft_stream_read(weft_stream stream, size_t max_bytes, uint64_t token);

/* Writes `len` bytes (copied before the call returns; the buffer may be
 * reused at once). Several writes may be pending on one stream: they go out
 * in submission order, each contiguous. Event WRITE: count = bytes written,
 * `len` on success. A write that fails or is cancelled part way (waiting for
 * the remote to read) reports in count the bytes of its start that were
 * already handed to the connection: those still go out, unless the
 * connection fails; the rest never does. A stream that is to go on after a
 * cancelled write resumes at data + count. */
WEFT_API int weft_stream_write(weft_stream stream, const uint8_t* data, size_t len, uint64_t token);

/* Like weft_stream_write, without the copy: weft reads `data` in place, so
 * the caller must keep it valid and unchanged until this write's event
 * WRITE arrives (whatever its status: done, WEFT_ECANCELED, WEFT_ERESET,
 * WEFT_ESTOPPED...). Not even weft_node_stop returns before weft is done
 * with it. For large writes, where the copy is a noticeable share of the
 * CPU time of sending (encryption reads the data once either way). On
 * failure of the call itself (no event), `data` was not used. */
WEFT_API int weft_stream_write_nocopy(weft_stream stream, const uint8_t* data, size_t len,
                                      uint64_t token);

/* Half-close: sends FIN after every write submitted before it. Reading
 * continues. Event CLOSE_WRITE. */
WEFT_API int weft_stream_close_write(weft_stream stream, uint64_t token);

/* Resets the stream at once (both directions); pending reads and writes
 * complete with WEFT_ERESET. The handle stays valid until freed. */
WEFT_API int weft_stream_reset(weft_stream stream);

/* Frees the handle; a stream not fully closed is reset. Pending operations
 * on it complete with WEFT_ERESET. */
WEFT_API int weft_stream_free(weft_stream stream);

/* The stream's negotiated protocol; buf/needed as above. */
WEFT_API int weft_stream_protocol(weft_stream stream, char* buf, size_t buflen, size_t* needed);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* WEFT_H */
