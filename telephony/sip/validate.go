package sip

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// checkRequest applies the request validation of RFC 3261 section 8.2
// (and the cases RFC 4475 tests) to a parsed request. It returns 0 when
// the request may be processed, else the response to send.
func checkRequest(req *gosip.Request) (code int, reason string, hdrs []gosip.Header) {
	if !strings.EqualFold(req.SipVersion, "SIP/2.0") {
		return 505, "Version Not Supported", nil // section 8.2.2 (RFC 4475 3.1.2.16)
	}
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

// uriScheme matches a Request-URI that starts with a well-formed scheme
// (RFC 3986 section 3.1), so an unknown one gets 416 rather than 400.
var uriScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

func knownScheme(uri string) bool {
	scheme, _, _ := strings.Cut(strings.ToLower(uri), ":")
	return scheme == "sip" || scheme == "sips" || scheme == "tel"
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
	quiet  logLimiter
}

// logLimiter lets one malformed-message line per second through, so a
// flood of garbage cannot flood the log.
type logLimiter struct{ last atomic.Int64 }

func (l *logLimiter) allow() bool {
	now := time.Now().UnixNano()
	last := l.last.Load()
	return now-last >= int64(time.Second) && l.last.CompareAndSwap(last, now)
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
		out, res, perr := prepare(v.parser, data, v.ua)
		if perr == nil && len(out) <= len(p) {
			return copy(p, out), addr, nil
		}
		if res != nil {
			v.PacketConn.WriteTo(res, addr)
		}
		if v.quiet.allow() {
			v.log.Info("malformed SIP message refused", "from", addr.String(), "err", perr, "answered", res != nil)
		}
	}
}

// prepare readies one message for sipgo: it normalises the header section,
// parses it, and gives RFC 2543 requests a usable branch. It returns the
// bytes to pass on, or, when the message must not reach sipgo, the
// stateless response to send (nil for responses and garbage) and why.
func prepare(parser *gosip.Parser, data []byte, ua string) (out, reject []byte, err error) {
	if norm, changed := normalizeHeaders(data); changed {
		data = norm
	}
	msg, err := safeParse(parser, data)
	if err != nil {
		return nil, rejectMalformed(data, ua, err), err
	}
	if req, ok := msg.(*gosip.Request); ok && giveRFC3261Branch(req) {
		rewritten := []byte(req.String())
		if _, err := safeParse(parser, rewritten); err != nil {
			return nil, rejectMalformed(data, ua, err), err
		}
		return rewritten, nil, nil
	}
	return data, nil, nil
}

// safeParse parses with sipgo, turning a parser panic on hostile input
// into an error: the datagram is refused and the server keeps running.
func safeParse(p *gosip.Parser, data []byte) (msg gosip.Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, err = nil, fmt.Errorf("sip parser panic: %v", r)
		}
	}()
	return p.ParseSIP(data)
}

func isKeepAlive(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

// giveRFC3261Branch gives a request from an RFC 2543 element (whose Via
// branch lacks the z9hG4bK cookie, or has none) a branch derived from the
// fields RFC 3261 section 17.2.3 says identify its transaction, so
// sipgo's branch-keyed transactions can serve it. Retransmissions, and the
// ACK or CANCEL of the same INVITE, get the same branch.
func giveRFC3261Branch(req *gosip.Request) bool {
	via := req.Via()
	if via == nil {
		return false
	}
	b, _ := via.Params.Get("branch")
	if strings.HasPrefix(b, "z9hG4bK") {
		return false
	}
	h := fnv.New64a()
	io.WriteString(h, req.Recipient.String())
	io.WriteString(h, "\x00"+b+"\x00"+via.Host+"\x00"+strconv.Itoa(via.Port))
	if c := req.CallID(); c != nil {
		io.WriteString(h, "\x00"+c.Value())
	}
	if c := req.CSeq(); c != nil {
		io.WriteString(h, "\x00"+strconv.FormatUint(uint64(c.SeqNo), 10))
	}
	if f := req.From(); f != nil {
		io.WriteString(h, "\x00"+f.Params.GetOr("tag", ""))
	}
	via.Params.Add("branch", "z9hG4bK-2543-"+strconv.FormatUint(h.Sum64(), 36))
	// RFC 2543 requests may have no From tag; dialogs need one. Derive
	// it from the Call-ID so every request of the call gets the same.
	if f := req.From(); f != nil && f.Params.GetOr("tag", "") == "" {
		th := fnv.New64a()
		if c := req.CallID(); c != nil {
			io.WriteString(th, c.Value())
		}
		if f.Params == nil {
			f.Params = gosip.NewParams()
		}
		f.Params.Add("tag", "2543-"+strconv.FormatUint(th.Sum64(), 36))
	}
	return true
}

// normalizeHeaders rewrites the header section of a message into the
// canonical form RFC 3261 section 7.3.1 says is equivalent: folded lines
// joined with one space, and the optional whitespace around the ";", "=",
// "/" and "," separators (SEMI, EQUAL, SLASH, COMMA of section 25.1)
// removed, outside quoted strings. sipgo's parser does not accept every
// such form (RFC 4475 section 3.1.1.1). It reports whether anything changed;
// ordinary messages pass untouched and unallocated.
func normalizeHeaders(msg []byte) ([]byte, bool) {
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if end < 0 {
		return msg, false
	}
	head := msg[:end]
	if !bytes.Contains(head, []byte("\r\n ")) && !bytes.Contains(head, []byte("\r\n\t")) &&
		!bytes.Contains(head, []byte(" =")) && !bytes.Contains(head, []byte("= ")) &&
		!bytes.Contains(head, []byte(" ;")) && !bytes.Contains(head, []byte(" /")) {
		return msg, false
	}
	out := make([]byte, 0, len(msg))
	quoted, escaped, lineStart := false, false, true
	isSep := func(c byte) bool { return c == ';' || c == '=' || c == '/' || c == ',' }
	for i := 0; i < len(head); i++ {
		c := head[i]
		if c == '\r' && i+2 < len(head) && head[i+1] == '\n' && (head[i+2] == ' ' || head[i+2] == '\t') {
			i += 2 // a folded line: the CRLF is whitespace
			c = head[i]
		}
		if c == '\n' {
			lineStart, quoted = true, false
			out = append(out, c)
			continue
		}
		if quoted {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				quoted = false
			}
			continue
		}
		if c == '"' {
			quoted = true
		}
		if (c == ' ' || c == '\t') && !lineStart {
			// Collapse a run of whitespace; drop it next to a separator.
			j := i
			for j < len(head) && (head[j] == ' ' || head[j] == '\t' ||
				head[j] == '\r' && j+2 < len(head) && head[j+1] == '\n' && (head[j+2] == ' ' || head[j+2] == '\t')) {
				if head[j] == '\r' {
					j += 2
				}
				j++
			}
			prev := byte(0)
			if len(out) > 0 {
				prev = out[len(out)-1]
			}
			next := byte(0)
			if j < len(head) {
				next = head[j]
			}
			if !isSep(prev) && !isSep(next) && next != '\r' && next != 0 {
				out = append(out, ' ')
			}
			i = j - 1
			continue
		}
		lineStart = false
		out = append(out, c)
	}
	out = append(out, msg[end:]...)
	return out, !bytes.Equal(out, msg)
}

// rejectMalformed builds a stateless response to an unparseable request,
// copying the headers needed to match it (section 8.2.6.2). It returns nil
// for responses and for data that is not recognisably a SIP request.
func rejectMalformed(data []byte, ua string, perr error) []byte {
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
	switch {
	case !strings.EqualFold(version, "SIP/2.0"):
		status = "505 Version Not Supported"
	case perr != nil && strings.Contains(perr.Error(), "uri scheme") && uriScheme.MatchString(start[1]) && !knownScheme(start[1]):
		status = "416 Unsupported URI Scheme" // section 8.2.2.1
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

// validatingListener gives TCP and TLS connections the same treatment as
// validatingConn: each SIP message is framed (RFC 3261 section 18.3:
// Content-Length is mandatory on streams), normalized, and either passed
// to sipgo or refused with a response on the connection.
type validatingListener struct {
	net.Listener
	log *slog.Logger
	ua  string
}

func (l *validatingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &validatingStream{Conn: c, log: l.log, ua: l.ua, parser: gosip.NewParser()}, nil
}

// maxMessage bounds a buffered SIP message on a stream.
const maxMessage = 1 << 16

type validatingStream struct {
	net.Conn
	log    *slog.Logger
	ua     string
	parser *gosip.Parser
	in     []byte // bytes read, not yet framed
	out    []byte // validated bytes for sipgo
}

var contentLength = regexp.MustCompile(`(?im)^(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)`)

func (v *validatingStream) Read(p []byte) (int, error) {
	for len(v.out) == 0 {
		if msg, ok, err := v.frame(); err != nil {
			return 0, err
		} else if ok {
			v.accept(msg)
			continue
		}
		buf := make([]byte, 4096)
		n, err := v.Conn.Read(buf)
		v.in = append(v.in, buf[:n]...)
		if err != nil {
			if n == 0 {
				return 0, err
			}
		}
		if len(v.in) > maxMessage {
			v.Conn.Write(rejectOrNil(v.in, v.ua, errors.New("message too large")))
			return 0, errors.New("sip: message too large on stream")
		}
	}
	n := copy(p, v.out)
	v.out = v.out[n:]
	return n, nil
}

// frame takes one whole message (or keep-alive) off the input buffer.
func (v *validatingStream) frame() ([]byte, bool, error) {
	// Keep-alive CRLFs (RFC 5626 section 3.5.1) pass straight through.
	i := 0
	for i < len(v.in) && (v.in[i] == '\r' || v.in[i] == '\n') {
		i++
	}
	if i > 0 {
		v.out = append(v.out, v.in[:i]...)
		v.in = v.in[i:]
	}
	end := bytes.Index(v.in, []byte("\r\n\r\n"))
	if end < 0 {
		return nil, false, nil
	}
	head := v.in[:end]
	cls := contentLength.FindAllSubmatch(head, -1)
	length := 0
	if len(cls) != 1 {
		// Missing or repeated Content-Length cannot be framed on a
		// stream (RFC 4475 section 3.3.9): refuse and close.
		v.Conn.Write(rejectOrNil(v.in, v.ua, errors.New("bad Content-Length")))
		return nil, false, errors.New("sip: unframeable message on stream")
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(cls[0][1])))
	if err != nil || n < 0 || n > maxMessage {
		v.Conn.Write(rejectOrNil(v.in, v.ua, errors.New("bad Content-Length")))
		return nil, false, errors.New("sip: bad Content-Length on stream")
	}
	length = n
	total := end + 4 + length
	if len(v.in) < total {
		return nil, false, nil
	}
	msg := append([]byte(nil), v.in[:total]...)
	v.in = v.in[total:]
	return msg, true, nil
}

// accept validates one framed message and queues it (or answers it).
func (v *validatingStream) accept(msg []byte) {
	out, res, perr := prepare(v.parser, msg, v.ua)
	if perr != nil {
		if res != nil {
			v.log.Info("malformed SIP request refused", "from", v.RemoteAddr().String(), "err", perr)
			v.Conn.Write(res)
		}
		return
	}
	v.out = append(v.out, out...)
}

func rejectOrNil(data []byte, ua string, err error) []byte {
	if res := rejectMalformed(data, ua, err); res != nil {
		return res
	}
	return nil
}
