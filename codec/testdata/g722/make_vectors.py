#!/usr/bin/env python3
"""Make G.722 test vectors with spandsp (libspandsp.so.2, Debian package
libspandsp2, the G.722 code baresip's g722 module uses).

Run from this directory:  python3 make_vectors.py
Writes raw little-endian files:
  input.s16            16 kHz PCM: chirp, noise, speech, overload, silence
  spandsp.g722         that input encoded by g722_encode (64 kbit/s)
  spandsp_decoded.s16  spandsp.g722 decoded by g722_decode
  random.g722          pseudo-random octets (every octet is a code word)
  random_decoded.s16   random.g722 decoded by g722_decode
"""
import array, ctypes, math, struct, wave

sp = ctypes.CDLL("libspandsp.so.2")
sp.g722_encode_init.restype = ctypes.c_void_p
sp.g722_decode_init.restype = ctypes.c_void_p

RATE = 16000
samples = []
# 1 s linear chirp 50 Hz -> 7900 Hz at half scale.
for i in range(RATE):
    t = i / RATE
    f0, f1 = 50.0, 7900.0
    samples.append(int(16000 * math.sin(2 * math.pi * (f0 * t + (f1 - f0) * t * t / 2))))
# 0.5 s white noise at about -20 dBFS from a fixed LCG.
x = 12345
for i in range(RATE // 2):
    x = (1103515245 * x + 12345) & 0x7fffffff
    samples.append(((x >> 8) % 6553) - 3276)
# 1 s of human speech (Speech Commands v0.02, "yes", CC BY 4.0).
with wave.open("../../../../shared/data/speech/speech_commands/yes/022cd682_nohash_0.wav") as w:
    assert w.getframerate() == RATE and w.getsampwidth() == 2 and w.getnchannels() == 1
    samples += list(struct.unpack("<%dh" % w.getnframes(), w.readframes(w.getnframes())))
# 0.25 s full-scale square wave at 500 Hz (overload), 0.25 s silence.
for i in range(RATE // 4):
    samples.append(32767 if (i // 16) % 2 == 0 else -32768)
samples += [0] * (RATE // 4)

pcm = (ctypes.c_int16 * len(samples))(*samples)
enc = sp.g722_encode_init(None, 64000, 0)
code = (ctypes.c_uint8 * len(samples))()
n = sp.g722_encode(ctypes.c_void_p(enc), code, pcm, len(samples))
dec = sp.g722_decode_init(None, 64000, 0)
out = (ctypes.c_int16 * (2 * n))()
m = sp.g722_decode(ctypes.c_void_p(dec), out, code, n)

rnd = bytearray()
x = 987654321
for i in range(4000):
    x = (1103515245 * x + 12345) & 0x7fffffff
    rnd.append((x >> 16) & 0xff)
rbuf = (ctypes.c_uint8 * len(rnd)).from_buffer(rnd)
dec2 = sp.g722_decode_init(None, 64000, 0)
rout = (ctypes.c_int16 * (2 * len(rnd)))()
k = sp.g722_decode(ctypes.c_void_p(dec2), rout, rbuf, len(rnd))

open("input.s16", "wb").write(array.array("h", samples).tobytes())
open("spandsp.g722", "wb").write(bytes(code[:n]))
open("spandsp_decoded.s16", "wb").write(array.array("h", out[:m]).tobytes())
open("random.g722", "wb").write(bytes(rnd))
open("random_decoded.s16", "wb").write(array.array("h", rout[:k]).tobytes())
print(len(samples), "samples,", n, "octets,", m, "decoded;", k, "decoded from random")
