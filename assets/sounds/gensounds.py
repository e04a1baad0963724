#!/usr/bin/env python3
"""gensounds.py writes join.wav, leave.wav, hand.wav and ring.wav beside it: short two-note
chimes, 48 kHz mono 16-bit, with a soft attack and a decay."""
import math, os, struct, wave

RATE = 48000

def chime(path, notes):
    out = []
    for f, dur in notes:
        n = int(RATE * dur)
        for i in range(n):
            t = i / RATE
            env = min(1.0, i / (0.005 * RATE)) * math.exp(-t * 9)
            v = 0.32 * env * (math.sin(2 * math.pi * f * t) + 0.25 * math.sin(2 * math.pi * 2 * f * t))
            out.append(int(max(-1, min(1, v)) * 32767))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", s) for s in out))

here = os.path.dirname(os.path.abspath(__file__))
chime(os.path.join(here, "join.wav"), [(660, 0.12), (880, 0.22)])
chime(os.path.join(here, "leave.wav"), [(880, 0.12), (587, 0.22)])
chime(os.path.join(here, "hand.wav"), [(988, 0.08), (988, 0.18)])

def ring(path):
    """A soft marimba-like phrase (E5 G5 C6, then G5 C6), about 1.4 s: the
    incoming call's ring, repeated by the app while it rings."""
    out = [0.0] * int(RATE * 1.45)
    for f, start in [(659.25, 0.0), (783.99, 0.16), (1046.5, 0.32), (783.99, 0.72), (1046.5, 0.88)]:
        s0 = int(RATE * start)
        for i in range(int(RATE * 0.55)):
            if s0 + i >= len(out):
                break
            t = i / RATE
            env = min(1.0, i / (0.004 * RATE)) * math.exp(-t * 7)
            out[s0 + i] += 0.22 * env * (math.sin(2 * math.pi * f * t) + 0.3 * math.sin(2 * math.pi * 4 * f * t) * math.exp(-t * 30))
    pcm = [int(max(-1, min(1, v)) * 32767) for v in out]
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", s) for s in pcm))

ring(os.path.join(here, "ring.wav"))
