/* SPDX-License-Identifier: MIT */
/* bms/base/setwrite.c - the vocabulary of settings writes and a value's raw
 * form on the wire (bms/setwrite.h). */
#include "../setwrite.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../bms.h"

static const struct {
	const char *name, *unit;
	enum bms_set_key rd;
} wkeys[BMS_W_COUNT] = {
#define BMS_WKEY_ROW_(id, n, u, r) [BMS_W_##id] = { n, u, r },
	BMS_WKEY_LIST(BMS_WKEY_ROW_)
#undef BMS_WKEY_ROW_
};

const char *bms_wkey_name(enum bms_wkey k)
{
	return (unsigned)k < BMS_W_COUNT ? wkeys[k].name : NULL;
}

const char *bms_wkey_unit(enum bms_wkey k)
{
	return (unsigned)k < BMS_W_COUNT ? wkeys[k].unit : NULL;
}

enum bms_set_key bms_wkey_read(enum bms_wkey k)
{
	return (unsigned)k < BMS_W_COUNT ? wkeys[k].rd : BMS_SET_COUNT;
}

int bms_wkey_find(const char *name)
{
	for (int k = 0; name && k < BMS_W_COUNT; k++)
		if (strcmp(name, wkeys[k].name) == 0)
			return k;
	return -1;
}

void bms_wfield_range(const struct bms_wfield *f, double *lo, double *hi, double *step)
{
	double a = (double)(f->lo - f->add) / f->mul, b = (double)(f->hi - f->add) / f->mul;
	*lo = a < b ? a : b;
	*hi = a < b ? b : a;
	*step = 1.0 / fabs((double)f->mul);
}

double bms_wfield_value(const struct bms_wfield *f, int64_t raw)
{
	return f->mul ? (double)(raw - f->add) / f->mul : 0;
}

int bms_wfield_raw(const struct bms_wfield *f, double value, int64_t *raw, char *why, size_t wl)
{
	if (!f->mul || !isfinite(value)) {
		snprintf(why, wl, "not writable");
		return -1;
	}
	double x = value * f->mul, r = nearbyint(x);
	/* a whole number of steps, within what a decimal written by hand or
	 * JSON's double keeps of it */
	if (fabs(x - r) > 1e-6 * (fabs(x) > 1 ? fabs(x) : 1)) {
		snprintf(why, wl, "%g is not a multiple of the protocol's step %g", value, 1.0 / fabs((double)f->mul));
		return -1;
	}
	double lo, hi, step;
	bms_wfield_range(f, &lo, &hi, &step);
	if (r + f->add < (double)f->lo || r + f->add > (double)f->hi) {
		snprintf(why, wl, "%g is outside the protocol's range %g..%g", value, lo, hi);
		return -1;
	}
	*raw = (int64_t)r + f->add;
	return 0;
}

uint32_t bms_writer_keys(const struct bms_writer *w, int link)
{
	if (!w)
		return 0;
	return link == BMS_LINK_BLE ? w->ble : w->wire;
}
