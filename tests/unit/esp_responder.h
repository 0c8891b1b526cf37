/* SPDX-License-Identifier: MIT */
/* tests/unit/esp_responder.h - the proxy's side of the ESPHome native API's
 * Noise handshake and transport, for the tests and fuzz targets of
 * gateway/wire/esphome/ (test_esphome_codec.c, fuzz_esphome_noise.c): the
 * responder of Noise_NNpsk0_25519_ChaChaPoly_SHA256 built from the
 * symmetric-state steps of espnoise.h (<- psk, e; -> e, ee), and the
 * frames ESPHome's server writes (api_frame_helper_noise.cpp): the server
 * hello, the handshake answer or its refusal, the transport frames. */
#ifndef TESTS_UNIT_ESP_RESPONDER_H
#define TESTS_UNIT_ESP_RESPONDER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../../gateway/wire/esphome/espcodec.h"
#include "../../gateway/wire/esphome/espnoise.h"

struct esp_resp {
	struct esp_noise_ss ss;
	uint8_t e_priv[ESP_NOISE_KEY], e_pub[ESP_NOISE_KEY], psk[ESP_NOISE_KEY];
	struct esp_noise_cs rx, tx; /* rx: the initiator's c1, tx: c2 */
};

/* e_priv NULL: a random ephemeral key; 0 or -1 */
static inline int resp_init(struct esp_resp *r, const uint8_t psk[32], const uint8_t *e_priv,
			    const uint8_t *prologue, size_t pn)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->psk, psk, 32);
	if (e_priv) {
		memcpy(r->e_priv, e_priv, 32);
		if (esp_noise_dh_pub(r->e_priv, r->e_pub) < 0)
			return -1;
	} else if (esp_noise_dh_generate(r->e_priv, r->e_pub) < 0) {
		return -1;
	}
	if (esp_noise_ss_init(&r->ss, ESP_NOISE_NAME) < 0)
		return -1;
	return esp_noise_mix_hash(&r->ss, prologue, pn);
}

/* <- psk, e: the initiator's payload into out (length), or -1 */
static inline long resp_read_e(struct esp_resp *r, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	if (n < 32 + ESP_NOISE_TAG || esp_noise_mix_key_and_hash(&r->ss, r->psk, 32) < 0 ||
	    esp_noise_mix_hash(&r->ss, in, 32) < 0 || esp_noise_mix_key(&r->ss, in, 32) < 0)
		return -1;
	return esp_noise_decrypt_and_hash(&r->ss, in + 32, n - 32, out, cap);
}

/* -> e, ee (re: the initiator's e.pub, the first 32 bytes it sent), then
 * Split: its length, or -1 */
static inline long resp_write_e_ee(struct esp_resp *r, const uint8_t re[32], const uint8_t *payload, size_t n,
				   uint8_t *out, size_t cap)
{
	uint8_t dh[32];
	long m;

	if (cap < 32)
		return -1;
	memcpy(out, r->e_pub, 32);
	if (esp_noise_mix_hash(&r->ss, r->e_pub, 32) < 0 || esp_noise_mix_key(&r->ss, r->e_pub, 32) < 0 ||
	    esp_noise_dh(r->e_priv, re, dh) < 0 || esp_noise_mix_key(&r->ss, dh, 32) < 0)
		return -1;
	m = esp_noise_encrypt_and_hash(&r->ss, payload, n, out + 32, cap - 32);
	if (m < 0 || esp_noise_split(&r->ss, &r->rx, &r->tx) < 0)
		return -1;
	return m + 32;
}

static inline size_t resp_put_frame(uint8_t *out, const uint8_t *p, size_t n)
{
	out[0] = 0x01;
	out[1] = (uint8_t)(n >> 8);
	out[2] = (uint8_t)n;
	memcpy(out + 3, p, n);
	return n + 3;
}

/* ESPHome's server side of the handshake: the client's first bytes (01 00
 * 00, then the handshake frame) in, the server hello (name, mac: NULL
 * leaves them out) and the answer into out (the refusal "Handshake MAC
 * failure" when the client's message does not authenticate, as
 * api_frame_helper_noise.cpp sends it).  Length, or -1 for client bytes
 * that are not those frames.  *refused tells which. */
static inline long resp_accept(struct esp_resp *r, const uint8_t psk[32], const uint8_t *e_priv, const uint8_t *in,
			       size_t n, const char *name, const char *mac, uint8_t *out, bool *refused)
{
	static const uint8_t prologue[14] = "NoiseAPIInit\0";
	uint8_t hello[80], msg[128], pl[64];
	size_t o = 0, h = 1, fl;
	long m;

	*refused = false;
	if (n < 7 || memcmp(in, "\x01\x00\x00\x01", 4) != 0)
		return -1;
	fl = (size_t)in[4] << 8 | in[5];
	if (fl + 6 != n || in[6] != 0x00 || resp_init(r, psk, e_priv, prologue, sizeof(prologue)) < 0)
		return -1;
	hello[0] = 0x01;
	if (name) {
		memcpy(hello + h, name, strlen(name) + 1);
		h += strlen(name) + 1;
	}
	if (name && mac) {
		memcpy(hello + h, mac, strlen(mac) + 1);
		h += strlen(mac) + 1;
	}
	o += resp_put_frame(out + o, hello, h);
	if (resp_read_e(r, in + 7, fl - 1, pl, sizeof(pl)) < 0) {
		static const char no[] = "\x01"
					 "Handshake MAC failure";
		*refused = true;
		return (long)(o + resp_put_frame(out + o, (const uint8_t *)no, sizeof(no) - 1));
	}
	msg[0] = 0x00;
	m = resp_write_e_ee(r, in + 7, NULL, 0, msg + 1, sizeof(msg) - 1);
	if (m < 0)
		return -1;
	return (long)(o + resp_put_frame(out + o, msg, (size_t)m + 1));
}

/* a transport frame of message type with data[n] (n <= 65515) into out:
 * its length, or -1 */
static inline long resp_frame(struct esp_resp *r, unsigned type, const uint8_t *data, size_t n, uint8_t *out)
{
	long m;

	out[3] = (uint8_t)(type >> 8);
	out[4] = (uint8_t)type;
	out[5] = (uint8_t)(n >> 8);
	out[6] = (uint8_t)n;
	if (n)
		memcpy(out + 7, data, n);
	m = esp_noise_cs_encrypt(&r->tx, NULL, 0, out + 3, n + 4, out + 3, n + 4 + ESP_NOISE_TAG);
	if (m < 0)
		return -1;
	out[0] = 0x01;
	out[1] = (uint8_t)(m >> 8);
	out[2] = (uint8_t)m;
	return m + 3;
}

/* the client's transport frame (whole, header included) opened in place:
 * *type, the message at frame + 7 (its length returned), or -1 */
static inline long resp_open(struct esp_resp *r, uint8_t *f, size_t n, unsigned *type)
{
	long m;
	size_t len;

	if (n < 3 || f[0] != 0x01 || ((size_t)f[1] << 8 | f[2]) != n - 3)
		return -1;
	m = esp_noise_cs_decrypt(&r->rx, NULL, 0, f + 3, n - 3, f + 3, n - 3);
	if (m < 4)
		return -1;
	*type = (unsigned)f[3] << 8 | f[4];
	len = (size_t)f[5] << 8 | f[6];
	return len == (size_t)m - 4 ? (long)len : -1;
}

#endif
