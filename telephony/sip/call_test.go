package sip

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/dtmf"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler)) // sipgo logs through the default logger
	goleak.VerifyTestMain(m,
		// sipgo's transaction layer and pion keep short-lived timers
		// that end on their own after the test's last call.
		goleak.IgnoreTopFunction("time.Sleep"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// callIVR places a call from a new test phone offering formats and
// returns it answered; the context ends with the test.
func callIVR(t *testing.T, addr, formats string, limit time.Duration) (*peer, *sipgo.DialogClientSession, context.Context) {
	t.Helper()
	p := newPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	d, err := p.invite(ctx, addr, p.offer(formats))
	if err != nil {
		t.Fatal(err)
	}
	return p, d, ctx
}

// handlerResult is what a test handler saw.
type handlerResult struct {
	answerErr error
	cause     EndCause
	digits    []dtmf.Digit
	codec     string
}

// playAndWait answers, plays a tone until the call ends (or max), and
// collects digits.
func playAndWait(max time.Duration, out chan<- handlerResult) HandlerFunc {
	return func(ctx context.Context, c *Call) {
		var r handlerResult
		defer func() { out <- r }()
		if r.answerErr = c.Answer(ctx); r.answerErr != nil {
			r.cause = c.Cause()
			return
		}
		r.codec = c.Codec()
		c.Play(audio.NewClipSource(tone(max)))
		timeout := time.After(max)
		for {
			select {
			case d := <-c.Digits():
				r.digits = append(r.digits, d)
			case <-c.Done():
				r.cause = c.Cause()
				return
			case <-timeout:
				r.cause = c.Cause()
				return
			}
		}
	}
}

func TestAnswerMediaAndRemoteBye(t *testing.T) {
	out := make(chan handlerResult, 1)
	_, addr := startServer(t, Config{}, playAndWait(10*time.Second, out))
	p, d, ctx := callIVR(t, addr, "0 8 101", 10*time.Second)
	ans := string(d.InviteResponse.Body())
	if !strings.Contains(ans, "m=audio") || !strings.Contains(ans, "RTP/AVP 0 101") {
		t.Fatalf("answer should pick PCMU (the caller's first) and telephone-event:\n%s", ans)
	}
	pkts, at, _ := p.rtpRecv(50, 5*time.Second)
	if len(pkts) < 50 {
		t.Fatalf("got %d RTP packets, want 50", len(pkts))
	}
	for i := 1; i < len(pkts); i++ {
		if pkts[i].SSRC != pkts[0].SSRC {
			t.Fatalf("SSRC changed at packet %d", i)
		}
		if pkts[i].SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Fatalf("sequence jumps from %d to %d", pkts[i-1].SequenceNumber, pkts[i].SequenceNumber)
		}
		if pkts[i].Timestamp-pkts[i-1].Timestamp != 160 {
			t.Fatalf("timestamp step %d, want 160", pkts[i].Timestamp-pkts[i-1].Timestamp)
		}
		if pkts[i].PayloadType != 0 || len(pkts[i].Payload) != 160 {
			t.Fatalf("packet %d: pt %d, %d bytes", i, pkts[i].PayloadType, len(pkts[i].Payload))
		}
	}
	// 49 intervals of 20 ms: the whole span is paced by one clock.
	if span := at[len(at)-1].Sub(at[0]); span < 900*time.Millisecond || span > 1500*time.Millisecond {
		t.Errorf("50 packets took %v, want about 980 ms", span)
	}
	if rms := rmsPCMU(pkts[5:]); rms < 3000 {
		t.Errorf("audio RMS %.0f: the tone did not arrive", rms)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	d.Close()
	r := <-out
	if r.cause != EndRemoteBye {
		t.Errorf("cause %q, want %q", r.cause, EndRemoteBye)
	}
}

func TestAnswerFollowsCallerPreference(t *testing.T) {
	out := make(chan handlerResult, 1)
	_, addr := startServer(t, Config{}, playAndWait(5*time.Second, out))
	_, d, ctx := callIVR(t, addr, "8 0 101", 10*time.Second)
	if !strings.Contains(string(d.InviteResponse.Body()), "RTP/AVP 8 101") {
		t.Errorf("answer should pick PCMA:\n%s", d.InviteResponse.Body())
	}
	d.Bye(ctx)
	d.Close()
	if r := <-out; r.codec != "PCMA" {
		t.Errorf("codec %q, want PCMA", r.codec)
	}
}

func TestNoCommonCodecIs488(t *testing.T) {
	called := make(chan struct{}, 1)
	_, addr := startServer(t, Config{}, HandlerFunc(func(ctx context.Context, c *Call) { called <- struct{}{} }))
	p := newPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := p.invite(ctx, addr, p.offer("18"))
	var re *sipgo.ErrDialogResponse
	if !errors.As(err, &re) || re.Res.StatusCode != 488 {
		t.Fatalf("err = %v, want a 488 response", err)
	}
	select {
	case <-called:
		t.Error("the handler ran for a refused call")
	default:
	}
}

func TestMalformedSDPIs400(t *testing.T) {
	_, addr := startServer(t, Config{}, HandlerFunc(func(ctx context.Context, c *Call) {}))
	p := newPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := p.invite(ctx, addr, []byte("v=0\r\nthis is not sdp\r\n"))
	var re *sipgo.ErrDialogResponse
	if !errors.As(err, &re) || re.Res.StatusCode != 400 {
		t.Fatalf("err = %v, want 400", err)
	}
}

func TestCancelBeforeAnswer(t *testing.T) {
	out := make(chan error, 1)
	_, addr := startServer(t, Config{}, HandlerFunc(func(ctx context.Context, c *Call) {
		c.Ringing()
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
		}
		out <- c.Answer(ctx)
	}))
	p := newPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var to gosip.Uri
	gosip.ParseUri("sip:ivr@"+addr, &to)
	d, err := p.dc.Invite(ctx, to, p.offer("0 101"), gosip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	wctx, wcancel := context.WithCancel(ctx)
	ringing := make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- d.WaitAnswer(wctx, sipgo.AnswerOptions{OnResponse: func(res *gosip.Response) error {
			if res.StatusCode == 180 {
				ringing <- struct{}{}
			}
			return nil
		}})
	}()
	select {
	case <-ringing:
	case <-time.After(5 * time.Second):
		t.Fatal("no 180 Ringing")
	}
	wcancel() // sipgo sends CANCEL when the wait is cancelled
	err = <-errc
	if err == nil {
		t.Fatal("call was answered after CANCEL")
	}
	select {
	case aerr := <-out:
		if !errors.Is(aerr, ErrCancelled) {
			t.Errorf("Answer after CANCEL = %v, want ErrCancelled", aerr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not see the CANCEL")
	}
}

func TestRFC4733DigitsReachTheHandler(t *testing.T) {
	out := make(chan handlerResult, 1)
	_, addr := startServer(t, Config{}, playAndWait(3*time.Second, out))
	p, d, _ := callIVR(t, addr, "0 101", 10*time.Second)
	defer d.Close()
	to := answerAddr(t, d.InviteResponse.Body())
	// Key 5: start (marker), two updates, three end packets (RFC 4733 2.5.1).
	seq := uint16(100)
	for i, pl := range [][]byte{{5, 10, 0, 160}, {5, 10, 1, 64}, {5, 10, 1, 224}, {5, 0x8a, 3, 32}, {5, 0x8a, 3, 32}, {5, 0x8a, 3, 32}} {
		p.rtpSend(to, 101, seq, 8000, i == 0, pl)
		seq++
		time.Sleep(20 * time.Millisecond)
	}
	// Key 9, a new event (new timestamp).
	for i, pl := range [][]byte{{9, 10, 0, 160}, {9, 0x8a, 3, 32}, {9, 0x8a, 3, 32}} {
		p.rtpSend(to, 101, seq, 9600, i == 0, pl)
		seq++
	}
	r := <-out
	var keys string
	for _, dg := range r.digits {
		keys += string(dg.Key)
	}
	if keys != "59" {
		t.Errorf("digits %q, want \"59\" (each press once)", keys)
	}
}

func TestSIPInfoDigits(t *testing.T) {
	out := make(chan handlerResult, 1)
	_, addr := startServer(t, Config{}, playAndWait(2*time.Second, out))
	_, d, ctx := callIVR(t, addr, "0 101", 10*time.Second)
	defer d.Close()
	for _, tc := range []struct {
		ct, body string
		code     int
	}{
		{"application/dtmf-relay", "Signal=7\r\nDuration=160\r\n", 200},
		{"application/dtmf", "#", 200},
		{"application/x-unknown", "7", 415},
	} {
		req := gosip.NewRequest(gosip.INFO, d.InviteResponse.Contact().Address)
		req.AppendHeader(gosip.NewHeader("Content-Type", tc.ct))
		req.SetBody([]byte(tc.body))
		res, err := d.Do(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != tc.code {
			t.Errorf("INFO %s: %d, want %d", tc.ct, res.StatusCode, tc.code)
		}
	}
	r := <-out
	var keys string
	for _, dg := range r.digits {
		keys += string(dg.Key)
	}
	if keys != "7#" {
		t.Errorf("digits %q, want \"7#\"", keys)
	}
}

func TestReInviteHoldAndResume(t *testing.T) {
	out := make(chan handlerResult, 1)
	_, addr := startServer(t, Config{}, playAndWait(10*time.Second, out))
	p, d, ctx := callIVR(t, addr, "0 101", 15*time.Second)
	if pkts, _, _ := p.rtpRecv(5, 2*time.Second); len(pkts) < 5 {
		t.Fatal("no media before hold")
	}
	reinvite := func(dir string) *gosip.Response {
		req := gosip.NewRequest(gosip.INVITE, d.InviteResponse.Contact().Address)
		req.AppendHeader(gosip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(p.offer("0 101", "a="+dir))
		res, err := d.Do(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		ack := gosip.NewRequest(gosip.ACK, d.InviteResponse.Contact().Address)
		ack.AppendHeader(gosip.HeaderClone(req.CSeq()))
		ack.CSeq().MethodName = gosip.ACK
		if err := d.WriteRequest(ack); err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := reinvite("sendonly")
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Fatalf("hold answer %d:\n%s", res.StatusCode, res.Body())
	}
	time.Sleep(100 * time.Millisecond)
	p.rtpRecv(1000, 100*time.Millisecond) // drain what was in flight
	if pkts, _, _ := p.rtpRecv(3, 300*time.Millisecond); len(pkts) != 0 {
		t.Errorf("IVR sent %d packets while on hold", len(pkts))
	}
	res = reinvite("sendrecv")
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=sendrecv") {
		t.Fatalf("resume answer %d:\n%s", res.StatusCode, res.Body())
	}
	if pkts, _, _ := p.rtpRecv(5, 2*time.Second); len(pkts) < 5 {
		t.Error("no media after resume")
	}
	d.Bye(ctx)
	d.Close()
	<-out
}

func TestOptions(t *testing.T) {
	_, addr := startServer(t, Config{}, HandlerFunc(func(ctx context.Context, c *Call) {}))
	p := newPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var to gosip.Uri
	gosip.ParseUri("sip:ivr@"+addr, &to)
	req := gosip.NewRequest(gosip.OPTIONS, to)
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.GetHeader("Allow") == nil || !strings.Contains(res.GetHeader("Allow").Value(), "INVITE") {
		t.Errorf("OPTIONS: %d, Allow %v", res.StatusCode, res.GetHeader("Allow"))
	}
}

func TestHandlerReturnSendsBye(t *testing.T) {
	_, addr := startServer(t, Config{}, HandlerFunc(func(ctx context.Context, c *Call) {
		if c.Answer(ctx) == nil {
			time.Sleep(200 * time.Millisecond)
		}
	}))
	p, d, _ := callIVR(t, addr, "0 101", 10*time.Second)
	defer d.Close()
	select {
	case <-p.byes:
	case <-time.After(5 * time.Second):
		t.Fatal("no BYE from the IVR")
	}
}

func TestMediaTimeoutHangsUp(t *testing.T) {
	out := make(chan handlerResult, 1)
	_, addr := startServer(t, Config{MediaTimeout: 400 * time.Millisecond}, playAndWait(10*time.Second, out))
	p, d, _ := callIVR(t, addr, "0 101", 10*time.Second)
	defer d.Close()
	select {
	case r := <-out:
		if r.cause != EndMediaTimeout {
			t.Errorf("cause %q, want media timeout", r.cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no media timeout")
	}
	select {
	case <-p.byes:
	case <-time.After(5 * time.Second):
		t.Fatal("no BYE after the media timeout")
	}
}

func TestLatchIgnoresOtherSources(t *testing.T) {
	out := make(chan handlerResult, 1)
	_, addr := startServer(t, Config{}, playAndWait(2*time.Second, out))
	p, d, _ := callIVR(t, addr, "0 101", 10*time.Second)
	defer d.Close()
	to := answerAddr(t, d.InviteResponse.Body())
	// The real caller speaks first and is latched.
	p.rtpSend(to, 0, 1, 160, true, make([]byte, 160))
	time.Sleep(50 * time.Millisecond)
	// A stranger sends a DTMF event and garbage: both must be ignored.
	stranger := newPeer(t)
	stranger.rtpSend(to, 101, 1, 999, true, []byte{1, 10, 0, 160})
	stranger.rtp.WriteToUDP([]byte("not rtp at all"), to)
	p.rtp.WriteToUDP([]byte{0xff, 0x00}, to) // garbage from the caller: ignored too
	r := <-out
	if len(r.digits) != 0 {
		t.Errorf("a stranger's digit was accepted: %v", r.digits)
	}
	// The IVR still sends to the caller.
	if pkts, _, _ := p.rtpRecv(3, time.Second); len(pkts) == 0 {
		t.Error("no media to the latched caller")
	}
}

func TestReferTransfer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		referTo int    // response to REFER
		frag    string // NOTIFY sipfrag, "" for none
		wantErr error
	}{
		{"accepted", 202, "SIP/2.0 200 OK", nil},
		{"refused", 603, "", ErrReferRefused},
		{"target busy", 202, "SIP/2.0 486 Busy Here", ErrReferRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := make(chan error, 1)
			gotHeader := make(chan string, 1)
			_, addr := startServer(t, Config{}, HandlerFunc(func(ctx context.Context, c *Call) {
				if c.Answer(ctx) != nil {
					out <- errors.New("not answered")
					return
				}
				out <- c.Refer(ctx, "sip:agent@127.0.0.1:5999", map[string]string{"X-IVR-Intent": "lost_card"})
			}))
			p := newPeer(t)
			p.onRefer = func(req *gosip.Request, tx gosip.ServerTransaction) {
				gotHeader <- req.GetHeader("Refer-To").Value()
				tx.Respond(gosip.NewResponseFromRequest(req, tc.referTo, "", nil))
				if tc.frag == "" {
					return
				}
				go func() {
					// RFC 3515: NOTIFY with the new call's status.
					dlg, err := p.dc.MatchRequestDialog(req)
					if err != nil {
						return
					}
					n := gosip.NewRequest(gosip.NOTIFY, req.Contact().Address)
					n.AppendHeader(gosip.NewHeader("Event", "refer"))
					n.AppendHeader(gosip.NewHeader("Subscription-State", "terminated;reason=noresource"))
					n.AppendHeader(gosip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
					n.SetBody([]byte(tc.frag + "\r\n"))
					dlg.Do(context.Background(), n)
				}()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d, err := p.invite(ctx, addr, p.offer("0 101"))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			select {
			case h := <-gotHeader:
				if !strings.Contains(h, "sip:agent@127.0.0.1:5999") || !strings.Contains(h, "X-IVR-Intent=lost_card") {
					t.Errorf("Refer-To %q", h)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no REFER")
			}
			err = <-out
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Refer = %v, want %v", err, tc.wantErr)
			}
		})
	}
}
