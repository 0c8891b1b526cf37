/* SPDX-License-Identifier: MIT */
/* tests/unit/test_esphome_codec.c - the ESPHome native API codec
 * (gateway/wire/esphome/): plaintext frames in every chunking, bad varints,
 * oversized lengths, unknown ids skipped, protobufs that do not decode;
 * Noise_NNpsk0_25519_ChaChaPoly_SHA256 against the Noise test vectors of
 * cacophony (haskell-cryptography/cacophony, vectors/cacophony.txt, the
 * vector of that name: its keys, prologue, messages and handshake hash),
 * then the codec against a test-side responder (esp_responder.h): the
 * whole handshake and transport in every chunking, a flipped bit, a wrong
 * key both ways, the other side's framing; the same against an
 * implementation written apart, in Python on python3-cryptography
 * (tests/tools/esp_noise_peer.py); the key's base64; the id table against
 * esphome_api.proto's comments. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/wire/esphome/espcodec.h"
#include "../../gateway/wire/esphome/espframe.h"
#include "../../gateway/wire/esphome/espnoise.h"
#include "esp_responder.h"
#include "esphome_api.pb-c.h"
#include "check.h"

/* ---------------------------------------------------------------- a sink */

#define SINK_MAX 64
struct sink {
	int n;
	unsigned type[SINK_MAX];
	bool decoded[SINK_MAX];
	char text[SINK_MAX][40];   /* a string or the first bytes, per message */
	size_t size[SINK_MAX];     /* a bytes field's length */
	uint8_t sum[SINK_MAX];     /* and the xor of its bytes */
};

static void sink_bytes(struct sink *s, int i, const ProtobufCBinaryData *d)
{
	s->size[i] = d->len;
	s->sum[i] = 0;
	for (size_t k = 0; k < d->len; k++)
		s->sum[i] ^= d->data[k];
}

static void sink_cb(void *ud, unsigned type, const ProtobufCMessage *msg)
{
	struct sink *s = ud;
	int i = s->n;

	if (i >= SINK_MAX)
		return;
	s->n++;
	s->type[i] = type;
	s->decoded[i] = msg != NULL;
	s->text[i][0] = '\0';
	s->size[i] = 0;
	if (!msg)
		return;
	if (type == 1)
		snprintf(s->text[i], sizeof(s->text[i]), "%s %u.%u", ((const Esphome__HelloRequest *)msg)->client_info,
			 ((const Esphome__HelloRequest *)msg)->api_version_major,
			 ((const Esphome__HelloRequest *)msg)->api_version_minor);
	else if (type == 2)
		snprintf(s->text[i], sizeof(s->text[i]), "%s", ((const Esphome__HelloResponse *)msg)->name);
	else if (type == 79)
		sink_bytes(s, i, &((const Esphome__BluetoothGATTNotifyDataResponse *)msg)->data);
	else if (type == 93)
		snprintf(s->text[i], sizeof(s->text[i]), "%zu adverts",
			 ((const Esphome__BluetoothLERawAdvertisementsResponse *)msg)->n_advertisements);
}

/* ---------------------------------------------------------------- messages */

static long put_hello(struct esp_codec *c, uint8_t *out, size_t cap)
{
	Esphome__HelloRequest m = ESPHOME__HELLO_REQUEST__INIT;

	m.client_info = "bmsgw";
	m.api_version_major = 1;
	m.api_version_minor = 10;
	return esp_codec_send(c, 1, &m.base, out, cap);
}

static long put_ping(struct esp_codec *c, uint8_t *out, size_t cap)
{
	Esphome__PingRequest m = ESPHOME__PING_REQUEST__INIT;

	return esp_codec_send(c, 7, &m.base, out, cap);
}

static uint8_t big[20000];

static long put_notify(struct esp_codec *c, size_t n, uint8_t *out, size_t cap)
{
	Esphome__BluetoothGATTNotifyDataResponse m = ESPHOME__BLUETOOTH_GATTNOTIFY_DATA_RESPONSE__INIT;

	m.address = 0xC8478C0011AAULL;
	m.handle = 17;
	m.data.data = big;
	m.data.len = n;
	return esp_codec_send(c, 79, &m.base, out, cap);
}

static long put_adverts(struct esp_codec *c, uint8_t *out, size_t cap)
{
	Esphome__BluetoothLERawAdvertisementsResponse m = ESPHOME__BLUETOOTH_LERAW_ADVERTISEMENTS_RESPONSE__INIT;
	Esphome__BluetoothLERawAdvertisement a[2] = { ESPHOME__BLUETOOTH_LERAW_ADVERTISEMENT__INIT,
						      ESPHOME__BLUETOOTH_LERAW_ADVERTISEMENT__INIT };
	Esphome__BluetoothLERawAdvertisement *pa[2] = { &a[0], &a[1] };
	static uint8_t ad[] = { 0x02, 0x01, 0x06, 0x05, 0x09, 'J', 'K', '-', 'B' };

	a[0].address = 0x112233445566ULL;
	a[0].rssi = -71;
	a[0].data.data = ad;
	a[0].data.len = sizeof(ad);
	a[1].address = 0xAABBCCDDEEFFULL;
	a[1].rssi = -90;
	m.n_advertisements = 2;
	m.advertisements = pa;
	return esp_codec_send(c, 93, &m.base, out, cap);
}

/* ---------------------------------------------------------------- plaintext */

static void test_plain_send(void)
{
	struct esp_codec *c = esp_codec_new(NULL);
	uint8_t out[64];
	static const uint8_t hello[] = { 0x00, 0x0b, 0x01, 0x0a, 0x05, 'b', 'm', 's', 'g', 'w', 0x10, 0x01, 0x18, 0x0a };
	Esphome__PingRequest ping = ESPHOME__PING_REQUEST__INIT;

	CHECK(esp_codec_ready(c));
	CHECK_EQ_INT(esp_codec_start(c, out, sizeof(out)), 0);
	CHECK_STR(esp_codec_server_name(c), "");
	CHECK_EQ_INT(put_hello(c, out, sizeof(out)), sizeof(hello));
	CHECK(memcmp(out, hello, sizeof(hello)) == 0);
	CHECK_EQ_INT(put_ping(c, out, sizeof(out)), 3);
	CHECK(memcmp(out, "\x00\x00\x07", 3) == 0);
	/* the type must be the descriptor's, and known; the room enough */
	CHECK_EQ_INT(esp_codec_send(c, 8, &ping.base, out, sizeof(out)), -1);
	CHECK_EQ_INT(esp_codec_send(c, 200, &ping.base, out, sizeof(out)), -1);
	CHECK_EQ_INT(put_hello(c, out, sizeof(hello) - 1), -1);
	/* a 20000-byte payload: a 3-byte length varint */
	uint8_t *o = malloc(30000);
	long n = put_notify(c, 20000, o, 30000);
	CHECK(n > 20000 && o[0] == 0 && (o[1] & 0x80) && (o[2] & 0x80) && !(o[3] & 0x80) && o[4] == 79);
	free(o);
	esp_codec_free(c);
}

/* the stream: hello, an unknown id (200: a 2-byte type varint), ping,
 * adverts, a notify of nbig bytes */
static size_t plain_stream(uint8_t *s, size_t cap, size_t nbig)
{
	struct esp_codec *c = esp_codec_new(NULL);
	size_t n = 0;

	n += (size_t)put_hello(c, s + n, cap - n);
	memcpy(s + n, "\x00\x03\xc8\x01\x0a\x01\x02", 7); /* id 200, 3 bytes */
	n += 7;
	n += (size_t)put_ping(c, s + n, cap - n);
	n += (size_t)put_adverts(c, s + n, cap - n);
	n += (size_t)put_notify(c, nbig, s + n, cap - n);
	esp_codec_free(c);
	return n;
}

static bool plain_sink_ok(const struct sink *s, size_t nbig)
{
	uint8_t sum = 0;

	for (size_t k = 0; k < nbig; k++)
		sum ^= big[k];
	return s->n == 5 && s->type[0] == 1 && strcmp(s->text[0], "bmsgw 1.10") == 0 && s->type[1] == 200 &&
	       !s->decoded[1] && s->type[2] == 7 && s->decoded[2] && s->type[3] == 93 &&
	       strcmp(s->text[3], "2 adverts") == 0 && s->type[4] == 79 && s->size[4] == nbig && s->sum[4] == sum;
}

/* the stream fed in pieces cut at a and b (a <= b <= n) */
static bool feed3(struct esp_codec *c, const uint8_t *s, size_t n, size_t a, size_t b, struct sink *k)
{
	char why[160];

	return esp_codec_feed(c, s, a, sink_cb, k, why, sizeof(why)) == 0 &&
	       esp_codec_feed(c, s + a, b - a, sink_cb, k, why, sizeof(why)) == 0 &&
	       esp_codec_feed(c, s + b, n - b, sink_cb, k, why, sizeof(why)) == 0;
}

static void test_plain_chunks(void)
{
	static uint8_t s[25000];
	size_t n = plain_stream(s, sizeof(s), 40), bad = 0, runs = 0;

	for (size_t a = 0; a <= n; a++)
		for (size_t b = a; b <= n; b++) {
			struct esp_codec *c = esp_codec_new(NULL);
			struct sink k = { 0 };

			if (!feed3(c, s, n, a, b, &k) || !plain_sink_ok(&k, 40))
				bad++;
			runs++;
			esp_codec_free(c);
		}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(runs, (n + 1) * (n + 2) / 2);
	/* byte by byte and in fixed pieces, with a 20000-byte message */
	n = plain_stream(s, sizeof(s), sizeof(big));
	static const size_t piece[] = { 1, 2, 3, 7, 64, 1000, 4096, 25000 };
	for (size_t p = 0; p < sizeof(piece) / sizeof(piece[0]); p++) {
		struct esp_codec *c = esp_codec_new(NULL);
		struct sink k = { 0 };
		char why[160];
		int rc = 0;

		for (size_t i = 0; i < n && rc == 0; i += piece[p])
			rc = esp_codec_feed(c, s + i, n - i < piece[p] ? n - i : piece[p], sink_cb, &k, why, sizeof(why));
		CHECK_EQ_INT(rc, 0);
		CHECK(plain_sink_ok(&k, sizeof(big)));
		esp_codec_free(c);
	}
}

/* bytes fed to a fresh plaintext codec: its return, why */
static int plain_feed(const char *bytes, size_t n, char *why, size_t wl, struct sink *k)
{
	struct esp_codec *c = esp_codec_new(NULL);
	int rc = esp_codec_feed(c, (const uint8_t *)bytes, n, sink_cb, k, why, wl);
	char again[160];

	/* a failed codec stays failed, with the same reason */
	if (rc < 0 && (esp_codec_feed(c, (const uint8_t *)"\x00\x00\x07", 3, sink_cb, k, again, sizeof(again)) != -1 ||
		       strcmp(why, again) != 0))
		rc = -2;
	esp_codec_free(c);
	return rc;
}

static void test_plain_bad(void)
{
	char why[160];
	struct sink k = { 0 };

	/* varints: a length or a type over 32 bits, or of six bytes */
	CHECK_EQ_INT(plain_feed("\x00\x80\x80\x80\x80\x10", 6, why, sizeof(why), &k), -1);
	CHECK(strstr(why, "bad varint") != NULL);
	CHECK_EQ_INT(plain_feed("\x00\x80\x80\x80\x80\x80\x00", 7, why, sizeof(why), &k), -1);
	CHECK(strstr(why, "bad varint") != NULL);
	CHECK_EQ_INT(plain_feed("\x00\x01\xff\xff\xff\xff\x1f", 7, why, sizeof(why), &k), -1);
	CHECK(strstr(why, "bad varint") != NULL);
	/* a type over 16 bits: 65536 */
	CHECK_EQ_INT(plain_feed("\x00\x00\x80\x80\x04", 5, why, sizeof(why), &k), -1);
	CHECK(strstr(why, "message type 65536") != NULL);
	/* 65536 bytes is over the limit, seen before any of them; 65535 waits */
	CHECK_EQ_INT(plain_feed("\x00\x80\x80\x04\x07", 5, why, sizeof(why), &k), -1);
	CHECK(strstr(why, "65536 bytes") != NULL);
	CHECK_EQ_INT(plain_feed("\x00\xff\xff\x03\x07", 5, why, sizeof(why), &k), 0);
	CHECK_EQ_INT(plain_feed("\x00\xff\xff\xff\x0f\x07", 6, why, sizeof(why), &k), -1);
	/* indicator bytes: Noise's (an encrypted proxy), anything else */
	CHECK_EQ_INT(plain_feed("\x01\x00\x13\x01", 4, why, sizeof(why), &k), -1);
	CHECK(strstr(why, "wants encryption") != NULL);
	CHECK_EQ_INT(plain_feed("\x00\x00\x07\x05", 4, why, sizeof(why), &k), -1);
	CHECK(strstr(why, "bad indicator byte 0x05") != NULL);
	/* a protobuf that does not decode: a string longer than the message */
	k.n = 0;
	CHECK_EQ_INT(plain_feed("\x00\x00\x07\x00\x02\x01\x0a\x05", 8, why, sizeof(why), &k), -1);
	CHECK(strstr(why, "message 1 (HelloRequest, 2 bytes) does not decode") != NULL);
	CHECK_EQ_INT(k.n, 1); /* the ping before it came through */
	/* a wire type a field cannot have (a varint-type field as fixed64) */
	CHECK_EQ_INT(plain_feed("\x00\x09\x02\x09\x01\x02\x03\x04\x05\x06\x07\x08", 12, why, sizeof(why), &k), -1);
	/* unknown fields are skipped: HelloResponse with field 15 */
	k.n = 0;
	CHECK_EQ_INT(plain_feed("\x00\x05\x02\x22\x01P\x78\x05", 8, why, sizeof(why), &k), 0);
	CHECK(k.n == 1 && k.decoded[0] && strcmp(k.text[0], "P") == 0);
	/* unknown ids are skipped, whatever their bytes */
	k.n = 0;
	CHECK_EQ_INT(plain_feed("\x00\x02\x20\xff\xff\x00\x00\x07", 8, why, sizeof(why), &k), 0);
	CHECK(k.n == 2 && k.type[0] == 32 && !k.decoded[0] && k.type[1] == 7 && k.decoded[1]);
}

/* ---------------------------------------------------------------- Noise: known answers */

/* cacophony's vector "Noise_NNpsk0_25519_ChaChaPoly_SHA256" */
static const char *kat_psk = "54686973206973206d7920417573747269616e20706572737065637469766521";
static const char *kat_ie = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
static const char *kat_re = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
static const char *kat_hash = "f4d03dc34495c95729ea6de9e1b59004b59733102488b3e24bc441e0be208eaf";
static const char *kat_msg[6][2] = {
	{ "4c756477696720766f6e204d69736573",
	  "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c794479b962b8aff8485742ac32f905ba45369e2465fb59e138a93d67a0d1266b6a54" },
	{ "4d757272617920526f746862617264",
	  "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843d6062704d5a9c422a8e834423f8c1feada7e8d0d910a1a2cd030fb584221e3" },
	{ "462e20412e20486179656b", "e632c3763d7669067383433197a3baddf146e9e70ad4b4e9e59e0f" },
	{ "4361726c204d656e676572", "64c6bee32ea91c8474bb4c21d7a700109ad45af77b29764ba5eb1e" },
	{ "4a65616e2d426170746973746520536179", "e2fa0bed0603b62d3ccac2ecabbf3fe33f3e86514909b323361626266cb2471cc8" },
	{ "457567656e2042f6686d20766f6e2042617765726b",
	  "0c01dc9cec1fe4ddd692e8dd32188aa351088dc91183639a53b57aa4692b5ebdef8b8ca111" },
};

static bool same_hex(const uint8_t *p, long n, const char *hex)
{
	uint8_t want[256];
	int wn = check_hex(hex, want, sizeof(want));

	return n == wn && memcmp(p, want, (size_t)wn) == 0;
}

static void test_noise_vectors(void)
{
	uint8_t psk[32], ie[32], re[32], pl[6][64], out[256], out2[256], m1[256];
	int pn[6];
	struct esp_noise_hs hs;
	struct esp_resp r;
	struct esp_noise_cs isend, irecv;
	long n, m;

	check_hex(kat_psk, psk, 32);
	check_hex(kat_ie, ie, 32);
	check_hex(kat_re, re, 32);
	for (int i = 0; i < 6; i++)
		pn[i] = check_hex(kat_msg[i][0], pl[i], 64);
	/* -> psk, e with the initiator's key, its payload */
	CHECK_EQ_INT(esp_noise_start(&hs, (const uint8_t *)"John Galt", 9, psk, ie), 0);
	n = esp_noise_write_e(&hs, pl[0], (size_t)pn[0], out, sizeof(out));
	CHECK(same_hex(out, n, kat_msg[0][1]));
	/* the responder reads it and answers e, ee */
	CHECK_EQ_INT(resp_init(&r, psk, re, (const uint8_t *)"John Galt", 9), 0);
	m = resp_read_e(&r, out, (size_t)n, out2, sizeof(out2));
	CHECK(m == pn[0] && memcmp(out2, pl[0], (size_t)m) == 0);
	memcpy(m1, out, (size_t)n);
	n = resp_write_e_ee(&r, m1, pl[1], (size_t)pn[1], out, sizeof(out));
	CHECK(same_hex(out, n, kat_msg[1][1]));
	CHECK(same_hex(r.ss.h, 32, kat_hash));
	/* the initiator reads it: the payload, the same handshake hash */
	m = esp_noise_read_e_ee(&hs, out, (size_t)n, out2, sizeof(out2));
	CHECK(m == pn[1] && memcmp(out2, pl[1], (size_t)m) == 0);
	CHECK(same_hex(hs.ss.h, 32, kat_hash));
	CHECK_EQ_INT(esp_noise_finish(&hs, &isend, &irecv), 0);
	/* transport: initiator, responder, initiator, responder */
	for (int i = 2; i < 6; i++) {
		struct esp_noise_cs *tx = i % 2 ? &r.tx : &isend, *rx = i % 2 ? &irecv : &r.rx;

		n = esp_noise_cs_encrypt(tx, NULL, 0, pl[i], (size_t)pn[i], out, sizeof(out));
		CHECK(same_hex(out, n, kat_msg[i][1]));
		m = esp_noise_cs_decrypt(rx, NULL, 0, out, (size_t)n, out2, sizeof(out2));
		CHECK(m == pn[i] && memcmp(out2, pl[i], (size_t)m) == 0);
	}
	/* a flipped bit does not decrypt, and the nonce stays */
	n = esp_noise_cs_encrypt(&isend, NULL, 0, pl[0], (size_t)pn[0], out, sizeof(out));
	out[3] ^= 0x10;
	CHECK_EQ_INT(esp_noise_cs_decrypt(&r.rx, NULL, 0, out, (size_t)n, out2, sizeof(out2)), -1);
	out[3] ^= 0x10;
	CHECK_EQ_INT(esp_noise_cs_decrypt(&r.rx, NULL, 0, out, (size_t)n, out2, sizeof(out2)), pn[0]);
	/* the all-zero point: no shared secret */
	memset(out, 0, 32);
	CHECK_EQ_INT(esp_noise_dh(ie, out, out2), -1);
}

/* ---------------------------------------------------------------- Noise: the codec */

static const uint8_t key_a[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t key_b[32] = "0123456789abcdef0123456789abcdeX";
static const uint8_t eph_c[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17 };
static const uint8_t eph_s[32] = { 0x42, 0x42, 0x42, 0x42, 7 };

/* a client that started, its first bytes answered by a responder with
 * rkey; the answer (server hello, handshake answer) in ans */
static struct esp_codec *noise_pair(struct esp_resp *r, const uint8_t *rkey, const char *name, const char *mac,
				    uint8_t *ans, long *an, bool *refused)
{
	struct esp_codec *c = esp_codec_new(key_a);
	uint8_t first[ESP_START_MAX];
	long n;

	esp_codec_fix_ephemeral(c, eph_c);
	n = esp_codec_start(c, first, sizeof(first));
	CHECK_EQ_INT(n, ESP_START_MAX);
	CHECK(memcmp(first, "\x01\x00\x00\x01\x00\x31\x00", 7) == 0);
	*an = resp_accept(r, rkey, eph_s, first, (size_t)n, name, mac, ans, refused);
	CHECK(*an > 0);
	return c;
}

/* the server's stream after the handshake: hello response, an unknown id,
 * adverts, a notify of 3000 bytes */
static size_t noise_stream(struct esp_resp *r, uint8_t *s)
{
	Esphome__HelloResponse hr = ESPHOME__HELLO_RESPONSE__INIT;
	uint8_t pb[64];
	size_t n = 0, k;

	hr.api_version_major = 1;
	hr.api_version_minor = 12;
	hr.name = "shed-proxy";
	k = protobuf_c_message_pack(&hr.base, pb);
	n += (size_t)resp_frame(r, 2, pb, k, s + n);
	n += (size_t)resp_frame(r, 300, (const uint8_t *)"\x01\x02", 2, s + n);
	n += (size_t)resp_frame(r, 79, NULL, 0, s + n);
	/* a notify of 3000 bytes, packed by protobuf-c */
	Esphome__BluetoothGATTNotifyDataResponse nd = ESPHOME__BLUETOOTH_GATTNOTIFY_DATA_RESPONSE__INIT;
	uint8_t *tmp = malloc(4000);
	nd.handle = 9;
	nd.data.data = big;
	nd.data.len = 3000;
	k = protobuf_c_message_pack(&nd.base, tmp);
	n += (size_t)resp_frame(r, 79, tmp, k, s + n);
	free(tmp);
	return n;
}

static bool noise_sink_ok(const struct sink *k)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < 3000; i++)
		sum ^= big[i];
	return k->n == 4 && k->type[0] == 2 && strcmp(k->text[0], "shed-proxy") == 0 && k->type[1] == 300 &&
	       !k->decoded[1] && k->type[2] == 79 && k->decoded[2] && k->size[2] == 0 && k->type[3] == 79 &&
	       k->size[3] == 3000 && k->sum[3] == sum;
}

static void test_noise_session(void)
{
	static uint8_t all[8192], out[256];
	struct esp_resp r;
	bool refused;
	long an;
	struct esp_codec *c = noise_pair(&r, key_a, "shed-proxy", "c8478c0011aa", all, &an, &refused);
	size_t n = (size_t)an, bad = 0;
	char why[160];
	unsigned type;

	CHECK(!refused);
	CHECK(!esp_codec_ready(c));
	CHECK_EQ_INT(put_ping(c, out, sizeof(out)), -1); /* not ready */
	n += noise_stream(&r, all + n);
	/* every cut in two pieces, each into a fresh client with the same keys */
	for (size_t a = 0; a <= n; a++) {
		struct esp_resp r2;
		long an2;
		struct esp_codec *c2 = noise_pair(&r2, key_a, "shed-proxy", "c8478c0011aa", out, &an2, &refused);
		struct sink k = { 0 };

		if (esp_codec_feed(c2, all, a, sink_cb, &k, why, sizeof(why)) != 0 ||
		    esp_codec_feed(c2, all + a, n - a, sink_cb, &k, why, sizeof(why)) != 0 || !noise_sink_ok(&k))
			bad++;
		esp_codec_free(c2);
	}
	CHECK_EQ_INT(bad, 0);
	/* byte by byte into the first */
	struct sink k = { 0 };
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = esp_codec_feed(c, all + i, 1, sink_cb, &k, why, sizeof(why));
		if (i == (size_t)an - 1)
			CHECK(esp_codec_ready(c));
	}
	CHECK_EQ_INT(rc, 0);
	CHECK(noise_sink_ok(&k));
	CHECK_STR(esp_codec_server_name(c), "shed-proxy");
	CHECK_STR(esp_codec_server_mac(c), "c8478c0011aa");
	/* the client's messages, opened by the responder */
	long m = put_hello(c, out, sizeof(out));
	CHECK(m == 3 + 4 + 11 + 16);
	CHECK_EQ_INT(resp_open(&r, out, (size_t)m, &type), 11);
	CHECK(type == 1 && memcmp(out + 7, "\x0a\x05" "bmsgw\x10\x01\x18\x0a", 11) == 0);
	m = put_ping(c, out, sizeof(out));
	CHECK_EQ_INT(resp_open(&r, out, (size_t)m, &type), 0);
	CHECK_EQ_INT(type, 7);
	CHECK_EQ_INT(put_ping(c, out, 3 + 4 + 15), -1); /* no room for the tag */
	esp_codec_free(c);
}

/* after a handshake: one frame the responder builds, spoiled by spoil */
static int noise_after(const uint8_t *frame, size_t n, char *why, size_t wl)
{
	static uint8_t ans[512];
	struct esp_resp r;
	bool refused;
	long an;
	struct esp_codec *c = noise_pair(&r, key_a, "p", NULL, ans, &an, &refused);
	struct sink k = { 0 };
	int rc = esp_codec_feed(c, ans, (size_t)an, sink_cb, &k, why, wl);

	if (rc == 0)
		rc = esp_codec_feed(c, frame, n, sink_cb, &k, why, wl);
	esp_codec_free(c);
	return rc;
}

static void test_noise_bad(void)
{
	static uint8_t ans[512], f[512];
	char why[160];
	struct esp_resp r;
	bool refused;
	long an, n;
	struct sink k = { 0 };
	struct esp_codec *c;

	/* a flipped bit in a transport frame */
	c = noise_pair(&r, key_a, "p", NULL, ans, &an, &refused);
	esp_codec_free(c);
	n = resp_frame(&r, 7, NULL, 0, f);
	f[5] ^= 0x01;
	CHECK_EQ_INT(noise_after(f, (size_t)n, why, sizeof(why)), -1);
	CHECK(strstr(why, "does not decrypt") != NULL);
	/* the same frame unspoiled goes through */
	f[5] ^= 0x01;
	CHECK_EQ_INT(noise_after(f, (size_t)n, why, sizeof(why)), 0);
	/* a length field past the frame, a frame shorter than type + length */
	c = noise_pair(&r, key_a, "p", NULL, ans, &an, &refused);
	esp_codec_free(c);
	n = resp_frame(&r, 7, (const uint8_t *)"\x08\x01", 2, f); /* an unknown field */
	CHECK_EQ_INT(noise_after(f, (size_t)n, why, sizeof(why)), 0);
	{
		uint8_t pt[8] = { 0, 7, 0, 9, 1, 2 }, raw[64];
		struct esp_noise_cs tx = r.tx;

		/* rebuilt by hand: type 7, length 9, two bytes */
		tx.n = 0;
		long m = esp_noise_cs_encrypt(&tx, NULL, 0, pt, 6, raw + 3, sizeof(raw) - 3);
		raw[0] = 1, raw[1] = 0, raw[2] = (uint8_t)m;
		CHECK_EQ_INT(noise_after(raw, (size_t)m + 3, why, sizeof(why)), -1);
		CHECK(strstr(why, "a message of 9 bytes in a frame of 2") != NULL);
		tx.n = 0;
		m = esp_noise_cs_encrypt(&tx, NULL, 0, pt, 3, raw + 3, sizeof(raw) - 3);
		raw[2] = (uint8_t)m;
		CHECK_EQ_INT(noise_after(raw, (size_t)m + 3, why, sizeof(why)), -1);
		CHECK(strstr(why, "decrypted frame of 3 bytes") != NULL);
	}
	/* a flipped bit in the handshake answer */
	c = noise_pair(&r, key_a, "p", NULL, ans, &an, &refused);
	ans[an - 20] ^= 0x80;
	CHECK_EQ_INT(esp_codec_feed(c, ans, (size_t)an, sink_cb, &k, why, sizeof(why)), -1);
	CHECK(strstr(why, "does not authenticate") != NULL);
	CHECK(!esp_codec_ready(c));
	esp_codec_free(c);
	/* a wrong key: the proxy refuses (ESPHome's text) */
	c = noise_pair(&r, key_b, "p", NULL, ans, &an, &refused);
	CHECK(refused);
	CHECK_EQ_INT(esp_codec_feed(c, ans, (size_t)an, sink_cb, &k, why, sizeof(why)), -1);
	CHECK_STR(why, "the proxy refused the handshake: Handshake MAC failure (the encryption key is not the proxy's)");
	esp_codec_free(c);
}

/* a started client fed bytes: its return and why */
static int noise_feed(const void *bytes, size_t n, char *why, size_t wl, struct esp_codec **keep)
{
	uint8_t first[ESP_START_MAX];
	struct esp_codec *c = esp_codec_new(key_a);
	struct sink k = { 0 };
	int rc;

	esp_codec_start(c, first, sizeof(first));
	rc = esp_codec_feed(c, bytes, n, sink_cb, &k, why, wl);
	if (keep)
		*keep = c;
	else
		esp_codec_free(c);
	return rc;
}

static void test_noise_hello(void)
{
	char why[160];
	struct esp_codec *c;
	uint8_t first[ESP_START_MAX];

	/* a plaintext proxy's answer to the Noise hello (ESPHome's plaintext
	 * helper: 00 "Bad indicator byte") */
	CHECK_EQ_INT(noise_feed("\x00" "Bad indicator byte", 19, why, sizeof(why), NULL), -1);
	CHECK(strstr(why, "no encryption key") != NULL);
	CHECK_EQ_INT(noise_feed("\x01\x00\x00", 3, why, sizeof(why), NULL), -1);
	CHECK_STR(why, "an empty server hello");
	CHECK_EQ_INT(noise_feed("\x01\x00\x01\x02", 4, why, sizeof(why), NULL), -1);
	CHECK(strstr(why, "protocol 2") != NULL);
	/* a handshake frame over 128 bytes */
	CHECK_EQ_INT(noise_feed("\x01\x00\x81", 3, why, sizeof(why), NULL), -1);
	CHECK(strstr(why, "129 bytes") != NULL);
	/* a server hello before 2022.2 (no name), then a refusal with its text */
	CHECK_EQ_INT(noise_feed("\x01\x00\x01\x01\x01\x00\x03\x01Hi", 10, why, sizeof(why), &c), -1);
	CHECK_STR(why, "the proxy refused the handshake: Hi");
	CHECK_STR(esp_codec_server_name(c), "");
	esp_codec_free(c);
	/* a name without a MAC (2022.2 to 2025.4), and a text to be cleaned */
	CHECK_EQ_INT(noise_feed("\x01\x00\x04\x01pr\x00\x01\x00\x03\x05\x1b\xff", 13, why, sizeof(why), &c), -1);
	CHECK_STR(esp_codec_server_name(c), "pr");
	CHECK_STR(esp_codec_server_mac(c), "");
	CHECK_STR(why, "the proxy refused the handshake: ??");
	esp_codec_free(c);
	CHECK_EQ_INT(noise_feed("\x01\x00\x01\x01\x01\x00\x00", 7, why, sizeof(why), NULL), -1);
	CHECK_STR(why, "an empty handshake answer");
	/* a handshake answer too short for e and a tag */
	CHECK_EQ_INT(noise_feed("\x01\x00\x01\x01\x01\x00\x05\x00\x01\x02\x03\x04", 12, why, sizeof(why), NULL), -1);
	CHECK(strstr(why, "does not authenticate") != NULL);
	/* fed before start; started twice */
	c = esp_codec_new(key_a);
	CHECK_EQ_INT(esp_codec_feed(c, (const uint8_t *)"\x01", 1, sink_cb, NULL, why, sizeof(why)), -1);
	CHECK_STR(why, "data before the handshake started");
	esp_codec_free(c);
	c = esp_codec_new(key_a);
	CHECK_EQ_INT(esp_codec_start(c, first, sizeof(first) - 1), -1);
	CHECK_EQ_INT(esp_codec_start(c, first, sizeof(first)), ESP_START_MAX);
	CHECK_EQ_INT(esp_codec_start(c, first, sizeof(first)), -1);
	esp_codec_free(c);
	/* two clients, two random ephemeral keys */
	uint8_t a[ESP_START_MAX], b[ESP_START_MAX];
	struct esp_codec *ca = esp_codec_new(key_a), *cb = esp_codec_new(key_a);
	esp_codec_start(ca, a, sizeof(a));
	esp_codec_start(cb, b, sizeof(b));
	CHECK(memcmp(a + 7, b + 7, 32) != 0);
	esp_codec_free(ca);
	esp_codec_free(cb);
}

/* ---------------------------------------------------------------- Noise: Python */

static void hex_of(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* tests/tools/esp_noise_peer.py with the client's first bytes (and its
 * frames after the handshake): its lines into lines[], their count */
static int python_peer(const uint8_t *first, size_t fn, const uint8_t *frames, size_t n, char lines[4][4096])
{
	static char cmd[8192];
	char psk[65], eph[65], a[2 * ESP_START_MAX + 1], b[1024];
	int k = 0;
	FILE *p;

	hex_of(key_a, 32, psk);
	hex_of(eph_s, 32, eph);
	hex_of(first, fn, a);
	hex_of(frames, n, b);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/tools/esp_noise_peer.py %s %s %s %s", psk, eph, a, b);
	p = popen(cmd, "r");
	while (p && k < 4 && fgets(lines[k], sizeof(lines[k]), p)) {
		lines[k][strcspn(lines[k], "\n")] = '\0';
		k++;
	}
	return p && pclose(p) == 0 ? k : -1;
}

static void test_noise_python(void)
{
	static char lines[4][4096];
	uint8_t first[ESP_START_MAX], ans[1024], out[256];
	struct esp_codec *c = esp_codec_new(key_a);
	struct sink k = { 0 };
	char why[160];
	long n = 0, m;
	int an;

	esp_codec_fix_ephemeral(c, eph_c);
	esp_codec_start(c, first, sizeof(first));
	CHECK_EQ_INT(python_peer(first, sizeof(first), NULL, 0, lines), 1);
	an = check_hex(lines[0], ans, sizeof(ans));
	CHECK(an > 0);
	CHECK_EQ_INT(esp_codec_feed(c, ans, an > 0 ? (size_t)an : 0, sink_cb, &k, why, sizeof(why)), 0);
	CHECK(esp_codec_ready(c));
	CHECK_STR(esp_codec_server_name(c), "py-proxy");
	CHECK_STR(esp_codec_server_mac(c), "0123456789ab");
	CHECK(k.n == 2 && k.type[0] == 2 && strcmp(k.text[0], "py-proxy") == 0 && k.type[1] == 7 && k.decoded[1]);
	/* the client's frames, opened by the Python side */
	m = put_hello(c, out, sizeof(out));
	n = m > 0 ? m : 0;
	m = put_ping(c, out + n, sizeof(out) - (size_t)n);
	n += m > 0 ? m : 0;
	CHECK_EQ_INT(python_peer(first, sizeof(first), out, (size_t)n, lines), 3);
	CHECK_STR(lines[1], "1 0a05626d7367771001180a");
	CHECK_STR(lines[2], "7 ");
	esp_codec_free(c);
}

/* ---------------------------------------------------------------- table */

/* every "message Name {  // id N" of the .proto is in the table, with
 * the descriptor of that name, and the table holds nothing else */
static void test_table(void)
{
	FILE *f = fopen("gateway/wire/esphome/esphome_api.proto", "r");
	char line[256], name[128], full[160];
	unsigned id;
	size_t n, seen = 0;
	const struct esp_msg_entry *t = esp_msg_table(&n);

	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "message %127s { // id %u", name, &id) != 2)
			continue;
		seen++;
		snprintf(full, sizeof(full), "esphome.%s", name);
		const ProtobufCMessageDescriptor *d = esp_msg_descriptor(id);
		CHECK(d != NULL);
		if (d)
			CHECK_STR(d->name, full);
		CHECK_EQ_INT(esp_msg_id(d), id);
	}
	if (f)
		fclose(f);
	CHECK_EQ_INT(seen, n);
	CHECK(n == 32 && t[0].id == 1);
	CHECK(esp_msg_descriptor(0) == NULL && esp_msg_descriptor(67) == NULL);
	CHECK_EQ_INT(esp_msg_id(&esphome__bluetooth_leraw_advertisement__descriptor), 0);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 8));
	test_plain_send();
	test_plain_chunks();
	test_plain_bad();
	test_noise_vectors();
	test_noise_session();
	test_noise_bad();
	test_noise_hello();
	test_noise_python();
	test_table();
	return check_report();
}
