#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An ESPHome proxy's side of the native API's Noise exchange, written apart
from bmsgw's C code for tests/unit/test_esphome_codec.c's cross-check: the
Noise_NNpsk0_25519_ChaChaPoly_SHA256 responder from the Noise specification
(revision 34) on python3-cryptography's X25519 and ChaCha20Poly1305 and
Python's hashlib and hmac, the frames as ESPHome's
api_frame_helper_noise.cpp writes them.

    esp_noise_peer.py PSK_HEX EPHEMERAL_HEX CLIENT_HEX [FRAMES_HEX]

CLIENT_HEX is what the client sent first (01 00 00, the handshake frame).
Prints one line: the answer in hex (server hello "py-proxy" with MAC
"0123456789ab", the handshake answer, a HelloResponse frame, a PingRequest
frame); then, for each transport frame of FRAMES_HEX (what the client sent
after the handshake), a line "TYPE PAYLOAD_HEX".  Exits 1 with a reason on
anything that does not check.
"""
import hashlib
import hmac
import sys

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

NAME = b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"
PROLOGUE = b"NoiseAPIInit\x00\x00"


def hkdf(ck, ikm, n):
    tk = hmac.new(ck, ikm, hashlib.sha256).digest()
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac.new(tk, prev + bytes([i]), hashlib.sha256).digest()
        out.append(prev)
    return out


class Cipher:
    def __init__(self, k=None):
        self.k, self.n = k, 0

    def _nonce(self):
        return b"\x00" * 4 + self.n.to_bytes(8, "little")

    def enc(self, ad, pt):
        if self.k is None:
            return pt
        ct = ChaCha20Poly1305(self.k).encrypt(self._nonce(), pt, ad)
        self.n += 1
        return ct

    def dec(self, ad, ct):
        if self.k is None:
            return ct
        pt = ChaCha20Poly1305(self.k).decrypt(self._nonce(), ct, ad)
        self.n += 1
        return pt


class Responder:
    def __init__(self, psk, eph):
        self.hash = hashlib.sha256(NAME).digest() if len(NAME) > 32 else NAME.ljust(32, b"\x00")
        self.ck, self.cs, self.psk = self.hash, Cipher(), psk
        self.e = X25519PrivateKey.from_private_bytes(eph)
        self.mix_hash(PROLOGUE)

    def mix_hash(self, d):
        self.hash = hashlib.sha256(self.hash + d).digest()

    def mix_key(self, ikm):
        self.ck, k = hkdf(self.ck, ikm, 2)
        self.cs = Cipher(k)

    def read_psk_e(self, msg):
        self.ck, th, k = hkdf(self.ck, self.psk, 3)
        self.mix_hash(th)
        self.cs = Cipher(k)
        self.re = msg[:32]
        self.mix_hash(self.re)
        self.mix_key(self.re)
        ct = msg[32:]
        pt = self.cs.dec(self.hash, ct)
        self.mix_hash(ct)
        return pt

    def write_e_ee(self):
        epub = self.e.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.mix_hash(epub)
        self.mix_key(epub)
        self.mix_key(self.e.exchange(X25519PublicKey.from_public_bytes(self.re)))
        ct = self.cs.enc(self.hash, b"")
        self.mix_hash(ct)
        k1, k2 = hkdf(self.ck, b"", 2)
        self.rx, self.tx = Cipher(k1), Cipher(k2)
        return epub + ct


def frame(payload):
    return bytes([1, len(payload) >> 8, len(payload) & 0xFF]) + payload


def frames(data):
    out = []
    while data:
        if data[0] != 1 or len(data) < 3 or len(data) < 3 + (data[1] << 8 | data[2]):
            sys.exit("not a Noise frame: %s" % data.hex())
        n = data[1] << 8 | data[2]
        out.append(data[3:3 + n])
        data = data[3 + n:]
    return out


def message(r, mtype, pb):
    return frame(r.tx.enc(b"", bytes([mtype >> 8, mtype & 0xFF, len(pb) >> 8, len(pb) & 0xFF]) + pb))


def main():
    psk, eph, client = (bytes.fromhex(a) for a in sys.argv[1:4])
    got = frames(client)
    if len(got) != 2 or got[0] != b"" or got[1][:1] != b"\x00":
        sys.exit("the client's first bytes are not an empty hello and a handshake frame")
    r = Responder(psk, eph)
    if r.read_psk_e(got[1][1:]) != b"":
        sys.exit("a handshake payload")
    out = frame(b"\x01py-proxy\x000123456789ab\x00") + frame(b"\x00" + r.write_e_ee())
    # HelloResponse: api 1.12, name "py-proxy"; then a PingRequest
    out += message(r, 2, b"\x08\x01\x10\x0c\x22\x08py-proxy") + message(r, 7, b"")
    print(out.hex())
    for f in frames(bytes.fromhex(sys.argv[4]) if len(sys.argv) > 4 else b""):
        pt = r.rx.dec(b"", f)
        if len(pt) < 4 or (pt[2] << 8 | pt[3]) != len(pt) - 4:
            sys.exit("a frame's length does not match")
        print(pt[0] << 8 | pt[1], pt[4:].hex())


if __name__ == "__main__":
    main()
