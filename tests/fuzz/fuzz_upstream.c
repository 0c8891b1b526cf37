/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_upstream.c - libFuzzer target for what the upstream
 * pusher (gateway/modbus/upstream.c) reads from the server it writes to:
 * its FC16 request's transaction, address and count from the input's first
 * five bytes, then arbitrary server bytes in arbitrary chunks, cut into
 * frames (gw_mbap_frame) and read as the request's answer (gw_fc16_answer)
 * as the pusher does.  Nothing reads out of bounds; a frame is 8..260 bytes
 * of what was read; a frame taken as the write's echo is 12 bytes with the
 * request's id, function, address and count; an exception 9 bytes with
 * 0x90 and a code other than 0; the request built from the same numbers is one whole frame, and its
 * echo is taken as written. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/modbus/mbap.h"
#include "fuzzin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(uint16_t tid, uint16_t addr, unsigned count)
{
	uint16_t regs[GW_FC16_MAX];
	uint8_t req[7 + 6 + 2 * GW_FC16_MAX];
	for (unsigned i = 0; i < count; i++)
		regs[i] = (uint16_t)(tid ^ (addr + i));
	size_t n = gw_fc16_request(req, tid, 1, addr, regs, count);
	if (n != 13 + 2 * count || gw_mbap_frame(req, n) != (int)n || gw_mbap_frame(req, n - 1) != 0)
		abort();
	/* the echo: the request's first 12 bytes, its length field 6 */
	uint8_t echo[12];
	memcpy(echo, req, sizeof(echo));
	echo[4] = 0;
	echo[5] = 6;
	int code;
	if (gw_fc16_answer(echo, sizeof(echo), tid, addr, count, &code) != GW_FC16_WRITTEN)
		abort();
}

static void check_answer(const uint8_t *f, size_t n, uint16_t tid, uint16_t addr, unsigned count)
{
	int code = 0x1234;
	enum gw_fc16_verdict v = gw_fc16_answer(f, n, tid, addr, count, &code);
	unsigned id = (unsigned)(f[0] << 8 | f[1]);
	switch (v) {
	case GW_FC16_OTHER:
		if (id == tid)
			abort();
		break;
	case GW_FC16_WRITTEN:
		if (id != tid || n != 12 || f[7] != 0x10 || (unsigned)(f[8] << 8 | f[9]) != addr ||
		    (unsigned)(f[10] << 8 | f[11]) != count)
			abort();
		break;
	case GW_FC16_EXCEPTION:
		if (id != tid || n != 9 || f[7] != 0x90 || code != f[8] || code == 0)
			abort();
		break;
	case GW_FC16_MALFORMED:
		if (id != tid || code != f[7])
			abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	uint16_t tid = (uint16_t)(data[0] << 8 | data[1]), addr = (uint16_t)(data[2] << 8 | data[3]);
	unsigned count = 1u + data[4] % GW_FC16_MAX;
	check_request(tid, addr, count);
	/* the pusher's buffer: a partial frame and a read's worth */
	uint8_t buf[2 * ADU_MAX];
	size_t len = 0, got;
	struct fz_in in = { data + 5, size - 5 };
	while ((got = fz_read(&in, buf + len, sizeof(buf) - len)) > 0) {
		len += got;
		for (int al; (al = gw_mbap_frame(buf, len)) != 0;) {
			if (al < 0) {
				len = 0; /* the pusher drops the connection */
				break;
			}
			if (al < 8 || al > ADU_MAX || (size_t)al > len)
				abort();
			check_answer(buf, (size_t)al, tid, addr, count);
			memmove(buf, buf + al, len - (size_t)al);
			len -= (size_t)al;
		}
		if (len >= ADU_MAX)
			abort(); /* a complete frame is always taken: a read (64) always fits */
	}
	return 0;
}
