/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_creabest_vb.c - libFuzzer target: whole polls of the
 * Creabest VB Bluetooth LE driver (Pylontech-style ASCII, VER 0x22
 * answers), driven the way gateway/poll/poller.c drives it; harness:
 * fuzz_drive.h.  Beyond the generic target: every request is one of the
 * two reads, a frame the framer reports has its LCHKSUM, CHKSUM, '~' and
 * CR right, and answers with both sums forged reach the decoder (counts
 * that walk past the INFO, another VER, an error code).
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection
 *	E == 0xFF	a synthesised answer, its sums right: the next byte K
 *			(bit 0: VER 0x21 instead of 0x22; bit 1: RTN 0x02;
 *			bit 2: a 0x42 record with counts from the input, else
 *			raw INFO), the next its INFO length (at most 120 raw),
 *			its bytes from the input (zero-padded); 20-byte
 *			notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>
#include <stdio.h>

#include "fuzz_drive.h"

static const char vb_req42[] = "~11014642E00201FD35\r";
static const char vb_req81[] = "~11014681A006010001FC71\r";

static void vb_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE((n == 20 && memcmp(req, vb_req42, 20) == 0) || (n == 24 && memcmp(req, vb_req81, 24) == 0));
}

static int vb_hex(uint8_t c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static unsigned vb_word(const uint8_t *p)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int d = vb_hex(p[i]);
		REQUIRE(d >= 0);
		v = v << 4 | (unsigned)d;
	}
	return v;
}

static void vb_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 18 && f[0] == '~' && f[n - 1] == '\r');
	for (size_t i = 1; i < n - 1; i++)
		REQUIRE(vb_hex(f[i]) >= 0);
	unsigned length = vb_word(f + 9), lenid = length & 0xFFF;
	unsigned ds = (lenid & 15) + (lenid >> 4 & 15) + (lenid >> 8 & 15);
	REQUIRE(length >> 12 == ((16 - (ds & 15)) & 15) && n == lenid + 18);
	unsigned sum = 0;
	for (size_t i = 1; i < n - 5; i++)
		sum += f[i];
	REQUIRE(vb_word(f + n - 5) == ((~sum + 1) & 0xFFFF));
}

static void vb_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(sn->voltage >= 0.0f && sn->voltage <= 6553.5f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 3276.8f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_TEMPS)
		REQUIRE(sn->ntemps >= 1 && sn->ntemps <= BMS_MAX_TEMPS);
	if (sn->present & BMS_HAS_ALARMS) {
		bool masked = (sn->raw_alarms[0] & 0xFFF0u) || (sn->raw_alarms[1] & 0x00FFu) || (sn->raw_alarms[2] & 0x000Fu);
		REQUIRE(sn->nraw == 3 && sn->alarms == (masked ? BMS_AL_OTHER : 0u));
	}
	if (sn->present & BMS_HAS_FULL)
		REQUIRE(sn->full_ah >= 0.0f && sn->full_ah <= 6553.5f);
}

/* The INFO of a synthesised answer from the input: raw bytes, or a 0x42
 * record whose counts come from the input (the rest zero-padded). */
static size_t vb_info(uint8_t k, const uint8_t *p, size_t avail, size_t *used, uint8_t *info)
{
	size_t n;
	if (k & 4) {
		uint8_t m = *used < avail ? p[(*used)++] % 34 : 4, nt = *used < avail ? p[(*used)++] % 10 : 2;
		n = 1u + 2u * m + 1u + 2u * nt + 21u;
		memset(info, 0, n);
		info[0] = m;
		info[1 + 2 * m] = nt;
		for (size_t i = 0; i < n; i++)
			if (i != 0 && i != 1u + 2u * m && *used < avail)
				info[i] = p[(*used)++];
	} else {
		n = *used < avail ? p[(*used)++] % 121 : 0;
		for (size_t i = 0; i < n; i++)
			info[i] = *used < avail ? p[(*used)++] : 0;
	}
	return n;
}

static size_t vb_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	size_t used = fd_ble_event(s, e, avail);
	if (used != FD_SYNTH)
		return used;
	used = 0;
	uint8_t k = p[used++];
	uint8_t info[160];
	size_t n = vb_info(k, p, avail, &used, info);
	char f[400];
	unsigned lenid = (unsigned)(2 * n), ds = (lenid & 15) + (lenid >> 4 & 15) + (lenid >> 8 & 15);
	int len = snprintf(f, sizeof(f), "~%02X0146%02X%04X", (k & 1) ? 0x21u : 0x22u, (k & 2) ? 0x02u : 0x00u,
			   ((16 - (ds & 15)) & 15) << 12 | lenid);
	for (size_t i = 0; i < n; i++)
		len += snprintf(f + len, sizeof(f) - (size_t)len, "%02X", info[i]);
	unsigned sum = 0;
	for (int i = 1; i < len; i++)
		sum += (uint8_t)f[i];
	len += snprintf(f + len, sizeof(f) - (size_t)len, "%04X\r", (~sum + 1) & 0xFFFF);
	for (int off = 0; off < len; off += 20)
		fd_bytes(s, (const uint8_t *)f + off, (size_t)(len - off < 20 ? len - off : 20));
	return used;
}

static const struct fd_target creabest_vb = {
	.drv = &bms_creabest_vb_driver,
	.event = vb_event,
	.request = vb_request,
	.max_cells = 32,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = 3,
	.max_state = 0,
	.never = BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_REMAIN | BMS_HAS_MOSFETS | BMS_HAS_BALANCE |
		 BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = vb_snap,
	.frame = vb_frame,
	/* scan() checked the sums: the other read's answer, counts past the
	 * INFO, too many cells or sensors, another VER, an error code */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) | FD_RC(BMS_E_RANGE) |
	       FD_RC(BMS_E_HEADER) | FD_RC(BMS_E_REFUSED),
	.step = FD_STEP_ON,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CELLS | BMS_HAS_FULL | BMS_HAS_CYCLES |
		  BMS_HAS_ALARMS,
	.ok_volts = true,
	.forced_at_most = true, /* a forced count above the cells sent: the cells sent */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(creabest_vb.drv) && !creabest_vb.drv->listen_only && !creabest_vb.drv->probe &&
		creabest_vb.drv->ble->write_piece == 20);
	return fd_run(&creabest_vb, data, size);
}
