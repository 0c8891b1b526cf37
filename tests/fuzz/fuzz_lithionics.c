/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_lithionics.c - libFuzzer target: whole polls of the
 * listen-only Lithionics Bluetooth LE driver (its stream's ASCII lines),
 * driven the way gateway/poll/poller.c drives a listen_only driver (no
 * requests; a poll waits for lines until handle() says BMS_OK, then
 * finish()); harness: fuzz_drive.h.  Beyond the generic target: every
 * frame the framer reports is one printable line ended by CR LF, and the
 * values a sample may have.
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E:
 *	E == 0		a timeout of the wait
 *	E == 0xFE	a reconnection
 *	E == 0xFF	a synthesised line from the next bytes: the next byte K
 *			picks a status line (K & 1) or a primary line, each of
 *			its fields a number from the next bytes (signed where
 *			bit 1 is set), the status code as hex; it arrives as
 *			20-byte notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>
#include <stdio.h>

#include "fuzz_drive.h"

static void lt_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 4 && n <= 80 && f[n - 2] == '\r' && f[n - 1] == '\n');
	for (size_t i = 0; i + 2 < n; i++)
		REQUIRE(f[i] >= 0x20 && f[i] <= 0x7E);
	REQUIRE((f[0] >= '0' && f[0] <= '9') || f[0] == '-' || (f[0] == '&' && f[1] == ','));
}

static void lt_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(sn->voltage > 0.0f && sn->voltage <= 1000.0f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 3000.0f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_REMAIN)
		REQUIRE(sn->remain_ah >= 0 && sn->remain_ah <= 100000.0f);
	if (sn->present & BMS_HAS_TEMPS)
		REQUIRE(sn->ntemps == 2 && isfinite(sn->temp_c[0]) && isfinite(sn->temp_c[1]));
	else
		REQUIRE(sn->ntemps == 0);
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw == 2 && sn->alarms == 0);
}

/* A number of up to 5 digits from p, signed where neg. */
static size_t lt_num(char *out, size_t cap, const uint8_t *p, size_t avail, bool neg)
{
	unsigned v = 0;
	size_t used = 0;
	for (; used < 2 && used < avail; used++)
		v = v << 8 | p[used];
	snprintf(out, cap, "%s%u", neg && (v & 1) ? "-" : "", v % 100000);
	return used;
}

static size_t lt_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	size_t used = fd_ble_event(s, e, avail);
	if (used != FD_SYNTH)
		return used;
	used = 0;
	uint8_t k = p[used++];
	char line[128], f[16];
	size_t len = 0;
	bool status = k & 1, neg = k & 2;
	unsigned nf = status ? 8 : 9;
	if (status)
		len = (size_t)snprintf(line, sizeof(line), "&");
	for (unsigned i = 0; i < nf; i++) {
		used += lt_num(f, sizeof(f), p + used, avail - used, neg);
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", len ? "," : "", f);
	}
	if (!status) {
		uint32_t code = 0;
		for (int i = 0; i < 3 && used < avail; i++)
			code = code << 8 | p[used++];
		len += (size_t)snprintf(line + len, sizeof(line) - len, ",%06X", (unsigned)code);
	}
	len += (size_t)snprintf(line + len, sizeof(line) - len, "\r\n");
	for (size_t off = 0; off < len; off += 20)
		fd_bytes(s, (const uint8_t *)line + off, len - off < 20 ? len - off : 20);
	return used;
}

static const struct fd_target lithionics = {
	.drv = &bms_lithionics_driver,
	.event = lt_event,
	.max_cells = 4,
	.max_temps = 2,
	.max_raw = 2,
	.max_state = 0,
	.never = BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_MOSFETS |
		 BMS_HAS_BALANCE | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = lt_snap,
	.frame = lt_frame,
	/* scan() took only lines of the two shapes: values can be refused, the
	 * fixed-length variant, and a line after the poll's sample */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) |
	       FD_RC(BMS_E_HEADER),
	.step = FD_STEP_ANY,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_TEMPS,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(lithionics.drv) && lithionics.drv->listen_only && !lithionics.drv->probe &&
		lithionics.drv->next_request == NULL);
	return fd_run(&lithionics, data, size);
}
