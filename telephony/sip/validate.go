package sip

import (
	"bytes"
	"log/slog"
	"net"
	"strings"

	gosip "github.com/emiago/sipgo/sip"
)

// checkRequest applies the request validation of RFC 3261 section 8.2
// (and the cases RFC 4475 tests) to a parsed request. It returns 0 when
// the request may be processed, else the response to send.
func checkRequest(req *gosip.Request) (code int, reason string, hdrs []gosip.Header) {
	// Mandatory headers (section 8.1.1) and single-valued ones (section 7.3).
	for _, name := range []string{"Via", "From", "To", "Call-ID", "CSeq"} {
		if req.GetHeader(name) == nil {
			return 400, "Bad Request - Missing " + name, nil
		}
	}
	for _, name := range []string{"From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"} {
		if n := countValues(req, name); n > 1 {
			return 400, "Bad Request - Multiple " + name + " values", nil
		}
	}
	cseq := req.CSeq()
	if cseq == nil {
		return 400, "Bad Request - Malformed CSeq", nil
	}
	if !strings.EqualFold(string(cseq.MethodName), string(req.Method)) {
		if !knownMethod(req.Method) {
			return 501, "Not Implemented", []gosip.Header{gosip.NewHeader("Allow", allowed)}
		}
		return 400, "Bad Request - CSeq method does not match", nil
	}
	// Section 8.2.2.1: an unknown Request-URI scheme gets 416.
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return 416, "Unsupported URI Scheme", nil
	}
	// Section 8.2.2.3: Require with extensions we do not support gets 420.
	if req.Method != gosip.ACK && req.Method != gosip.CANCEL {
		var unsupported []string
		for _, h := range req.GetHeaders("Require") {
			for _, tag := range strings.Split(h.Value(), ",") {
				tag = strings.TrimSpace(tag)
				if tag != "" && !strings.EqualFold(tag, "timer") {
					unsupported = append(unsupported, tag)
				}
			}
		}
		if len(unsupported) > 0 {
			return 420, "Bad Extension", []gosip.Header{gosip.NewHeader("Unsupported", strings.Join(unsupported, ", "))}
		}
	}
	// Section 8.2.3: an INVITE whose Accept excludes SDP cannot be answered.
	if req.Method == gosip.INVITE {
		if hs := req.GetHeaders("Accept"); len(hs) > 0 && !acceptsSDP(hs) {
			return 406, "Not Acceptable", []gosip.Header{gosip.NewHeader("Warning", `399 - "only application/sdp bodies"`)}
		}
	}
	return 0, "", nil
}

func countValues(req *gosip.Request, name string) int {
	n := 0
	for _, h := range req.GetHeaders(name) {
		if name == "Call-ID" || name == "CSeq" || name == "Content-Length" || name == "Max-Forwards" || name == "Content-Type" {
			n++
			continue
		}
		n += len(splitTopLevel(h.Value()))
	}
	return n
}

// splitTopLevel splits a header value on commas outside quotes and <>.
func splitTopLevel(v string) []string {
	var parts []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			quoted = !quoted
		case '<':
			if !quoted {
				depth++
			}
		case '>':
			if !quoted && depth > 0 {
				depth--
			}
		case ',':
			if !quoted && depth == 0 {
				parts = append(parts, v[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, v[start:])
}

func acceptsSDP(hs []gosip.Header) bool {
	for _, h := range hs {
		for _, t := range strings.Split(h.Value(), ",") {
			t = strings.ToLower(mediaType(t))
			if t == "application/sdp" || t == "*/*" || t == "application/*" || t == "" {
				return true
			}
		}
	}
	return false
}

func knownMethod(m gosip.RequestMethod) bool {
	switch m {
	case gosip.INVITE, gosip.ACK, gosip.BYE, gosip.CANCEL, gosip.OPTIONS, gosip.REGISTER, gosip.INFO,
		gosip.NOTIFY, gosip.SUBSCRIBE, gosip.REFER, gosip.MESSAGE, gosip.UPDATE, gosip.PRACK, gosip.PUBLISH:
		return true
	}
	return false
}

// validatingConn sits under sipgo's UDP transport. Datagrams that do not
// parse never reach sipgo (which would drop them silently); requests among
// them get a stateless 400 (or 505 for another SIP version, RFC 3261
// section 8.2.2 and RFC 4475 section 3.1.2.16) so the sender stops
// retransmitting. Malformed responses are dropped.
type validatingConn struct {
	net.PacketConn
	log    *slog.Logger
	ua     string
	parser *gosip.Parser
}

func (v *validatingConn) ReadFrom(p []byte) (int, net.Addr, error) {
	if v.parser == nil {
		v.parser = gosip.NewParser()
	}
	for {
		n, addr, err := v.PacketConn.ReadFrom(p)
		if err != nil || n == 0 {
			return n, addr, err
		}
		data := p[:n]
		if isKeepAlive(data) {
			continue // RFC 5626 CRLF keep-alives
		}
		if _, perr := v.parser.ParseSIP(data); perr == nil {
			return n, addr, nil
		} else if res := rejectMalformed(data, v.ua); res != nil {
			v.log.Info("malformed SIP request refused", "from", addr.String(), "err", perr)
			v.PacketConn.WriteTo(res, addr)
		} else {
			v.log.Info("malformed SIP message dropped", "from", addr.String(), "err", perr)
		}
	}
}

func isKeepAlive(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

// rejectMalformed builds a stateless response to an unparseable request,
// copying the headers needed to match it (section 8.2.6.2). It returns nil
// for responses and for data that is not recognisably a SIP request.
func rejectMalformed(data []byte, ua string) []byte {
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	if len(lines) == 0 {
		return nil
	}
	start := strings.Fields(lines[0])
	if len(start) < 3 || strings.HasPrefix(start[0], "SIP/") {
		return nil // a response, or garbage
	}
	version := start[len(start)-1]
	if !strings.HasPrefix(strings.ToUpper(version), "SIP/") {
		return nil
	}
	status := "400 Bad Request"
	if !strings.EqualFold(version, "SIP/2.0") {
		status = "505 Version Not Supported"
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 " + status + "\r\n")
	names := map[string]string{"v": "Via", "via": "Via", "f": "From", "from": "From", "t": "To", "to": "To",
		"i": "Call-ID", "call-id": "Call-ID", "cseq": "CSeq"}
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		name, val, ok := strings.Cut(l, ":")
		if !ok || strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			continue
		}
		canon, want := names[strings.ToLower(strings.TrimSpace(name))]
		if !want || (canon != "Via" && seen[canon]) {
			continue
		}
		seen[canon] = true
		b.WriteString(canon + ": " + strings.TrimSpace(val) + "\r\n")
	}
	if !seen["Via"] {
		return nil // nowhere a stateless response could be matched
	}
	b.WriteString("Server: " + ua + "\r\nContent-Length: 0\r\n\r\n")
	return []byte(b.String())
}
