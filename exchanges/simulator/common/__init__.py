"""What the simulator's faces do alike: `ws` (the one WebSocket connection type), `limits` (one
request-window type per venue style), `signing` (the HMAC digest), `faults` (the switches and
how a face applies them).

Only logic that is the same on several venues lives here; each face keeps its venue's recipe
(what is signed, how the digest is encoded, which error answers a refusal).
"""
