// peer-go: the go-libp2p benchmark peer (the contract is in bench/README.md).
//
//	peer listen [--addr MA]
//	peer run --remote MA --metric perf|setup|handshake-rate|ping|hold|churn [options]
//
// Only TCP + Noise + Yamux; the resource manager and the connection manager are off, because the
// suite measures the protocols, not go-libp2p's admission policies.
package main

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

const (
	echoProtocol = protocol.ID("/echo/1.0.0")
	perfProtocol = protocol.ID("/perf/1.0.0")
	pingProtocol = ping.ID
	ioChunkSize  = 256 << 10
)

// newHost makes a host; a client host passes the one address it may dial (see onlyAddress).
func newHost(listenAddrs []string, extra ...libp2p.Option) (host.Host, error) {
	identity, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate identity: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(identity),
		// Without SO_REUSEPORT a port in use is an error, not a second listener on it.
		libp2p.Transport(tcp.NewTCPTransport, tcp.DisableReuseport()),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
		libp2p.Ping(true),
		libp2p.ResourceManager(&network.NullResourceManager{}),
		libp2p.ConnectionManager(&connmgr.NullConnMgr{}),
	}
	opts = append(opts, extra...)
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

// handleEcho copies every byte back until the remote closes its write side, then closes.
func handleEcho(s network.Stream) {
	buf := make([]byte, 64<<10)
	if _, err := io.CopyBuffer(s, s, buf); err != nil {
		_ = s.Reset()
		return
	}
	_ = s.Close()
}

// handlePerf serves /perf/1.0.0: an 8-byte big-endian count of bytes to send back, then the
// upload until EOF, then the download.
func handlePerf(s network.Stream) {
	var header [8]byte
	if _, err := io.ReadFull(s, header[:]); err != nil {
		_ = s.Reset()
		return
	}
	toSend := binary.BigEndian.Uint64(header[:])
	buf := make([]byte, ioChunkSize)
	if _, err := io.CopyBuffer(io.Discard, s, buf); err != nil {
		_ = s.Reset()
		return
	}
	for toSend > 0 {
		n := min(uint64(len(buf)), toSend)
		if _, err := s.Write(buf[:n]); err != nil {
			_ = s.Reset()
			return
		}
		toSend -= n
	}
	_ = s.Close()
}

func raiseFileLimit() {
	var limit syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit) == nil && limit.Cur < limit.Max {
		limit.Cur = limit.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
			log.Printf("cannot raise RLIMIT_NOFILE: %v", err)
		}
	}
}

// stopSignals is set up before the ready line, so a stop signal that follows it at once is
// caught instead of killing the process.
func stopSignals() chan os.Signal {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	return signals
}

// waitForStop returns at end of stdin or on SIGTERM/SIGINT.
func waitForStop(signals chan os.Signal) {
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
	select {
	case <-done:
	case <-signals:
	}
}

func runListen(addr string) error {
	signals := stopSignals()
	h, err := newHost([]string{addr})
	if err != nil {
		return err
	}
	addrs := h.Addrs()
	if len(addrs) == 0 {
		return fmt.Errorf("no listen address")
	}
	fmt.Printf("LISTEN %s/p2p/%s\n", addrs[0], h.ID())
	waitForStop(signals)
	go func() { _ = h.Close() }() // closing thousands of connections must not delay the exit
	return nil
}

func printJSON(v any) {
	line, err := json.Marshal(v)
	if err != nil {
		log.Fatalf("encode the result: %v", err)
	}
	os.Stdout.Write(append(line, '\n'))
}

// The options each metric needs (a missing one is a usage error) and may take.
var metricOptions = map[string]struct{ required, optional []string }{
	"perf":           {[]string{"upload", "download"}, nil},
	"setup":          {[]string{"count"}, nil},
	"handshake-rate": {[]string{"concurrency", "seconds"}, nil},
	"ping":           {[]string{"count"}, nil},
	"hold":           {[]string{"connections"}, []string{"concurrency"}},
	"churn":          {[]string{"seconds", "size"}, []string{"concurrency"}},
}

// checkRunOptions returns what is wrong with a run command line, or "".
func checkRunOptions(o runOptions, given map[string]bool) string {
	if _, err := parseTarget(o.remote); err != nil {
		return "--remote: " + err.Error()
	}
	spec, ok := metricOptions[o.metric]
	if !ok {
		return fmt.Sprintf("unknown metric %q", o.metric)
	}
	allowed := map[string]bool{"remote": true, "metric": true}
	for _, name := range spec.required {
		if !given[name] {
			return fmt.Sprintf("--metric %s needs --%s", o.metric, name)
		}
		allowed[name] = true
	}
	for _, name := range spec.optional {
		allowed[name] = true
	}
	for name := range given {
		if !allowed[name] {
			return fmt.Sprintf("--metric %s does not take --%s", o.metric, name)
		}
	}
	return ""
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: peer listen [--addr MA]")
	fmt.Fprintln(os.Stderr, "       peer run --remote MA --metric perf|setup|handshake-rate|ping|hold|churn")
	fmt.Fprintln(os.Stderr, "                [--upload N] [--download N] [--count N] [--concurrency C]")
	fmt.Fprintln(os.Stderr, "                [--seconds S] [--connections N] [--size B]")
	os.Exit(2)
}

func main() {
	log.SetOutput(os.Stderr)
	log.SetPrefix("peer-go: ")
	log.SetFlags(0)
	raiseFileLimit()
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "listen":
		flags := flag.NewFlagSet("listen", flag.ExitOnError)
		addr := flags.String("addr", "/ip4/127.0.0.1/tcp/0", "multiaddr to listen on")
		flags.Parse(os.Args[2:])
		if _, perr := ma.NewMultiaddr(*addr); perr != nil || flags.NArg() != 0 {
			log.Printf("--addr %q: %v", *addr, perr)
			usage()
		}
		err = runListen(*addr)
	case "run":
		flags := flag.NewFlagSet("run", flag.ExitOnError)
		var o runOptions
		flags.StringVar(&o.remote, "remote", "", "multiaddr of the listener, with /p2p/")
		flags.StringVar(&o.metric, "metric", "", "metric to run")
		flags.Uint64Var(&o.upload, "upload", 0, "perf: bytes to upload")
		flags.Uint64Var(&o.download, "download", 0, "perf: bytes to download")
		flags.IntVar(&o.count, "count", 100, "setup, ping: iterations")
		flags.IntVar(&o.concurrency, "concurrency", 0, "handshake-rate, hold, churn: concurrent loops")
		flags.Float64Var(&o.seconds, "seconds", 10, "handshake-rate, churn: duration")
		flags.IntVar(&o.connections, "connections", 1000, "hold: connections")
		flags.IntVar(&o.size, "size", 1024, "churn: bytes per stream")
		flags.Parse(os.Args[2:])
		given := map[string]bool{}
		flags.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if problem := checkRunOptions(o, given); problem != "" || flags.NArg() != 0 {
			log.Print(problem)
			usage()
		}
		err = runMetric(o)
	default:
		usage()
	}
	if err != nil {
		log.Printf("%v", err)
		os.Exit(1)
	}
}
