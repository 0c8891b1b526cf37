/* SPDX-License-Identifier: MIT */
/* gateway/detect/probe_order.c - the order of the probes and their cost (see probe_order.h). */
#include "probe_order.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT 0.25
#define BITS_PER_BYTE 10.0 /* start, 8 data, stop */
/* s a request costs beyond its gap, wire time and wait: the loop's own
 * latency (timers firing late, the drain, a change of rate).  Measured
 * over whole sweeps (make bench): 2.5 to 3.1 ms a request on a quiet
 * machine, up to 10 ms on one loaded 4x over its cores; without it the
 * plan's figure was 0.8 s short of a sweep on a quiet one.  The figure is
 * an estimate ("about"); the 15 s budget (detect.c) is the bound. */
#define SLACK 0.008
#define SIG_MAX 100000u /* signatures counted at one rate, at most */

static const int listen_order[GW_PLAN_LISTEN] = { 115200, 19200, 9600 };
static const int probe_order[GW_PLAN_LISTEN] = { 115200, 9600, 19200 };

int gw_plan_listen(const struct gw_plan_opts *o, int bauds[GW_PLAN_LISTEN])
{
	if (o->tcp || o->baud) {
		bauds[0] = o->tcp ? 0 : o->baud;
		return 1;
	}
	memcpy(bauds, listen_order, sizeof(listen_order));
	return GW_PLAN_LISTEN;
}

static bool lists_baud(const struct bms_probe *p, int baud)
{
	for (int i = 0; i < BMS_PROBE_BAUDS && p->bauds[i]; i++)
		if (p->bauds[i] == baud)
			return true;
	return false;
}

bool gw_plan_listens_at(const struct gw_plan_opts *o, const struct bms_driver *d, int baud)
{
	if (!d->probe || !d->listen_only || bms_ble_only(d))
		return false;
	return o->tcp || o->baud || lists_baud(d->probe, baud);
}

/* A tried address's place in a sweep: 0..16 first, then the special ids. */
static unsigned addr_order(uint8_t a)
{
	return a <= BMS_PROBE_SWEEP_MAX ? a : 256u + a;
}

static bool addr_valid(const struct bms_driver *d, int a)
{
	return a >= d->min_address && a <= d->max_address && (!d->address_ok || d->address_ok((uint8_t)a));
}

/* The addresses d's probe tries: their count. */
static int addresses(const struct gw_plan_opts *o, const struct bms_driver *d, uint8_t out[256])
{
	const struct bms_probe *p = d->probe;
	int n = 0;
	if (d->max_address == 0) {
		out[0] = d->min_address;
		return 1;
	}
	if (o->address >= 0) {
		out[0] = (uint8_t)o->address;
		return addr_valid(d, o->address) ? 1 : 0;
	}
	if (!o->sweep) {
		for (int i = 0; i < p->naddrs && i < BMS_PROBE_ADDRS; i++)
			out[n++] = p->addrs[i];
		if (n == 0)
			out[n++] = bms_probe_address(d);
		return n;
	}
	bool have[256] = { false };
	for (int i = 0; i <= BMS_PROBE_SWEEP_MAX + p->nsweep; i++) {
		int a = i <= BMS_PROBE_SWEEP_MAX ? i : p->sweep[i - BMS_PROBE_SWEEP_MAX - 1];
		if (!addr_valid(d, a) || have[a])
			continue;
		have[a] = true;
		out[n++] = (uint8_t)a;
	}
	return n;
}

struct keyed {
	struct gw_detect_try t;
	unsigned group, hint, major, minor;
	size_t seq;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->hint != y->hint)
		return x->hint < y->hint ? -1 : 1;
	if (x->major != y->major)
		return x->major < y->major ? -1 : 1;
	if (x->minor != y->minor)
		return x->minor < y->minor ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* What was heard at rate baud: its signatures (NULL: nothing heard there). */
static const unsigned *heard_at(const struct gw_plan_heard *h, int baud)
{
	for (int i = 0; h && i < h->n && i < GW_PLAN_LISTEN; i++)
		if (h->bauds[i] == baud)
			return h->sig[i];
	return NULL;
}

/* The signatures heard at rate baud of the families that count. */
static unsigned hinted(const struct gw_plan_heard *h, int baud)
{
	const unsigned *sig = heard_at(h, baud);
	unsigned n = 0;
	for (int f = 1; sig && f < GW_FAMILIES; f++)
		n += sig[f] >= GW_HINT_MIN ? sig[f] : 0;
	return n;
}

/* The tries of driver d at rate baud (group g) into k[n..cap). */
static size_t add_driver(const struct gw_plan_opts *o, const unsigned *sig, const struct bms_driver *d, int baud,
			 unsigned g, struct keyed *k, size_t n, size_t cap)
{
	uint8_t addr[256];
	int na = addresses(o, d, addr);
	for (int i = 0; i < na && n < cap; i++, n++) {
		k[n].t = (struct gw_detect_try){ d, baud, addr[i], d->probe->tries ? d->probe->tries : 1 };
		k[n].group = g;
		/* the probes of a family heard at this rate first */
		k[n].hint = sig && sig[gw_plan_family(&k[n].t)] >= GW_HINT_MIN ? 0 : 1;
		/* a sweep goes address by address; otherwise probe by probe */
		k[n].major = o->sweep ? addr_order(addr[i]) : d->probe->rank;
		k[n].minor = o->sweep ? d->probe->rank : (unsigned)i;
		k[n].seq = n;
	}
	return n;
}

/* The place of rate baud (the g-th of probe_order): the rates where a
 * family was heard first, the most heard first, then the others in their
 * order. */
static unsigned rate_group(const struct gw_plan_heard *heard, int baud, unsigned g)
{
	unsigned h = hinted(heard, baud);
	if (h > SIG_MAX)
		h = SIG_MAX;
	return h ? (SIG_MAX - h) * GW_PLAN_LISTEN + g : (SIG_MAX + 1) * GW_PLAN_LISTEN + g;
}

size_t gw_plan_build(const struct gw_plan_opts *o, struct gw_detect_try *out, size_t cap)
{
	return gw_plan_build_heard(o, NULL, out, cap);
}

size_t gw_plan_build_heard(const struct gw_plan_opts *o, const struct gw_plan_heard *heard, struct gw_detect_try *out,
			   size_t cap)
{
	size_t n = 0;
	struct keyed *k = calloc(GW_PLAN_MAX, sizeof(*k));
	if (!k)
		return 0;
	int ngroups = o->tcp || o->baud ? 1 : GW_PLAN_LISTEN;
	for (int g = 0; g < ngroups; g++) {
		int baud = o->tcp ? 0 : o->baud ? o->baud : probe_order[g];
		for (size_t i = 0; bms_drivers[i]; i++) {
			const struct bms_driver *d = bms_drivers[i];
			if (!d->probe || d->listen_only || bms_ble_only(d) || (!o->tcp && !o->baud && !lists_baud(d->probe, baud)))
				continue;
			n = add_driver(o, heard_at(heard, baud), d, baud, rate_group(heard, baud, (unsigned)g), k, n,
				       GW_PLAN_MAX);
		}
	}
	qsort(k, n, sizeof(*k), cmp_keyed);
	if (n > cap)
		n = cap;
	for (size_t i = 0; i < n; i++)
		out[i] = k[i].t;
	free(k);
	return n;
}

double gw_plan_gap(const struct gw_detect_try *t)
{
	double g = t->drv->probe->gap;
	if (g < t->drv->gap_floor)
		g = t->drv->gap_floor;
	return g < BMS_PROBE_MIN_GAP ? BMS_PROBE_MIN_GAP : g;
}

double gw_plan_timeout(const struct gw_detect_try *t)
{
	return t->drv->probe->timeout > 0 ? t->drv->probe->timeout : DEFAULT_TIMEOUT;
}

double gw_plan_wire(const struct gw_detect_try *t, size_t n)
{
	int baud = t->baud ? t->baud : t->drv->default_baud;
	return baud > 0 ? (double)n * BITS_PER_BYTE / baud : 0;
}

enum gw_family gw_plan_family(const struct gw_detect_try *t)
{
	struct bms_poll poll;
	uint8_t req[256];
	bms_probe_begin(t->drv, &poll, t->address, 0);
	int n = bms_probe_request(t->drv, &poll, req, sizeof(req));
	return n > 0 ? gw_family_of_request(req, (size_t)n) : GW_FAM_OTHER;
}

/* One try (attempt a) after a gap of g s, unanswered. */
static double try_cost(const struct gw_detect_try *t, int a, double g)
{
	struct bms_poll poll;
	uint8_t req[256];
	bms_probe_begin(t->drv, &poll, t->address, a);
	int n = bms_probe_request(t->drv, &poll, req, sizeof(req));
	return g + gw_plan_wire(t, n > 0 ? (size_t)n : 0) + gw_plan_timeout(t) + SLACK;
}

double gw_plan_cost(const struct gw_detect_try *t)
{
	double cost = 0;
	for (int a = 0; a < t->tries; a++)
		cost += try_cost(t, a, gw_plan_gap(t));
	return cost;
}

double gw_plan_cost_after(const struct gw_detect_try *prev, const struct gw_detect_try *t)
{
	/* the silence since the last request: the wait that ran out */
	double quiet = prev && prev->baud == t->baud ? gw_plan_timeout(prev) : 0;
	double cost = 0;
	for (int a = 0; a < t->tries; a++) {
		double g = gw_plan_gap(t) - quiet;
		cost += try_cost(t, a, g > 0 ? g : 0);
		quiet = gw_plan_timeout(t);
	}
	return cost;
}

double gw_plan_probes(const struct gw_detect_try *p, size_t n)
{
	double cost = 0;
	for (size_t i = 0; i < n; i++)
		cost += gw_plan_cost_after(i ? &p[i - 1] : NULL, &p[i]);
	return cost;
}

double gw_plan_listening(const struct gw_plan_opts *o, double window)
{
	int b[GW_PLAN_LISTEN];
	int n = gw_plan_listen(o, b);
	double quiet = window < GW_PLAN_QUIET ? window : GW_PLAN_QUIET;
	return window + (n - 1) * quiet;
}

double gw_plan_worst(const struct gw_plan_opts *o, double window, const struct gw_detect_try *p, size_t n)
{
	return gw_plan_listening(o, window) + gw_plan_probes(p, n);
}
