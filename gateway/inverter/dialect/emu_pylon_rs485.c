/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_pylon_rs485.c - bmsgw as a Pylontech LV RS485 battery
 * polled by an inverter: the request framer and the reply encoders
 * (gateway/inverter/PROTOCOLS.md §6).  Framing and checksums are
 * bms/base/pylonframe.c's.  See emu_pylon_rs485.h. */
#include "emu_pylon_rs485.h"

#include <string.h>

#include "../../../bms/pylonframe.h"
#include "../codec.h"
#include "../invscale.h"

#define P485_CID1 0x46          /* battery data */
#define P485_VER 0x20
#define P485_KELVIN_DK 2731     /* 0 degC in 0.1 K (V3.3 §3.3: 25.5 C = 2986) */
#define P485_INFOFLAG 0x11      /* 0x42 / 0x47 (as a US2000 sends it) */
#define P485_DATAFLAG 0x10      /* 0x44 (as a US2000 sends it) */
#define P485_P_SHORT 2          /* 0x42 user-defined items: u16 capacities */
#define P485_P_LONG 4           /* ... and u24 ones (capacity > 65 Ah) */
#define P485_INFO_CAP 1080      /* bytes of reply INFO (0x60 of 64 modules: 1057) */
#define P485_SERIAL 16          /* 0x60: a module's serial number, ASCII */

static const char p485_default_name[] = "bmsgw";
static const char p485_default_manufacturer[] = "PYLON";

_Static_assert(PYLON485_REQ_MAX <= INV_485_RX_MAX, "a request fits the assembly buffer");
_Static_assert(PYLON485_REPLY_MAX <= INV_485_ANSWER_MAX, "a reply fits the output's room");

/* ---- the framer ---- */

/* A complete frame f[0..len) ('~' .. '\r'): its verdict; a valid frame's
 * header into *h and INFO into info[0..PYLON485_INFO_MAX). */
static enum inv_scan p485_check(const uint8_t *f, size_t len, struct bms_pylonframe *h, uint8_t *info)
{
	size_t lenid;

	for (size_t i = 1; i + 1 < len; i++)
		if (bms_hexval(f[i]) < 0)
			return INV_SCAN_BAD_FORMAT;
	if (len < BMS_PYLONFRAME_OVERHEAD)
		return INV_SCAN_BAD_FORMAT;
	lenid = (size_t)(bms_hexval(f[10]) << 8 | bms_hexval(f[11]) << 4 |
			 bms_hexval(f[12]));
	if ((unsigned)bms_hexval(f[9]) != (bms_pylonframe_length((uint16_t)lenid) >> 12) ||
	    (lenid & 1) || len != lenid + BMS_PYLONFRAME_OVERHEAD)
		return INV_SCAN_BAD_LENGTH;
	if (bms_pylonframe_parse(f, len, h, info, PYLON485_INFO_MAX) != BMS_OK)
		return INV_SCAN_BAD_CHECKSUM;
	return bms_pylonframe_is_rtn(h->cid2) ? INV_SCAN_OTHER : INV_SCAN_REQUEST;
}

enum inv_scan pylon485_scan(const uint8_t *buf, size_t len, size_t *n)
{
	*n = 0;
	if (!len)
		return INV_SCAN_MORE;
	if (buf[0] != BMS_PYLONFRAME_SOI) {
		const uint8_t *soi = memchr(buf, BMS_PYLONFRAME_SOI, len);
		*n = soi ? (size_t)(soi - buf) : len;
		return INV_SCAN_NOISE;
	}
	for (size_t i = 1; i < len && i < PYLON485_REQ_MAX; i++) {
		if (buf[i] == BMS_PYLONFRAME_SOI) {
			*n = i; /* cut short by a new frame */
			return INV_SCAN_BAD_FORMAT;
		}
		if (buf[i] == BMS_PYLONFRAME_EOI) {
			struct bms_pylonframe h;
			uint8_t info[PYLON485_INFO_MAX];
			*n = i + 1;
			return p485_check(buf, i + 1, &h, info);
		}
	}
	if (len < PYLON485_REQ_MAX)
		return INV_SCAN_MORE;
	*n = PYLON485_REQ_MAX; /* the rest of it is noise up to the next '~' */
	return INV_SCAN_OVERLONG;
}

bool pylon485_parse(const uint8_t *f, size_t n, struct pylon485_req *req)
{
	struct bms_pylonframe h;

	memset(req, 0, sizeof(*req));
	if (!n || f[0] != BMS_PYLONFRAME_SOI || p485_check(f, n, &h, req->info) != INV_SCAN_REQUEST) {
		memset(req, 0, sizeof(*req));
		return false;
	}
	req->ver = h.ver;
	req->adr = h.adr;
	req->cid1 = h.cid1;
	req->cid2 = h.cid2;
	req->ninfo = (uint8_t)h.ninfo;
	return true;
}

/* ---- replies ---- */

/* Bounded big-endian writer over a reply's INFO. */
struct p485_w {
	uint8_t b[P485_INFO_CAP];
	size_t n;
	bool bad;
};

static void p485_u8(struct p485_w *w, long v)
{
	if (w->n >= sizeof(w->b)) {
		w->bad = true;
		return;
	}
	w->b[w->n++] = (uint8_t)((unsigned long)v & 0xFFu);
}

static void p485_u16(struct p485_w *w, long v)
{
	p485_u8(w, (long)(((unsigned long)v >> 8) & 0xFFu));
	p485_u8(w, v);
}

static void p485_u24(struct p485_w *w, long v)
{
	p485_u8(w, (long)(((unsigned long)v >> 16) & 0xFFu));
	p485_u16(w, v);
}

static void p485_text(struct p485_w *w, const char *s, size_t width)
{
	size_t i = 0;

	for (; i < width && s[i]; i++)
		p485_u8(w, (s[i] >= 0x20 && s[i] < 0x7F) ? s[i] : '?');
	for (; i < width; i++)
		p485_u8(w, 0);
}

/* Field encoders: mV (u16), 0.1 K (u16), the pack/cell where (u16). */
static long p485_mv(double v, enum inv_round r)
{
	return inv_scale(v, 1000, r, 0, 0xFFFF);
}

static long p485_dk(float c)
{
	return inv_scale(c, 10, INV_NEAR, -P485_KELVIN_DK, 0xFFFF - P485_KELVIN_DK) + P485_KELVIN_DK;
}

static long p485_where(struct inv_where w)
{
	return (long)w.pack << 8 | w.index;
}

/* The limits in mV and in `cur_ma` mA steps; currents 0 when not allowed,
 * everything 0 without limits. */
struct p485_limits {
	long cvl, dvl, ccl, dcl;
	uint8_t status;         /* b7 charge, b6 discharge, b5+b4 force, b3 full */
};

static void p485_limits(const struct inv_battery *b, double cur_ma, struct p485_limits *l)
{
	double per_a = 1000.0 / cur_ma;

	memset(l, 0, sizeof(*l));
	if (!(b->present & INV_HAS_LIMITS))
		return;
	l->cvl = p485_mv(b->cvl_v, INV_DOWN);
	l->dvl = p485_mv(b->dvl_v, INV_UP);
	l->ccl = b->charge_allowed ? inv_scale(b->ccl_a, per_a, INV_DOWN, 0, 0x7FFF) : 0;
	l->dcl = b->discharge_allowed ? inv_scale(b->dcl_a, per_a, INV_DOWN, 0, 0x7FFF) : 0;
	/* an enable bit never goes with a limit its field rounds to 0; force
	 * charge only with the charge enable */
	l->status = (uint8_t)((l->ccl > 0 ? 0x80 : 0) | (l->dcl > 0 ? 0x40 : 0) |
			      (l->ccl > 0 && b->force_charge ? 0x30 : 0) | (b->full_charge_request ? 0x08 : 0));
}

/* Average cell temperature, and the other temperatures with it as their
 * stand-in when absent. */
static float p485_tavg(const struct inv_battery *b)
{
	return inv_has(b, INV_HAS_TEMP, b->temp_c) ? b->temp_c : 0.0f;
}

static float p485_tmos(const struct inv_battery *b)
{
	return inv_has(b, INV_HAS_MOS_TEMP, b->mos_temp_c) ? b->mos_temp_c : p485_tavg(b);
}

/* Lowest / highest cell: as given, else the mean cell (voltage / cells in
 * series), else 0. */
static float p485_cell_v(const struct inv_battery *b, bool max)
{
	if (b->present & INV_HAS_CELL_MINMAX)
		return (max ? b->cell_max_mv : b->cell_min_mv) / 1000.0f;
	if (inv_has(b, INV_HAS_VOLTAGE, b->voltage) && b->series_cells)
		return b->voltage / b->series_cells;
	return 0.0f;
}

/* 0x61 (V3.5 system analog values), 49 bytes. */
static void p485_61(const struct inv_battery *b, struct p485_w *w)
{
	bool mm = (b->present & INV_HAS_TEMP_MINMAX) && isfinite(b->temp_min_c) &&
		  isfinite(b->temp_max_c);
	long cyc = (b->present & INV_HAS_CYCLES) ? (long)(b->cycles > 0xFFFF ? 0xFFFF : b->cycles) : 0;
	long soh = inv_has(b, INV_HAS_SOH, b->soh) ? inv_scale(b->soh, 1, INV_NEAR, 0, 100) : 100;
	float tmin = mm ? b->temp_min_c : p485_tavg(b), tmax = mm ? b->temp_max_c : p485_tavg(b);

	p485_u16(w, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ? p485_mv(b->voltage, INV_NEAR) : 0);
	p485_u16(w, inv_has(b, INV_HAS_CURRENT, b->current) ?
		 inv_scale(b->current, 100, INV_NEAR, -0x8000, 0x7FFF) : 0);
	p485_u8(w, inv_has(b, INV_HAS_SOC, b->soc) ? inv_scale(b->soc, 1, INV_FLOOR, 0, 100) : 0);
	p485_u16(w, cyc);
	p485_u16(w, cyc);
	p485_u8(w, soh);
	p485_u8(w, soh);
	p485_u16(w, p485_mv(p485_cell_v(b, true), INV_NEAR));
	p485_u16(w, p485_where(b->cell_max_at));
	p485_u16(w, p485_mv(p485_cell_v(b, false), INV_NEAR));
	p485_u16(w, p485_where(b->cell_min_at));
	p485_u16(w, p485_dk(p485_tavg(b)));
	p485_u16(w, p485_dk(tmax));
	p485_u16(w, p485_where(b->temp_max_at));
	p485_u16(w, p485_dk(tmin));
	p485_u16(w, p485_where(b->temp_min_at));
	/* MOSFET, then BMS board: one sensor stands for both */
	for (int k = 0; k < 2; k++) {
		p485_u16(w, p485_dk(p485_tmos(b)));
		p485_u16(w, p485_dk(p485_tmos(b)));
		p485_u16(w, 0);
		p485_u16(w, p485_dk(p485_tmos(b)));
		p485_u16(w, 0);
	}
}

#define P485_OV (BMS_AL_PACK_OV | BMS_AL_CELL_OV)
#define P485_OT (BMS_AL_CHG_OT | BMS_AL_DSG_OT)
#define P485_UT (BMS_AL_CHG_UT | BMS_AL_DSG_UT)
#define P485_DOC (BMS_AL_DSG_OC | BMS_AL_SHORT)
#define P485_SYS (BMS_AL_HW_FAULT | BMS_AL_MOS_FAULT | BMS_AL_SENSOR | BMS_AL_COMM | BMS_AL_OTHER)

/* Alarm 1 / protection 1 share a layout. */
static uint8_t p485_62_first(uint32_t a)
{
	return (uint8_t)(((a & BMS_AL_PACK_OV) ? 0x80 : 0) | ((a & BMS_AL_PACK_UV) ? 0x40 : 0) |
			 ((a & BMS_AL_CELL_OV) ? 0x20 : 0) | ((a & BMS_AL_CELL_UV) ? 0x10 : 0) |
			 ((a & P485_OT) ? 0x08 : 0) | ((a & P485_UT) ? 0x04 : 0) |
			 ((a & BMS_AL_MOS_OT) ? 0x02 : 0));
}

/* 0x62 (V3.5 system alarms): alarm 1, alarm 2, protection 1, protection 2. */
static void p485_62(const struct inv_battery *b, struct p485_w *w)
{
	uint32_t p = 0, a = 0;

	if (b->present & INV_HAS_ALARMS) {
		p = b->protect;
		a = b->warn;
	}
	p485_u8(w, p485_62_first(a) | ((a & BMS_AL_CELL_DIFF) ? 0x01 : 0));
	p485_u8(w, ((a & BMS_AL_TEMP_DIFF) ? 0x80 : 0) | ((a & BMS_AL_CHG_OC) ? 0x40 : 0) |
		   ((a & P485_DOC) ? 0x20 : 0) | ((a & BMS_AL_COMM) ? 0x10 : 0));
	p485_u8(w, p485_62_first(p));
	p485_u8(w, ((p & BMS_AL_CHG_OC) ? 0x40 : 0) | ((p & P485_DOC) ? 0x20 : 0) |
		   ((p & P485_SYS) ? 0x08 : 0));
}

/* 0x63 (V3.5) and, after the command value, 0x92 (V3.3): CVL, DVL (mV),
 * CCL, DCL, status. */
static void p485_limits_info(const struct inv_battery *b, double cur_ma, struct p485_w *w)
{
	struct p485_limits l;

	p485_limits(b, cur_ma, &l);
	p485_u16(w, l.cvl);
	p485_u16(w, l.dvl);
	p485_u16(w, l.ccl);
	p485_u16(w, l.dcl);
	p485_u8(w, l.status);
}

/* 0x51: battery name (10), software version (2), manufacturer (20). */
static void p485_51(const struct pylon485_cfg *c, const struct inv_battery *b, struct p485_w *w)
{
	p485_text(w, c->battery_name ? c->battery_name : p485_default_name, 10);
	p485_u16(w, c->sw_version);
	p485_text(w, b->manufacturer[0] ? b->manufacturer : p485_default_manufacturer, 20);
}

/* 0x60 (V3.5 system basic information): battery name (10), manufacturer
 * (20), software version (2), the number of modules, and each module's
 * serial number (16): not known, so left empty (NUL), never invented.
 * bms-to-inverter answers the same layout (PylonInverterRS485Processor
 * createSystemInfo). */
static void p485_60(const struct pylon485_cfg *c, const struct inv_battery *b, struct p485_w *w)
{
	unsigned n = b->packs ? b->packs : 1;

	if (n > 64)
		n = 64;
	p485_text(w, c->battery_name ? c->battery_name : p485_default_name, 10);
	p485_text(w, b->manufacturer[0] ? b->manufacturer : p485_default_manufacturer, 20);
	p485_u16(w, c->sw_version);
	p485_u8(w, n);
	for (unsigned i = 0; i < n; i++)
		p485_text(w, "", P485_SERIAL);
}

/* 0x42 cells: the list, else the lowest and highest as two cells. */
static void p485_42_cells(const struct inv_battery *b, struct p485_w *w)
{
	if ((b->present & INV_HAS_CELLS) && b->ncells) {
		unsigned m = b->ncells > BMS_MAX_CELLS ? BMS_MAX_CELLS : b->ncells;
		p485_u8(w, m);
		for (unsigned i = 0; i < m; i++)
			p485_u16(w, b->cell_mv[i]);
	} else if (b->present & INV_HAS_CELL_MINMAX) {
		p485_u8(w, 2);
		p485_u16(w, b->cell_min_mv);
		p485_u16(w, b->cell_max_mv);
	} else {
		p485_u8(w, 0);
	}
}

/* 0x42 temperatures: the BMS board (MOSFET) first, then the sensors, else
 * the coldest and hottest, else the average. */
static unsigned p485_42_temps(const struct inv_battery *b, float *t)
{
	unsigned n = 0;

	if (!inv_has(b, INV_HAS_TEMP, b->temp_c) && !inv_has(b, INV_HAS_MOS_TEMP, b->mos_temp_c) &&
	    !(b->present & (INV_HAS_TEMPS | INV_HAS_TEMP_MINMAX)))
		return 0;
	t[n++] = p485_tmos(b);
	if ((b->present & INV_HAS_TEMPS) && b->ntemps) {
		for (unsigned i = 0; i < b->ntemps && i < BMS_MAX_TEMPS; i++)
			t[n++] = b->temps_c[i];
	} else if (b->present & INV_HAS_TEMP_MINMAX) {
		t[n++] = b->temp_min_c;
		t[n++] = b->temp_max_c;
	} else if (inv_has(b, INV_HAS_TEMP, b->temp_c)) {
		t[n++] = b->temp_c;
	}
	return n;
}

/* 0x42 (V3.3 analog values of one module); current in cur_ma steps. */
static void p485_42(const struct inv_battery *b, uint8_t cmd, double cur_ma, struct p485_w *w)
{
	float t[1 + BMS_MAX_TEMPS];
	unsigned nt = p485_42_temps(b, t);
	long rem = 0, full = 0, cyc = 0;

	if (inv_has(b, INV_HAS_REMAIN, b->remain_ah))
		rem = inv_scale(b->remain_ah, 1000, INV_NEAR, 0, 0xFFFFFF);
	if (inv_has(b, INV_HAS_FULL, b->full_ah))
		full = inv_scale(b->full_ah, 1000, INV_NEAR, 0, 0xFFFFFF);
	if (b->present & INV_HAS_CYCLES)
		cyc = (long)(b->cycles > 0xFFFF ? 0xFFFF : b->cycles);
	bool big = full > 65000 || rem > 65000; /* "battery capacity > 65Ah" */

	p485_u8(w, P485_INFOFLAG);
	p485_u8(w, cmd);
	p485_42_cells(b, w);
	p485_u8(w, nt);
	for (unsigned i = 0; i < nt; i++)
		p485_u16(w, p485_dk(t[i]));
	p485_u16(w, inv_has(b, INV_HAS_CURRENT, b->current) ?
		 inv_scale(b->current, 1000.0 / cur_ma, INV_NEAR, -0x8000, 0x7FFF) : 0);
	p485_u16(w, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ? p485_mv(b->voltage, INV_NEAR) : 0);
	p485_u16(w, big ? 0xFFFF : rem);
	p485_u8(w, big ? P485_P_LONG : P485_P_SHORT);
	p485_u16(w, big ? 0xFFFF : full);
	p485_u16(w, cyc);
	if (big) {
		p485_u24(w, rem);
		p485_u24(w, full);
	}
}

/* Index of the highest (max) or lowest value of v[0..n); -1 for none. */
static int p485_extreme(const float *v, unsigned n, bool max)
{
	int k = -1;

	for (unsigned i = 0; i < n; i++)
		if (k < 0 || (max ? v[i] > v[k] : v[i] < v[k]))
			k = (int)i;
	return k;
}

/* 0x44 cell states: the highest cell "above" on a cell OV protection, the
 * lowest "below" on a cell UV protection (states act as protections). */
static void p485_44_cells(const struct inv_battery *b, uint32_t p, struct p485_w *w)
{
	float v[BMS_MAX_CELLS];
	unsigned m = 0;

	if ((b->present & INV_HAS_CELLS) && b->ncells) {
		for (; m < b->ncells && m < BMS_MAX_CELLS; m++)
			v[m] = b->cell_mv[m];
	} else if (b->present & INV_HAS_CELL_MINMAX) {
		v[m++] = b->cell_min_mv;
		v[m++] = b->cell_max_mv;
	}
	int hi = p485_extreme(v, m, true), lo = p485_extreme(v, m, false);
	p485_u8(w, m);
	for (unsigned i = 0; i < m; i++) {
		uint8_t s = 0;
		if ((p & BMS_AL_CELL_OV) && v[i] >= v[hi])
			s = 0x02;
		else if ((p & BMS_AL_CELL_UV) && v[i] <= v[lo])
			s = 0x01;
		p485_u8(w, s);
	}
}

/* 0x44 temperature states: the board on a MOSFET OT, the hottest sensor
 * on an OT, the coldest on a UT. */
static void p485_44_temps(const struct inv_battery *b, uint32_t p, struct p485_w *w)
{
	float t[1 + BMS_MAX_TEMPS];
	unsigned n = p485_42_temps(b, t);
	int hi = n > 1 ? 1 + p485_extreme(t + 1, n - 1, true) : -1;
	int lo = n > 1 ? 1 + p485_extreme(t + 1, n - 1, false) : -1;

	p485_u8(w, n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t s = 0;
		if (i == 0 && (p & BMS_AL_MOS_OT))
			s = 0x02;
		else if ((int)i == hi && (p & P485_OT))
			s = 0x02;
		else if ((int)i == lo && (p & P485_UT))
			s = 0x01;
		p485_u8(w, s);
	}
}

/* 0x44 (V3.3 alarm info of one module). */
static void p485_44(const struct inv_battery *b, uint8_t cmd, struct p485_w *w)
{
	uint32_t p = (b->present & INV_HAS_ALARMS) ? b->protect : 0;
	bool lim = (b->present & INV_HAS_LIMITS) != 0;
	float i = inv_has(b, INV_HAS_CURRENT, b->current) ? b->current : 0.0f;
	bool full = inv_has(b, INV_HAS_SOC, b->soc) && b->soc >= 100.0f - 1e-3f;

	p485_u8(w, P485_DATAFLAG);
	p485_u8(w, cmd);
	p485_44_cells(b, p, w);
	p485_44_temps(b, p, w);
	p485_u8(w, (p & BMS_AL_CHG_OC) ? 0x02 : 0);
	p485_u8(w, (p & BMS_AL_PACK_OV) ? 0x02 : (p & BMS_AL_PACK_UV) ? 0x01 : 0);
	p485_u8(w, (p & P485_DOC) ? 0x02 : 0);
	p485_u8(w, ((p & P485_OV) ? 0x01 : 0) | ((p & BMS_AL_CELL_UV) ? 0x02 : 0) |
		   ((p & BMS_AL_CHG_OC) ? 0x04 : 0) | ((p & P485_DOC) ? 0x10 : 0) |
		   ((p & BMS_AL_DSG_OT) ? 0x20 : 0) | ((p & BMS_AL_CHG_OT) ? 0x40 : 0) |
		   ((p & BMS_AL_PACK_UV) ? 0x80 : 0));
	p485_u8(w, (i < -0.1f ? 0x08 : 0) | (lim && b->discharge_allowed ? 0x04 : 0) |
		   (lim && b->charge_allowed ? 0x02 : 0));
	p485_u8(w, (i > 0.1f ? 0x80 : 0) | (i < -0.1f ? 0x40 : 0) | (full ? 0x08 : 0));
	p485_u8(w, 0);
	p485_u8(w, 0);
}

/* 0x47 (V3.3 system parameters): per-cell and module voltage limits, the
 * temperature windows and the current limits (s16, cur_ma steps).
 * Without temperature limits: dbus-serialbattery's defaults (charge 0..55
 * degC, discharge -10..55 degC). */
static void p485_47(const struct inv_battery *b, double cur_ma, struct p485_w *w)
{
	struct p485_limits l;
	/* the cells in series: a pack's, else the bank's (a string's sum,
	 * or each parallel pack's: invsource.c); none known: 0 */
	unsigned cells = b->series_cells ? b->series_cells : b->total_cells ? b->total_cells :
			 ((b->present & INV_HAS_CELLS) ? b->ncells : 0);
	bool tl = (b->present & INV_HAS_TEMP_LIMITS) != 0;
	bool have = (b->present & INV_HAS_LIMITS) && cells;

	p485_limits(b, cur_ma, &l);
	p485_u8(w, P485_INFOFLAG);
	p485_u16(w, have ? p485_mv(b->cvl_v / cells, INV_DOWN) : 0);
	p485_u16(w, have ? p485_mv(b->dvl_v / cells, INV_UP) : 0);
	p485_u16(w, have ? p485_mv(b->dvl_v / cells, INV_UP) : 0);
	p485_u16(w, p485_dk(tl ? b->chg_tmax_c : 55));
	p485_u16(w, p485_dk(tl ? b->chg_tmin_c : 0));
	p485_u16(w, l.ccl);
	p485_u16(w, l.cvl);
	p485_u16(w, l.dvl);
	p485_u16(w, l.dvl);
	p485_u16(w, p485_dk(tl ? b->dsg_tmax_c : 55));
	p485_u16(w, p485_dk(tl ? b->dsg_tmin_c : -10));
	p485_u16(w, l.dcl);
}

/* Is req addressed to us (by ADR and device type CID1 0x46)? */
static bool p485_wants(const struct pylon485_cfg *c, const struct pylon485_req *req)
{
	return req->cid1 == P485_CID1 && (c->reply_address >= 0 || req->adr == c->address);
}

/* The limits an answer carries, in A as encoded (`cur_ma` mA steps). */
static void p485_report(const struct inv_battery *b, double cur_ma, struct inv_encoded *e)
{
	struct p485_limits l;

	p485_limits(b, cur_ma, &l);
	e->limits = true;
	e->ccl_a = (float)(l.ccl * cur_ma / 1000.0);
	e->dcl_a = (float)(l.dcl * cur_ma / 1000.0);
}

/* INFO of the answer to req, and the limits it carries; its RTN. */
static uint8_t p485_info(const struct pylon485_cfg *c, const struct pylon485_req *req,
			 const struct inv_battery *b, struct p485_w *w, struct inv_encoded *e)
{
	uint8_t cmd = req->ninfo ? req->info[0] : req->adr;
	double cur_ma = (c->flags & PYLON485_CUR_10MA) ? 10 : 100;

	switch (req->cid2) {
	case 0x4F: break; /* the version is the reply's VER */
	case 0x51: p485_51(c, b, w); break;
	case 0x42: p485_42(b, cmd, cur_ma, w); break;
	case 0x44: p485_44(b, cmd, w); break;
	case 0x47:
		p485_47(b, cur_ma, w);
		p485_report(b, cur_ma, e);
		break;
	case 0x92:
		p485_u8(w, cmd);
		p485_limits_info(b, 100, w);
		p485_report(b, 100, e);
		break;
	case 0x60: p485_60(c, b, w); break;
	case 0x61: p485_61(b, w); break;
	case 0x62: p485_62(b, w); break;
	case 0x63:
		p485_limits_info(b, cur_ma, w);
		p485_report(b, cur_ma, e);
		break;
	default: return PYLON485_RTN_CID2;
	}
	return PYLON485_RTN_OK;
}

int pylon485_reply(const struct pylon485_cfg *c, const struct pylon485_req *req,
		   const struct inv_battery *b, uint8_t *out, size_t cap, struct inv_encoded *e)
{
	struct p485_w w;
	struct inv_encoded none;
	uint8_t rtn, adr, ver;
	int n;

	e = e ? e : &none;
	memset(e, 0, sizeof(*e));
	if (!p485_wants(c, req))
		return 0;
	memset(&w, 0, sizeof(w));
	rtn = p485_info(c, req, b, &w, e);
	if (w.bad)
		return -1;
	adr = c->reply_address >= 0 ? (uint8_t)c->reply_address : req->adr;
	ver = c->ver == PYLON485_VER_ECHO ? req->ver : c->ver > 0 ? (uint8_t)c->ver : P485_VER;
	n = bms_pylonframe_build(out, cap, ver, adr, P485_CID1, rtn, w.b, w.n);
	if (n < 0)
		memset(e, 0, sizeof(*e));
	return n < 0 ? -1 : n;
}

/* ---- the codec: the options from the [inverter] section ---- */

static void p485_cfg_of(const struct conf_inverter *c, struct pylon485_cfg *pc)
{
	*pc = (struct pylon485_cfg){ .address = (uint8_t)c->address, .reply_address = c->reply_address,
				     .ver = c->ver == CONF_VER_ECHO ? PYLON485_VER_ECHO : c->ver,
				     .flags = c->current_unit == CONF_CURRENT_10MA ? PYLON485_CUR_10MA : 0,
				     .battery_name = c->manufacturer };
}

static bool p485_ours(const struct conf_inverter *c, const uint8_t *f, size_t n)
{
	struct pylon485_cfg pc;
	struct pylon485_req req;

	p485_cfg_of(c, &pc);
	return pylon485_parse(f, n, &req) && p485_wants(&pc, &req);
}

static int p485_answer(const struct conf_inverter *c, struct inv_485_kept *kept, const struct inv_battery *b,
		       const uint8_t *f, size_t n, uint8_t *out, size_t cap, struct inv_encoded *e)
{
	(void)kept; /* it keeps nothing the inverter writes */
	struct pylon485_cfg pc;
	struct pylon485_req req;

	memset(e, 0, sizeof(*e));
	p485_cfg_of(c, &pc);
	return pylon485_parse(f, n, &req) ? pylon485_reply(&pc, &req, b, out, cap, e) : 0;
}

const struct inv_codec inv_codec_pylon_rs485 = {
	.name = "pylon-rs485",
	.rs485 = {
		.scan = pylon485_scan,
		.ours = p485_ours,
		.answer = p485_answer,
	},
};
