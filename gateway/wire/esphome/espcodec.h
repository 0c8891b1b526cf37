/* SPDX-License-Identifier: MIT */
/* gateway/wire/esphome/espcodec.h - one ESPHome native API connection's
 * bytes <-> messages, as a client (bmsgw is the client of a Bluetooth
 * proxy): plaintext, or encrypted with Noise_NNpsk0_25519_ChaChaPoly_SHA256
 * and the device's `api: encryption: key:`.  The transport (socket, loop,
 * session) is the caller's; this is pure code: no I/O, no loop, no logging.
 *
 * Noise, as ESPHome's server (esphome/esphome,
 * esphome/components/api/api_frame_helper_noise.cpp) and its Python client
 * (https://github.com/esphome/aioesphomeapi/blob/main/aioesphomeapi/_frame_helper/noise.py) do it:
 *   client: 01 00 00             an empty "client hello" frame
 *           01 LL LL 00 <e>      the handshake frame: 00, then Noise's first
 *                                message (psk, e: 32 + 16 bytes, no payload)
 *   server: 01 LL LL 01 name 00 [mac 00]   the server hello (the protocol
 *                                it chose, 1; its name since ESPHome
 *                                2022.2, its MAC since 2025.4)
 *           01 LL LL 00 <e, ee>  the handshake answer, or 01 LL LL <non-0>
 *                                text: refused (text "Handshake MAC
 *                                failure": the key is not the proxy's)
 *   The prologue is "NoiseAPIInit" 00 00 (the client hello's length, 0, and
 *   its empty body).  Then each frame's payload is the ChaCha20-Poly1305
 *   ciphertext of: type (2 bytes BE), length (2 bytes BE), the protobuf.
 * Plaintext: 00, varint length, varint type, the protobuf. */
#ifndef GATEWAY_WIRE_ESPHOME_ESPCODEC_H
#define GATEWAY_WIRE_ESPHOME_ESPCODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "espframe.h"

struct esp_codec; /* one API connection's bytes <-> messages */

/* a whole message: type its ESPHome id; msg NULL for an id bmsgw does not
 * decode (skipped).  msg is freed when the callback returns.  The callback
 * may call esp_codec_send(), never esp_codec_free(). */
typedef void (*esp_msg_cb)(void *ud, unsigned type, const ProtobufCMessage *msg);

/* psk NULL: plaintext; NULL when out of memory */
struct esp_codec *esp_codec_new(const uint8_t psk[32]);
void esp_codec_free(struct esp_codec *c);

/* What to send first (Noise: the client hello and the handshake frame, 55
 * bytes; plaintext: nothing): its length, -1 if cap is too small, the
 * handshake already started or OpenSSL failed */
#define ESP_START_MAX 55
long esp_codec_start(struct esp_codec *c, uint8_t *out, size_t cap);

/* plaintext: always; Noise: the handshake done */
bool esp_codec_ready(const struct esp_codec *c);
/* the name (and MAC, 12 hex digits) in the Noise server hello; "" without */
const char *esp_codec_server_name(const struct esp_codec *c);
const char *esp_codec_server_mac(const struct esp_codec *c);

/* Feed whatever read() returned (any chunking).  Each whole message is
 * decoded and handed to cb; the handshake frames are consumed here.
 * 0, or -1 with why: a bad indicator byte (the other framing: the proxy's
 * encryption differs from ours), a bad varint, a frame over the limit
 * (ESP_MAX_FRAME, ESP_MAX_HANDSHAKE while the handshake runs), a frame
 * that does not decrypt, a handshake the proxy refused (its text), a
 * protobuf that does not decode.  The connection must then be closed;
 * every later call returns -1 with the same why. */
int esp_codec_feed(struct esp_codec *c, const uint8_t *p, size_t n, esp_msg_cb cb, void *ud, char *why,
		   size_t wl);

/* msg (type its ESPHome id, msg of that message's descriptor) as one
 * frame, encrypted once ready, into out: its length, or -1 (cap too small,
 * not ready, an id or descriptor not in the table, over 65535 bytes).
 * Room enough: ESP_SEND_OVERHEAD + protobuf_c_message_get_packed_size(). */
#define ESP_SEND_OVERHEAD (3 + 4 + 16)
long esp_codec_send(struct esp_codec *c, unsigned type, const ProtobufCMessage *msg, uint8_t *out,
		    size_t cap);

/* For the tests and fuzz targets only (a known answer): the ephemeral key
 * the next esp_codec_start() uses instead of a random one. */
void esp_codec_fix_ephemeral(struct esp_codec *c, const uint8_t e_priv[32]);

/* ---- the messages (espmsgs.c): every message of esphome_api.proto that
 * has an id */
/* the descriptor of an id; NULL for one bmsgw does not decode */
const ProtobufCMessageDescriptor *esp_msg_descriptor(unsigned type);
/* the id of a descriptor; 0 for none */
unsigned esp_msg_id(const ProtobufCMessageDescriptor *d);
/* the table itself, for the tests: n entries */
struct esp_msg_entry {
	unsigned id;
	const ProtobufCMessageDescriptor *desc;
};
const struct esp_msg_entry *esp_msg_table(size_t *n);

#endif
