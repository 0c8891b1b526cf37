/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_ant.c - libFuzzer target: whole polls of the ANT BMS
 * driver, both dialects (7E A1 status, device information and settings, the legacy
 * 140-byte AA 55 AA FF frame), over the wire or Bluetooth LE, the dialect
 * learned from poll to poll, driven the way gateway/poll/poller.c drives it
 * (harness: fuzz_drive.h).
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address; the
 * persist bit starts with the 7E A1 dialect learned), then events, by
 * their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFF	a synthesised answer with a correct check: the next byte K
 *			picks it (K & 1: a legacy frame, its sum made right;
 *			else K & 2 and K & 4: a settings answer to the last
 *			settings read asked (K & 8: of a length from the
 *			input; K & 16: without the 6 bytes before AA 55);
 *			else K & 2: a device information, 48 bytes; else a
 *			status of (K >> 2) cells and the next byte % 8 probes,
 *			its length field the layout's), its body from the input
 *			(zero-padded), its CRC and AA 55 made right; it arrives
 *			as 20-byte notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>

#include "fuzz_drive.h"

static uint16_t ant_crc(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

/* The last settings read asked (address, length; 0 = none): a synthesised
 * settings answer echoes it. */
static unsigned last_set_addr, last_set_len;

/* Only the reads: 7E A1 01 (status), 7E A1 02 at 0x026C (device
 * information) or at a settings register below 0x00A0 (2 bytes, or the
 * block 0x0000 of 0x38), DB DB 00 00 00 00 or, on the wire only,
 * 5A 5A 00 00 01 01. */
static void ant_request(const struct fd *s, const uint8_t *req, int n)
{
	static const uint8_t st[10] = { 0x7E, 0xA1, 0x01, 0x00, 0x00, 0xBE, 0x18, 0x55, 0xAA, 0x55 };
	static const uint8_t info[10] = { 0x7E, 0xA1, 0x02, 0x6C, 0x02, 0x20, 0x58, 0xC4, 0xAA, 0x55 };
	static const uint8_t wire[6] = { 0x5A, 0x5A, 0x00, 0x00, 0x01, 0x01 };
	static const uint8_t ble[6] = { 0xDB, 0xDB, 0x00, 0x00, 0x00, 0x00 };
	if (n == 10 && req[2] == 0x02 && !(req[3] == 0x6C && req[4] == 0x02)) {
		unsigned a = (unsigned)(req[3] | req[4] << 8);
		REQUIRE(req[0] == 0x7E && req[1] == 0xA1 && req[8] == 0xAA && req[9] == 0x55);
		REQUIRE(ant_crc(req + 1, 5) == (uint16_t)(req[6] | req[7] << 8));
		REQUIRE(a < 0xA0 && !(a & 1) && (req[5] == 2 || (a == 0 && req[5] == 0x38)));
		last_set_addr = a;
		last_set_len = req[5];
		return;
	}
	if (n == 10) {
		REQUIRE(memcmp(req, st, 10) == 0 || memcmp(req, info, 10) == 0);
		return;
	}
	REQUIRE(n == 6 && (memcmp(req, ble, 6) == 0 || (s->link != BMS_LINK_BLE && memcmp(req, wire, 6) == 0)));
}

static void ant_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	if (f[0] == 0xAA) {
		REQUIRE(n == 140 && f[1] == 0x55 && f[2] == 0xAA && f[3] == 0xFF);
		unsigned sum = 0;
		for (size_t i = 4; i < 138; i++)
			sum += f[i];
		REQUIRE((uint16_t)sum == (uint16_t)(f[138] << 8 | f[139]));
		return;
	}
	REQUIRE(n >= 10 && f[0] == 0x7E && f[1] == 0xA1 && (f[2] & 0x10) && f[n - 2] == 0xAA && f[n - 1] == 0x55);
	size_t body = (size_t)f[5] + 6;
	REQUIRE(n == body + 4 || (f[2] == 0x12 && n == body + 10));
	REQUIRE(ant_crc(f + 1, body - 1) == (uint16_t)(f[body] | f[body + 1] << 8));
}

static void ant_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current) && isfinite(sn->power));
	REQUIRE(fabsf(sn->current) <= 3276.8f && sn->voltage >= 0 && sn->voltage <= 6553.6f);
	REQUIRE(isfinite(sn->remain_ah) && isfinite(sn->full_ah) && sn->remain_ah >= 0 && sn->full_ah >= 0);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -32768 && sn->temp_c[i] <= 32767 && sn->temp_c[i] != -40); /* s16, as read */
	if (sn->present & BMS_HAS_MOS_TEMP)
		REQUIRE(sn->mos_temp_c >= -32768 && sn->mos_temp_c <= 32767 && sn->mos_temp_c != -40);
	REQUIRE(sn->nraw == 0 || sn->nraw == 2 || sn->nraw == 4);
	REQUIRE(sn->chg_mos == ((sn->raw_alarms[0] & 0xFF) == 1) || !(sn->present & BMS_HAS_MOSFETS));
	/* a power served agrees with V x I on the legacy frame (nraw 2) */
	if ((sn->present & BMS_HAS_POWER) && sn->nraw == 2) {
		float vi = sn->voltage * sn->current;
		float tol = 0.05f * sn->voltage + 0.05f * fabsf(sn->current) + 1.0f + 0.05f * fabsf(vi);
		REQUIRE(fabsf(sn->power - vi) <= tol + 0.01f);
	}
	if (!(sn->present & BMS_HAS_POWER))
		REQUIRE(sn->power == 0);
}

/* A synthesised answer, its check made right. */
static size_t ant_build(uint8_t *f, uint8_t k, const uint8_t *p, size_t avail, size_t *len)
{
	size_t used = 0, body, start;
	memset(f, 0, 300);
	if (k & 1) {
		static const uint8_t head[4] = { 0xAA, 0x55, 0xAA, 0xFF };
		memcpy(f, head, 4);
		for (size_t i = 4; i < 138 && used < avail; i++)
			f[i] = p[used++];
		unsigned sum = 0;
		for (size_t i = 4; i < 138; i++)
			sum += f[i];
		f[138] = (uint8_t)(sum >> 8);
		f[139] = (uint8_t)sum;
		*len = 140;
		return used;
	}
	f[0] = 0x7E;
	f[1] = 0xA1;
	if ((k & 2) && (k & 4)) {
		/* a settings answer to the last settings read (K & 8: another
		 * length, K & 16: no 6 bytes before AA 55) */
		f[2] = 0x12;
		f[3] = (uint8_t)last_set_addr;
		f[4] = (uint8_t)(last_set_addr >> 8);
		f[5] = (uint8_t)((k & 8) ? (used < avail ? p[used++] : 0) % 0x40u : last_set_len);
	} else if (k & 2) {
		f[2] = 0x12;
		f[3] = 0x6C;
		f[4] = 0x02;
		f[5] = 0x20;
	} else {
		unsigned n = (unsigned)(k >> 2), t = used < avail ? p[used++] % 8u : 0;
		f[2] = 0x11;
		f[5] = (uint8_t)(106 + 2 * n + 2 * t > 255 ? 255 : 106 + 2 * n + 2 * t);
		f[8] = (uint8_t)t;
		f[9] = (uint8_t)n;
	}
	body = (size_t)f[5] + 6;
	start = (k & 2) ? 6 : 10;
	for (size_t i = start; i < body && used < avail; i++)
		f[i] = p[used++];
	uint16_t c = ant_crc(f + 1, body - 1);
	f[body] = (uint8_t)c;
	f[body + 1] = (uint8_t)(c >> 8);
	*len = body + 4;
	if ((k & 2) && !((k & 4) && (k & 16))) {
		static const uint8_t tail[6] = { 0xFF, 0x0B, 0x00, 0x00, 0x41, 0xF2 };
		memcpy(f + body + 2, tail, 6);
		*len += 6;
	}
	f[*len - 2] = 0xAA;
	f[*len - 1] = 0x55;
	return used;
}

static size_t ant_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static uint8_t f[300];
	size_t len = 0;
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	size_t used = 1 + ant_build(f, p[0], p + 1, avail - 1, &len);
	for (size_t off = 0; off < len; off += 20)
		fd_bytes(s, f + off, len - off < 20 ? len - off : 20);
	return used;
}

static const struct fd_target ant = {
	.drv = &bms_ant_driver,
	.persist_bit = true,
	.event = ant_event,
	.request = ant_request,
	.max_cells = 32,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = 4,
	.max_state = 2,
	.never = BMS_HAS_CYCLES | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS | BMS_HAS_BALANCING |
		 BMS_HAS_BALANCER | BMS_HAS_CELL_RES,
	.snap = ant_snap,
	.frame = ant_frame,
	/* scan() checked CRC / sum and the end: a status (or its layout or a
	 * range wrong), a device information, or an answer not asked for */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ON,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_MOSFETS |
		  BMS_HAS_ALARMS | BMS_HAS_REMAIN | BMS_HAS_BALANCE,
	.ok_volts = true,
	.forced_at_most = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(!bms_ble_only(ant.drv) && ant.drv->probe);
	last_set_addr = last_set_len = 0;
	return fd_run(&ant, data, size);
}
