package sip

import (
	"bytes"
	"context"
	"encoding/csv"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

const tortureDir = "../../../shared/data/sip/rfc4475"

// tortureWant is what our user agent server must answer to each RFC 4475
// message, sent over UDP. Each entry lists the acceptable status codes; 0
// means "no response" (responses sent to us, framing errors). "liberal"
// entries may be accepted (any non-5xx) or refused with 400, as the RFC
// allows. The server rejects every call with 486 so INVITEs end at once.
var tortureWant = map[string][]int{
	// 3.1.1 valid messages: processed (486 = our handler's rejection,
	// 405 for REGISTER at a non-registrar, 501 for unknown methods).
	"wsinv.dat":      {481}, // it has a To tag: a request in a dialog we do not have (RFC 3261 12.2.2)
	"intmeth.dat":    {501},
	"esc01.dat":      {486},
	"escnull.dat":    {405},
	"esc02.dat":      {501},
	"lwsdisp.dat":    {200},
	"longreq.dat":    {486, 415},
	"dblreq.dat":     {405},
	"semiuri.dat":    {200},
	"transports.dat": {200},
	"mpart01.dat":    {405, 486},
	"unreason.dat":   {0},
	"noreason.dat":   {0},
	// 3.1.2 invalid messages.
	"badinv01.dat":   {400},
	"clerr.dat":      {400},
	"ncl.dat":        {400, 0},
	"scalar02.dat":   {400},
	"scalarlg.dat":   {0},
	"quotbal.dat":    {400, 486},
	"ltgtruri.dat":   {400},
	"lwsruri.dat":    {400},
	"lwsstart.dat":   {400, 486},
	"trws.dat":       {400, 200},
	"escruri.dat":    {400, 486},
	"baddate.dat":    {400, 486},
	"regbadct.dat":   {400, 405},
	"badaspec.dat":   {400, 405},
	"baddn.dat":      {400, 200},
	"badvers.dat":    {505},
	"mismatch01.dat": {400},
	"mismatch02.dat": {501, 400},
	"bigcode.dat":    {0},
	// 3.2 transaction layer, 3.3 application layer.
	"badbranch.dat": {200, 400},
	"insuf.dat":     {400},
	"unkscm.dat":    {416},
	"novelsc.dat":   {416, 404},
	"unksm2.dat":    {405, 400},
	"bext01.dat":    {420},
	"invut.dat":     {415},
	"regaut01.dat":  {405},
	"multi01.dat":   {400},
	"mcl01.dat":     {400, 0},
	"bcast.dat":     {0},
	"zeromf.dat":    {200},
	"cparam01.dat":  {405},
	"cparam02.dat":  {405},
	"regescrt.dat":  {405},
	"sdp01.dat":     {406, 400},
	"inv2543.dat":   {486},
}

var callIDLine = regexp.MustCompile(`(?mi)^(?:call-id|i)[ \t]*:[ \t]*(\S+)`)

// TestRFC4475Torture sends the 49 torture messages of RFC 4475 and checks
// every answer, then checks a normal call still works.
func TestRFC4475Torture(t *testing.T) {
	f, err := os.Open(filepath.Join(tortureDir, "MANIFEST.csv"))
	if err != nil {
		t.Fatalf("RFC 4475 data: %v (the shared data directory must sit beside the checkout)", err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != len(tortureWant) {
		t.Errorf("manifest has %d messages, the table %d", len(rows)-1, len(tortureWant))
	}
	reject := HandlerFunc(func(ctx context.Context, c *Call) { c.Reject(486, "Busy Here") })
	for _, row := range rows[1:] {
		name := row[0]
		t.Run(strings.TrimSuffix(name, ".dat"), func(t *testing.T) {
			want, ok := tortureWant[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			msg, err := os.ReadFile(filepath.Join(tortureDir, name))
			if err != nil {
				t.Fatal(err)
			}
			// A fresh server per message: the messages reuse branches and
			// Call-IDs, which would otherwise match earlier transactions.
			srv, addr := startServer(t, Config{}, reject)
			// Responses go to the source IP at the Via's port (RFC 3261
			// section 18.2.2); the torture messages name no port, so 5060.
			conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 77), Port: 5060})
			if err != nil {
				t.Fatalf("listen on 127.0.0.77:5060 (a loopback address of its own) to receive responses (RFC 4475 messages use the default port): %v", err)
			}
			defer conn.Close()
			ids := map[string]bool{}
			for _, m := range callIDLine.FindAllSubmatch(msg, -1) {
				ids[string(m[1])] = true
			}
			var got int
			// Messages whose Via names TCP go over TCP when they are
			// well formed (the server answers through that transport);
			// malformed ones go over UDP, where the stateless refusal is.
			if _, perr := gosip.NewParser().ParseSIP(msg); perr == nil && topViaTCP(msg) {
				tcpAddr := addr
				for _, l := range srv.Addrs() {
					if l.Network == "tcp" {
						tcpAddr = l.Addr
					}
				}
				got = sendTCP(t, tcpAddr, msg, ids)
			} else {
				to, _ := net.ResolveUDPAddr("udp", addr)
				if _, err := conn.WriteToUDP(msg, to); err != nil {
					t.Fatal(err)
				}
				got = finalFor(conn, ids, 700*time.Millisecond)
			}
			for _, w := range want {
				if w == got {
					afterTorture(t, srv, addr)
					return
				}
			}
			t.Errorf("%s (%s): got %d, want one of %v", name, row[1], got, want)
		})
	}
}

// afterTorture checks the server still takes a normal call.
func afterTorture(t *testing.T, srv *Server, addr string) {
	t.Helper()
	p := newPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := p.invite(ctx, addr, p.offer("0 101"))
	if err == nil || !strings.Contains(err.Error(), "486") {
		t.Errorf("normal call after the message: %v, want our handler's 486", err)
	}
}

var topVia = regexp.MustCompile(`(?mi)^(?:via|v)[ \t]*:[ \t]*SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*(\w+)`)

func topViaTCP(msg []byte) bool {
	m := topVia.FindSubmatch(msg)
	return m != nil && strings.EqualFold(string(m[1]), "TCP")
}

// sendTCP sends msg on a new TCP connection and returns the final status
// of the response with Call-ID id.
func sendTCP(t *testing.T, addr string, msg []byte, ids map[string]bool) int {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(msg)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var all []byte
	buf := make([]byte, 65535)
	for {
		n, err := c.Read(buf)
		all = append(all, buf[:n]...)
		for _, part := range bytes.Split(all, []byte("SIP/2.0 "))[1:] {
			code, _ := strconv.Atoi(string(part[:3]))
			if m := callIDLine.FindSubmatch(part); code >= 200 && (len(ids) == 0 || m != nil && ids[string(m[1])]) {
				return code
			}
		}
		if err != nil {
			return 0
		}
	}
}

// finalFor reads responses until one with the Call-ID id is final (or the
// wait ends) and returns its status; 0 when none came. Provisional
// responses and other calls' retransmissions are skipped.
func finalFor(conn *net.UDPConn, ids map[string]bool, wait time.Duration) int {
	buf := make([]byte, 65535)
	deadline := time.Now().Add(wait)
	for {
		conn.SetReadDeadline(deadline)
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			return 0
		}
		msg := buf[:n]
		if !bytes.HasPrefix(msg, []byte("SIP/2.0 ")) {
			continue
		}
		if m := callIDLine.FindSubmatch(msg); len(ids) > 0 && (m == nil || !ids[string(m[1])]) {
			continue
		}
		code, _ := strconv.Atoi(string(msg[8:11]))
		if code >= 200 {
			return code
		}
	}
}
