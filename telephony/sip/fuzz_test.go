package sip

import (
	"os"
	"path/filepath"
	"testing"

	gosip "github.com/emiago/sipgo/sip"
)

// FuzzIncoming runs what happens to every datagram before sipgo sees it:
// normalisation, parsing, the RFC 2543 shim, validation and the stateless
// refusal. Nothing may panic, and a request we pass on must parse again.
func FuzzIncoming(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(tortureDir, "*.dat"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n"))
	f.Add([]byte("\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := gosip.NewParser()
		out, _, err := prepare(p, data, "fuzz")
		if err != nil {
			return
		}
		msg, err := safeParse(p, out)
		if err != nil {
			t.Fatalf("prepared message does not parse: %v\n%s", err, out)
		}
		if req, ok := msg.(*gosip.Request); ok {
			checkRequest(req)
		}
	})
}
