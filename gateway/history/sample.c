/* SPDX-License-Identifier: MIT */
/* gateway/history/sample.c - the pure parts of the history: the sample of a
 * snapshot as it is stored, and the times and durations of /api/history and
 * --history-csv.  No I/O, no globals. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../model/gw.h"
#include "history.h"

void gw_history_sample(struct gw_hsample *out, int64_t ts, const char *unit, bool online,
		       const struct bms_snapshot *s, const struct gw_bank_state *bank)
{
	memset(out, 0, sizeof(*out));
	out->ts = ts;
	snprintf(out->unit, sizeof(out->unit), "%s", unit);
	out->online = online;
	if (!online || !s)
		return;
	uint32_t p = s->present;
	if (p & BMS_HAS_SOC) {
		out->have |= GW_HS_SOC;
		out->soc = s->soc;
	}
	if (p & BMS_HAS_VOLTAGE) {
		out->have |= GW_HS_VOLTAGE;
		out->voltage = s->voltage;
	}
	if (p & BMS_HAS_CURRENT) {
		out->have |= GW_HS_CURRENT;
		out->current = s->current;
	}
	if (p & BMS_HAS_POWER) {
		out->have |= GW_HS_POWER;
		out->power = s->power;
	}
	if (bank) {
		if (bank->rb.have_cells) {
			out->have |= GW_HS_CELLS;
			out->cell_min = bank->rb.min_mv;
			out->cell_max = bank->rb.max_mv;
			out->cell_delta = (float)(bank->rb.max_mv - bank->rb.min_mv);
		}
	} else {
		struct bms_cell_stats cs;
		bms_cell_stats(s, &cs); /* the cells, else the BMS's own highest and lowest */
		if (cs.from != BMS_CELLS_NONE) {
			out->have |= GW_HS_CELLS;
			out->cell_min = cs.min_mv;
			out->cell_max = cs.max_mv;
			out->cell_delta = cs.delta_mv;
		}
	}
	if (!bank && s->ncells > 0) {
		out->have |= GW_HS_CELL_MV;
		out->ncells = s->ncells < BMS_MAX_CELLS ? s->ncells : BMS_MAX_CELLS;
		memcpy(out->cell_mv, s->cell_mv, out->ncells * sizeof(out->cell_mv[0]));
		if (p & BMS_HAS_BALANCE) {
			out->have |= GW_HS_BALANCE;
			out->balance = out->ncells < 32 ? s->balance & ((1u << out->ncells) - 1) : s->balance;
		}
	}
	bool any = false;
	for (unsigned i = 0; i < s->ntemps && i < BMS_MAX_TEMPS; i++) {
		float t = s->temp_c[i];
		if (!isfinite(t))
			continue;
		if (!any || t < out->temp_min)
			out->temp_min = t;
		if (!any || t > out->temp_max)
			out->temp_max = t;
		any = true;
	}
	if (any)
		out->have |= GW_HS_TEMPS;
	if ((p & BMS_HAS_MOS_TEMP) && isfinite(s->mos_temp_c)) {
		out->have |= GW_HS_MOS_TEMP;
		out->mos_temp = s->mos_temp_c;
	}
	if (p & BMS_HAS_ALARMS) {
		out->have |= GW_HS_ALARMS;
		out->alarms = s->alarms;
	}
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int gw_history_parse_time(const char *s, int64_t now, int64_t *out)
{
	if (!s || !*s)
		return -1;
	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (all_digits(s) && strlen(s) <= 12) {
		*out = strtoll(s, NULL, 10);
		return 0;
	}
	int y, mo, d, hh = 0, mi = 0, ss = 0, n = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	const char *p = s + 10;
	long off = 0;
	if (*p == 'T' || *p == ' ') {
		int m = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &hh, &mi, &m) != 2 || m != 5)
			return -1;
		p += 1 + m;
		if (*p == ':') {
			if (sscanf(p + 1, "%2d%n", &ss, &m) != 1 || m != 2)
				return -1;
			p += 1 + m;
		}
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int oh, om;
			if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m) != 2 || m != 5)
				return -1;
			off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
			p += 1 + m;
		}
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60 || y < 1970 || y > 9999)
		return -1;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = hh;
	tm.tm_min = mi;
	tm.tm_sec = ss;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (int64_t)t - off;
	return 0;
}

int gw_history_parse_span(const char *s, int64_t *out)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0 || v > 100000000LL)
		return -1;
	long long mul = 1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		mul = 60, end++;
	else if (*end == 'h')
		mul = 3600, end++;
	else if (*end == 'd')
		mul = 86400, end++;
	else if (*end == 'w')
		mul = 7 * 86400, end++;
	if (*end)
		return -1;
	*out = v * mul;
	return 0;
}
