package sip

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

func register(t *testing.T, p *peer, addr, user, pass string, expires int) *gosip.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var to gosip.Uri
	gosip.ParseUri(fmt.Sprintf("sip:%s@%s", user, addr), &to)
	req := gosip.NewRequest(gosip.REGISTER, gosip.Uri{Scheme: "sip", Host: to.Host, Port: to.Port})
	req.AppendHeader(&gosip.ToHeader{Address: to})
	req.AppendHeader(&gosip.ContactHeader{Address: gosip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: 5999}})
	req.AppendHeader(gosip.NewHeader("Expires", fmt.Sprint(expires)))
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 401 {
		return res
	}
	res, err = p.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRegistrar(t *testing.T) {
	reg := &Registrar{Users: map[string]string{"alice": "s3cret"}}
	_, addr := startServer(t, Config{Registrar: reg}, HandlerFunc(func(ctx context.Context, c *Call) {}))
	p := newPeer(t)
	if res := register(t, p, addr, "alice", "wrong", 600); res.StatusCode != 401 {
		t.Errorf("wrong password: %d, want 401", res.StatusCode)
	}
	if len(reg.Lookup("alice")) != 0 {
		t.Fatal("a binding with a wrong password")
	}
	if res := register(t, p, addr, "bob", "x", 600); res.StatusCode != 404 {
		t.Errorf("unknown user: %d, want 404", res.StatusCode)
	}
	res := register(t, p, addr, "alice", "s3cret", 600)
	if res.StatusCode != 200 {
		t.Fatalf("register: %d %s", res.StatusCode, res.Reason)
	}
	b := reg.Lookup("alice")
	if len(b) != 1 || b[0].Contact != "sip:alice@127.0.0.1:5999" || time.Until(b[0].Expires) < 590*time.Second {
		t.Fatalf("bindings %+v", b)
	}
	if res := register(t, p, addr, "alice", "s3cret", 0); res.StatusCode != 200 {
		t.Fatalf("unregister: %d", res.StatusCode)
	}
	if b := reg.Lookup("alice"); len(b) != 0 {
		t.Errorf("still bound after Expires 0: %+v", b)
	}
}

func TestRegisterWithoutRegistrarIs405(t *testing.T) {
	_, addr := startServer(t, Config{}, HandlerFunc(func(ctx context.Context, c *Call) {}))
	if res := register(t, newPeer(t), addr, "alice", "x", 60); res.StatusCode != 405 {
		t.Errorf("REGISTER: %d, want 405", res.StatusCode)
	}
}
