package webrtc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Signalling is HTTP, shaped like WHIP (RFC 9725) but carrying JSON so one
// exchange can also name the flow:
//
//	GET    {prefix}/config      -> 200 {"iceServers": [...]}
//	POST   {prefix}/calls       {"type":"offer","sdp":"v=0...","flow":"main"}
//	                            -> 201 {"type":"answer","id":"...","sdp":"v=0..."}
//	                               Location: {prefix}/calls/{id}
//	DELETE {prefix}/calls/{id}  -> 204 (hang up)
//
// ICE is not trickled: both sides send descriptions with their candidates
// gathered (or as many as gathered within a short timeout).

// Limits on what a client may send.
const (
	maxOfferBody = 64 << 10 // bytes of an offer request
	maxSDP       = 32 << 10 // bytes of the SDP inside it
	maxFlowName  = 64
	maxMessage   = 4 << 10 // bytes of a data channel message from the browser
)

// ErrBadRequest wraps every refusal of a client's signalling input.
var ErrBadRequest = errors.New("webrtc: bad request")

// offerRequest is the body of POST {prefix}/calls.
type offerRequest struct {
	Type string `json:"type,omitempty"` // "offer" when present
	SDP  string `json:"sdp"`
	// Flow names the line's flow the widget asked for (data-flow).
	Flow string `json:"flow,omitempty"`
}

// answerResponse is the body of a 201 to an offer.
type answerResponse struct {
	Type string `json:"type"` // "answer"
	ID   string `json:"id"`
	SDP  string `json:"sdp"`
}

// configResponse is the body of GET {prefix}/config.
type configResponse struct {
	ICEServers []ICEServer `json:"iceServers"`
}

// errorResponse is the body of every refusal.
type errorResponse struct {
	Error string `json:"error"`
}

// parseOffer decodes and checks an offer request. It never panics on any
// input (see FuzzParseOffer).
func parseOffer(body []byte) (offerRequest, error) {
	var o offerRequest
	if len(body) > maxOfferBody {
		return o, fmt.Errorf("%w: body over %d bytes", ErrBadRequest, maxOfferBody)
	}
	if err := json.Unmarshal(body, &o); err != nil {
		return offerRequest{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if o.Type != "" && o.Type != "offer" {
		return offerRequest{}, fmt.Errorf("%w: type %q: want offer", ErrBadRequest, o.Type)
	}
	if len(o.SDP) > maxSDP {
		return offerRequest{}, fmt.Errorf("%w: SDP over %d bytes", ErrBadRequest, maxSDP)
	}
	if !strings.HasPrefix(o.SDP, "v=0") {
		return offerRequest{}, fmt.Errorf("%w: SDP must start with v=0", ErrBadRequest)
	}
	if !validFlowName(o.Flow) {
		return offerRequest{}, fmt.Errorf("%w: flow name: up to %d letters, digits, '-' or '_'", ErrBadRequest, maxFlowName)
	}
	return o, nil
}

func validFlowName(s string) bool {
	if len(s) > maxFlowName {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}

// Data channel messages. The browser opens one reliable, ordered channel
// labelled "ivr" before its offer; both sides send JSON text messages:
//
//	server -> browser {"type":"state","state":"connected"}
//	                  {"type":"caption","who":"ivr","text":"Thank you for calling..."}
//	                  {"type":"caption","who":"caller","text":"sales"}
//	                  {"type":"state","state":"ended","reason":"ivr_hangup"}
//	browser -> server {"type":"hangup"}
//
// Unknown types are ignored in both directions, so either side may add
// messages.

// channelLabel is the data channel the widget opens.
const channelLabel = "ivr"

// message is one data channel message.
type message struct {
	Type   string `json:"type"`
	State  string `json:"state,omitempty"`
	Reason string `json:"reason,omitempty"`
	Who    string `json:"who,omitempty"`
	Text   string `json:"text,omitempty"`
}

// parseClientMessage decodes a message from the browser. It never panics
// on any input (see FuzzParseClientMessage).
func parseClientMessage(b []byte) (message, error) {
	var m message
	if len(b) > maxMessage {
		return m, fmt.Errorf("%w: message over %d bytes", ErrBadRequest, maxMessage)
	}
	if !utf8.Valid(b) {
		return m, fmt.Errorf("%w: message is not UTF-8", ErrBadRequest)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return message{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if m.Type == "" {
		return message{}, fmt.Errorf("%w: message without a type", ErrBadRequest)
	}
	return m, nil
}
