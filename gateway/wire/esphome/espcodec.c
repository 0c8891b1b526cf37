/* SPDX-License-Identifier: MIT */
/* gateway/wire/esphome/espcodec.c - one native API connection as a client:
 * frames (espframe.c) to messages, the Noise handshake and transport
 * (espnoise.c) in between, protobuf-c for the messages (espmsgs.c).  The
 * exchange, after ESPHome's api_frame_helper_noise.cpp and aioesphomeapi's
 * frame helpers (https://github.com/esphome/aioesphomeapi/blob/main/aioesphomeapi/_frame_helper/): espcodec.h. */
#include "espcodec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espnoise.h"

enum esp_state {
	ESP_PLAIN,     /* plaintext: frames are messages */
	ESP_NEW,       /* Noise, esp_codec_start() not called yet */
	ESP_HELLO,     /* Noise, waiting for the server hello */
	ESP_HANDSHAKE, /* Noise, waiting for the handshake answer */
	ESP_READY,     /* Noise, transport */
	ESP_FAILED,    /* a malformed frame: why */
};

struct esp_codec {
	enum esp_state st;
	struct esp_frame_reader rd;
	struct esp_noise_hs hs;
	struct esp_noise_cs tx, rx;
	uint8_t psk[ESP_NOISE_KEY];
	bool fixed_e;
	uint8_t e_priv[ESP_NOISE_KEY];
	char name[64];
	char mac[32];
	char why[160];
};

/* the prologue: "NoiseAPIInit", then the client hello's length (2 bytes)
 * and body: empty */
static const uint8_t esp_prologue[14] = "NoiseAPIInit\0";

struct esp_codec *esp_codec_new(const uint8_t psk[32])
{
	struct esp_codec *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (psk) {
		memcpy(c->psk, psk, ESP_NOISE_KEY);
		c->st = ESP_NEW;
		esp_frame_init(&c->rd, true, ESP_MAX_HANDSHAKE);
	} else {
		c->st = ESP_PLAIN;
		esp_frame_init(&c->rd, false, ESP_MAX_FRAME);
	}
	return c;
}

void esp_codec_free(struct esp_codec *c)
{
	if (!c)
		return;
	esp_frame_free(&c->rd);
	esp_noise_wipe(c, sizeof(*c));
	free(c);
}

void esp_codec_fix_ephemeral(struct esp_codec *c, const uint8_t e_priv[32])
{
	memcpy(c->e_priv, e_priv, ESP_NOISE_KEY);
	c->fixed_e = true;
}

long esp_codec_start(struct esp_codec *c, uint8_t *out, size_t cap)
{
	long m;

	if (c->st == ESP_PLAIN)
		return 0;
	if (c->st != ESP_NEW || cap < ESP_START_MAX)
		return -1;
	if (esp_noise_start(&c->hs, esp_prologue, sizeof(esp_prologue), c->psk, c->fixed_e ? c->e_priv : NULL) < 0)
		return -1;
	/* the empty client hello, then the handshake frame: 00 and "psk, e" */
	memcpy(out, "\x01\x00\x00", 3);
	out[6] = 0x00;
	m = esp_noise_write_e(&c->hs, NULL, 0, out + 7, cap - 7);
	if (m < 0 || esp_frame_noise_header((size_t)m + 1, out + 3) < 0)
		return -1;
	c->st = ESP_HELLO;
	return 7 + m;
}

bool esp_codec_ready(const struct esp_codec *c)
{
	return c->st == ESP_PLAIN || c->st == ESP_READY;
}

const char *esp_codec_server_name(const struct esp_codec *c)
{
	return c->name;
}

const char *esp_codec_server_mac(const struct esp_codec *c)
{
	return c->mac;
}

static int codec_fail(struct esp_codec *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int codec_fail(struct esp_codec *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	c->st = ESP_FAILED;
	return -1;
}

/* n bytes of the peer's text into out (NUL-terminated), each byte outside
 * printable ASCII a '?'; the bytes used up to a NUL (or n) */
static size_t codec_text(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n && p[i]; i++)
		if (o + 1 < cap)
			out[o++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[o] = '\0';
	return i;
}

/* 01, name 00, mac 00 (both optional: before ESPHome 2022.2 and 2025.4) */
static int codec_server_hello(struct esp_codec *c, const uint8_t *p, size_t n)
{
	size_t i;

	if (n == 0)
		return codec_fail(c, "an empty server hello");
	if (p[0] != 0x01)
		return codec_fail(c, "the proxy chose encryption protocol %u (only 1, Noise, is known)", p[0]);
	i = 1 + codec_text(p + 1, n - 1, c->name, sizeof(c->name));
	if (i < n) /* the name's NUL: the MAC may follow */
		codec_text(p + i + 1, n - i - 1, c->mac, sizeof(c->mac));
	else
		c->name[0] = '\0'; /* no NUL: not a name */
	c->st = ESP_HANDSHAKE;
	return 0;
}

/* 00 and "e, ee", or a refusal: non-zero and the proxy's text */
static int codec_handshake(struct esp_codec *c, uint8_t *p, size_t n)
{
	char text[64];
	long m;

	if (n == 0)
		return codec_fail(c, "an empty handshake answer");
	if (p[0] != 0x00) {
		codec_text(p + 1, n - 1, text, sizeof(text));
		return codec_fail(c, "the proxy refused the handshake: %s%s", text,
				  strcmp(text, "Handshake MAC failure") ? "" : " (the encryption key is not the proxy's)");
	}
	/* the payload, empty from ESPHome, is decrypted in place and dropped */
	m = esp_noise_read_e_ee(&c->hs, p + 1, n - 1, p + 1, n - 1);
	if (m < 0)
		return codec_fail(c, "the proxy's handshake answer does not authenticate (%zu bytes; a wrong key?)", n);
	if (esp_noise_finish(&c->hs, &c->tx, &c->rx) < 0)
		return codec_fail(c, "the handshake's split failed");
	esp_noise_wipe(c->psk, sizeof(c->psk));
	c->rd.limit = ESP_MAX_FRAME;
	c->st = ESP_READY;
	return 0;
}

/* one message to cb; 0 or -1 */
static int codec_deliver(struct esp_codec *c, unsigned type, const uint8_t *p, size_t n, esp_msg_cb cb,
			 void *ud)
{
	static const uint8_t empty[1];
	const ProtobufCMessageDescriptor *d = esp_msg_descriptor(type);
	ProtobufCMessage *m;

	if (!d) {
		cb(ud, type, NULL);
		return 0;
	}
	m = protobuf_c_message_unpack(d, NULL, n, n ? p : empty);
	if (!m)
		return codec_fail(c, "message %u (%s, %zu bytes) does not decode", type, d->short_name, n);
	cb(ud, type, m);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

/* a transport frame: decrypted in place; type, length, the message */
static int codec_transport(struct esp_codec *c, uint8_t *p, size_t n, esp_msg_cb cb, void *ud)
{
	long m = esp_noise_cs_decrypt(&c->rx, NULL, 0, p, n, p, n);
	size_t len;

	if (m < 0)
		return codec_fail(c, "a frame that does not decrypt (%zu bytes, frame %llu)", n,
				  (unsigned long long)c->rx.n);
	if (m < 4)
		return codec_fail(c, "a decrypted frame of %ld bytes (4 at least)", m);
	len = (size_t)p[2] << 8 | p[3];
	if (len > (size_t)m - 4)
		return codec_fail(c, "a message of %zu bytes in a frame of %ld", len, m - 4);
	return codec_deliver(c, (unsigned)p[0] << 8 | p[1], p + 4, len, cb, ud);
}

static int codec_frame(struct esp_codec *c, esp_msg_cb cb, void *ud)
{
	struct esp_frame_reader *r = &c->rd;

	switch (c->st) {
	case ESP_PLAIN:
		return codec_deliver(c, r->type, r->buf, r->len, cb, ud);
	case ESP_HELLO:
		return codec_server_hello(c, r->buf, r->len);
	case ESP_HANDSHAKE:
		return codec_handshake(c, r->buf, r->len);
	case ESP_READY:
		return codec_transport(c, r->buf, r->len, cb, ud);
	default:
		return codec_fail(c, "a frame in state %d", (int)c->st);
	}
}

int esp_codec_feed(struct esp_codec *c, const uint8_t *p, size_t n, esp_msg_cb cb, void *ud, char *why,
		   size_t wl)
{
	size_t used;
	int rc = 0;

	if (c->st == ESP_NEW)
		codec_fail(c, "data before the handshake started");
	while (c->st != ESP_FAILED && n) {
		rc = esp_frame_take(&c->rd, p, n, &used, c->why, sizeof(c->why));
		p += used;
		n -= used;
		if (rc < 0)
			c->st = ESP_FAILED;
		else if (rc == 0)
			break;
		else
			codec_frame(c, cb, ud);
	}
	if (c->st != ESP_FAILED)
		return 0;
	if (wl)
		snprintf(why, wl, "%s", c->why);
	return -1;
}

/* a plaintext frame: header, then the message packed */
static long codec_send_plain(unsigned type, const ProtobufCMessage *msg, size_t size, uint8_t *out,
			     size_t cap)
{
	uint8_t h[ESP_PLAIN_HDR];
	int hl = esp_frame_plain_header((uint32_t)size, type, h);

	if (hl < 0 || cap < (size_t)hl + size)
		return -1;
	memcpy(out, h, (size_t)hl);
	if (protobuf_c_message_pack(msg, out + hl) != size)
		return -1;
	return hl + (long)size;
}

long esp_codec_send(struct esp_codec *c, unsigned type, const ProtobufCMessage *msg, uint8_t *out,
		    size_t cap)
{
	const ProtobufCMessageDescriptor *d = esp_msg_descriptor(type);
	size_t size;
	long m;

	if (!d || !msg || msg->descriptor != d || (c->st != ESP_PLAIN && c->st != ESP_READY))
		return -1;
	size = protobuf_c_message_get_packed_size(msg);
	if (size > ESP_MAX_FRAME)
		return -1;
	if (c->st == ESP_PLAIN)
		return codec_send_plain(type, msg, size, out, cap);
	/* 01 LL LL, then encrypted: type, length, the message; and the tag */
	if (size + 4 + ESP_NOISE_TAG > ESP_MAX_FRAME || cap < ESP_SEND_OVERHEAD + size)
		return -1;
	out[3] = (uint8_t)(type >> 8);
	out[4] = (uint8_t)type;
	out[5] = (uint8_t)(size >> 8);
	out[6] = (uint8_t)size;
	if (protobuf_c_message_pack(msg, out + 7) != size)
		return -1;
	m = esp_noise_cs_encrypt(&c->tx, NULL, 0, out + 3, size + 4, out + 3, cap - 3);
	if (m < 0 || esp_frame_noise_header((size_t)m, out) < 0)
		return -1;
	return 3 + m;
}
