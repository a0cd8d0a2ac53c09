//go:build !cgo

package webrtc

import "errors"

// opusAvailable says whether this build can encode and decode Opus (it
// needs cgo and libopus); without it only PCMU is offered.
const opusAvailable = false

var errNoOpus = errors.New("webrtc: opus needs a cgo build with libopus-dev")

type opusEncoder struct{}

func newOpusEncoder(int) (*opusEncoder, error) { return nil, errNoOpus }

func (*opusEncoder) encode(dst []byte, _ []int16) ([]byte, error) { return dst, errNoOpus }

type opusDecoder struct{}

func newOpusDecoder(int) (*opusDecoder, error) { return nil, errNoOpus }

func (*opusDecoder) decode([]byte, []int16) (int, error) { return 0, errNoOpus }

func (*opusDecoder) conceal([]int16) error { return errNoOpus }
