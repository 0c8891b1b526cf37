/* SPDX-License-Identifier: MIT */
/* gateway/wire/esphome/espnoise.h - the Noise Protocol Framework pieces
 * the ESPHome native API's encryption needs: Noise_NNpsk0_25519_ChaChaPoly_SHA256
 * (noiseprotocol.org/noise.html, revision 34: §5.1 CipherState, §5.2
 * SymmetricState, §7.4 the NN pattern, §9 the psk0 modifier, §12 the
 * ChaChaPoly nonce: 32 zero bits then the 64-bit counter, little-endian).
 *
 * Every primitive is OpenSSL's (libcrypto EVP: X25519, ChaCha20-Poly1305,
 * SHA-256, HMAC-SHA256); this file only orders the calls as the
 * specification's state objects do.  The symmetric state is exported so
 * that a test can build the responder's side from the same steps; the
 * initiator of NNpsk0 (what bmsgw is) is esp_noise_start(),
 * esp_noise_write_e() and esp_noise_read_e_ee().
 *
 * Pure: no I/O, no logging; no allocation but OpenSSL's own. */
#ifndef GATEWAY_WIRE_ESPHOME_ESPNOISE_H
#define GATEWAY_WIRE_ESPHOME_ESPNOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESP_NOISE_KEY 32   /* a key, a hash, a Curve25519 public or private key */
#define ESP_NOISE_TAG 16   /* the Poly1305 tag each encryption adds */
#define ESP_NOISE_NAME "Noise_NNpsk0_25519_ChaChaPoly_SHA256"

/* §5.1: k and the nonce n; keyed false = "empty" k (plaintext passes) */
struct esp_noise_cs {
	uint8_t k[ESP_NOISE_KEY];
	uint64_t n;
	bool keyed;
};

/* §5.2: the chaining key, the handshake hash and a CipherState */
struct esp_noise_ss {
	uint8_t ck[ESP_NOISE_KEY];
	uint8_t h[ESP_NOISE_KEY];
	struct esp_noise_cs cs;
};

/* the initiator's handshake: its ephemeral key pair and the psk */
struct esp_noise_hs {
	struct esp_noise_ss ss;
	uint8_t e_priv[ESP_NOISE_KEY];
	uint8_t e_pub[ESP_NOISE_KEY];
	uint8_t psk[ESP_NOISE_KEY];
};

/* ---- the CipherState: encrypt/decrypt with associated data ad (may be
 * NULL with adn 0).  out may be in (in place).  Length written, or -1 (cap
 * too small, the nonce used up, OpenSSL failed; decrypt: the tag does not
 * authenticate).  Without a key the text is copied. */
long esp_noise_cs_encrypt(struct esp_noise_cs *cs, const uint8_t *ad, size_t adn, const uint8_t *in,
			  size_t n, uint8_t *out, size_t cap);
long esp_noise_cs_decrypt(struct esp_noise_cs *cs, const uint8_t *ad, size_t adn, const uint8_t *in,
			  size_t n, uint8_t *out, size_t cap);

/* ---- the SymmetricState (§5.2); 0 or -1 (OpenSSL failed) */
int esp_noise_ss_init(struct esp_noise_ss *s, const char *protocol_name);
int esp_noise_mix_hash(struct esp_noise_ss *s, const uint8_t *d, size_t n);
int esp_noise_mix_key(struct esp_noise_ss *s, const uint8_t *ikm, size_t n);
int esp_noise_mix_key_and_hash(struct esp_noise_ss *s, const uint8_t *ikm, size_t n);
long esp_noise_encrypt_and_hash(struct esp_noise_ss *s, const uint8_t *in, size_t n, uint8_t *out,
				size_t cap);
long esp_noise_decrypt_and_hash(struct esp_noise_ss *s, const uint8_t *in, size_t n, uint8_t *out,
				size_t cap);
/* c1 carries the initiator's messages, c2 the responder's */
int esp_noise_split(const struct esp_noise_ss *s, struct esp_noise_cs *c1, struct esp_noise_cs *c2);

/* ---- Curve25519 (RFC 7748 through OpenSSL); 0 or -1 (for dh: also a
 * peer key of small order, whose shared secret would be all zeros) */
int esp_noise_dh_pub(const uint8_t priv[ESP_NOISE_KEY], uint8_t pub[ESP_NOISE_KEY]);
int esp_noise_dh(const uint8_t priv[ESP_NOISE_KEY], const uint8_t pub[ESP_NOISE_KEY],
		 uint8_t out[ESP_NOISE_KEY]);
/* a fresh private key from OpenSSL's random generator */
int esp_noise_dh_generate(uint8_t priv[ESP_NOISE_KEY], uint8_t pub[ESP_NOISE_KEY]);

/* ---- NNpsk0, the initiator: -> psk, e  <- e, ee.
 * start: the protocol name hashed, the prologue mixed; e_priv NULL draws a
 * random ephemeral key (a fixed one is for test vectors only).  0 or -1. */
int esp_noise_start(struct esp_noise_hs *hs, const uint8_t *prologue, size_t pn,
		    const uint8_t psk[ESP_NOISE_KEY], const uint8_t *e_priv);
/* the first message (e.pub, then the payload encrypted: 32 + n + 16
 * bytes) into out: its length, or -1 */
long esp_noise_write_e(struct esp_noise_hs *hs, const uint8_t *payload, size_t n, uint8_t *out,
		       size_t cap);
/* the responder's message: its payload into out (length), or -1 (too
 * short, a bad key, a tag that does not authenticate: a wrong psk) */
long esp_noise_read_e_ee(struct esp_noise_hs *hs, const uint8_t *in, size_t n, uint8_t *out,
			 size_t cap);
/* after esp_noise_read_e_ee: the transport's two CipherStates; the
 * handshake's secrets are wiped.  0 or -1. */
int esp_noise_finish(struct esp_noise_hs *hs, struct esp_noise_cs *send, struct esp_noise_cs *recv);

/* overwrite a secret (not optimised away) */
void esp_noise_wipe(void *p, size_t n);

#endif
