/* SPDX-License-Identifier: MIT */
/* gateway/modbus/image.c - what each Modbus unit id serves: a pack's image
 * (its last complete snapshot, encoded when the poll completed, plus live
 * status: freshness, counters, energy, MOSFET commands, charge limits) or
 * the bank's (the model's one state of it, model/bankstate.h), and the
 * images the servers send, cached (see image.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../model/bankstate.h"
#include "../poll/control.h"
#include "image.h"

/* The local time the status registers show: the day key of gw_local_now()
 * (the highest SOC today) and the time zone. */
struct local {
	int day;
	int16_t tz_hours;
};

static void local_now(struct local *lt)
{
	struct tm tm;
	lt->day = gw_local_now(&tm);
	lt->tz_hours = (int16_t)(tm.tm_gmtoff / 3600);
}

/* The registers' seconds: since the start (heartbeat), since a poll (age). */
static uint16_t heartbeat_at(const struct gw *gw, double now)
{
	return (uint16_t)((uint32_t)(now - gw->start) & 0xffff);
}

static uint32_t age_s(double age)
{
	return age > 65535 ? 65535 : (uint32_t)age;
}

static uint32_t pack_age(const struct gw_pack *p, double now)
{
	return age_s(p->have_data ? now - p->last_good : 65535);
}

/* The bank's data is as old as its freshest pack. */
static uint32_t bank_age(const struct gw_bank_view *v, double now)
{
	return age_s(v->newest >= 0 && now - v->newest < 65535 ? now - v->newest : 65535);
}

/* The limit registers of a unit: its limits, or, when it is not fresh at
 * the request's own time, the fail-safe at once (no current, nothing
 * allowed) even before the once-a-second step catches up; all zero
 * without [limits]. */
static void limit_words(const struct gw *gw, const struct gw_limits *l, bool fresh, struct reg_limits *w)
{
	memset(w, 0, sizeof(*w));
	if (!gw->conf->limits.enabled)
		return;
	struct gw_limits x = *l;
	if (!fresh && !x.failsafe) {
		x.ccl_a = x.dcl_a = 0;
		x.charge_allowed = x.discharge_allowed = x.force_charge = false;
		x.failsafe = true;
		x.mode = GW_LIM_FAILSAFE;
		x.ccl_reason = x.dcl_reason = GW_LR_STALE;
	}
	w->cvl_v = x.cvl_v;
	w->ccl_a = x.ccl_a;
	w->dcl_a = x.dcl_a;
	w->dvl_v = x.dvl_v;
	w->flags = gw_limits_flags(&x);
	w->mode = (uint16_t)x.mode;
	w->ccl_reason = (uint16_t)x.ccl_reason;
	w->dcl_reason = (uint16_t)x.dcl_reason;
}

/* Status common to packs and the bank: heartbeat, time zone, float order. */
static void common_status(const struct gw *gw, double now, const struct local *lt, struct reg_status *st)
{
	st->heartbeat = heartbeat_at(gw, now);
	st->tz_hours = lt->tz_hours;
	st->fo = gw->conf->gw.float_order;
}

/* The counted SOC's block (offsets 125-137) and its uncertainty (147). */
static void status_soc(const struct gw_soc_out *o, struct reg_status *st)
{
	st->soc_band = o->band;
	st->soc_bms = o->soc_bms;
	st->soc_counted = o->soc_counted;
	st->soc_flags = (uint16_t)o->flags;
	st->soc_remain_ah = o->remaining_ah;
	st->soc_capacity_ah = o->capacity_ah;
	st->soh_measured = o->soh_measured;
	st->soc_samples = (uint16_t)o->capacity_samples;
	st->since_full_s = o->since_full_s;
	st->soc_full_points = (uint16_t)o->full_points;
	st->soc_empty_points = (uint16_t)o->empty_points;
}

/* The charge settings in force (engine/settings.h), as registers 150-160 show them. */
static void status_settings(const struct gw *gw, const struct gw_unit *u, struct reg_status *st)
{
	const struct gw_settings *set = gw_unit_settings(gw, u);
	for (int i = 0; i < REG_SET_VALUES && i < GW_SET_COUNT; i++)
		st->settings[i] = set->v[i];
}

static void pack_image(const struct gw *gw, const struct gw_pack *p, double now, const struct local *lt,
		       uint16_t regs[REG_MAP_SIZE])
{
	struct reg_status st = {0};
	memcpy(regs, p->data_regs, sizeof(p->data_regs));
	common_status(gw, now, lt, &st);
	st.have_data = p->have_data;
	st.online = gw_pack_online_at(gw, p, now);
	st.age_s = pack_age(p, now);
	if (p->have_data && p->soc_day == lt->day) {
		st.soc_max_today = p->soc_max;
		st.soc_max_hour = p->soc_max_hour;
		st.soc_max_minute = p->soc_max_minute;
	}
	st.good_polls = p->good_polls;
	st.failed_polls = p->failed_polls;
	const struct gw_bus_stats *ws = gw_pack_bus_stats(p);
	st.wire_checksum_errors = ws->checksum_errors;
	st.wire_short_frames = ws->short_frames;
	st.wire_timeouts = ws->timeouts;
	st.energy_in_kwh = p->energy.in_kwh;
	st.energy_out_kwh = p->energy.out_kwh;
	gw_control_counts(p, &st.ctl_done, &st.ctl_failed);
	st.protocol_id = p->drv->protocol_id;
	limit_words(gw, &p->lim, st.online, &st.lim);
	struct gw_soc_out so;
	gw_soc_pack_out(gw, p, now, &so);
	status_soc(&so, &st);
	status_settings(gw, &(struct gw_unit){ .pack = (struct gw_pack *)p }, &st);
	reg_encode_status(&st, p->have_data ? p->snap.alarms : 0, regs);
}

static void bank_image(const struct gw *gw, double now, const struct local *lt, uint16_t regs[REG_MAP_SIZE])
{
	const struct gw_bank_view *v = gw_bank_at(gw, now);
	const struct gw_bank_state *bs = &v->bank;
	struct reg_status st = {0};
	const struct conf_bank *b = &gw->conf->bank;
	reg_encode_bank(bs->online ? &bs->snap : NULL, &bs->rb, gw->conf->gw.float_order, regs);
	common_status(gw, now, lt, &st);
	st.online = st.have_data = bs->online > 0;
	for (int k = 0; k < b->npacks; k++) {
		const struct gw_pack *p = gw->packs[b->pack_idx[k]];
		st.good_polls += p->good_polls;
		st.failed_polls += p->failed_polls;
		/* each wire once, however many bank packs share it */
		const struct gw_bus_stats *ws = gw_pack_bus_stats(p);
		bool counted = false;
		for (int j = 0; j < k && !counted; j++)
			counted = gw_pack_bus_stats(gw->packs[b->pack_idx[j]]) == ws;
		if (!counted) {
			st.wire_checksum_errors += ws->checksum_errors;
			st.wire_short_frames += ws->short_frames;
			st.wire_timeouts += ws->timeouts;
		}
	}
	st.age_s = bank_age(v, now);
	st.protocol_id = 0;
	st.energy_in_kwh = gw->bank_energy.in_kwh;
	st.energy_out_kwh = gw->bank_energy.out_kwh;
	st.packs_online = bs->online;
	st.packs_configured = bs->configured;
	st.online_mask = bs->online_mask;
	st.bank_source = (uint16_t)gw_bank_shunt_bits(&bs->shunt);
	st.degraded = bs->missing || bs->rb.deviation; /* a balancer unit gone stale is no pack missing */
	limit_words(gw, &gw->bank_lim, gw_bank_limits_fresh_at(gw, now), &st.lim);
	struct gw_soc_out so;
	gw_bank_counted(v, now, &so);
	status_soc(&so, &st);
	status_settings(gw, &(struct gw_unit){ .bank = true }, &st);
	reg_encode_status(&st, bs->alarms, regs);
}

void gw_unit_image(const struct gw *gw, const struct gw_unit *u, uint16_t regs[REG_MAP_SIZE])
{
	double now = gw_mono();
	struct local lt;
	local_now(&lt);
	if (u->pack)
		pack_image(gw, u->pack, now, &lt, regs);
	else
		bank_image(gw, now, &lt, regs);
}

/* ---- the Modbus server's images, cached ----
 *
 * Everything an image shows besides its registers of pack data, reduced to
 * what changes it: the key is made for every request (loads and compares,
 * the seconds worked out from `now` exactly as the image does), and the
 * image is encoded again only when the key differs.  Time shows as the
 * heartbeat, the age and freshness (so a pack that went stale a moment ago
 * is never served as fresh), the local day and time zone (localtime once a
 * second of time()).  New data shows as a new good-poll count (the bank's
 * as a new generation of its state), a reload as a new count of reloads or
 * another configuration.  The bank's counters are
 * summed over its packs without folding shared buses: counters only grow
 * between reloads, so a sum changes whenever one of them does.  Should a
 * change ever escape the key, the heartbeat still renews the image every
 * second. */
struct image_key {
	const void *unit;              /* the pack; NULL for the bank */
	const struct conf *conf;
	unsigned long reloads;
	uint64_t bank_gen;             /* the bank's state (model/bankstate.h); 0 for a pack */
	double energy_in, energy_out;
	uint64_t online;               /* pack: fresh; bank: bit k = bank pack k fresh */
	bool have_data;
	uint16_t heartbeat;
	uint32_t age_s;
	uint32_t good_polls, failed_polls;
	uint32_t wire_checksum, wire_short, wire_timeouts;
	uint32_t ctl_done, ctl_failed;
	struct local lt;
	struct reg_limits lim;         /* what the limit registers show */
	uint32_t settings[GW_SET_COUNT]; /* the charge settings in force */
};

static bool key_equal(const struct image_key *a, const struct image_key *b)
{
	return a->unit == b->unit && a->conf == b->conf && a->reloads == b->reloads && a->bank_gen == b->bank_gen &&
	       a->energy_in == b->energy_in && a->energy_out == b->energy_out && a->online == b->online &&
	       a->have_data == b->have_data && a->heartbeat == b->heartbeat && a->age_s == b->age_s &&
	       a->good_polls == b->good_polls && a->failed_polls == b->failed_polls &&
	       a->wire_checksum == b->wire_checksum && a->wire_short == b->wire_short &&
	       a->wire_timeouts == b->wire_timeouts && a->ctl_done == b->ctl_done &&
	       a->ctl_failed == b->ctl_failed && a->lt.day == b->lt.day && a->lt.tz_hours == b->lt.tz_hours &&
	       memcmp(&a->lim, &b->lim, sizeof(a->lim)) == 0 &&
	       memcmp(a->settings, b->settings, sizeof(a->settings)) == 0;
}

static void key_wire(struct image_key *k, const struct gw_pack *p)
{
	const struct gw_bus_stats *ws = gw_pack_bus_stats(p);
	k->wire_checksum += ws->checksum_errors;
	k->wire_short += ws->short_frames;
	k->wire_timeouts += ws->timeouts;
}

static void pack_key(const struct gw *gw, const struct gw_pack *p, double now, struct image_key *k)
{
	k->unit = p;
	k->online = gw_pack_online_at(gw, p, now);
	k->have_data = p->have_data;
	k->age_s = pack_age(p, now);
	k->good_polls = p->good_polls;
	k->failed_polls = p->failed_polls;
	key_wire(k, p);
	k->energy_in = p->energy.in_kwh;
	k->energy_out = p->energy.out_kwh;
	gw_control_counts(p, &k->ctl_done, &k->ctl_failed);
	limit_words(gw, &p->lim, k->online != 0, &k->lim);
	memcpy(k->settings, gw_unit_settings(gw, &(struct gw_unit){ .pack = (struct gw_pack *)p })->v,
	       sizeof(k->settings));
}

static void bank_key(const struct gw *gw, double now, struct image_key *k)
{
	const struct conf_bank *b = &gw->conf->bank;
	const struct gw_bank_view *v = gw_bank_at(gw, now);
	k->unit = NULL;
	k->bank_gen = v->gen; /* its members' polls and freshness */
	k->online = v->bank.online_mask;
	for (int i = 0; i < b->npacks; i++) {
		const struct gw_pack *p = gw->packs[b->pack_idx[i]];
		k->good_polls += p->good_polls;
		k->failed_polls += p->failed_polls;
		key_wire(k, p);
	}
	k->age_s = bank_age(v, now);
	k->energy_in = gw->bank_energy.in_kwh;
	k->energy_out = gw->bank_energy.out_kwh;
	limit_words(gw, &gw->bank_lim, gw_bank_limits_fresh_at(gw, now), &k->lim);
	memcpy(k->settings, gw_unit_settings(gw, &(struct gw_unit){ .bank = true })->v, sizeof(k->settings));
}

struct image_slot {
	bool valid;
	struct image_key key;
	uint8_t be[2 * REG_MAP_SIZE];
};

struct gw_images {
	time_t wall;                   /* the second of time() that lt is for */
	struct local lt;
	struct image_slot slot[CONF_MAX_PACKS + 1]; /* by pack index; the last: the bank */
};

struct gw_images *gw_images_new(void)
{
	return calloc(1, sizeof(struct gw_images));
}

void gw_images_free(struct gw_images *im)
{
	free(im);
}

const uint8_t *gw_unit_image_wire(const struct gw *gw, const struct gw_unit *u, double now, struct gw_images *im)
{
	time_t t = time(NULL);
	if (t != im->wall) {
		local_now(&im->lt);
		im->wall = t;
	}
	struct image_key k = {.conf = gw->conf, .reloads = gw->reloads, .lt = im->lt,
			      .heartbeat = heartbeat_at(gw, now)};
	int i = CONF_MAX_PACKS;
	if (u->pack) {
		/* a pack not (or no longer) in the table shares slot 0: its key differs */
		for (i = 0; i < gw->npacks && gw->packs[i] != u->pack; i++)
			;
		i = i < gw->npacks ? i : 0;
		pack_key(gw, u->pack, now, &k);
	} else {
		bank_key(gw, now, &k);
	}
	struct image_slot *s = &im->slot[i];
	if (!s->valid || !key_equal(&s->key, &k)) {
		uint16_t regs[REG_MAP_SIZE];
		if (u->pack)
			pack_image(gw, u->pack, now, &im->lt, regs);
		else
			bank_image(gw, now, &im->lt, regs);
		for (int r = 0; r < REG_MAP_SIZE; r++) {
			s->be[2 * r] = (uint8_t)(regs[r] >> 8);
			s->be[2 * r + 1] = (uint8_t)regs[r];
		}
		s->key = k;
		s->valid = true;
	}
	return s->be;
}
