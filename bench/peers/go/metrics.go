package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/transport"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"
	msmux "github.com/multiformats/go-multistream"
)

const (
	pingSize   = 32
	pingWarmup = 10
	// No run may take longer than this, whatever the metric's own duration.
	runTimeLimit = 10 * time.Minute
)

type runOptions struct {
	remote, metric     string
	upload, download   uint64
	count, concurrency int
	seconds            float64
	connections, size  int
}

// target is the listener: its peer id and address, known to every host of this process.
type target struct {
	id   peer.ID
	addr ma.Multiaddr
}

func parseTarget(text string) (target, error) {
	addr, err := ma.NewMultiaddr(text)
	if err != nil {
		return target{}, fmt.Errorf("bad multiaddr %q: %w", text, err)
	}
	info, err := peer.AddrInfoFromP2pAddr(addr)
	if err != nil || len(info.Addrs) == 0 {
		return target{}, fmt.Errorf("multiaddr %q has no usable /p2p/ component", text)
	}
	return target{id: info.ID, addr: info.Addrs[0]}, nil
}

// onlyAddress lets a client dial the listener at the address given on the command line only:
// identify teaches the host the listener's other addresses, and a new connection must go
// where it was asked to.
type onlyAddress struct{ addr ma.Multiaddr }

func (g onlyAddress) InterceptPeerDial(peer.ID) bool                   { return true }
func (g onlyAddress) InterceptAddrDial(_ peer.ID, a ma.Multiaddr) bool { return a.Equal(g.addr) }
func (g onlyAddress) InterceptAccept(network.ConnMultiaddrs) bool      { return true }
func (g onlyAddress) InterceptSecured(network.Direction, peer.ID, network.ConnMultiaddrs) bool {
	return true
}
func (g onlyAddress) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) {
	return true, 0
}

func newClient(t target) (host.Host, error) {
	h, err := newHost(nil, libp2p.ConnectionGater(onlyAddress{t.addr}))
	if err != nil {
		return nil, err
	}
	h.Peerstore().AddAddr(t.id, t.addr, peerstore.PermanentAddrTTL)
	return h, nil
}

// dial opens a new connection. The swarm keeps one connection per peer, so the previous one
// must be closed first; DialPeer (unlike host.Connect) does not wait for identify.
func dial(ctx context.Context, h host.Host, t target) (network.Conn, error) {
	return h.Network().DialPeer(ctx, t.id)
}

// lazyStream negotiates its protocol with the first write (multistream-select's lazy client,
// as go-libp2p's host does once it knows the peer's protocols), so no round trip is spent on
// negotiation alone.
type lazyStream struct {
	network.Stream
	rw msmux.LazyConn
}

func (s *lazyStream) Read(b []byte) (int, error)  { return s.rw.Read(b) }
func (s *lazyStream) Write(b []byte) (int, error) { return s.rw.Write(b) }
func (s *lazyStream) CloseWrite() error {
	_ = s.rw.Flush()
	return s.Stream.CloseWrite()
}

func openStream(ctx context.Context, c network.Conn, proto protocol.ID) (*lazyStream, error) {
	s, err := c.NewStream(ctx)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", proto, err)
	}
	if err := s.SetProtocol(proto); err != nil {
		s.Reset()
		return nil, err
	}
	return &lazyStream{Stream: s, rw: msmux.NewMSSelect(s, proto)}, nil
}

func pingOnce(s io.ReadWriter, payload, reply []byte) error {
	if _, err := rand.Read(payload); err != nil {
		return err
	}
	if _, err := s.Write(payload); err != nil {
		return fmt.Errorf("ping: write: %w", err)
	}
	if _, err := io.ReadFull(s, reply); err != nil {
		return fmt.Errorf("ping: read: %w", err)
	}
	if !bytes.Equal(payload, reply) {
		return errors.New("ping: the reply differs from the payload")
	}
	return nil
}

func runMetric(o runOptions) error {
	t, err := parseTarget(o.remote)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeLimit)
	defer cancel()
	switch o.metric {
	case "perf":
		return metricPerf(ctx, t, o)
	case "setup":
		return metricSetup(ctx, t, o)
	case "handshake-rate":
		return metricHandshakeRate(ctx, t, o)
	case "ping":
		return metricPing(ctx, t, o)
	case "hold":
		return metricHold(ctx, t, o)
	case "churn":
		return metricChurn(ctx, t, o)
	}
	return fmt.Errorf("unknown metric %q", o.metric)
}

func metricPerf(ctx context.Context, t target, o runOptions) error {
	h, err := newClient(t)
	if err != nil {
		return err
	}
	defer h.Close()
	c, err := dial(ctx, h, t)
	if err != nil {
		return err
	}
	buf := make([]byte, ioChunkSize)
	start := time.Now()
	s, err := openStream(ctx, c, perfProtocol)
	if err != nil {
		return err
	}
	var header [8]byte
	binary.BigEndian.PutUint64(header[:], o.download)
	if _, err := s.Write(header[:]); err != nil {
		return fmt.Errorf("perf: send the size: %w", err)
	}
	for left := o.upload; left > 0; {
		n := min(uint64(len(buf)), left)
		if _, err := s.Write(buf[:n]); err != nil {
			return fmt.Errorf("perf: upload: %w", err)
		}
		left -= n
	}
	if err := s.CloseWrite(); err != nil {
		return fmt.Errorf("perf: close the write side: %w", err)
	}
	got, err := io.CopyBuffer(io.Discard, s, buf)
	if err != nil {
		return fmt.Errorf("perf: download: %w", err)
	}
	elapsed := time.Since(start)
	if uint64(got) != o.download {
		return fmt.Errorf("perf: received %d of %d bytes", got, o.download)
	}
	s.Close()
	printJSON(map[string]any{"upload_bytes": o.upload, "download_bytes": got, "ns": elapsed.Nanoseconds()})
	return nil
}

// connectAndPing is one iteration of setup and handshake-rate: new connection, ping stream,
// one round trip, close.
func connectAndPing(ctx context.Context, h host.Host, t target, payload, reply []byte) error {
	c, err := dial(ctx, h, t)
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := openStream(ctx, c, pingProtocol)
	if err != nil {
		return err
	}
	return pingOnce(s, payload, reply)
}

func metricSetup(ctx context.Context, t target, o runOptions) error {
	h, err := newClient(t)
	if err != nil {
		return err
	}
	defer h.Close()
	payload, reply := make([]byte, pingSize), make([]byte, pingSize)
	values := make([]int64, 0, o.count)
	for i := 0; i < o.count; i++ {
		start := time.Now()
		if err := connectAndPing(ctx, h, t, payload, reply); err != nil {
			return fmt.Errorf("setup %d: %w", i+1, err)
		}
		values = append(values, time.Since(start).Nanoseconds())
	}
	printJSON(map[string]any{"setup_ns": values})
	return nil
}

// metricHandshakeRate runs one host per loop: a go-libp2p host keeps one connection per peer and
// merges concurrent dials to the same peer, so C concurrent new connections need C hosts.
func metricHandshakeRate(ctx context.Context, t target, o runOptions) error {
	loops := o.concurrency
	if loops <= 0 {
		loops = 4
	}
	hosts := make([]host.Host, loops)
	for i := range hosts {
		h, err := newClient(t)
		if err != nil {
			return err
		}
		defer h.Close()
		hosts[i] = h
	}
	var completed atomic.Int64
	var lastNs atomic.Int64
	errs := make(chan error, loops)
	start := time.Now()
	stopAt := start.Add(time.Duration(o.seconds * float64(time.Second)))
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func(h host.Host) {
			defer wg.Done()
			payload, reply := make([]byte, pingSize), make([]byte, pingSize)
			for time.Now().Before(stopAt) {
				if err := connectAndPing(ctx, h, t, payload, reply); err != nil {
					errs <- err
					return
				}
				completed.Add(1)
				elapsed := time.Since(start).Nanoseconds()
				for {
					last := lastNs.Load()
					if elapsed <= last || lastNs.CompareAndSwap(last, elapsed) {
						break
					}
				}
			}
		}(h)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("handshake-rate: %w", err)
	}
	printJSON(map[string]any{"connections": completed.Load(), "ns": lastNs.Load(), "concurrency": loops})
	return nil
}

func metricPing(ctx context.Context, t target, o runOptions) error {
	h, err := newClient(t)
	if err != nil {
		return err
	}
	defer h.Close()
	c, err := dial(ctx, h, t)
	if err != nil {
		return err
	}
	s, err := openStream(ctx, c, pingProtocol)
	if err != nil {
		return err
	}
	payload, reply := make([]byte, pingSize), make([]byte, pingSize)
	rtts := make([]int64, 0, o.count)
	for i := 0; i < pingWarmup+o.count; i++ {
		start := time.Now()
		if err := pingOnce(s, payload, reply); err != nil {
			return err
		}
		if i >= pingWarmup {
			rtts = append(rtts, time.Since(start).Nanoseconds())
		}
	}
	s.Close()
	printJSON(map[string]any{"rtt_ns": rtts})
	return nil
}

// metricHold opens connections with the swarm's TCP transport directly (Noise + Yamux upgrade
// included): the swarm itself would keep a single connection to the listener. Streams the
// listener opens (identify) are reset, so nothing waits on them.
func metricHold(ctx context.Context, t target, o runOptions) error {
	h, err := newClient(t)
	if err != nil {
		return err
	}
	defer h.Close()
	tpt := h.Network().(*swarm.Swarm).TransportForDialing(t.addr)
	if tpt == nil {
		return fmt.Errorf("hold: no transport for %s", t.addr)
	}
	loops := o.concurrency
	if loops <= 0 {
		loops = 64
	}
	conns := make([]transport.CapableConn, o.connections)
	var next atomic.Int64
	errs := make(chan error, loops)
	var wg sync.WaitGroup
	for i := 0; i < loops; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1)) - 1
				if n >= len(conns) {
					return
				}
				c, err := tpt.Dial(ctx, t.addr, t.id)
				if err != nil {
					errs <- fmt.Errorf("hold: connection %d: %w", n+1, err)
					return
				}
				conns[n] = c
				go resetInboundStreams(c)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	printJSON(map[string]any{"opened": len(conns)})
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
	return nil
}

func resetInboundStreams(c transport.CapableConn) {
	for {
		s, err := c.AcceptStream()
		if err != nil {
			return
		}
		s.Reset()
	}
}

func metricChurn(ctx context.Context, t target, o runOptions) error {
	if o.size <= 0 {
		return errors.New("churn: --size must be positive")
	}
	loops := o.concurrency
	if loops <= 0 {
		loops = 1
	}
	h, err := newClient(t)
	if err != nil {
		return err
	}
	defer h.Close()
	c, err := dial(ctx, h, t)
	if err != nil {
		return err
	}
	payload := make([]byte, o.size)
	rand.Read(payload)
	var streams atomic.Int64
	var lastNs atomic.Int64
	errs := make(chan error, loops)
	start := time.Now()
	stopAt := start.Add(time.Duration(o.seconds * float64(time.Second)))
	var wg sync.WaitGroup
	for i := 0; i < loops; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply := make([]byte, o.size+1)
			for time.Now().Before(stopAt) {
				if err := echoOnce(ctx, c, payload, reply); err != nil {
					errs <- err
					return
				}
				streams.Add(1)
				elapsed := time.Since(start).Nanoseconds()
				for {
					last := lastNs.Load()
					if elapsed <= last || lastNs.CompareAndSwap(last, elapsed) {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("churn: %w", err)
	}
	printJSON(map[string]any{"streams": streams.Load(), "ns": lastNs.Load(), "concurrency": loops})
	return nil
}

// echoOnce writes the payload while a goroutine reads the echo back: a payload larger than the
// flow-control windows would otherwise deadlock both sides.
func echoOnce(ctx context.Context, c network.Conn, payload, reply []byte) error {
	s, err := openStream(ctx, c, echoProtocol)
	if err != nil {
		return err
	}
	defer s.Close()
	type readResult struct {
		n   int
		err error
	}
	done := make(chan readResult, 1)
	go func() {
		n, err := io.ReadFull(s, reply)
		done <- readResult{n, err}
	}()
	if _, err := s.Write(payload); err != nil {
		s.Reset()
		<-done
		return fmt.Errorf("echo: write: %w", err)
	}
	if err := s.CloseWrite(); err != nil {
		s.Reset()
		<-done
		return fmt.Errorf("echo: close write: %w", err)
	}
	r := <-done
	if r.err != io.ErrUnexpectedEOF || r.n != len(payload) || !bytes.Equal(reply[:r.n], payload) {
		return fmt.Errorf("echo: got %d of %d bytes back (%v)", r.n, len(payload), r.err)
	}
	return nil
}
