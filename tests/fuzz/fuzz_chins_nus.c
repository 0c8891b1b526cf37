/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_chins_nus.c - libFuzzer target: whole polls of the Chins
 * G- Bluetooth LE driver (RT alone, the single frame; E&J's frames), driven
 * the way gateway/poll/poller.c drives it (harness: fuzz_drive.h).
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFF	a synthesised frame with a right length field and
 *			checksum: the next byte K picks its command and length
 *			(K & 3: 0 RT of 128 characters, 1 RT of 140, 2 CAP of 30,
 *			3 command K with K % 100 data bytes; bit 2 the request
 *			bit clear), bit 3 puts the module's "AT\r\n" inside it at
 *			the character K % (its length - 2) + 1; its data come from the input
 *			(zero-padded); it arrives as 20-byte notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>
#include <stdio.h>

#include "fuzz_drive.h"

static void ch_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == 14 && memcmp(req, ":000250000E03~", 14) == 0); /* RT alone, never CAP */
}

static void ch_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 14 && f[0] == ':' && f[n - 1] == '~');
}

static void ch_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current) && fabsf(sn->current) <= 656.0f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_TEMPS)
		REQUIRE(sn->ntemps == 1 && sn->temp_c[0] >= -40 && sn->temp_c[0] <= 215);
	/* the voltage is the sum of the cells */
	unsigned sum = 0;
	for (unsigned i = 0; i < sn->ncells; i++)
		sum += sn->cell_mv[i];
	REQUIRE(fabsf(sn->voltage - (float)sum / 1000.0f) < 0.01f);
	if (sn->present & BMS_HAS_HEATER)
		REQUIRE(isnan(sn->heater_a)); /* its current is not sent */
}

static size_t ch_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const unsigned sizes[3] = { 62, 68, 13 };
	static const uint8_t cmds[3] = { 0x82, 0x82, 0x90 };
	char f[320];
	uint8_t out[330];
	size_t used = 0;
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	uint8_t k = p[used++];
	unsigned nd = (k & 3) < 3 ? sizes[k & 3] : 5u + k % 100u;
	uint8_t d[120];
	memset(d, 0, sizeof(d));
	d[1] = (k & 3) < 3 ? cmds[k & 3] : (uint8_t)(k | 0x80);
	if (k & 4)
		d[1] &= 0x7F;
	d[2] = 0x31;
	for (unsigned i = 5; i < nd && used < avail; i++)
		d[i] = p[used++];
	unsigned total = 1 + 2 * nd + 3;
	d[3] = (uint8_t)(total >> 8);
	d[4] = (uint8_t)total;
	f[0] = ':';
	for (unsigned i = 0; i < nd; i++)
		snprintf(f + 1 + 2 * i, 3, "%02X", d[i]);
	unsigned sum = 0;
	for (unsigned i = 1; i <= 2 * nd; i++)
		sum += (unsigned char)f[i];
	snprintf(f + 1 + 2 * nd, 4, "%02X~", (sum & 0xFF) ^ 0xFF);
	size_t len = total, at = (k & 8) ? k % (total - 2) + 1 : 0;
	if (at) {
		memcpy(out, f, at);
		memcpy(out + at, "AT\r\n", 4);
		memcpy(out + at + 4, f + at, len - at);
		len += 4;
	} else {
		memcpy(out, f, len);
	}
	for (size_t off = 0; off < len; off += 20)
		fd_bytes(s, out + off, len - off < 20 ? len - off : 20);
	return used;
}

static const struct fd_target chins_nus = {
	.drv = &bms_chins_nus_driver,
	.event = ch_event,
	.request = ch_request,
	.max_cells = 16,
	.max_temps = 1,
	.max_raw = 1,
	.max_state = 2,
	.never = BMS_HAS_POWER | BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS |
		 BMS_HAS_VOLT_LIMITS,
	.snap = ch_snap,
	.frame = ch_frame,
	/* scan() checked the length field and the checksum: the answer
	 * outstanding (its length or SOC wrong), or another one */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ON,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_HEATER,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(chins_nus.drv) && !chins_nus.drv->probe);
	return fd_run(&chins_nus, data, size);
}
