package codec

// Stateful is implemented by codecs whose encoder or decoder keeps state
// from frame to frame (ADPCM such as G.722). The value Lookup returns is
// shared by every caller, so a stream must not encode or decode with it:
// it takes its own instance from Fresh (or ForStream).
type Stateful interface {
	Codec
	// Fresh returns a new instance in its initial state.
	Fresh() Codec
}

// ForStream returns the codec to use for one stream (one RTP session): a
// fresh instance of a Stateful codec, or c itself when it keeps no state.
func ForStream(c Codec) Codec {
	if s, ok := c.(Stateful); ok {
		return s.Fresh()
	}
	return c
}
