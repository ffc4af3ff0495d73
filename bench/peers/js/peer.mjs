#!/usr/bin/env node
// peer-js: the js-libp2p benchmark peer (the contract is in bench/README.md).
//
//   peer listen [--addr MA]
//   peer run --remote MA --metric perf|setup|handshake-rate|ping|hold|churn [options]
//
// Only TCP + Noise + Yamux. Connection limits and inbound rate limits are raised out of the way:
// the suite measures the protocols, not js-libp2p's admission policies.

import { randomBytes } from 'node:crypto'
import process from 'node:process'
import { parseArgs } from 'node:util'

// js-libp2p 3.x calls Promise.withResolvers, which Node ships only from version 22; it must exist
// before libp2p's modules are evaluated, hence the dynamic imports below.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

const { createLibp2p } = await import('libp2p')
const { tcp } = await import('@libp2p/tcp')
const { noise } = await import('@chainsafe/libp2p-noise')
const { yamux } = await import('@chainsafe/libp2p-yamux')
const { identify } = await import('@libp2p/identify')
const { ping } = await import('@libp2p/ping')
const { generateKeyPair } = await import('@libp2p/crypto/keys')
const { multiaddr } = await import('@multiformats/multiaddr')

const PING_PROTOCOL = '/ipfs/ping/1.0.0'
const ECHO_PROTOCOL = '/echo/1.0.0'
const PERF_PROTOCOL = '/perf/1.0.0'
const PING_SIZE = 32
const PING_WARMUP = 10
const IO_CHUNK_SIZE = 64 * 1024
const MANY = 1_000_000
// No run may take longer than this, whatever the metric's own duration.
const RUN_TIME_LIMIT_MS = 600_000
// Streams are written first, so the protocol proposal can travel with the first bytes.
const STREAM_OPTIONS = { negotiateFully: false, maxOutboundStreams: 1024 }
const HANDLER_OPTIONS = { maxInboundStreams: 1024, maxOutboundStreams: 1024 }

const nowNs = () => Number(process.hrtime.bigint())
const printJSON = (value) => process.stdout.write(JSON.stringify(value) + '\n')
const toBytes = (chunk) => chunk instanceof Uint8Array ? chunk : chunk.subarray()

// Pull-style reading over a stream's async iterator.
class ChunkReader {
  constructor (stream) {
    this.iterator = stream[Symbol.asyncIterator]()
    this.leftover = null
  }

  // The next chunk, or null once the remote closed its write side.
  async next () {
    if (this.leftover != null) {
      const chunk = this.leftover
      this.leftover = null
      return chunk
    }
    const result = await this.iterator.next()
    return result.done ? null : toBytes(result.value)
  }

  async readExactly (length) {
    const out = new Uint8Array(length)
    for (let filled = 0; filled < length;) {
      const chunk = await this.next()
      if (chunk == null) throw new Error(`stream ended after ${filled} of ${length} bytes`)
      const take = Math.min(length - filled, chunk.length)
      out.set(chunk.subarray(0, take), filled)
      filled += take
      if (take < chunk.length) this.leftover = chunk.subarray(take)
    }
    return out
  }
}

async function send (stream, bytes) {
  if (!stream.send(bytes)) await stream.onDrain()
}

async function handleEcho (stream) {
  try {
    for await (const chunk of stream) await send(stream, chunk)
    await stream.close()
  } catch (err) {
    stream.abort(err)
  }
}

// /perf/1.0.0 server: an 8-byte big-endian count of bytes to send back, then the upload until
// the remote closes its write side, then the download.
async function handlePerf (stream) {
  try {
    const reader = new ChunkReader(stream)
    const header = await reader.readExactly(8)
    let remaining = new DataView(header.buffer, header.byteOffset, 8).getBigUint64(0)
    while (await reader.next() != null) { /* discard the upload */ }
    const chunk = new Uint8Array(IO_CHUNK_SIZE)
    while (remaining > 0n) {
      const n = remaining < BigInt(chunk.length) ? Number(remaining) : chunk.length
      await send(stream, chunk.subarray(0, n))
      remaining -= BigInt(n)
    }
    await stream.close()
  } catch (err) {
    stream.abort(err)
  }
}

async function createPeer (listenAddrs) {
  const node = await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: listenAddrs },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    // js aborts a whole connection when the remote opens more than 10 streams before js has
    // attached its stream handler, which a dialer that opens streams as soon as its side of the
    // upgrade is done (the churn metric opens 16) races; the default is an admission policy too.
    streamMuxers: [yamux({ maxEarlyStreams: MANY })],
    // The ping service's stream limits (1 outbound per connection) override what newStream asks
    // for, and the setup and handshake-rate loops open the ping stream themselves: a second one
    // on a connection (seen once, cause unknown) would fail the run.
    services: { identify: identify(), ping: ping({ maxInboundStreams: MANY, maxOutboundStreams: MANY }) },
    connectionManager: {
      maxConnections: MANY,
      inboundConnectionThreshold: MANY,
      maxIncomingPendingConnections: MANY,
      maxDialQueueLength: MANY,
      // A busy single-threaded listener can take seconds per upgrade while thousands of
      // connections open; the defaults (10 s for a dial, 6 s for each address it tries)
      // would measure that as a failure.
      dialTimeout: 60_000,
      addressDialTimeout: 60_000,
      inboundUpgradeTimeout: 60_000
    }
  })
  await node.handle(ECHO_PROTOCOL, handleEcho, HANDLER_OPTIONS)
  await node.handle(PERF_PROTOCOL, handlePerf, HANDLER_OPTIONS)
  return node
}

// Resolves at end of stdin or on SIGTERM/SIGINT. Called before the ready line is printed, so a
// stop signal that follows that line at once is caught instead of killing the process.
function stopRequested () {
  return new Promise((resolve) => {
    process.stdin.on('end', resolve)
    process.stdin.on('close', resolve)
    process.stdin.on('error', resolve)
    process.stdin.resume()
    process.once('SIGTERM', resolve)
    process.once('SIGINT', resolve)
  })
}

async function runListen (addr) {
  process.on('unhandledRejection', (err) => console.error('peer-js:', err?.message ?? err))
  const stop = stopRequested()
  const node = await createPeer([addr])
  const peerId = node.peerId.toString()
  const first = node.getMultiaddrs()[0].toString()
  process.stdout.write(`LISTEN ${first.includes('/p2p/') ? first : `${first}/p2p/${peerId}`}\n`)
  await stop
  // Closing thousands of connections gracefully must not hold up the exit.
  await Promise.race([node.stop().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2000))])
  return 0
}

// ---- client metrics ------------------------------------------------------------------------

async function pingOnce (stream, reader) {
  const payload = randomBytes(PING_SIZE)
  stream.send(payload)
  const reply = await reader.readExactly(PING_SIZE)
  if (!Buffer.from(reply).equals(payload)) throw new Error('ping: the reply differs from the payload')
}

// One iteration of setup and handshake-rate: new connection, ping stream, one round trip, close.
async function connectAndPing (node, target) {
  const connection = await node.dial(target, { force: true })
  try {
    const stream = await connection.newStream(PING_PROTOCOL, STREAM_OPTIONS)
    await pingOnce(stream, new ChunkReader(stream))
  } finally {
    await connection.close().catch(() => {})
  }
}

async function metricPerf (target, o) {
  const node = await createPeer([])
  const connection = await node.dial(target)
  const start = nowNs()
  const stream = await connection.newStream(PERF_PROTOCOL, STREAM_OPTIONS)
  const reader = new ChunkReader(stream)
  const header = new Uint8Array(8)
  new DataView(header.buffer).setBigUint64(0, BigInt(o.download))
  stream.send(header)
  const chunk = new Uint8Array(IO_CHUNK_SIZE)
  for (let left = o.upload; left > 0;) {
    const n = Math.min(left, chunk.length)
    await send(stream, chunk.subarray(0, n))
    left -= n
  }
  await stream.close()
  let downloaded = 0
  for (let got = await reader.next(); got != null; got = await reader.next()) downloaded += got.length
  const ns = nowNs() - start
  if (downloaded !== o.download) throw new Error(`perf: received ${downloaded} of ${o.download} bytes`)
  printJSON({ upload_bytes: o.upload, download_bytes: downloaded, ns })
  return node
}

async function metricSetup (target, o) {
  const node = await createPeer([])
  const values = []
  for (let i = 0; i < o.count; i++) {
    const start = nowNs()
    await connectAndPing(node, target)
    values.push(nowNs() - start)
  }
  printJSON({ setup_ns: values })
  return node
}

// One node per loop: a node merges concurrent dials to the same peer into one.
async function metricHandshakeRate (target, o) {
  const loops = o.concurrency || 4
  const nodes = await Promise.all(Array.from({ length: loops }, () => createPeer([])))
  let connections = 0
  let last = 0
  const start = nowNs()
  const stopAt = start + o.seconds * 1e9
  await Promise.all(nodes.map(async (node) => {
    while (nowNs() < stopAt) {
      await connectAndPing(node, target)
      connections++
      last = Math.max(last, nowNs() - start)
    }
  }))
  printJSON({ connections, ns: last, concurrency: loops })
  return nodes
}

async function metricPing (target, o) {
  const node = await createPeer([])
  const connection = await node.dial(target)
  const stream = await connection.newStream(PING_PROTOCOL, STREAM_OPTIONS)
  const reader = new ChunkReader(stream)
  const rtts = []
  for (let i = 0; i < PING_WARMUP + o.count; i++) {
    const start = nowNs()
    await pingOnce(stream, reader)
    if (i >= PING_WARMUP) rtts.push(nowNs() - start)
  }
  await stream.close()
  printJSON({ rtt_ns: rtts })
  return node
}

// A fixed number of nodes, each dialing its share sequentially (a node would merge concurrent
// dials to one peer); fixed so a run with few connections has the same baseline.
async function metricHold (target, o) {
  const loops = o.concurrency || 8
  const nodes = await Promise.all(Array.from({ length: loops }, () => createPeer([])))
  let next = 0
  await Promise.all(nodes.map(async (node) => {
    while (next < o.connections) {
      next++
      await node.dial(target, { force: true })
    }
  }))
  const stop = stopRequested()
  printJSON({ opened: o.connections })
  await stop
  return nodes
}

async function metricChurn (target, o) {
  const loops = o.concurrency || 1
  const node = await createPeer([])
  const connection = await node.dial(target)
  const payload = randomBytes(o.size)
  let streams = 0
  let last = 0
  const start = nowNs()
  const stopAt = start + o.seconds * 1e9
  await Promise.all(Array.from({ length: loops }, async () => {
    while (nowNs() < stopAt) {
      const stream = await connection.newStream(ECHO_PROTOCOL, STREAM_OPTIONS)
      const reader = new ChunkReader(stream)
      stream.send(payload)
      await stream.close()
      const reply = await reader.readExactly(o.size)
      if (await reader.next() != null) throw new Error('churn: the echo is longer than what was sent')
      if (!Buffer.from(reply).equals(payload)) throw new Error('churn: the echo differs')
      streams++
      last = Math.max(last, nowNs() - start)
    }
  }))
  printJSON({ streams, ns: last, concurrency: loops })
  return node
}

const METRICS = {
  perf: metricPerf,
  setup: metricSetup,
  'handshake-rate': metricHandshakeRate,
  ping: metricPing,
  hold: metricHold,
  churn: metricChurn
}

async function runMetric (o) {
  const watchdog = setTimeout(() => {
    console.error(`peer-js: the run did not finish within ${RUN_TIME_LIMIT_MS / 1000} s`)
    process.exit(1)
  }, RUN_TIME_LIMIT_MS)
  process.on('unhandledRejection', (err) => {
    console.error('peer-js: unexpected failure:', err?.message ?? err)
    process.exit(1)
  })
  const target = multiaddr(o.remote)
  const nodes = [await METRICS[o.metric](target, o)].flat()
  // The figure is printed; stopping must neither delay nor fail the run.
  await Promise.race([
    Promise.all(nodes.map((n) => n.stop())).catch(() => {}),
    new Promise((resolve) => setTimeout(resolve, 1000))
  ])
  clearTimeout(watchdog)
  return 0
}

function usage (message) {
  if (message != null) console.error(`peer-js: ${message}`)
  console.error('usage: peer listen [--addr MA]')
  console.error('       peer run --remote MA --metric perf|setup|handshake-rate|ping|hold|churn')
  console.error('                [--upload N] [--download N] [--count N] [--concurrency C]')
  console.error('                [--seconds S] [--connections N] [--size B]')
  process.exit(2)
}

// The options each metric needs (a missing one is a usage error) and may take.
const METRIC_OPTIONS = {
  perf: [['upload', 'download'], []],
  setup: [['count'], []],
  'handshake-rate': [['concurrency', 'seconds'], []],
  ping: [['count'], []],
  hold: [['connections'], ['concurrency']],
  churn: [['seconds', 'size'], ['concurrency']]
}

function validMultiaddr (text) {
  try {
    multiaddr(text)
    return true
  } catch {
    return false
  }
}

function checkRunOptions (v) {
  if (v.remote == null || !validMultiaddr(v.remote) || !v.remote.includes('/p2p/')) {
    usage('--remote needs a valid multiaddr with /p2p/')
  }
  const spec = METRIC_OPTIONS[v.metric]
  if (spec == null) usage(`unknown metric ${JSON.stringify(v.metric)}`)
  const [required, optional] = spec
  for (const name of required) {
    if (v[name] == null) usage(`--metric ${v.metric} needs --${name}`)
  }
  for (const name of Object.keys(v)) {
    if (!['remote', 'metric', ...required, ...optional].includes(name)) {
      usage(`--metric ${v.metric} does not take --${name}`)
    }
  }
}

function count (name, text, fallback) {
  if (text == null) return fallback
  if (!/^\d+(\.\d+)?$/.test(text)) usage(`--${name} needs a non-negative number, got ${JSON.stringify(text)}`)
  return Number(text)
}

async function main () {
  let parsed
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: Object.fromEntries(['addr', 'remote', 'metric', 'upload', 'download', 'count',
        'concurrency', 'seconds', 'connections', 'size'].map((name) => [name, { type: 'string' }]))
    })
  } catch (err) {
    usage(err.message)
  }
  const [mode, ...extra] = parsed.positionals
  const v = parsed.values
  if (extra.length > 0) usage()
  if (mode === 'listen') {
    const addr = v.addr ?? '/ip4/127.0.0.1/tcp/0'
    if (!validMultiaddr(addr)) usage(`--addr ${addr} is not a valid multiaddr`)
    return runListen(addr)
  }
  if (mode === 'run') {
    checkRunOptions(v)
    return runMetric({
      remote: v.remote,
      metric: v.metric,
      upload: count('upload', v.upload, 0),
      download: count('download', v.download, 0),
      count: count('count', v.count, 100),
      concurrency: count('concurrency', v.concurrency, 0),
      seconds: count('seconds', v.seconds, 10),
      connections: count('connections', v.connections, 1000),
      size: count('size', v.size, 1024)
    })
  }
  usage()
}

try {
  process.exit(await main())
} catch (err) {
  // The message of a refused dial names only the errno: say it in words too.
  const refused = err?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(err?.message ?? '')
  console.error(`peer-js: ${refused ? 'connection refused: ' : ''}${err?.message ?? err}`)
  process.exit(1)
}
