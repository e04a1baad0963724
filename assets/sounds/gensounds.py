#!/usr/bin/env python3
"""gensounds.py writes join.wav, leave.wav and hand.wav beside it: short two-note
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
