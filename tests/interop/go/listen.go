package main

import (
	"fmt"
	"log"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
)

type readyLine struct {
	PeerID string   `json:"peer_id"`
	Addrs  []string `json:"addrs"`
}

type identifiedLine struct {
	Event        string   `json:"event"`
	PeerID       string   `json:"peer_id"`
	AgentVersion string   `json:"agent_version"`
	Protocols    []string `json:"protocols"`
}

func protocolStrings(ids []protocol.ID) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, string(id))
	}
	return out
}

func runListen(listenAddr string) int {
	h, err := newHost([]string{listenAddr})
	if err != nil {
		log.Printf("listen: %v", err)
		return 1
	}
	defer h.Close()

	// Subscribe before announcing readiness so no identify result can be missed.
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		log.Printf("listen: subscribe to identify events: %v", err)
		return 1
	}
	defer sub.Close()
	go func() {
		for e := range sub.Out() {
			done := e.(event.EvtPeerIdentificationCompleted)
			if done.Conn == nil || done.Conn.Stat().Direction != network.DirInbound {
				continue
			}
			printJSONLine(identifiedLine{
				Event:        "identified",
				PeerID:       done.Peer.String(),
				AgentVersion: done.AgentVersion,
				Protocols:    protocolStrings(done.Protocols),
			})
		}
	}()

	ready := readyLine{PeerID: h.ID().String(), Addrs: []string{}}
	for _, addr := range h.Addrs() {
		ready.Addrs = append(ready.Addrs, fmt.Sprintf("%s/p2p/%s", addr, h.ID()))
	}
	printJSONLine(ready)

	waitForShutdown()
	return 0
}
