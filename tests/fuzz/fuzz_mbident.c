/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_mbident.c - libFuzzer target: request PDUs to the
 * identification functions (gateway/modbus/mbident.c), FC 0x2B / MEI 0x0E
 * and FC 0x11, as any client may send them.
 *
 * Input:
 *	byte 0	the unit's identity: bit 0 a VendorUrl, bits 1-2 how long
 *		its strings are (empty, 6, 200 or 300 characters), bit 3
 *		fresh, bits 4-7 shift the lengths of objects 2, 4, 5, 6
 *	the rest	the request PDU (function code first)
 * Invariants: an answer is a PDU of at most 253 bytes starting with the
 * function code, or one of the exceptions 0x01-0x04 (0x02 only for an
 * individual object, 0x04 never with a PDU-sized buffer); a device
 * identification answer echoes the MEI type and code, says conformity
 * 0x82, holds exactly the objects it counts, each whole, in ascending
 * order, an object of its stream; More Follows is 0x00 (Next Object Id 0)
 * or 0xFF with a Next Object Id beyond the last object sent; following
 * Next Object Id reads the whole stream in at most 7 answers; FC 0x11
 * answers with its byte count, the unit id and the run indicator. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/modbus/mbident.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static char text[4][7][301];

/* Check one device identification answer; returns More Follows' Next
 * Object Id, or -1 when the stream is complete. */
static int check_devid(const uint8_t *req, const uint8_t *out, int n)
{
	REQUIRE(n >= 7 && out[0] == 0x2B && out[1] == 0x0E && out[2] == req[2] && out[3] == 0x82);
	int pos = 7, prev = -1, last = req[2] == 1 ? 2 : 6;
	for (int k = 0; k < out[6]; k++) {
		REQUIRE(pos + 2 <= n && pos + 2 + out[pos + 1] <= n);
		REQUIRE(out[pos] > prev && out[pos] <= last && out[pos + 1] <= MBID_OBJ_MAX);
		prev = out[pos];
		pos += 2 + out[pos + 1];
	}
	REQUIRE(pos == n);
	if (req[2] == 4) {
		REQUIRE(out[6] == 1 && out[7] == req[3] && out[4] == 0 && out[5] == 0);
		return -1;
	}
	if (out[4] == 0x00) {
		REQUIRE(out[5] == 0);
		return -1;
	}
	REQUIRE(out[4] == 0xFF && out[5] > prev && out[5] <= last);
	return out[5];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t lens[4] = { 0, 6, 200, 300 };
	if (size < 1)
		return 0;
	for (int v = 0; v < 4; v++)
		for (int o = 0; o < 7; o++) {
			memset(text[v][o], 'a' + o, lens[v]);
			text[v][o][lens[v]] = 0;
		}
	int v = (data[0] >> 1) & 3;
	struct mbid_identity id = {
		.product_code = text[v][1],
		.revision = text[(v + (data[0] >> 4)) & 3][2],
		.vendor_url = (data[0] & 1) ? text[v][3] : NULL,
		.product_name = text[(v + (data[0] >> 5)) & 3][4],
		.model_name = text[(v + (data[0] >> 6)) & 3][5],
		.app_name = text[(v + (data[0] >> 7)) & 3][6],
		.server_id = (uint8_t)size,
		.running = (data[0] & 8) != 0,
	};
	const uint8_t *req = data + 1;
	size_t len = size - 1;
	uint8_t out[MBID_PDU_MAX + 16];
	memset(out, 0xA5, sizeof(out));
	int n = mbid_reply(&id, req, len, out, MBID_PDU_MAX);
	for (size_t i = MBID_PDU_MAX; i < sizeof(out); i++)
		REQUIRE(out[i] == 0xA5);
	if (n < 0) {
		REQUIRE(n >= -4 && n <= -1 && n != -4);
		if (n == -2)
			REQUIRE(len == 4 && req[0] == 0x2B && req[1] == 0x0E && req[2] == 4);
		return 0;
	}
	REQUIRE(n >= 2 && n <= MBID_PDU_MAX && out[0] == req[0] && len >= 1);
	if (req[0] == 0x11) {
		REQUIRE(len == 1 && out[1] == n - 2 && out[2] == id.server_id);
		REQUIRE(out[3] == (id.running ? 0xFF : 0x00));
		return 0;
	}
	REQUIRE(req[0] == 0x2B && len == 4);
	int next = check_devid(req, out, n);
	/* follow the stream to its end as a client would */
	for (int answers = 1; next >= 0; answers++) {
		REQUIRE(answers < 7);
		uint8_t r2[4] = { 0x2B, 0x0E, req[2], (uint8_t)next };
		n = mbid_reply(&id, r2, 4, out, MBID_PDU_MAX);
		REQUIRE(n > 0 && n <= MBID_PDU_MAX);
		int n2 = check_devid(r2, out, n);
		REQUIRE(n2 < 0 || n2 > next);
		next = n2;
	}
	return 0;
}
