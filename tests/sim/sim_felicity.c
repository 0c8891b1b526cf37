/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_felicity.c - a Felicity Solar battery over Bluetooth LE,
 * the BMS side of its module's link as a fake BlueZ bridges it to a TCP
 * port (writes to 49535258-... in, notifications of 49535458-... out).
 *
 * bms/PROTOCOLS.md §36.  Requests are ASCII without a terminator; answered
 * with one JSON object each ("CommVer":1):
 *	wifilocalMonitor:get dev real infor -> the keys of a real answer
 *	    (FELICITY-01, -04), in their order.  The pack's own: BattList
 *	    [[mV (the cells' sum),65535],[current 0.1 A,-1]], BatsocList
 *	    [[SOC 0.01 %,1000,capacity mAh]], BatcelList [[cells mV],[65535
 *	    ...]], BtemList [[the sensors 0.1 degC, then 32767 up to 8]],
 *	    BBfault = alarm byte 0, BBwarn = alarm byte 1.  The bank's, as
 *	    the pack is one of `bank` packs (pack option, default 2) whose
 *	    others carry what it carries: Batt [[mV + 50 (the module's own
 *	    reading, FELICITY-01 has +50)],[bank x current],[null]], Batsoc
 *	    [[SOC,1000,bank x capacity]], LVolCur, EMSpara / BMSpara [[bank,
 *	    ...]], Bfault = alarm bytes 0 | 2, Bwarn = 1 | 3 (bytes 2 and 3:
 *	    the other packs' words).  A reader of the bank's keys reads bank
 *	    x the current and the others' alarms.
 *	wifilocalMonitor:get dev basice infor -> version, DevSN, Type,
 *	    SubType, M1SwVer
 *	wifilocalMonitor:get Date -> dateTime, timeZMin
 * With junk=1 a few stray bytes and a stale "get Date" answer come before
 * every answer (the reader must skip both).  Anything else is a bad
 * request.  One BMS per connection.  Encoded here; bms/ is deliberately not
 * used.
 */
#include "sim.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FE_CELLS 16
#define FE_TEMPS 8
#define FE_MAX 2048

static const char *const fe_reqs[] = {
	"wifilocalMonitor:get dev real infor",
	"wifilocalMonitor:get dev basice infor",
	"wifilocalMonitor:get Date",
};
#define FE_NREQ (sizeof(fe_reqs) / sizeof(fe_reqs[0]))

static const char fe_date[] = "{\"CommVer\":1,\"wifiSN\":\"F100011002424470238\",\"iotType\":3,"
			      "\"dateTime\":\"20210101010459\",\"timeZMin\":480}";

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

struct fe_raw {
	int ncells, ntemps, bank;
	unsigned cell_mv[FE_CELLS], max_mv, min_mv, max_i, min_i;
	unsigned long volt_mv, cap_mah;
	long da;           /* 0.1 A */
	unsigned soc;      /* 0.01 % */
	int dc[FE_TEMPS];  /* 0.1 degC */
};

static void fe_quantise(const struct sim_pack *p, struct fe_raw *r)
{
	memset(r, 0, sizeof *r);
	r->bank = p->dialect > 0 ? p->dialect : 2;
	r->ncells = p->ncells < FE_CELLS ? p->ncells : FE_CELLS;
	r->min_mv = 65535;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampl(sim_pack_cell_mv(p, i), 1, 65534);
		r->volt_mv += r->cell_mv[i];
		if (r->cell_mv[i] > r->max_mv)
			r->max_mv = r->cell_mv[i], r->max_i = (unsigned)i;
		if (r->cell_mv[i] < r->min_mv)
			r->min_mv = r->cell_mv[i], r->min_i = (unsigned)i;
	}
	r->da = clampl(lround(p->current * 10.0), -20000, 20000);
	r->soc = (unsigned)clampl(lround(p->soc * 100.0), 0, 10000);
	r->cap_mah = (unsigned long)clampl(lround(p->capacity_ah * 1000.0), 1, 100000000);
	r->ntemps = p->ntemps < FE_TEMPS ? p->ntemps : FE_TEMPS;
	for (int i = 0; i < r->ntemps; i++)
		r->dc[i] = (int)clampl(p->temp_c[i] * 10L, -500, 1500);
}

/* Appends to s[0..cap) at *at, as far as it fits. */
static void put(char *s, size_t cap, size_t *at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char *s, size_t cap, size_t *at, const char *fmt, ...)
{
	va_list ap;
	if (*at >= cap)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(s + *at, cap - *at, fmt, ap);
	va_end(ap);
	*at = n < 0 ? cap : *at + (size_t)n;
}

/* The bank's keys and the pack's own, in a real answer's order. */
static size_t fe_rt(const struct sim_pack *p, char *s)
{
	struct fe_raw r;
	size_t at = 0;
	fe_quantise(p, &r);
	int t0 = r.ntemps ? r.dc[0] : 250, n = r.bank;
	put(s, FE_MAX, &at, "{\"CommVer\":1,\"wifiSN\":\"F100011002424470238\",\"modID\":1,\"date\":\"20210101010501\","
	    "\"DevSN\":\"100011002424470238\",\"Type\":112,\"SubType\":7300,\"Estate\":960,\"Bfault\":%u,"
	    "\"Bwarn\":%u,\"Bstate\":960,\"BBfault\":%u,\"BBwarn\":%u,\"BTemp\":[[%d,%d],[256,256]],",
	    p->alarm[0] | p->alarm[2], p->alarm[1] | p->alarm[3], p->alarm[0], p->alarm[1], t0, t0);
	put(s, FE_MAX, &at, "\"Batt\":[[%lu],[%ld],[null]],\"Batsoc\":[[%u,1000,%lu]],"
	    "\"Templist\":[[%d,%d],[0,0],[65535,65535],[65535,65535]],\"BattList\":[[%lu,65535],[%ld,-1]],"
	    "\"BatsocList\":[[%u,1000,%lu]],\"BatcelList\":[[", r.volt_mv + 50, r.da * n, r.soc, r.cap_mah * (unsigned)n,
	    t0, t0, r.volt_mv, r.da, r.soc, r.cap_mah);
	for (int i = 0; i < r.ncells; i++)
		put(s, FE_MAX, &at, "%s%u", i ? "," : "", r.cell_mv[i]);
	put(s, FE_MAX, &at, "],[");
	for (int i = 0; i < r.ncells; i++)
		put(s, FE_MAX, &at, "%s65535", i ? "," : "");
	put(s, FE_MAX, &at, "]],\"EMSpara\":[[%d,2]],\"BMaxMin\":[[%u,%u],[%u,%u]],\"LVolCur\":[[576,480],[%d,%d]],"
	    "\"BMSpara\":[[%d,2]],\"BLVolCu\":[[576,480],[1500,1500]],\"BtemList\":[[", n, r.max_mv, r.min_mv,
	    r.max_i, r.min_i, 1500 * n, 1500 * n, n);
	for (int i = 0; i < FE_TEMPS; i++)
		put(s, FE_MAX, &at, "%s%d", i ? "," : "", i < r.ntemps ? r.dc[i] : 32767);
	put(s, FE_MAX, &at, "]]}");
	return at < FE_MAX ? at : 0;
}

static size_t fe_basic(char *s)
{
	static const char b[] = "{\"CommVer\":1,\"version\":\"2.06\",\"wifiSN\":\"F100011002424470238\",\"COM\":3,"
				"\"iotType\":3,\"modID\":1,\"DevSN\":\"100011002424470238\",\"Type\":112,"
				"\"SubType\":7300,\"DSwVer\":65535,\"M1SwVer\":519,\"M2SwVer\":16,\"DHwVer\":0,"
				"\"CtHwVer\":0,\"PwHwVer\":65535}";
	memcpy(s, b, sizeof b - 1);
	return sizeof b - 1;
}

static void fe_view(const struct sim_pack *p, struct sim_view *v)
{
	struct fe_raw r;
	fe_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.volt_mv / 1000.0;
	v->current = r.da / 10.0;
	v->soc = r.soc / 100.0;
	v->capacity_ah = r.cap_mah / 1000.0;
	v->remaining_ah = (double)r.soc * (double)r.cap_mah / 1e7;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.ntemps;
	for (int i = 0; i < r.ntemps; i++)
		v->temp_c[i] = p->temp_c[i];
	v->nalarm = 2; /* BBfault, BBwarn: the pack's (bytes 2, 3: the other packs') */
	v->alarm[0] = p->alarm[0];
	v->alarm[1] = p->alarm[1];
}

/* One of the three requests, whole: a request; its beginning: more bytes;
 * anything else is bad up to the next 'w'. */
static enum sim_scan fe_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	bool prefix = false;
	for (size_t k = 0; k < FE_NREQ; k++) {
		size_t m = strlen(fe_reqs[k]);
		if (len >= m && memcmp(buf, fe_reqs[k], m) == 0) {
			*n = m;
			return SIM_SCAN_FRAME;
		}
		if (len < m && memcmp(buf, fe_reqs[k], len) == 0)
			prefix = true;
	}
	if (prefix)
		return SIM_SCAN_NEED;
	size_t i = 1;
	while (i < len && buf[i] != 'w')
		i++;
	*n = i;
	return SIM_SCAN_BAD;
}

static int fe_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp fe_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	char s[FE_MAX];
	size_t len = 0;
	if (n == strlen(fe_reqs[0]) && memcmp(req, fe_reqs[0], n) == 0)
		len = fe_rt(p, s);
	else if (n == strlen(fe_reqs[1]) && memcmp(req, fe_reqs[1], n) == 0)
		len = fe_basic(s);
	else if (n == strlen(fe_reqs[2]) && memcmp(req, fe_reqs[2], n) == 0)
		len = sizeof fe_date - 1, memcpy(s, fe_date, len);
	if (!len)
		return SIM_RESP_BAD;
	if (p->junk) {
		sim_reply_add(reply, (const uint8_t *)"\r\n}]", 4);
		sim_reply_add(reply, (const uint8_t *)fe_date, sizeof fe_date - 1);
	}
	sim_reply_add(reply, (const uint8_t *)s, len);
	return SIM_RESP_OK;
}

/* badsum (no checksum in this protocol): the JSON broken, its ':' after
 * "CommVer" a ';'. */
static void fe_corrupt(uint8_t *frame, size_t n)
{
	static const char key[] = "\"CommVer\":";
	size_t k = sizeof key - 1;
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(frame + i, key, k) == 0) {
			frame[i + k - 1] = ';';
			return;
		}
}

const struct sim_proto sim_proto_felicity = {
	.name = "felicity",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = FE_CELLS,
	.max_temps = FE_TEMPS,
	.scan = fe_scan,
	.address = fe_address,
	.respond = fe_respond,
	.view = fe_view,
	.corrupt = fe_corrupt,
};
