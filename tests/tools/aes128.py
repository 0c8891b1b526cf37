# SPDX-License-Identifier: MIT
"""tests/tools/aes128.py - AES-128 (FIPS-197) in pure Python, for the tests
that check Victron Instant Readout records without a crypto library
(tests/integration/test_fixtures.py, tests/sim/selftest.py): one block
encrypted, and AES-128-CTR as Victron uses it (counter block = the 2-byte
nonce, little-endian, then zeros; records are at most one block).  Slow,
and enough for a few records."""


def _xt(a):
    return ((a << 1) ^ 0x1B) & 0xFF if a & 0x80 else a << 1


def _sbox():
    """The AES S-box: the inverse in GF(2^8) (0 -> 0), then the affine map."""
    box = [0] * 256
    for x in range(256):
        inv = 0
        if x:
            inv = next(y for y in range(1, 256) if _gmul(x, y) == 1)
        s = inv
        for k in range(1, 5):
            s ^= ((inv << k) | (inv >> (8 - k))) & 0xFF
        box[x] = s ^ 0x63
    return box


def _gmul(a, b):
    p = 0
    while b:
        if b & 1:
            p ^= a
        a = _xt(a)
        b >>= 1
    return p


SBOX = _sbox()


def aes128_encrypt_block(key, block):
    """FIPS-197 AES-128 of one 16-byte block (pure Python, slow, enough
    for a few fixture rows)."""
    w = [list(key[i:i + 4]) for i in range(0, 16, 4)]
    rcon = 1
    for i in range(4, 44):
        t = list(w[i - 1])
        if i % 4 == 0:
            t = [SBOX[b] for b in t[1:] + t[:1]]
            t[0] ^= rcon
            rcon = _xt(rcon)
        w.append([a ^ b for a, b in zip(w[i - 4], t)])
    s = [b ^ k for b, k in zip(block, sum(w[0:4], []))]
    for rnd in range(1, 11):
        s = [SBOX[b] for b in s]
        s = [s[(c * 4 + r + 4 * r) % 16] for c in range(4) for r in range(4)]
        if rnd < 10:
            m = []
            for c in range(4):
                a = s[4 * c:4 * c + 4]
                m += [_gmul(a[0], 2) ^ _gmul(a[1], 3) ^ a[2] ^ a[3], a[0] ^ _gmul(a[1], 2) ^ _gmul(a[2], 3) ^ a[3],
                      a[0] ^ a[1] ^ _gmul(a[2], 2) ^ _gmul(a[3], 3), _gmul(a[0], 3) ^ a[1] ^ a[2] ^ _gmul(a[3], 2)]
            s = m
        s = [b ^ k for b, k in zip(s, sum(w[4 * rnd:4 * rnd + 4], []))]
    return bytes(s)


def victron_ctr(key, nonce_le, data):
    """data (at most 16 bytes) XOR AES-128(key, nonce_le + 14 zeros)."""
    stream = aes128_encrypt_block(key, bytes(nonce_le) + bytes(16 - len(nonce_le)))
    return bytes(a ^ b for a, b in zip(data, stream))
