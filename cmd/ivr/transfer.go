package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/openivr/ivr/bridge"
	"github.com/openivr/ivr/dialog"
	"github.com/openivr/ivr/models"
	"github.com/openivr/ivr/telephony/sip"
)

// sipTransfers hands SIP calls to humans: REFER (blind) or a bridge (we
// call the agent and relay media), as the target asks.
type sipTransfers struct {
	srv *sip.Server
	log *slog.Logger
}

func (t *sipTransfers) Transfer(ctx context.Context, c dialog.Call, tgt dialog.Target) (dialog.TransferResult, error) {
	me, ok := c.(bridge.Leg)
	if !ok {
		return dialog.TransferResult{Outcome: "failed"}, fmt.Errorf("transfer: %s calls cannot be bridged", c.Channel())
	}
	sc, isSIP := c.(*sip.Call)
	if !isSIP && tgt.Method == "refer" {
		// A browser cannot be sent elsewhere: the IVR bridges instead.
		tgt.Method = "bridge"
	}
	if isSIP && (tgt.Method == "refer" || tgt.Method == "auto") {
		err := sc.Refer(ctx, tgt.URI, tgt.Headers)
		if err == nil {
			return dialog.TransferResult{Method: "refer", Outcome: "accepted", CallerLeft: true, EndReason: models.EndTransferred}, nil
		}
		if tgt.Method == "refer" || !errors.Is(err, sip.ErrReferRefused) {
			return dialog.TransferResult{Method: "refer", Outcome: "refused", Detail: err.Error()}, err
		}
		t.log.Info("REFER refused, bridging instead", "call_id", c.ID(), "err", err)
	}
	agent, err := t.srv.Dial(ctx, tgt.URI, sip.DialOptions{
		FromUser:    userPart(c.FromUser()),
		DisplayName: c.FromUser(),
		Headers:     tgt.Headers,
		RingTimeout: tgt.RingTimeout,
	})
	if err != nil {
		res := dialog.TransferResult{Method: "bridge", Outcome: "failed", Detail: err.Error()}
		var se *sip.StatusError
		switch {
		case errors.Is(err, sip.ErrNoAnswer):
			res.Outcome = "no_answer"
		case errors.As(err, &se) && (se.Code == 486 || se.Code == 600):
			res.Outcome = "busy"
		case errors.As(err, &se) && (se.Code == 408 || se.Code == 480 || se.Code == 487):
			res.Outcome = "no_answer"
		}
		return res, err
	}
	defer agent.Close()
	first := bridge.Connect(ctx, me, agent)
	res := dialog.TransferResult{Method: "bridge", Outcome: "answered", CallerLeft: true, EndReason: models.EndTransferred}
	switch first {
	case me:
		res.Detail = "caller hung up"
		agent.Hangup(context.Background())
	case bridge.Leg(agent):
		res.Detail = "agent hung up"
		res.EndReason = models.EndAgentHangup
	default:
		res.Detail = "server stopped"
		agent.Hangup(context.Background())
	}
	return res, nil
}
