#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Noise_NNpsk0_25519_ChaChaPoly_SHA256 as the ESPHome native API uses it,
the responder's (the device's) side, for tests/ble/fake_esphome.py.

Written from the Noise Protocol Framework (revision 34: sections 5.1-5.3
CipherState / SymmetricState / HandshakeState, 7.5 the pattern NN, 9 the
psk modifier: "psk0" puts a "psk" token first in the first message, and in
a PSK handshake every "e" token also does MixKey(e.public_key)) and from
how ESPHome frames it: the device's side,
https://github.com/esphome/esphome/blob/dev/esphome/components/api/api_frame_helper_noise.cpp
(the prologue "NoiseAPIInit" followed by the client hello frame's two
length bytes and contents), and the client's,
https://github.com/esphome/aioesphomeapi/blob/main/aioesphomeapi/_frame_helper/noise.py
and
https://github.com/esphome/aioesphomeapi/blob/main/aioesphomeapi/_frame_helper/noise_encryption.py
(an empty hello frame, so the prologue
"NoiseAPIInit\\0\\0"; the nonce 32 zero bits and a 64-bit little-endian
counter).

The primitives are python3-cryptography's: X25519, ChaCha20Poly1305, HKDF
over HMAC-SHA256 (Noise's HKDF(ck, ikm, n) is RFC 5869's with ck as the salt
and an empty info), SHA-256.  Nothing cryptographic is written here.
"""
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PROTOCOL_NAME = b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"
DHLEN = 32
TAGLEN = 16


def sha256(data):
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    return h.finalize()


def hkdf(ck, ikm, n):
    """Noise's HKDF: n outputs of 32 bytes."""
    out = HKDF(algorithm=hashes.SHA256(), length=32 * n, salt=ck, info=b"").derive(ikm)
    return [out[32 * i:32 * (i + 1)] for i in range(n)]


def nonce(n):
    return b"\0\0\0\0" + struct.pack("<Q", n)


class CipherState:
    """A key and its counter; encrypt/decrypt with associated data."""

    def __init__(self, key=None):
        self.key = key
        self.aead = ChaCha20Poly1305(key) if key else None
        self.n = 0

    def encrypt(self, ad, plaintext):
        if self.aead is None:
            return plaintext
        out = self.aead.encrypt(nonce(self.n), plaintext, ad)
        self.n += 1
        return out

    def decrypt(self, ad, ciphertext):
        """Raises cryptography.exceptions.InvalidTag on a bad tag (n is then
        not advanced)."""
        if self.aead is None:
            return ciphertext
        out = self.aead.decrypt(nonce(self.n), ciphertext, ad)
        self.n += 1
        return out


class Responder:
    """The device's handshake: read the client's first message (psk, e and
    an encrypted payload), write the second (e, ee and an encrypted empty
    payload), then split into (receive, send) CipherStates."""

    def __init__(self, psk, prologue):
        # Noise's h (the handshake hash) is self.hash, ck self.ck
        if len(psk) != 32:
            raise ValueError("the PSK is 32 bytes")
        self.psk = psk
        name = PROTOCOL_NAME
        self.hash = name.ljust(32, b"\0") if len(name) <= 32 else sha256(name)
        self.ck = self.hash
        self.cs = CipherState()
        self.re = None
        self.mix_hash(prologue)

    def mix_hash(self, data):
        self.hash = sha256(self.hash + data)

    def mix_key(self, ikm):
        self.ck, k = hkdf(self.ck, ikm, 2)
        self.cs = CipherState(k)

    def mix_key_and_hash(self, ikm):
        self.ck, temp_h, k = hkdf(self.ck, ikm, 3)
        self.mix_hash(temp_h)
        self.cs = CipherState(k)

    def read_message1(self, msg):
        """The client's -> psk, e message; returns its payload.  Raises
        ValueError when it is too short, InvalidTag when the keys differ."""
        if len(msg) < DHLEN + TAGLEN:
            raise ValueError("handshake message too short")
        self.mix_key_and_hash(self.psk)
        self.re = msg[:DHLEN]
        self.mix_hash(self.re)
        self.mix_key(self.re)
        ct = msg[DHLEN:]
        payload = self.cs.decrypt(self.hash, ct)
        self.mix_hash(ct)
        return payload

    def write_message2(self, payload=b""):
        """The <- e, ee message."""
        e = X25519PrivateKey.generate()
        epub = e.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.mix_hash(epub)
        self.mix_key(epub)
        self.mix_key(e.exchange(X25519PublicKey.from_public_bytes(self.re)))
        ct = self.cs.encrypt(self.hash, payload)
        self.mix_hash(ct)
        return epub + ct

    def split(self):
        """(receive, send): the initiator sends with the first key."""
        k1, k2 = hkdf(self.ck, b"", 2)
        return CipherState(k1), CipherState(k2)


class Initiator(Responder):
    """The client's side, for the fake's self-test only (the tests' real
    clients are the npm libraries)."""

    def write_message1(self, payload=b""):
        self.mix_key_and_hash(self.psk)
        self.e = X25519PrivateKey.generate()
        epub = self.e.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.mix_hash(epub)
        self.mix_key(epub)
        ct = self.cs.encrypt(self.hash, payload)
        self.mix_hash(ct)
        return epub + ct

    def read_message2(self, msg):
        re = msg[:DHLEN]
        self.mix_hash(re)
        self.mix_key(re)
        self.mix_key(self.e.exchange(X25519PublicKey.from_public_bytes(re)))
        ct = msg[DHLEN:]
        payload = self.cs.decrypt(self.hash, ct)
        self.mix_hash(ct)
        return payload

    def split(self):
        k1, k2 = hkdf(self.ck, b"", 2)
        return CipherState(k2), CipherState(k1)
