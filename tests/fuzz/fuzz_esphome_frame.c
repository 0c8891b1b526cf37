/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_esphome_frame.c - libFuzzer target: the ESPHome native
 * API's plaintext reader (gateway/wire/esphome/espcodec.c, espframe.c),
 * bytes from a proxy in any chunking.
 *
 * Input: byte 0 seeds the chunking; the rest is the proxy's stream.
 * Invariants: no crash, no read out of bounds; the stream fed whole and fed
 * in pieces gives the same messages (ids, decoded or skipped, their
 * re-encoded bytes) and the same end (0, or -1 and the same reason); a
 * decoded message is of its id's descriptor and encodes again into a
 * plaintext frame of that id (unless, re-encoded, it outgrows 65535 bytes:
 * protobuf-c writes a negative int32 in 10 bytes, a peer may in 5). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/wire/esphome/espcodec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rec {
	uint64_t hash; /* of the ids, decoded or not, and each message re-encoded */
	unsigned n;
};

static void mix(struct rec *r, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		r->hash = (r->hash ^ p[i]) * 0x100000001b3ULL;
}

static void got(void *ud, unsigned type, const ProtobufCMessage *msg)
{
	struct rec *r = ud;
	static uint8_t out[ESP_MAX_FRAME + ESP_SEND_OVERHEAD];
	uint8_t t[3] = { (uint8_t)type, (uint8_t)(type >> 8), msg != NULL };
	long n;

	if (type > 0xffff)
		abort();
	r->n++;
	mix(r, t, sizeof(t));
	if (!msg)
		return;
	if (msg->descriptor != esp_msg_descriptor(type))
		abort();
	/* encoded again by a plaintext codec: a frame of that id */
	struct esp_codec *c = esp_codec_new(NULL);
	n = esp_codec_send(c, type, msg, out, sizeof(out));
	esp_codec_free(c);
	if (n < 0 && protobuf_c_message_get_packed_size(msg) > ESP_MAX_FRAME)
		return;
	if (n < 3 || out[0] != 0x00)
		abort();
	mix(r, out, (size_t)n);
}

static int run(const uint8_t *p, size_t n, unsigned seed, struct rec *r, char *why, size_t wl)
{
	struct esp_codec *c = esp_codec_new(NULL);
	size_t i = 0;
	int rc = 0;

	if (!c)
		abort();
	while (i < n && rc == 0) {
		size_t k = seed ? 1 + (seed % 97) : n - i; /* 0: whole */

		if (k > n - i)
			k = n - i;
		rc = esp_codec_feed(c, p + i, k, got, r, why, wl);
		i += k;
		seed = seed * 1103515245u + 12345u;
		seed = seed ? seed : 1;
	}
	if (rc == 0 && !esp_codec_ready(c))
		abort();
	esp_codec_free(c);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec a = { 1469598103934665603ULL, 0 }, b = a;
	char wa[160] = "", wb[160] = "";

	if (size < 1)
		return 0;
	int ra = run(data + 1, size - 1, 0, &a, wa, sizeof(wa));
	int rb = run(data + 1, size - 1, data[0] | 1u, &b, wb, sizeof(wb));
	if (ra != rb || a.n != b.n || a.hash != b.hash || strcmp(wa, wb) != 0)
		abort();
	if (ra < 0 && wa[0] == '\0')
		abort();
	return 0;
}
