package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"
)

type dialConfig struct {
	target    string
	pings     int
	echoBytes int64
	perfUp    int64
	perfDown  int64
}

type perfResult struct {
	UploadBytes     int64   `json:"upload_bytes"`
	UploadSeconds   float64 `json:"upload_seconds"`
	DownloadBytes   int64   `json:"download_bytes"`
	DownloadSeconds float64 `json:"download_seconds"`
}

type dialResult struct {
	OK           bool       `json:"ok"`
	Error        string     `json:"error"`
	PeerID       string     `json:"peer_id"`
	RemotePeerID string     `json:"remote_peer_id"`
	AgentVersion string     `json:"agent_version"`
	Protocols    []string   `json:"protocols"`
	ConnectMs    float64    `json:"connect_ms"`
	PingRttsMs   []float64  `json:"ping_rtts_ms"`
	EchoBytes    int64      `json:"echo_bytes"`
	EchoMatch    bool       `json:"echo_match"`
	Perf         perfResult `json:"perf"`
}

func milliseconds(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// runDial performs every step of the dial contract and prints exactly one result line. A
// watchdog prints a failure and exits if the run outlives dialRunTimeout, whatever is blocked.
func runDial(cfg dialConfig) int {
	var mu sync.Mutex
	printed := false
	result := dialResult{Protocols: []string{}, PingRttsMs: []float64{}}
	finish := func(err error) int {
		mu.Lock()
		defer mu.Unlock()
		if printed {
			return 1
		}
		printed = true
		result.OK = err == nil
		if err != nil {
			result.Error = err.Error()
			log.Printf("dial: %v", err)
		}
		printJSONLine(result)
		if err != nil {
			return 1
		}
		return 0
	}
	watchdog := time.AfterFunc(dialRunTimeout, func() {
		finish(fmt.Errorf("run did not finish within %v", dialRunTimeout))
		os.Exit(1)
	})
	defer watchdog.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), dialRunTimeout)
	defer cancel()
	// Steps record into a copy so the watchdog never reads a half-written result.
	local := result
	err := dialSteps(ctx, cfg, &local)
	mu.Lock()
	result = local
	mu.Unlock()
	return finish(err)
}

func dialSteps(ctx context.Context, cfg dialConfig, out *dialResult) error {
	target, err := ma.NewMultiaddr(cfg.target)
	if err != nil {
		return fmt.Errorf("bad multiaddr %q: %w", cfg.target, err)
	}
	info, err := peer.AddrInfoFromP2pAddr(target)
	if err != nil {
		return fmt.Errorf("multiaddr %q has no usable /p2p/ component: %w", cfg.target, err)
	}
	out.RemotePeerID = info.ID.String()

	h, err := newHost(nil)
	if err != nil {
		return err
	}
	defer h.Close()
	out.PeerID = h.ID().String()
	deadline, _ := ctx.Deadline()

	identified, err := h.EventBus().Subscribe(
		[]any{new(event.EvtPeerIdentificationCompleted), new(event.EvtPeerIdentificationFailed)})
	if err != nil {
		return fmt.Errorf("subscribe to identify events: %w", err)
	}
	defer identified.Close()

	// Dial through the network rather than host.Connect, which also waits for identify: the
	// contract's connect_ms ends when the connection is established.
	h.Peerstore().AddAddrs(info.ID, info.Addrs, peerstore.TempAddrTTL)
	start := time.Now()
	conn, err := h.Network().DialPeer(ctx, info.ID)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	out.ConnectMs = milliseconds(time.Since(start))

	if err := awaitIdentify(ctx, identified, conn, out); err != nil {
		return err
	}
	if err := runPings(ctx, h, info.ID, cfg.pings, out); err != nil {
		return err
	}
	if err := runEcho(ctx, h, info.ID, cfg.echoBytes, deadline, out); err != nil {
		return err
	}
	return runPerf(ctx, h, info.ID, cfg.perfUp, cfg.perfDown, deadline, out)
}

func awaitIdentify(ctx context.Context, sub event.Subscription, conn network.Conn,
	out *dialResult) error {
	for {
		select {
		case <-ctx.Done():
			return errors.New("timed out waiting for identify")
		case e, ok := <-sub.Out():
			if !ok {
				return errors.New("identify event subscription closed")
			}
			switch ev := e.(type) {
			case event.EvtPeerIdentificationCompleted:
				if ev.Conn != conn {
					continue
				}
				out.AgentVersion = ev.AgentVersion
				out.Protocols = protocolStrings(ev.Protocols)
				return nil
			case event.EvtPeerIdentificationFailed:
				if ev.Peer == conn.RemotePeer() {
					return fmt.Errorf("identify failed: %v", ev.Reason)
				}
			}
		}
	}
}

func runPings(ctx context.Context, h host.Host, remote peer.ID, count int, out *dialResult) error {
	if count <= 0 {
		return nil
	}
	pingCtx, stop := context.WithCancel(ctx)
	defer stop()
	results := ping.Ping(pingCtx, h, remote)
	for len(out.PingRttsMs) < count {
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out after %d of %d pings", len(out.PingRttsMs), count)
		case res, ok := <-results:
			if !ok {
				return fmt.Errorf("ping stream ended after %d of %d pings", len(out.PingRttsMs), count)
			}
			if res.Error != nil {
				return fmt.Errorf("ping %d: %w", len(out.PingRttsMs)+1, res.Error)
			}
			out.PingRttsMs = append(out.PingRttsMs, milliseconds(res.RTT))
		}
	}
	return nil
}

// runEcho writes random bytes while a second goroutine reads them back, so windows and buffers
// never fill up on both sides at once, then checks that exactly the same bytes came back.
func runEcho(ctx context.Context, h host.Host, remote peer.ID, size int64, deadline time.Time,
	out *dialResult) error {
	s, err := h.NewStream(ctx, remote, echoProtocol)
	if err != nil {
		return fmt.Errorf("open %s: %w", echoProtocol, err)
	}
	defer s.Close()
	_ = s.SetDeadline(deadline)

	sent := make([]byte, size)
	if _, err := rand.Read(sent); err != nil {
		return fmt.Errorf("random echo payload: %w", err)
	}
	writeErr := make(chan error, 1)
	go func() {
		if _, err := s.Write(sent); err != nil {
			writeErr <- fmt.Errorf("echo write: %w", err)
			return
		}
		if err := s.CloseWrite(); err != nil {
			writeErr <- fmt.Errorf("echo close write: %w", err)
			return
		}
		writeErr <- nil
	}()
	// One byte more than sent is enough to notice a peer that echoes too much.
	received, readErr := io.ReadAll(io.LimitReader(s, size+1))
	if err := <-writeErr; err != nil {
		_ = s.Reset()
		return err
	}
	if readErr != nil {
		return fmt.Errorf("echo read after %d bytes: %w", len(received), readErr)
	}
	out.EchoBytes = int64(len(received))
	out.EchoMatch = bytes.Equal(sent, received)
	if !out.EchoMatch {
		return fmt.Errorf("echo mismatch: sent %d bytes, received %d bytes that differ", size,
			len(received))
	}
	return nil
}

func runPerf(ctx context.Context, h host.Host, remote peer.ID, up, down int64,
	deadline time.Time, out *dialResult) error {
	s, err := h.NewStream(ctx, remote, perfProtocol)
	if err != nil {
		return fmt.Errorf("open %s: %w", perfProtocol, err)
	}
	defer s.Close()
	_ = s.SetDeadline(deadline)

	buf := make([]byte, ioChunkSize)
	uploadStart := time.Now()
	binary.BigEndian.PutUint64(buf[:8], uint64(down))
	if _, err := s.Write(buf[:8]); err != nil {
		return fmt.Errorf("perf write size: %w", err)
	}
	for remaining := up; remaining > 0; {
		n := min(int64(len(buf)), remaining)
		written, err := s.Write(buf[:n])
		out.Perf.UploadBytes += int64(written)
		if err != nil {
			return fmt.Errorf("perf upload after %d bytes: %w", out.Perf.UploadBytes, err)
		}
		remaining -= n
	}
	if err := s.CloseWrite(); err != nil {
		return fmt.Errorf("perf close write: %w", err)
	}
	out.Perf.UploadSeconds = time.Since(uploadStart).Seconds()

	downloadStart := time.Now()
	for {
		n, err := s.Read(buf)
		out.Perf.DownloadBytes += int64(n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("perf download after %d bytes: %w", out.Perf.DownloadBytes, err)
		}
	}
	out.Perf.DownloadSeconds = time.Since(downloadStart).Seconds()
	if out.Perf.DownloadBytes != down {
		return fmt.Errorf("perf download: expected %d bytes, received %d", down,
			out.Perf.DownloadBytes)
	}
	return nil
}
