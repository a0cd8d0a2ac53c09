package config

import (
	"strings"
	"testing"
	"time"
)

func TestTrunkDefaultsAndValidation(t *testing.T) {
	c, err := Parse([]byte(minimal+`
trunks:
  acme:
    registrar: sip.acme.example:5060
    username: "4420"
    password: s3cret
  ipauth:
    domain: sip:10.0.0.9;transport=tcp
  paused:
    registrar: sip:reg.example
    register: false
    keepalive: 0s
`), "line.yaml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := c.Trunks["acme"]
	if a.Expires != 300*time.Second || a.Transport != "udp" || !a.Registers() || *a.KeepAlive != 25*time.Second {
		t.Errorf("acme defaults: %+v", a)
	}
	if *c.Trunks["paused"].KeepAlive != 0 {
		t.Errorf("keepalive: 0s gives %v", *c.Trunks["paused"].KeepAlive)
	}
	if c.Trunks["ipauth"].Registers() || c.Trunks["paused"].Registers() {
		t.Error("a trunk without registrar, or with register: false, registers")
	}

	for _, tc := range []struct{ yaml, want string }{
		{"    registrar: sip.acme.example\n", "needs a username"},
		{"    domain: \"bad host\"\n", "not a SIP URI"},
		{"    domain: h.example:99999\n", "not a SIP URI"},
		{"    domain: h.example\n    transport: sctp\n", "transport"},
		{"    domain: h.example\n    expires: 2s\n", "outside 10s..24h"},
		{"    domain: h.example\n    password: x\n", "password but no username"},
		{"    domain: h.example\n    keepalive: 10ms\n", "keepalive 10ms is outside"},
		{"    domain: h.example\n    keepalive: -5s\n", "keepalive -5s is outside"},
		{"    domain: h.example\n    from_user: \"a b\"\n", "from_user"},
		{"    domain: h.example\n    outbound_proxy: \"sip:<x>\"\n", "outbound_proxy"},
		{"    username: x\n", "needs a registrar or a domain"},
	} {
		err := parse(t, minimal+"trunks:\n  t:\n"+tc.yaml)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

func TestValidSIPTarget(t *testing.T) {
	for _, s := range []string{"sip.example.com", "sip:sip.example.com:5080", "sips:h", "10.0.0.1:5060", "[::1]:5060", "::1", "sip:u@h;transport=tcp"} {
		if !validSIPTarget(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", "sip:", "h:0", "h:x", "a b", "h/x"} {
		if validSIPTarget(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
