/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_felicity.c - libFuzzer target: whole polls of the
 * Felicity Solar Bluetooth LE driver (RT, then the identity on a fresh
 * link), its bounded JSON parser under every input, driven the way
 * gateway/poll/poller.c drives it (harness: fuzz_drive.h).
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFF	a synthesised answer, well-formed JSON: the next byte K
 *			picks it (K & 3: 0 RT, 1 basic information, 2 date,
 *			3 RT with CommVer K >> 2), K >> 2 & 31 cells; its
 *			numbers come from the input (16 bits each, zero
 *			after the input's end; some signed, some scaled out
 *			of range; the bank's Batt, Bfault, Bwarn beside the
 *			pack's BattList, BBfault, BBwarn); it arrives as
 *			35-byte notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "fuzz_drive.h"

static void fe_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE((n == 35 && memcmp(req, "wifilocalMonitor:get dev real infor", 35) == 0) ||
		(n == 37 && memcmp(req, "wifilocalMonitor:get dev basice infor", 37) == 0));
}

static void fe_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 2 && n <= 2048 && f[0] == '{' && f[n - 1] == '}');
	for (size_t i = 1; i < n; i++)
		REQUIRE(f[i] != '{'); /* no object inside the object */
}

static void fe_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && sn->voltage >= 0.0f && sn->voltage <= 200.0f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 2000.0f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_FULL)
		REQUIRE(sn->full_ah > 0 && sn->full_ah <= 10000.0f && sn->remain_ah >= 0 &&
			sn->remain_ah <= sn->full_ah * 1.0001f);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(isfinite(sn->temp_c[i]) && sn->temp_c[i] != 3276.7f); /* as read; 32767 left out */
	for (unsigned i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] <= BMS_PLAUSIBLE_MAX_CELL_MV);
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw == 2 && (sn->alarms == 0) == (sn->raw_alarms[0] == 0 && sn->raw_alarms[1] == 0));
}

static unsigned next16(const uint8_t *p, size_t avail, size_t *used)
{
	unsigned v = 0;
	for (int i = 0; i < 2; i++)
		v = v << 8 | (*used < avail ? p[(*used)++] : 0);
	return v;
}

static void put(char *b, size_t cap, size_t *at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char *b, size_t cap, size_t *at, const char *fmt, ...)
{
	va_list ap;
	if (*at >= cap)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(b + *at, cap - *at, fmt, ap);
	va_end(ap);
	*at = n < 0 ? cap : *at + (size_t)n;
}

static size_t fe_rt(char *b, size_t cap, unsigned k, const uint8_t *p, size_t avail, size_t *used)
{
	size_t at = 0;
	unsigned nc = k >> 2 & 31, ver = (k & 3) == 3 ? k >> 2 : 1;
	put(b, cap, &at, "{\"CommVer\":%u,\"Bfault\":%u,\"Bwarn\":%u,\"Batt\":[[%u],[%d],[null]],", ver,
	    next16(p, avail, used), next16(p, avail, used), next16(p, avail, used) * 4,
	    (int)(int16_t)next16(p, avail, used));
	put(b, cap, &at, "\"BattList\":[[%u,65535],[%d,-1]],", next16(p, avail, used) * 4,
	    (int)(int16_t)next16(p, avail, used));
	put(b, cap, &at, "\"BatsocList\":[[%u,1000,%u]],\"BatcelList\":[[", next16(p, avail, used) % 10240,
	    next16(p, avail, used) * 100);
	for (unsigned i = 0; i < nc; i++)
		put(b, cap, &at, "%s%u", i ? "," : "", next16(p, avail, used) % 5200);
	put(b, cap, &at, "],[65535]],\"BtemList\":[[");
	for (unsigned i = 0; i < 10; i++)
		put(b, cap, &at, "%s%d", i ? "," : "", (int)(int16_t)next16(p, avail, used) / 16);
	put(b, cap, &at, "]],\"BBfault\":%u,\"BBwarn\":%u}", next16(p, avail, used), next16(p, avail, used));
	return at < cap ? at : 0;
}

static size_t fe_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const char basic[] = "{\"CommVer\":1,\"version\":\"2.06\",\"DevSN\":\"100011002424470238\","
				    "\"Type\":112,\"SubType\":7300,\"M1SwVer\":519}";
	static const char date[] = "{\"CommVer\":1,\"dateTime\":\"20210101010459\",\"timeZMin\":480}";
	char b[1024];
	size_t used = 0, len;
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	unsigned k = p[used++];
	if ((k & 3) == 1)
		len = strlen(basic), memcpy(b, basic, len);
	else if ((k & 3) == 2)
		len = strlen(date), memcpy(b, date, len);
	else
		len = fe_rt(b, sizeof(b), k, p, avail, &used);
	for (size_t off = 0; off < len; off += 35)
		fd_bytes(s, (const uint8_t *)b + off, len - off < 35 ? len - off : 35);
	return used;
}

static const struct fd_target felicity = {
	.drv = &bms_felicity_driver,
	.event = fe_event,
	.request = fe_request,
	.max_cells = 32,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = 2,
	.max_state = 2,
	.never = BMS_HAS_POWER | BMS_HAS_SOH | BMS_HAS_CYCLES | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_BALANCE |
		 BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = fe_snap,
	.frame = fe_frame,
	/* scan() parsed the JSON: values out of range, keys missing, another
	 * CommVer, or an answer not outstanding */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT) |
	       FD_RC(BMS_E_HEADER),
	.step = FD_STEP_ON,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_SOC,
	.ok_volts = true,
	/* a forced count beyond the cells the answer lists: those listed */
	.forced_at_most = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(felicity.drv) && !felicity.drv->probe && !felicity.drv->listen_only);
	return fd_run(&felicity, data, size);
}
