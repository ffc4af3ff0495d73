package main

import (
	"encoding/binary"
	"io"
	"log"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

const (
	ioChunkSize = 64 << 10
	// A served stream that stalls this long is abandoned so the listener never leaks goroutines
	// waiting on a vanished peer.
	servedStreamTimeout = 120 * time.Second
)

// handleEcho copies every byte back until the remote closes its write side, then closes.
func handleEcho(s network.Stream) {
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(servedStreamTimeout))
	buf := make([]byte, ioChunkSize)
	if _, err := io.CopyBuffer(s, s, buf); err != nil {
		log.Printf("echo: %v", err)
		_ = s.Reset()
		return
	}
	if err := s.CloseWrite(); err != nil {
		log.Printf("echo: close write: %v", err)
	}
}

// handlePerf serves /perf/1.0.0: an 8-byte big-endian count of bytes to send back, then the
// upload until EOF, then the download (never concurrently with the upload, as the spec requires).
func handlePerf(s network.Stream) {
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(servedStreamTimeout))
	var header [8]byte
	if _, err := io.ReadFull(s, header[:]); err != nil {
		log.Printf("perf: read size: %v", err)
		_ = s.Reset()
		return
	}
	toSend := binary.BigEndian.Uint64(header[:])
	buf := make([]byte, ioChunkSize)
	if _, err := io.CopyBuffer(io.Discard, s, buf); err != nil {
		log.Printf("perf: read upload: %v", err)
		_ = s.Reset()
		return
	}
	for toSend > 0 {
		n := uint64(len(buf))
		if toSend < n {
			n = toSend
		}
		if _, err := s.Write(buf[:n]); err != nil {
			log.Printf("perf: write download: %v", err)
			_ = s.Reset()
			return
		}
		toSend -= n
	}
	if err := s.CloseWrite(); err != nil {
		log.Printf("perf: close write: %v", err)
	}
}
