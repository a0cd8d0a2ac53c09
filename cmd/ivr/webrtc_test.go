package main

import (
	"testing"

	"github.com/openivr/ivr/config"
)

// TestWebRTCLoopbackCandidates: browser calls offer loopback ICE
// candidates only when the HTTP server listens on loopback, where every
// browser is on this machine (possibly with no other interface).
func TestWebRTCLoopbackCandidates(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true,
		"[::1]:8080":     true,
		"localhost:8080": true,
		"0.0.0.0:8080":   false,
		":8080":          false,
		"192.0.2.7:443":  false,
		"ivr.example:80": false,
		"bad":            false,
	} {
		cfg, err := config.Demo()
		if err != nil {
			t.Fatal(err)
		}
		cfg.HTTP.Addr = addr
		if got := webrtcOptionsFrom(cfg).IncludeLoopback; got != want {
			t.Errorf("http.addr %q: loopback candidates %v, want %v", addr, got, want)
		}
	}
}
