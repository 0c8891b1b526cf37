/* SPDX-License-Identifier: MIT */
/* gateway/wire/esphome/espframe.h - the two framings of the ESPHome native
 * API (TCP 6053), as ESPHome's server (esphome/esphome,
 * esphome/components/api/api_frame_helper_plaintext.cpp and
 * api_frame_helper_noise.cpp) and its Python client's frame helpers
 * (https://github.com/esphome/aioesphomeapi/blob/main/aioesphomeapi/_frame_helper/) read and write
 * them:
 *
 *	plaintext  00, varint payload length, varint message type, payload
 *	Noise      01, payload length (2 bytes, big-endian), payload
 *
 * The reader is a state machine fed whatever read() returned; it yields one
 * whole frame at a time.  Pure: no I/O, no logging (the payload buffer
 * grows with the frames, up to ESP_MAX_FRAME). */
#ifndef GATEWAY_WIRE_ESPHOME_ESPFRAME_H
#define GATEWAY_WIRE_ESPHOME_ESPFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest payload: a Noise frame's length has 16 bits, and ESPHome
 * writes a plaintext payload's length from a uint16_t as well
 * (MessageInfo::payload_size, https://github.com/esphome/esphome/blob/dev/esphome/components/api/api_frame_helper.h); its own receive limit is
 * lower (32 KiB on an ESP32, 8 KiB on an ESP8266: MAX_MESSAGE_SIZE). */
#define ESP_MAX_FRAME 65535u
/* ESPHome's limit for a handshake frame (MAX_HANDSHAKE_SIZE): its server
 * hello is 1 + name (31 at most) + 1 + MAC (12) + 1 bytes, its handshake
 * answer 1 + 32 + 16 */
#define ESP_MAX_HANDSHAKE 128u
/* a varint of the header: a uint32 is 5 bytes at most */
#define ESP_VARINT_MAX 5
/* the longest plaintext header: 00, two varints of values up to 65535 */
#define ESP_PLAIN_HDR 7

struct esp_frame_reader {
	bool noise;        /* the framing: plaintext or Noise */
	uint32_t limit;    /* the longest payload accepted now */
	uint8_t stage;     /* 0 indicator, 1 length, 2 type (plaintext), 3 payload */
	uint8_t vbytes;    /* bytes of the varint (or Noise length) so far */
	uint32_t acc;      /* the number being read */
	uint32_t len;      /* the payload's length */
	uint32_t type;     /* plaintext: the message type */
	uint32_t got;      /* payload bytes so far */
	uint8_t *buf;      /* the payload (malloc, grows) */
	uint32_t cap;
};

void esp_frame_init(struct esp_frame_reader *r, bool noise, uint32_t limit);
void esp_frame_free(struct esp_frame_reader *r);

/* Read from p[n]: *used bytes are consumed.  1: a whole frame (r->buf,
 * r->len; plaintext: r->type), valid until the next call; 0: all n used, the
 * frame not complete; -1: a malformed frame (why says which), the reader
 * unusable. */
int esp_frame_take(struct esp_frame_reader *r, const uint8_t *p, size_t n, size_t *used, char *why,
		   size_t wl);

/* The plaintext header for a payload of len bytes of message type into
 * out (ESP_PLAIN_HDR bytes at most): its length, or -1 (over 65535) */
int esp_frame_plain_header(uint32_t len, uint32_t type, uint8_t *out);
/* The Noise header 01 LL LL into out; -1 when len is over 65535 */
int esp_frame_noise_header(size_t len, uint8_t out[3]);

#endif
