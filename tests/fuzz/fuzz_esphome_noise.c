/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_esphome_noise.c - libFuzzer target: the ESPHome native
 * API's Noise side (gateway/wire/esphome/espcodec.c, espnoise.c) as a
 * client, against the test responder of tests/unit/esp_responder.h with
 * fixed keys (both ephemeral keys fixed: the handshake is the same each
 * run).
 *
 * Input: byte 0: bit 0 the mode, the other bits seed the chunking.
 *   mode 0, the handshake reader: the rest is the proxy's answer to the
 *	client's first bytes (server hello, handshake answer, then anything),
 *	fed raw.  The seeds hold the real answer, so that mutations reach
 *	every step of it and the transport after it.
 *   mode 1, the transport after a completed handshake: records of a kind
 *	byte, a length (2 bytes, little-endian) and that many bytes:
 *	kind % 3 == 0  the bytes as they are (raw frames, mostly not
 *	               decrypting),
 *	kind % 3 == 1  the bytes encrypted by the responder as one frame's
 *	               plaintext (type, length and message as the fuzzer
 *	               writes them),
 *	kind % 3 == 2  a frame of message type (the first 2 bytes) with the
 *	               rest as its protobuf.
 * Invariants: no crash, no read out of bounds; -1 always with a reason,
 * and the codec stays failed; a decoded message is of its id's descriptor,
 * and the client's encryption of it opens at the responder to the same id
 * and the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/esp_responder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fz_psk[32] = "fuzz-esphome-noise-psk-32-bytes!";
static const uint8_t fz_ce[32] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 9 };
static const uint8_t fz_se[32] = { 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01, 2 };

struct fz_ctx {
	struct esp_codec *codec;
	struct esp_resp *r; /* NULL: no responder (mode 0) */
};

static void fz_got(void *ud, unsigned type, const ProtobufCMessage *msg)
{
	struct fz_ctx *x = ud;
	static uint8_t out[ESP_MAX_FRAME + ESP_SEND_OVERHEAD], pb[ESP_MAX_FRAME];
	unsigned t2;
	long n, m;

	if (type > 0xffff || !esp_codec_ready(x->codec))
		abort();
	if (!msg)
		return;
	if (msg->descriptor != esp_msg_descriptor(type))
		abort();
	n = esp_codec_send(x->codec, type, msg, out, sizeof(out));
	size_t size = protobuf_c_message_get_packed_size(msg);
	if (n < 0) {
		if (size + 4 + ESP_NOISE_TAG <= ESP_MAX_FRAME)
			abort();
		return;
	}
	if (!x->r)
		return;
	m = resp_open(x->r, out, (size_t)n, &t2);
	if (m < 0 || t2 != type || (size_t)m != size || protobuf_c_message_pack(msg, pb) != size ||
	    memcmp(out + 7, pb, size) != 0)
		abort();
}

/* p[n] fed in pieces (seed 0: whole); the codec's return */
static int fz_feed(struct fz_ctx *x, const uint8_t *p, size_t n, unsigned seed)
{
	char why[160] = "";
	size_t i = 0;
	int rc = 0;

	while (i < n && rc == 0) {
		size_t k = seed ? 1 + seed % 61 : n - i;

		if (k > n - i)
			k = n - i;
		rc = esp_codec_feed(x->codec, p + i, k, fz_got, x, why, sizeof(why));
		i += k;
		seed = seed * 1103515245u + 12345u;
	}
	if (rc < 0) {
		char again[160];

		if (why[0] == '\0' || esp_codec_feed(x->codec, p, n ? 1 : 0, fz_got, x, again, sizeof(again)) != -1 ||
		    strcmp(why, again) != 0)
			abort();
	}
	return rc;
}

/* a client with its first bytes in first[] */
static struct esp_codec *fz_client(uint8_t first[ESP_START_MAX])
{
	struct esp_codec *c = esp_codec_new(fz_psk);

	if (!c)
		abort();
	esp_codec_fix_ephemeral(c, fz_ce);
	if (esp_codec_start(c, first, ESP_START_MAX) != ESP_START_MAX)
		abort();
	return c;
}

static void fz_transport(struct fz_ctx *x, const uint8_t *p, size_t n, unsigned seed)
{
	static uint8_t f[3 + 65535 + 32];

	while (n >= 3) {
		unsigned kind = p[0] % 3;
		size_t len = (size_t)p[1] | (size_t)p[2] << 8;
		long fl;

		p += 3;
		n -= 3;
		if (len > n)
			len = n;
		if (kind == 0) {
			memcpy(f, p, len);
			fl = (long)len;
		} else if (kind == 1) {
			fl = esp_noise_cs_encrypt(&x->r->tx, NULL, 0, p, len > 65519 ? 65519 : len, f + 3,
						  sizeof(f) - 3);
			if (fl >= 0) {
				f[0] = 0x01;
				f[1] = (uint8_t)(fl >> 8);
				f[2] = (uint8_t)fl;
				fl += 3;
			}
		} else {
			size_t d = len < 2 ? 0 : len - 2;
			fl = resp_frame(x->r, len < 2 ? 0 : (unsigned)p[0] | (unsigned)p[1] << 8, p + (len < 2 ? 0 : 2),
					d > 65515 ? 65515 : d, f);
		}
		p += len;
		n -= len;
		if (fl < 0 || fz_feed(x, f, (size_t)fl, seed) < 0)
			return;
		seed = seed * 69069u + 1u;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ans[512];
	uint8_t first[ESP_START_MAX];
	struct esp_resp r;
	struct fz_ctx x = { NULL, NULL };
	bool refused;
	long an;

	if (size < 1)
		return 0;
	x.codec = fz_client(first);
	if ((data[0] & 1) == 0) {
		fz_feed(&x, data + 1, size - 1, data[0] >> 1);
	} else {
		an = resp_accept(&r, fz_psk, fz_se, first, sizeof(first), "fuzz-proxy", "c8478c0011aa", ans, &refused);
		if (an < 0 || refused || fz_feed(&x, ans, (size_t)an, 0) != 0 || !esp_codec_ready(x.codec) ||
		    strcmp(esp_codec_server_name(x.codec), "fuzz-proxy") != 0)
			abort();
		x.r = &r;
		fz_transport(&x, data + 1, size - 1, data[0] >> 1);
	}
	esp_codec_free(x.codec);
	return 0;
}
