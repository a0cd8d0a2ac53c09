// Package dtmf receives and sends keypad digits (DTMF) in the three ways a
// telephone call carries them:
//
//   - RFC 4733 telephone-events in RTP (decode with de-duplication by RTP
//     timestamp, retransmitted end packets, lost start or end packets and
//     long-duration events; encode with the packet schedule a sender needs);
//   - SIP INFO bodies of type application/dtmf-relay and application/dtmf;
//   - in-band tones in the decoded audio, found by a Goertzel detector built
//     to the receiver requirements of ITU-T Q.24 (frequency tolerance,
//     minimum tone and pause durations, twist, dynamic range, noise) with
//     tests for talk-off on real speech and music.
//
// A Receiver is the per-call front end: it takes all three inputs and emits
// each key press exactly once. A Collector turns emitted digits into the
// strings a dialog asks for (first-digit and inter-digit timeouts, a
// terminator key, length limits and type-ahead), with injected time.
package dtmf
