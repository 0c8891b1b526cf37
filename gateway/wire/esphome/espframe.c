/* SPDX-License-Identifier: MIT */
/* gateway/wire/esphome/espframe.c - the native API's frame reader and
 * headers, plaintext and Noise (see espframe.h for the layouts and their
 * sources). */
#include "espframe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void esp_frame_init(struct esp_frame_reader *r, bool noise, uint32_t limit)
{
	memset(r, 0, sizeof(*r));
	r->noise = noise;
	r->limit = limit;
}

void esp_frame_free(struct esp_frame_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

static int frame_fail(char *why, size_t wl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int frame_fail(char *why, size_t wl, const char *fmt, ...)
{
	va_list ap;

	if (wl) {
		va_start(ap, fmt);
		vsnprintf(why, wl, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* the header is read: room for the payload; 0 or -1 */
static int frame_room(struct esp_frame_reader *r, char *why, size_t wl)
{
	uint8_t *b;

	if (r->len > r->limit)
		return frame_fail(why, wl, "a frame of %u bytes (longer than the limit)", r->len);
	if (r->len > r->cap) {
		b = realloc(r->buf, r->len);
		if (!b)
			return frame_fail(why, wl, "no memory for a frame of %u bytes", r->len);
		r->buf = b;
		r->cap = r->len;
	}
	r->stage = 3;
	r->got = 0;
	return 0;
}

/* one byte of a plaintext varint (stage 1 length, 2 type); 1 when the
 * number is complete, 0 for more, -1 */
static int frame_varint(struct esp_frame_reader *r, uint8_t c, char *why, size_t wl)
{
	/* the fifth byte carries bits 28..31 of a uint32: no more */
	if (r->vbytes == ESP_VARINT_MAX - 1 && (c & 0xf0))
		return frame_fail(why, wl, "a bad varint in a frame header (over 32 bits, byte 0x%02x)", c);
	r->acc |= (uint32_t)(c & 0x7f) << (7 * r->vbytes);
	r->vbytes++;
	if (c & 0x80)
		return 0;
	r->vbytes = 0;
	return 1;
}

/* one header byte; 0 or -1 (r->stage 3: the payload is next) */
static int frame_header_byte(struct esp_frame_reader *r, uint8_t c, char *why, size_t wl)
{
	uint8_t want = r->noise ? 0x01 : 0x00;
	int rc;

	if (r->stage == 0) {
		if (c == want) {
			r->stage = 1;
			r->acc = 0;
			r->vbytes = 0;
			return 0;
		}
		if (c == 0x01)
			return frame_fail(why, wl, "indicator byte 0x%02x: the proxy wants encryption (set its key)", c);
		if (c == 0x00)
			return frame_fail(why, wl, "indicator byte 0x%02x: the proxy has no encryption key (plaintext)", c);
		return frame_fail(why, wl, "bad indicator byte 0x%02x", c);
	}
	if (r->noise) { /* two bytes of length, big-endian */
		r->acc = r->acc << 8 | c;
		if (++r->vbytes < 2)
			return 0;
		r->len = r->acc;
		return frame_room(r, why, wl);
	}
	rc = frame_varint(r, c, why, wl);
	if (rc <= 0)
		return rc;
	if (r->stage == 1) {
		r->len = r->acc;
		r->acc = 0;
		r->stage = 2;
		return r->len > r->limit ? frame_fail(why, wl, "a frame of %u bytes (longer than the limit)", r->len)
					 : 0;
	}
	r->type = r->acc;
	if (r->type > 0xffff)
		return frame_fail(why, wl, "message type %u (over 65535)", r->type);
	return frame_room(r, why, wl);
}

int esp_frame_take(struct esp_frame_reader *r, const uint8_t *p, size_t n, size_t *used, char *why,
		   size_t wl)
{
	size_t i = 0, k;

	if (r->stage == 3 && r->got == r->len) /* the last frame was handed out */
		r->stage = 0;
	while (i < n && r->stage < 3) {
		if (frame_header_byte(r, p[i++], why, wl) < 0) {
			*used = i;
			return -1;
		}
	}
	if (r->stage == 3) {
		k = r->len - r->got;
		if (k > n - i)
			k = n - i;
		if (k)
			memcpy(r->buf + r->got, p + i, k);
		r->got += (uint32_t)k;
		i += k;
	}
	*used = i;
	return r->stage == 3 && r->got == r->len ? 1 : 0;
}

static int put_varint(uint32_t v, uint8_t *out)
{
	int i = 0;

	while (v >= 0x80) {
		out[i++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[i++] = (uint8_t)v;
	return i;
}

int esp_frame_plain_header(uint32_t len, uint32_t type, uint8_t *out)
{
	int i = 1;

	if (len > ESP_MAX_FRAME || type > 0xffff)
		return -1;
	out[0] = 0x00;
	i += put_varint(len, out + i);
	i += put_varint(type, out + i);
	return i;
}

int esp_frame_noise_header(size_t len, uint8_t out[3])
{
	if (len > ESP_MAX_FRAME)
		return -1;
	out[0] = 0x01;
	out[1] = (uint8_t)(len >> 8);
	out[2] = (uint8_t)len;
	return 3;
}
