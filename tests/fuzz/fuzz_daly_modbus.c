/* tests/fuzz/fuzz_daly_modbus.c - libFuzzer target: whole polls of the Daly
 * H/K/M/S Modbus-like driver, driven the way gateway/poller.c drives it.
 *
 * Input:
 *	byte 0	board address (& 0x1f: 0 and 17..31 are invalid)
 *	byte 1	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 2	bit 0 invert_current, bits 2..3 retries
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFF	a synthesised reply with a correct CRC: the next byte K
 *			picks the address (bits 0..1: own board, board + 1,
 *			0x51, 0xD2), bit 2 an exception reply, bit 3 the other
 *			read's size; then the register data are taken from the
 *			input (zero-padded) and the frame arrives as one read.
 *			CRCs are out of a mutator's reach, so this reaches the
 *			decoders with arbitrary register contents.
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

struct sim {
	const struct bms_driver *drv;
	struct bms_poll poll;
	struct bms_rx rx;
	uint8_t address, cells_forced;
	bool invert;
	int retries;
	bool need_request;
	bool done;
	uint8_t req[8]; /* the outstanding request */
};

static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

static void sim_begin(struct sim *s)
{
	bms_poll_begin(&s->poll, s->address, s->cells_forced, s->invert);
	bms_rx_clear(&s->rx);
	s->need_request = true;
}

static void check_snap(const struct bms_snapshot *sn)
{
	REQUIRE(sn->ncells <= BMS_MAX_CELLS);
	REQUIRE(sn->ntemps <= BMS_MAX_TEMPS);
	REQUIRE(sn->nraw <= BMS_MAX_RAW_ALARMS);
	REQUIRE(sn->state <= 2);
	REQUIRE((sn->alarms >> BMS_AL_COUNT) == 0);
	/* the protocol gives no SOH, full capacity or power of its own */
	REQUIRE(!(sn->present & (BMS_HAS_SOH | BMS_HAS_FULL | BMS_HAS_POWER)));
	if (sn->present & BMS_HAS_TEMPS)
		REQUIRE(sn->ntemps > 0);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -40.0f && sn->temp_c[i] <= 214.0f);
	REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
}

static void sim_fail_step(struct sim *s)
{
	if (s->drv->timeout && s->drv->timeout(&s->poll)) {
		s->poll.attempt = 0;
		s->need_request = true;
		return;
	}
	if (s->poll.attempt < s->retries) {
		s->poll.attempt++;
		s->need_request = true;
		return;
	}
	sim_begin(s);
}

static void sim_request(struct sim *s)
{
	uint8_t req[32];
	int n = s->drv->next_request(&s->poll, req, sizeof(req));

	s->need_request = false;
	bms_rx_clear(&s->rx);
	if (n < 0) {
		REQUIRE(n == BMS_E_RANGE && (s->address < 1 || s->address > 16));
		s->done = true;
		return;
	}
	if (n == 0) {
		int rc = s->drv->finish(&s->poll);
		REQUIRE(rc == BMS_OK || rc == BMS_E_INVALID);
		check_snap(&s->poll.snap);
		if (rc == BMS_OK) {
			const struct bms_snapshot *sn = &s->poll.snap;
			REQUIRE(sn->voltage > 0 && sn->ncells > 0);
			REQUIRE(sn->present & BMS_HAS_CELLS);
			REQUIRE(sn->present & BMS_HAS_ALARMS);
			if (s->cells_forced)
				REQUIRE(sn->ncells == (s->cells_forced < 32 ? s->cells_forced : 32));
			if (sn->ncells < 32)
				REQUIRE((sn->balance >> sn->ncells) == 0);
			bms_snapshot_derive(&s->poll.snap);
		}
		sim_begin(s);
		return;
	}
	REQUIRE(n == 8);
	REQUIRE(req[0] == 0x80 + s->address && req[1] == 0x03);
	uint16_t crc = crc16(req, 6);
	REQUIRE(req[6] == (uint8_t)crc && req[7] == (uint8_t)(crc >> 8));
	unsigned start = (unsigned)(req[2] << 8 | req[3]), count = (unsigned)(req[4] << 8 | req[5]);
	REQUIRE(count >= 1 && count <= 125 && start + count <= 0x80);
	memcpy(s->req, req, 8);
	/* the echo of our own request is never a frame */
	size_t en = 0;
	REQUIRE(s->drv->scan(&s->poll, req, 8, &en) == BMS_SCAN_SKIP && en == 8);
}

static void sim_bytes(struct sim *s, const uint8_t *p, size_t n)
{
	bms_rx_feed(&s->rx, p, n);
	REQUIRE(s->rx.len <= BMS_RX_CAP);
	for (;;) {
		size_t fl = 0;
		enum bms_scan sc = s->drv->scan(&s->poll, s->rx.buf, s->rx.len, &fl);

		if (sc == BMS_SCAN_NEED)
			return;
		REQUIRE(sc == BMS_SCAN_SKIP || sc == BMS_SCAN_FRAME);
		REQUIRE(fl >= 1 && fl <= s->rx.len);
		if (sc == BMS_SCAN_SKIP) {
			bms_rx_consume(&s->rx, fl);
			continue;
		}
		REQUIRE(fl >= 5 && crc16(s->rx.buf, fl - 2) ==
				   (uint16_t)(s->rx.buf[fl - 2] | s->rx.buf[fl - 1] << 8));
		int step = s->poll.step;
		int rc = s->drv->handle(&s->poll, s->rx.buf, fl);
		bms_rx_consume(&s->rx, fl);
		check_snap(&s->poll.snap);
		/* scan() checked length and CRC: only these can come back */
		REQUIRE(rc == BMS_OK || rc == BMS_E_UNEXPECTED || rc == BMS_E_RANGE);
		REQUIRE(rc == BMS_OK ? s->poll.step == step + 1 : s->poll.step == step);
		if (rc == BMS_E_UNEXPECTED)
			continue;
		if (rc == BMS_OK) {
			s->poll.attempt = 0;
			s->need_request = true;
		} else {
			sim_fail_step(s);
		}
		return;
	}
}

/* E == 0xFF: a well-formed reply built from the input. */
static size_t sim_synth(struct sim *s, const uint8_t *p, size_t avail)
{
	static const uint8_t addrs[4] = { 0, 1, 0x51, 0xD2 };
	uint8_t f[5 + 250];
	size_t used = 0, len;

	if (avail == 0)
		return 0;
	uint8_t k = p[used++];
	uint8_t a = addrs[k & 3];
	f[0] = a == 0 ? (uint8_t)(0x50 + s->address) : a == 1 ? (uint8_t)(0x51 + s->address) : a;
	if (k & 4) {
		f[1] = 0x83;
		f[2] = 0x02;
		len = 3;
	} else {
		unsigned count = (unsigned)(s->req[4] << 8 | s->req[5]);
		if (count == 0 || (k & 8))
			count = count == 0x40 ? 0x3E : 0x40;
		f[1] = 0x03;
		f[2] = (uint8_t)(2 * count);
		for (unsigned i = 0; i < 2 * count; i++)
			f[3 + i] = used < avail ? p[used++] : 0;
		len = 3 + 2 * count;
	}
	uint16_t crc = crc16(f, len);
	f[len] = (uint8_t)crc;
	f[len + 1] = (uint8_t)(crc >> 8);
	sim_bytes(s, f, len + 2);
	return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sim s; /* large (rx buffer): keep it off the stack */

	if (size < 3)
		return 0;
	memset(&s, 0, sizeof(s));
	s.drv = &bms_daly_modbus_driver;
	s.address = data[0] & 0x1f;
	s.cells_forced = (data[1] & 0x40) ? (data[1] & 0x3f) : 0;
	s.invert = data[2] & 1;
	s.retries = (data[2] >> 2) & 3;
	sim_begin(&s);

	size_t off = 3;
	while (!s.done) {
		if (s.need_request) {
			sim_request(&s);
			continue;
		}
		if (off >= size)
			break;
		size_t l = data[off++];
		if (l == 0) {
			sim_fail_step(&s);
			continue;
		}
		if (l == 0xFF) {
			off += sim_synth(&s, data + off, size - off);
			continue;
		}
		if (l > size - off)
			l = size - off;
		sim_bytes(&s, data + off, l);
		off += l;
	}
	return 0;
}
