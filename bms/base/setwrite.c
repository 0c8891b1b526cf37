/* SPDX-License-Identifier: MIT */
/* bms/base/setwrite.c - the vocabulary of settings writes and a value's raw
 * form on the wire (bms/setwrite.h). */
#include "../setwrite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The times 2 (f 2) or 5 (f 5) divides x (x > 0). */
static int factors(uint64_t x, unsigned f)
{
	int n = 0;
	while (x && x % f == 0) {
		x /= f;
		n++;
	}
	return n;
}

/* value x |mul| is a whole number, on value's shortest decimal digits x
 * 10^e: 10^-e divides digits x |mul|, i.e. 2^-e and 5^-e both do. */
static bool on_step(const struct bms_wfield *f, double value)
{
	uint64_t d;
	int e;
	if (bms_wvalue_exact(value, &d, &e) < 0)
		return false;
	if (d == 0 || e >= 0)
		return true;
	uint64_t m = (uint64_t)llabs((long long)f->mul);
	return factors(d, 2) + factors(m, 2) >= -e && factors(d, 5) + factors(m, 5) >= -e;
}

int bms_wfield_raw(const struct bms_wfield *f, double value, int64_t *raw, char *why, size_t wl)
{
	if (!f->mul || !isfinite(value)) {
		snprintf(why, wl, "not writable");
		return -1;
	}
	char shown[40], st[40];
	bms_wvalue_str(value, shown, sizeof(shown));
	bms_wvalue_str(1.0 / fabs((double)f->mul), st, sizeof(st));
	/* a whole number of steps, on the digits written: never rounded */
	if (!on_step(f, value)) {
		snprintf(why, wl, "%s is not a multiple of the protocol's step %s", shown, st);
		return -1;
	}
	double r = nearbyint(value * f->mul), lo, hi, step;
	bms_wfield_range(f, &lo, &hi, &step);
	if (r + f->add < (double)f->lo || r + f->add > (double)f->hi) {
		char slo[40], shi[40];
		bms_wvalue_str(lo, slo, sizeof(slo));
		bms_wvalue_str(hi, shi, sizeof(shi));
		snprintf(why, wl, "%s is outside the protocol's range %s..%s", shown, slo, shi);
		return -1;
	}
	*raw = (int64_t)r + f->add;
	return 0;
}

uint32_t bms_writer_keys(const struct bms_writer *w, int link)
{
	if (!w)
		return 0;
	uint32_t keys = link == BMS_LINK_BLE ? w->ble : w->wire;
	for (int k = 0; k < BMS_W_COUNT; k++)
		if (!w->field[k].mul)
			keys &= ~BMS_W_BIT(k); /* no field: not writable, whatever the mask says */
	return keys;
}
