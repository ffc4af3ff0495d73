// peer-go: the go-libp2p reference peer of weft's interop suite.
//
// It implements the command-line contract described in tests/interop/README.md:
//
//	peer-go listen [--listen-addr MA]
//	peer-go dial MA [--pings N] [--echo-bytes N] [--perf-up N] [--perf-down N]
//
// Results go to stdout as JSON lines; logs go to stderr only.
package main

import (
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

const (
	echoProtocol = protocol.ID("/echo/1.0.0")
	perfProtocol = protocol.ID("/perf/1.0.0")

	// The contract's hard limit for a whole dial run: the runner relies on the peer never hanging.
	dialRunTimeout = 120 * time.Second
)

var stdoutMu sync.Mutex

// printJSONLine writes one JSON document as one line; the mutex keeps lines from concurrent
// connections from interleaving, since the runner parses stdout line by line.
func printJSONLine(v any) {
	line, err := json.Marshal(v)
	if err != nil {
		log.Printf("cannot encode output: %v", err)
		return
	}
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	os.Stdout.Write(append(line, '\n'))
}

// agentVersion names go-libp2p and the exact release linked in. The library's own default uses
// the main module's path, which for this program would not say which implementation it is.
func agentVersion() string {
	const base = "github.com/libp2p/go-libp2p"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == base {
				return base + "@" + dep.Version
			}
		}
	}
	return base
}

func newHost(listenAddrs []string) (host.Host, error) {
	identity, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate identity: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(identity),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.UserAgent(agentVersion()),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
		libp2p.Ping(true),
		// The default resource manager limits memory per connection and rate-limits inbound
		// connections; the suite measures the protocols, not those policies.
		libp2p.ResourceManager(&network.NullResourceManager{}),
	}
	if len(listenAddrs) == 0 {
		opts = append(opts, libp2p.NoListenAddrs)
	} else {
		opts = append(opts, libp2p.ListenAddrStrings(listenAddrs...))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, err
	}
	h.SetStreamHandler(echoProtocol, handleEcho)
	h.SetStreamHandler(perfProtocol, handlePerf)
	return h, nil
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: peer-go listen [--listen-addr MA]")
	fmt.Fprintln(os.Stderr, "       peer-go dial MA [--pings N] [--echo-bytes N] [--perf-up N] [--perf-down N]")
	os.Exit(2)
}

func main() {
	log.SetOutput(os.Stderr)
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "listen":
		flags := flag.NewFlagSet("listen", flag.ExitOnError)
		listenAddr := flags.String("listen-addr", "/ip4/127.0.0.1/tcp/0", "multiaddr to listen on")
		flags.Parse(os.Args[2:])
		os.Exit(runListen(*listenAddr))
	case "dial":
		if len(os.Args) < 3 || strings.HasPrefix(os.Args[2], "-") {
			usage()
		}
		target := os.Args[2]
		flags := flag.NewFlagSet("dial", flag.ExitOnError)
		cfg := dialConfig{target: target}
		flags.IntVar(&cfg.pings, "pings", 10, "number of pings")
		flags.Int64Var(&cfg.echoBytes, "echo-bytes", 1<<20, "bytes sent through /echo/1.0.0")
		flags.Int64Var(&cfg.perfUp, "perf-up", 64<<20, "perf upload bytes")
		flags.Int64Var(&cfg.perfDown, "perf-down", 64<<20, "perf download bytes")
		flags.Parse(os.Args[3:])
		os.Exit(runDial(cfg))
	default:
		usage()
	}
}

// waitForShutdown returns when stdin reaches EOF or a termination signal arrives.
func waitForShutdown() {
	done := make(chan struct{}, 2)
	go func() {
		buf := make([]byte, 256)
		for {
			if _, err := os.Stdin.Read(buf); err != nil {
				done <- struct{}{}
				return
			}
		}
	}()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-done:
	case sig := <-signals:
		log.Printf("received %v, stopping", sig)
	}
}
