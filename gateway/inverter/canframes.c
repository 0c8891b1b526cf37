/* SPDX-License-Identifier: MIT */
/* gateway/inverter/canframes.c - the frames and fields the CAN codecs share,
 * the extras, and a CAN codec's whole set (canframes.h, codec.h;
 * PROTOCOLS.md §1-§3). */
#include "canframes.h"

#include <stdio.h>
#include <string.h>

#include "invscale.h"

static const char cf_default_manufacturer[] = "PYLON";
static const char cf_product[] = "bmsgw";    /* 0x382 */
#define CF_KELVIN 273.15

void inv_cf_put16(uint8_t *p, long v)
{
	unsigned u = (unsigned)v & 0xFFFFu;

	p[0] = (uint8_t)(u & 0xFFu);
	p[1] = (uint8_t)(u >> 8);
}

void inv_cf_put16be(uint8_t *p, long v)
{
	unsigned u = (unsigned)v & 0xFFFFu;

	p[0] = (uint8_t)(u >> 8);
	p[1] = (uint8_t)(u & 0xFFu);
}

void inv_cf_put16x4(uint8_t *p, long a, long b, long c, long d)
{
	inv_cf_put16(p, a);
	inv_cf_put16(p + 2, b);
	inv_cf_put16(p + 4, c);
	inv_cf_put16(p + 6, d);
}

void inv_cf_put16x4be(uint8_t *p, long a, long b, long c, long d)
{
	inv_cf_put16be(p, a);
	inv_cf_put16be(p + 2, b);
	inv_cf_put16be(p + 4, c);
	inv_cf_put16be(p + 6, d);
}

void inv_cf_put32be(uint8_t *p, long v)
{
	unsigned long u = (unsigned long)v & 0xFFFFFFFFul;

	p[0] = (uint8_t)(u >> 24);
	p[1] = (uint8_t)((u >> 16) & 0xFFu);
	p[2] = (uint8_t)((u >> 8) & 0xFFu);
	p[3] = (uint8_t)(u & 0xFFu);
}

void inv_cf_begin(struct gw_can_frame *f, uint32_t id, uint8_t dlc)
{
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->dlc = dlc;
}

void inv_cf_limits(const struct inv_battery *b, struct inv_cf_limits *l)
{
	memset(l, 0, sizeof(*l));
	if (!(b->present & INV_HAS_LIMITS))
		return;
	l->cvl = inv_scale(b->cvl_v, 10, INV_DOWN, 0, 0xFFFF);
	l->dvl = inv_scale(b->dvl_v, 10, INV_UP, 0, 0xFFFF);
	l->ccl = b->charge_allowed ? inv_scale(b->ccl_a, 10, INV_DOWN, 0, 0x7FFF) : 0;
	l->dcl = b->discharge_allowed ? inv_scale(b->dcl_a, 10, INV_DOWN, 0, 0x7FFF) : 0;
	/* an enable bit never goes with a limit its field rounds to 0 */
	l->charge = l->ccl > 0;
	l->discharge = l->dcl > 0;
	l->force = l->charge && b->force_charge;
	l->full = b->full_charge_request;
}

void inv_cf_report(const struct inv_cf_limits *l, struct inv_encoded *e)
{
	e->limits = true;
	e->ccl_a = (float)(l->ccl / 10.0);
	e->dcl_a = (float)(l->dcl / 10.0);
}

void inv_cf_encoded(const struct inv_battery *b, struct inv_encoded *e)
{
	struct inv_cf_limits l;

	inv_cf_limits(b, &l);
	inv_cf_report(&l, e);
}

uint8_t inv_cf_request_flags(const struct inv_battery *b)
{
	struct inv_cf_limits l;

	inv_cf_limits(b, &l);
	/* force charge sets both bits, as Pylontech's RS485 document advises
	 * for its twin byte */
	return (uint8_t)((l.charge ? 0x80 : 0) | (l.discharge ? 0x40 : 0) | (l.force ? 0x30 : 0) |
			 (l.full ? 0x08 : 0));
}

long inv_cf_soc(const struct inv_battery *b, long per, long none)
{
	return inv_has(b, INV_HAS_SOC, b->soc) ? inv_scale(b->soc, (double)per, INV_FLOOR, 0, 100 * per) : none;
}

long inv_cf_soh(const struct inv_battery *b, long none)
{
	return inv_has(b, INV_HAS_SOH, b->soh) ? inv_scale(b->soh, 1, INV_NEAR, 0, 100) : none;
}

#define CF_OV (BMS_AL_CELL_OV | BMS_AL_PACK_OV)
#define CF_UV (BMS_AL_CELL_UV | BMS_AL_PACK_UV)
#define CF_OT (BMS_AL_CHG_OT | BMS_AL_DSG_OT | BMS_AL_MOS_OT)
#define CF_UT (BMS_AL_CHG_UT | BMS_AL_DSG_UT)
#define CF_DOC (BMS_AL_DSG_OC | BMS_AL_SHORT)
#define CF_SYS INV_CF_SYSTEM

/* Byte 0 (protection) and byte 2 (alarm) share one layout. */
static uint8_t cf_level(uint32_t a)
{
	return (uint8_t)(((a & CF_OV) ? 0x02 : 0) | ((a & CF_UV) ? 0x04 : 0) | ((a & CF_OT) ? 0x08 : 0) |
			 ((a & CF_UT) ? 0x10 : 0) | ((a & CF_DOC) ? 0x80 : 0));
}

void inv_cf_alarm_bytes(const struct inv_battery *b, uint8_t *d)
{
	uint32_t p = 0, w = 0;

	if (b->present & INV_HAS_ALARMS) {
		p = b->protect;
		w = b->warn;
	}
	d[0] = cf_level(p);
	d[1] = (uint8_t)(((p & BMS_AL_CHG_OC) ? 0x01 : 0) | ((p & CF_SYS) ? 0x08 : 0));
	d[2] = cf_level(w);
	d[3] = (uint8_t)(((w & BMS_AL_CHG_OC) ? 0x01 : 0) | (((p | w) & BMS_AL_COMM) ? 0x08 : 0));
}

static void cf_pairs(uint32_t active, const uint32_t *msgs, unsigned n, uint8_t *p)
{
	for (unsigned k = 0; k < n && k < 16; k++) {
		unsigned bit = (active & msgs[k]) ? 0 : 1;
		p[k / 4] |= (uint8_t)(1u << (2 * (k % 4) + bit));
	}
}

void inv_cf_sma_alarms(const struct inv_battery *b, const uint32_t *msgs, unsigned n, uint32_t fault, uint8_t *d)
{
	bool have = (b->present & INV_HAS_ALARMS) != 0;
	uint32_t p = have ? b->protect : 0, w = have ? b->warn : 0;

	cf_pairs((p & ~(uint32_t)INV_CF_WARN_ONLY) | fault, msgs, n, d);
	cf_pairs(w | (p & INV_CF_WARN_ONLY), msgs, n, d + 4);
}

void inv_cf_put355(const struct inv_battery *b, struct gw_can_frame *f, uint8_t dlc)
{
	inv_cf_begin(f, 0x355, dlc);
	inv_cf_put16(f->data, inv_cf_soc(b, 1, 0));
	inv_cf_put16(f->data + 2, inv_cf_soh(b, 100));
}

void inv_cf_put356(const struct inv_battery *b, struct gw_can_frame *f, uint8_t dlc, double volt_per,
		   bool discharge_positive)
{
	double sign = discharge_positive ? -1.0 : 1.0;

	inv_cf_begin(f, 0x356, dlc);
	inv_cf_put16(f->data, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ?
		     inv_scale(b->voltage, volt_per, INV_NEAR, 0, 0x7FFF) : 0);
	inv_cf_put16(f->data + 2, inv_has(b, INV_HAS_CURRENT, b->current) ?
		     inv_scale(b->current, 10 * sign, INV_NEAR, -0x7FFF, 0x7FFF) : 0);
	inv_cf_put16(f->data + 4, inv_has(b, INV_HAS_TEMP, b->temp_c) ?
		     inv_scale(b->temp_c, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0);
}

void inv_cf_temp_extremes(const struct inv_battery *b, float *hi, float *lo)
{
	bool mm = (b->present & INV_HAS_TEMP_MINMAX) && isfinite(b->temp_max_c) && isfinite(b->temp_min_c);
	bool avg = inv_has(b, INV_HAS_TEMP, b->temp_c);

	*hi = mm ? b->temp_max_c : avg ? b->temp_c : 0.0f;
	*lo = mm ? b->temp_min_c : avg ? b->temp_c : 0.0f;
}

void inv_cf_put35c(const struct inv_battery *b, struct gw_can_frame *f, uint8_t dlc)
{
	inv_cf_begin(f, 0x35C, dlc);
	f->data[0] = inv_cf_request_flags(b);
}

void inv_cf_put351(const struct inv_cf_limits *l, struct gw_can_frame *f)
{
	inv_cf_begin(f, 0x351, 8);
	inv_cf_put16x4(f->data, l->cvl, l->ccl, l->dcl, l->dvl);
}

bool inv_cf_351(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	inv_cf_limits(b, &l);
	inv_cf_put351(&l, f);
	return true;
}

/* 0x35E: manufacturer, 8 ASCII characters padded with spaces. */
bool inv_cf_35e(const struct inv_battery *b, struct gw_can_frame *f)
{
	const char *m = b->manufacturer[0] ? b->manufacturer : cf_default_manufacturer;
	size_t i;

	inv_cf_begin(f, 0x35E, 8);
	for (i = 0; i < 8 && i < INV_MANUFACTURER_MAX && m[i]; i++)
		f->data[i] = (m[i] >= 0x20 && m[i] < 0x7F) ? (uint8_t)m[i] : (uint8_t)'?';
	for (; i < 8; i++)
		f->data[i] = ' ';
	return true;
}

/* ---- the extras ---- */

static bool cf_capacity(const struct inv_battery *b, long *ah)
{
	if (!inv_has(b, INV_HAS_FULL, b->full_ah) || !(b->full_ah >= 0.5f))
		return false;
	*ah = inv_scale(b->full_ah, 1, INV_NEAR, 0, 0xFFFF);
	return true;
}

/* 0x35F as a Victron GX reads it: product id, firmware version, capacity
 * (Ah), hardware version; only the capacity is known. */
bool inv_cf_35f(const struct inv_battery *b, struct gw_can_frame *f)
{
	long ah;

	if (!cf_capacity(b, &ah))
		return false;
	inv_cf_begin(f, 0x35F, 8);
	inv_cf_put16(f->data + 4, ah);
	return true;
}

/* 0x379: installed capacity (Ah), bytes 0-1. */
bool inv_cf_379(const struct inv_battery *b, struct gw_can_frame *f)
{
	long ah;

	if (!cf_capacity(b, &ah))
		return false;
	inv_cf_begin(f, 0x379, 8);
	inv_cf_put16(f->data, ah);
	return true;
}

/* 0x372: modules online, blocking charge, blocking discharge, offline. */
bool inv_cf_372(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_begin(f, 0x372, 8);
	inv_cf_put16(f->data, b->packs ? b->packs : 1);
	inv_cf_put16(f->data + 2, b->packs_no_charge);
	inv_cf_put16(f->data + 4, b->packs_no_discharge);
	inv_cf_put16(f->data + 6, b->packs_offline);
	return true;
}

/* 0x373: lowest and highest cell (mV), coldest and hottest sensor (K). */
bool inv_cf_373(const struct inv_battery *b, struct gw_can_frame *f)
{
	if (!(b->present & INV_HAS_CELL_MINMAX) || !(b->present & INV_HAS_TEMP_MINMAX))
		return false;
	inv_cf_begin(f, 0x373, 8);
	inv_cf_put16(f->data, b->cell_min_mv);
	inv_cf_put16(f->data + 2, b->cell_max_mv);
	inv_cf_put16(f->data + 4, inv_scale(b->temp_min_c + CF_KELVIN, 1, INV_NEAR, 0, 0xFFFF));
	inv_cf_put16(f->data + 6, inv_scale(b->temp_max_c + CF_KELVIN, 1, INV_NEAR, 0, 0xFFFF));
	return true;
}

/* 0x374-0x377: where an extreme is, "P<pack>C<cell>" or "P<pack>T<sensor>"
 * in ASCII, NUL padded. */
static bool cf_where(uint32_t id, struct inv_where w, char kind, bool have, struct gw_can_frame *f)
{
	char s[16];

	if (!have || !w.pack || !w.index)
		return false;
	inv_cf_begin(f, id, 8);
	snprintf(s, sizeof(s), "P%u%c%u", (unsigned)w.pack, kind, (unsigned)w.index);
	memcpy(f->data, s, strnlen(s, 8));
	return true;
}

bool inv_cf_374(const struct inv_battery *b, struct gw_can_frame *f)
{
	return cf_where(0x374, b->cell_min_at, 'C', (b->present & INV_HAS_CELL_MINMAX) != 0, f);
}

bool inv_cf_375(const struct inv_battery *b, struct gw_can_frame *f)
{
	return cf_where(0x375, b->cell_max_at, 'C', (b->present & INV_HAS_CELL_MINMAX) != 0, f);
}

bool inv_cf_376(const struct inv_battery *b, struct gw_can_frame *f)
{
	return cf_where(0x376, b->temp_min_at, 'T', (b->present & INV_HAS_TEMP_MINMAX) != 0, f);
}

bool inv_cf_377(const struct inv_battery *b, struct gw_can_frame *f)
{
	return cf_where(0x377, b->temp_max_at, 'T', (b->present & INV_HAS_TEMP_MINMAX) != 0, f);
}

/* 0x382: product name, ASCII, NUL padded. */
bool inv_cf_382(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	inv_cf_begin(f, 0x382, 8);
	memcpy(f->data, cf_product, sizeof(cf_product) - 1);
	return true;
}

/* ---- what the inverter sends ---- */

enum inv_rx inv_cf_heard_pylon(const struct gw_can_frame *f, struct inv_heard *h)
{
	if (f->rtr || f->dlc > GW_CAN_MAX_DLC)
		return INV_RX_OTHER;
	/* Schneider XW Pro acknowledges with a 29-bit 0x305 */
	if (f->id == 0x305) {
		h->frames++;
		return INV_RX_ALIVE;
	}
	if (f->ext || (f->id != 0x306 && f->id != 0x307))
		return INV_RX_OTHER;
	h->frames++;
	if (f->id == 0x306)
		return INV_RX_306;
	if (f->dlc >= 7 && memcmp(f->data + 4, "VIC", 3) == 0) {
		h->victron = true;
		return INV_RX_VICTRON;
	}
	return INV_RX_ALIVE;
}

/* ---- a codec's set, with the extras ---- */

/* The extras, each with the extras bit that asks for it, in sending order. */
static const struct {
	unsigned bit;
	struct inv_can_frame_fn fn;
} extras[] = {
	{ CONF_EXTRA_CAPACITY, { 0x35F, inv_cf_35f } }, { CONF_EXTRA_CAPACITY, { 0x379, inv_cf_379 } },
	{ CONF_EXTRA_MODULES, { 0x372, inv_cf_372 } },  { CONF_EXTRA_CELLS, { 0x373, inv_cf_373 } },
	{ CONF_EXTRA_CELLS, { 0x374, inv_cf_374 } },    { CONF_EXTRA_CELLS, { 0x375, inv_cf_375 } },
	{ CONF_EXTRA_CELLS, { 0x376, inv_cf_376 } },    { CONF_EXTRA_CELLS, { 0x377, inv_cf_377 } },
	{ CONF_EXTRA_NAME, { 0x382, inv_cf_382 } },
};
#define NEXTRAS (sizeof(extras) / sizeof(extras[0]))

/* Is id one of the codec's own frames? (An extra never repeats one: SMA
 * has a 0x35F of its own.) */
static bool own_frame(const struct inv_codec *c, uint32_t id)
{
	for (size_t i = 0; i < c->can.nframes; i++)
		if (c->can.frames[i].id == id)
			return true;
	return false;
}

int inv_can_encode(const struct inv_codec *c, const struct inv_battery *b, unsigned want, struct gw_can_frame *out,
		   size_t cap, struct inv_encoded *e)
{
	size_t n = 0;
	if (cap < c->can.nframes + NEXTRAS)
		return -1;
	if (e) {
		memset(e, 0, sizeof(*e));
		if (c->can.limits)
			c->can.limits(b, e);
	}
	for (size_t i = 0; i < c->can.nframes; i++)
		if (c->can.frames[i].fill(b, &out[n]))
			n++;
	for (size_t i = 0; i < NEXTRAS; i++)
		if ((want & extras[i].bit) && !own_frame(c, extras[i].fn.id) && extras[i].fn.fill(b, &out[n]))
			n++;
	return (int)n;
}

int inv_can_frame(const struct inv_codec *c, uint32_t id, const struct inv_battery *b, unsigned want,
		  struct gw_can_frame *f)
{
	for (size_t i = 0; i < c->can.nframes; i++)
		if (c->can.frames[i].id == id)
			return c->can.frames[i].fill(b, f) ? 0 : -1;
	for (size_t i = 0; i < c->can.nident; i++)
		if (c->can.ident[i].id == id)
			return c->can.ident[i].fill(b, f) ? 0 : -1;
	for (size_t i = 0; i < NEXTRAS; i++)
		if (extras[i].fn.id == id && (want & extras[i].bit) && !own_frame(c, id))
			return extras[i].fn.fill(b, f) ? 0 : -1;
	return -1;
}
