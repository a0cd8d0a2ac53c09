// Package e2e drives the built ivr binary with real SIP peers (SIPp and
// baresip) and checks what callers hear and what the records say.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/openivr/ivr/models"
)

var ivrBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ivr-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ivrBin = filepath.Join(dir, "ivr")
	build := exec.Command("go", "build", "-o", ivrBin, "./cmd/ivr")
	build.Dir = repoRoot()
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build ivr:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// need fails the test when a program the test drives is missing.
func need(t *testing.T, prog, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		t.Fatalf("%s not found: install the Debian package %s (scripts/deps.sh test does)", prog, pkg)
	}
	return p
}

// freePort returns a port free for both UDP and TCP on loopback.
func freePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// mediaPort returns an even UDP port p with p+1..p+3 free too: SIPp binds
// its audio (p) and video (p+2) RTP sockets and their RTCP ports.
func mediaPort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 100; i++ {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port &^ 1
		c.Close()
		ok := true
		var held []net.PacketConn
		for k := 0; k < 4 && ok; k++ {
			u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p+k))
			if err != nil {
				ok = false
				break
			}
			held = append(held, u)
		}
		for _, u := range held {
			u.Close()
		}
		if ok && p > 1024 {
			return p
		}
	}
	t.Fatal("no free media ports")
	return 0
}

// server is a running `ivr serve`.
type server struct {
	sipPort, httpPort int
	dataDir           string
	cmd               *exec.Cmd
	log               *os.File
}

// startIVR runs the demo line (or cfg when not "") with env added.
func startIVR(t *testing.T, cfg string, env ...string) *server {
	t.Helper()
	s := &server{sipPort: freePort(t), httpPort: freePort(t), dataDir: t.TempDir()}
	args := []string{"serve", "--sip-addr", fmt.Sprintf("127.0.0.1:%d", s.sipPort),
		"--http-addr", fmt.Sprintf("127.0.0.1:%d", s.httpPort), "--data-dir", s.dataDir}
	if cfg != "" {
		args = append(args, "--config", cfg)
	}
	var err error
	s.log, err = os.Create(filepath.Join(t.TempDir(), "ivr.log"))
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(ivrBin, args...)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- s.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			t.Error("ivr did not stop on SIGINT within 10 s")
		}
		if t.Failed() {
			b, _ := os.ReadFile(s.log.Name())
			t.Logf("ivr log:\n%s", b)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", s.httpPort))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(s.log.Name())
			t.Fatalf("ivr did not start:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// calls runs `ivr calls --json` and returns the records, newest first.
func (s *server) calls(t *testing.T) []models.CallRecord {
	t.Helper()
	out, err := exec.Command(ivrBin, "calls", "--data-dir", s.dataDir, "--json").Output()
	if err != nil {
		t.Fatalf("ivr calls: %v", err)
	}
	var recs []models.CallRecord
	if err := json.Unmarshal(out, &recs); err != nil {
		t.Fatalf("ivr calls --json: %v\n%s", err, out)
	}
	return recs
}

// waitEnded waits until the newest n calls have ended.
func (s *server) waitEnded(t *testing.T, n int) []models.CallRecord {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		recs := s.calls(t)
		ended := 0
		for _, r := range recs {
			if r.EndedAt != nil {
				ended++
			}
		}
		if ended >= n {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d calls ended: %+v", ended, n, recs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// sipp runs a SIPp scenario from test/sipp and returns its output.
func sipp(ctx context.Context, t *testing.T, scenario string, args ...string) *exec.Cmd {
	t.Helper()
	bin := need(t, "sipp", "sip-tester")
	dir := t.TempDir()
	full := append([]string{"-sf", filepath.Join(repoRoot(), "test", "sipp", scenario), "-m", "1",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"), "-nostdin", "-timeout", "60s", "-timeout_error"}, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Dir = dir
	return cmd
}

func runSipp(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(cmd.Dir, "errors.log"))
		t.Fatalf("sipp %s: %v\n%s\n%s", strings.Join(cmd.Args[1:3], " "), err, tail(string(out), 2000), errs)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func equalPath(a, b []string) bool {
	return strings.Join(a, ">") == strings.Join(b, ">")
}
