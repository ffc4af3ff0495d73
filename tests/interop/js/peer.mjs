#!/usr/bin/env node
// peer-js: the js-libp2p reference peer of weft's interop suite.
//
// It implements the command-line contract described in tests/interop/README.md:
//
//   node peer.mjs listen [--listen-addr MA]
//   node peer.mjs dial MA [--pings N] [--echo-bytes N] [--perf-up N] [--perf-down N]
//
// Results go to stdout as JSON lines; logs go to stderr only.

import { randomBytes } from 'node:crypto'
import process from 'node:process'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'

// js-libp2p 3.x calls Promise.withResolvers, which Node only ships from version 22; without it
// every inbound upgrade fails on Node 20. It must exist before libp2p's modules are evaluated,
// which is why libp2p is imported dynamically below rather than with static imports.
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
const IO_CHUNK_SIZE = 64 * 1024
// The contract's hard limit for a whole dial run: the runner relies on the peer never hanging.
const DIAL_RUN_TIMEOUT_MS = 120_000
// A served stream that stalls this long is aborted so a vanished peer leaks nothing.
const SERVED_STREAM_TIMEOUT_MS = 120_000

function log (...args) {
  console.error('peer-js:', ...args)
}

function printJSONLine (value) {
  process.stdout.write(JSON.stringify(value) + '\n')
}

function errorMessage (err) {
  return err?.message ?? String(err)
}

// Streams yield either Uint8Array or Uint8ArrayList chunks; the latter flattens with subarray().
function toBytes (chunk) {
  return chunk instanceof Uint8Array ? chunk : chunk.subarray()
}

// Pull-style reading on top of a stream's async iterator. The first next() is issued at once so
// the iterator's listeners are attached before any data can arrive unobserved.
class ChunkReader {
  constructor (stream) {
    this.iterator = stream[Symbol.asyncIterator]()
    this.firstChunk = this.iterator.next()
    this.firstChunk.catch(() => {}) // the error is reported to whoever awaits it
    this.leftover = null
  }

  // The next chunk of bytes, or null once the remote has closed its write side.
  async next () {
    if (this.leftover != null) {
      const chunk = this.leftover
      this.leftover = null
      return chunk
    }
    let result
    if (this.firstChunk != null) {
      result = await this.firstChunk
      this.firstChunk = null
    } else {
      result = await this.iterator.next()
    }
    return result.done ? null : toBytes(result.value)
  }

  async readExactly (length) {
    const out = new Uint8Array(length)
    let filled = 0
    while (filled < length) {
      const chunk = await this.next()
      if (chunk == null) {
        throw new Error(`stream ended after ${filled} of ${length} bytes`)
      }
      const take = Math.min(length - filled, chunk.length)
      out.set(chunk.subarray(0, take), filled)
      filled += take
      if (take < chunk.length) this.leftover = chunk.subarray(take)
    }
    return out
  }
}

// Queues bytes on the stream, waiting for the muxer to drain whenever it says its buffer is full.
async function sendAll (stream, bytes, signal) {
  for (let offset = 0; offset < bytes.length; offset += IO_CHUNK_SIZE) {
    if (!stream.send(bytes.subarray(offset, offset + IO_CHUNK_SIZE))) {
      await stream.onDrain({ signal })
    }
  }
}

async function handleEcho (stream) {
  const signal = AbortSignal.timeout(SERVED_STREAM_TIMEOUT_MS)
  try {
    for await (const chunk of stream) {
      if (!stream.send(chunk)) await stream.onDrain({ signal })
    }
    await stream.close({ signal })
  } catch (err) {
    log('echo:', errorMessage(err))
    stream.abort(err)
  }
}

// /perf/1.0.0 server: an 8-byte big-endian count of bytes to send back, then the upload until
// the remote closes its write side, then the download (never concurrently with the upload).
async function handlePerf (stream) {
  const signal = AbortSignal.timeout(SERVED_STREAM_TIMEOUT_MS)
  try {
    const reader = new ChunkReader(stream)
    const header = await reader.readExactly(8)
    let remaining = new DataView(header.buffer, header.byteOffset, 8).getBigUint64(0)
    while (await reader.next() != null) { /* discard the upload */ }
    const chunk = new Uint8Array(IO_CHUNK_SIZE)
    while (remaining > 0n) {
      const n = remaining < BigInt(chunk.length) ? Number(remaining) : chunk.length
      if (!stream.send(chunk.subarray(0, n))) await stream.onDrain({ signal })
      remaining -= BigInt(n)
    }
    await stream.close({ signal })
  } catch (err) {
    log('perf:', errorMessage(err))
    stream.abort(err)
  }
}

async function createPeer (listenAddrs) {
  const node = await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: listenAddrs },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping() },
    // The defaults refuse more than 5 inbound connections per second from one address and more
    // than 10 upgrading at once (a connection over either is reset at accept): the suite
    // measures the protocols, not that policy, and a sanitized weft dialer upgrades slowly.
    connectionManager: { inboundConnectionThreshold: 1000, maxIncomingPendingConnections: 1000 }
  })
  await node.handle(ECHO_PROTOCOL, handleEcho)
  await node.handle(PERF_PROTOCOL, handlePerf)
  return node
}

async function runListen (listenAddr) {
  // One misbehaving remote must not take the listener down with it.
  process.on('unhandledRejection', (err) => log('unhandled rejection:', errorMessage(err)))
  const node = await createPeer([listenAddr])
  const peerId = node.peerId.toString()

  node.addEventListener('peer:identify', (evt) => {
    const result = evt.detail
    if (result.connection?.direction !== 'inbound') return
    printJSONLine({
      event: 'identified',
      peer_id: result.peerId.toString(),
      agent_version: result.agentVersion ?? '',
      protocols: result.protocols ?? []
    })
  })

  const addrs = node.getMultiaddrs().map((ma) => {
    const text = ma.toString()
    return text.includes('/p2p/') ? text : `${text}/p2p/${peerId}`
  })
  printJSONLine({ peer_id: peerId, addrs })

  await new Promise((resolve) => {
    process.stdin.on('end', resolve)
    process.stdin.on('close', resolve)
    process.stdin.on('error', resolve)
    process.stdin.resume()
    process.once('SIGTERM', () => { log('received SIGTERM, stopping'); resolve() })
    process.once('SIGINT', () => { log('received SIGINT, stopping'); resolve() })
  })
  await stopWithin(node, 5000)
  return 0
}

// Stopping waits for connections to close gracefully; never let that hold up the exit.
async function stopWithin (node, ms) {
  let timer
  await Promise.race([
    node.stop().catch((err) => log('stop:', errorMessage(err))),
    new Promise((resolve) => { timer = setTimeout(resolve, ms) })
  ])
  clearTimeout(timer)
}

function waitForIdentify (node, connection, signal) {
  return new Promise((resolve, reject) => {
    const onIdentify = (evt) => {
      if (evt.detail.connection?.id !== connection.id) return
      cleanup()
      resolve(evt.detail)
    }
    const onAbort = () => { cleanup(); reject(new Error('timed out waiting for identify')) }
    const onClose = (evt) => {
      if (evt.detail?.id !== connection.id) return
      cleanup()
      reject(new Error('connection closed before identify completed'))
    }
    const cleanup = () => {
      node.removeEventListener('peer:identify', onIdentify)
      node.removeEventListener('connection:close', onClose)
      signal.removeEventListener('abort', onAbort)
    }
    node.addEventListener('peer:identify', onIdentify)
    node.addEventListener('connection:close', onClose)
    signal.addEventListener('abort', onAbort)
  })
}

async function runPings (connection, count, signal, result) {
  if (count <= 0) return
  const stream = await connection.newStream(PING_PROTOCOL, { signal })
  const reader = new ChunkReader(stream)
  try {
    for (let i = 0; i < count; i++) {
      const payload = randomBytes(PING_SIZE)
      const start = performance.now()
      stream.send(payload)
      const answer = await reader.readExactly(PING_SIZE)
      const rtt = performance.now() - start
      if (!Buffer.from(answer).equals(payload)) {
        throw new Error(`ping ${i + 1}: the answer differs from the payload`)
      }
      result.ping_rtts_ms.push(rtt)
    }
    await stream.close({ signal })
  } catch (err) {
    stream.abort(err)
    throw new Error(`ping after ${result.ping_rtts_ms.length} of ${count}: ${errorMessage(err)}`)
  }
}

// Writes random bytes while reading them back concurrently, so neither side's buffers fill up.
async function runEcho (connection, size, signal, result) {
  const stream = await connection.newStream(ECHO_PROTOCOL, { signal })
  const reader = new ChunkReader(stream)
  const sent = randomBytes(size)
  const received = new Uint8Array(size)
  const reading = (async () => {
    let filled = 0
    for (let chunk = await reader.next(); chunk != null; chunk = await reader.next()) {
      if (filled + chunk.length > size) {
        throw new Error(`echo returned more than the ${size} bytes sent`)
      }
      received.set(chunk, filled)
      filled += chunk.length
    }
    return filled
  })()
  reading.catch(() => {}) // awaited below; this only keeps Node from calling it unhandled
  try {
    await sendAll(stream, sent, signal)
    await stream.close({ signal })
    result.echo_bytes = await reading
  } catch (err) {
    stream.abort(err)
    throw new Error(`echo: ${errorMessage(err)}`)
  }
  result.echo_match = result.echo_bytes === size && Buffer.from(received).equals(sent)
  if (!result.echo_match) {
    throw new Error(`echo mismatch: sent ${size} bytes, received ${result.echo_bytes} that differ`)
  }
}

async function runPerf (connection, up, down, signal, result) {
  const stream = await connection.newStream(PERF_PROTOCOL, { signal })
  const reader = new ChunkReader(stream)
  const perf = result.perf
  try {
    const uploadStart = performance.now()
    const header = new Uint8Array(8)
    new DataView(header.buffer).setBigUint64(0, BigInt(down))
    stream.send(header)
    const chunk = new Uint8Array(IO_CHUNK_SIZE)
    for (let remaining = up; remaining > 0;) {
      const n = Math.min(remaining, chunk.length)
      if (!stream.send(chunk.subarray(0, n))) await stream.onDrain({ signal })
      remaining -= n
      perf.upload_bytes += n
    }
    await stream.close({ signal })
    perf.upload_seconds = (performance.now() - uploadStart) / 1000

    const downloadStart = performance.now()
    for (let got = await reader.next(); got != null; got = await reader.next()) {
      perf.download_bytes += got.length
    }
    perf.download_seconds = (performance.now() - downloadStart) / 1000
  } catch (err) {
    stream.abort(err)
    throw new Error(`perf: ${errorMessage(err)}`)
  }
  if (perf.download_bytes !== down) {
    throw new Error(`perf download: expected ${down} bytes, received ${perf.download_bytes}`)
  }
}

async function dialSteps (node, config, signal, result) {
  let target
  try {
    target = multiaddr(config.target)
  } catch (err) {
    throw new Error(`bad multiaddr ${JSON.stringify(config.target)}: ${errorMessage(err)}`)
  }
  const remotePeer = target.getComponents().findLast((c) => c.name === 'p2p')?.value
  if (remotePeer == null) {
    throw new Error(`multiaddr ${config.target} has no /p2p/ component`)
  }
  result.remote_peer_id = remotePeer

  // Identify may finish before dial() returns, so listen for it before dialing.
  const identified = []
  const collect = (evt) => identified.push(evt.detail)
  node.addEventListener('peer:identify', collect)
  const start = performance.now()
  const connection = await node.dial(target, { signal })
  result.connect_ms = performance.now() - start
  node.removeEventListener('peer:identify', collect)

  const info = identified.find((r) => r.connection?.id === connection.id) ??
    await waitForIdentify(node, connection, signal)
  result.agent_version = info.agentVersion ?? ''
  result.protocols = info.protocols ?? []
  if (info.peerId.toString() !== remotePeer) {
    throw new Error(`identified peer ${info.peerId} is not the dialed ${remotePeer}`)
  }

  await runPings(connection, config.pings, signal, result)
  await runEcho(connection, config.echoBytes, signal, result)
  await runPerf(connection, config.perfUp, config.perfDown, signal, result)
}

async function runDial (config) {
  const result = {
    ok: false,
    error: '',
    peer_id: '',
    remote_peer_id: '',
    agent_version: '',
    protocols: [],
    connect_ms: 0,
    ping_rtts_ms: [],
    echo_bytes: 0,
    echo_match: false,
    perf: { upload_bytes: 0, upload_seconds: 0, download_bytes: 0, download_seconds: 0 }
  }
  let printed = false
  const finish = (err) => {
    if (printed) return 1
    printed = true
    result.ok = err == null
    if (err != null) {
      result.error = errorMessage(err)
      log('dial:', result.error)
    }
    printJSONLine(result)
    return err == null ? 0 : 1
  }
  const watchdog = setTimeout(() => {
    finish(new Error(`run did not finish within ${DIAL_RUN_TIMEOUT_MS / 1000} s`))
    process.exit(1)
  }, DIAL_RUN_TIMEOUT_MS)
  process.on('unhandledRejection', (err) => {
    finish(new Error(`unexpected failure: ${errorMessage(err)}`))
    process.exit(1)
  })

  const controller = new AbortController()
  const deadline = setTimeout(() => controller.abort(), DIAL_RUN_TIMEOUT_MS - 1000)
  let node
  let error = null
  try {
    node = await createPeer([])
    result.peer_id = node.peerId.toString()
    await dialSteps(node, config, controller.signal, result)
  } catch (err) {
    error = err
  }
  clearTimeout(deadline)
  const code = finish(error)
  if (node != null) await stopWithin(node, 5000)
  clearTimeout(watchdog)
  return code
}

function parseCount (name, text) {
  if (!/^\d+$/.test(text)) {
    throw new Error(`--${name} needs a non-negative integer, got ${JSON.stringify(text)}`)
  }
  const value = Number(text)
  if (!Number.isSafeInteger(value)) throw new Error(`--${name} is too large: ${text}`)
  return value
}

function usage (message) {
  if (message != null) console.error(`peer-js: ${message}`)
  console.error('usage: node peer.mjs listen [--listen-addr MA]')
  console.error('       node peer.mjs dial MA [--pings N] [--echo-bytes N] [--perf-up N] [--perf-down N]')
  process.exit(2)
}

async function main () {
  let parsed
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        'listen-addr': { type: 'string', default: '/ip4/127.0.0.1/tcp/0' },
        pings: { type: 'string', default: '10' },
        'echo-bytes': { type: 'string', default: String(1024 * 1024) },
        'perf-up': { type: 'string', default: String(64 * 1024 * 1024) },
        'perf-down': { type: 'string', default: String(64 * 1024 * 1024) }
      }
    })
  } catch (err) {
    usage(errorMessage(err))
  }
  const [mode, target, ...extra] = parsed.positionals
  if (mode === 'listen' && target == null) {
    return runListen(parsed.values['listen-addr'])
  }
  if (mode === 'dial' && target != null && extra.length === 0) {
    let config
    try {
      config = {
        target,
        pings: parseCount('pings', parsed.values.pings),
        echoBytes: parseCount('echo-bytes', parsed.values['echo-bytes']),
        perfUp: parseCount('perf-up', parsed.values['perf-up']),
        perfDown: parseCount('perf-down', parsed.values['perf-down'])
      }
    } catch (err) {
      usage(errorMessage(err))
    }
    return runDial(config)
  }
  usage()
}

process.exit(await main())
