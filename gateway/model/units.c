/* gateway/model/units.c - what each Modbus unit id serves: a pack's image (its
 * last complete snapshot, encoded when the poll completed, plus live
 * status) or the bank's (aggregated now from the fresh packs). */
#include <string.h>
#include <time.h>

#include "gw.h"
#include "../wire/wire.h"

const struct gw_wire_stats *gw_pack_wire_stats(const struct gw_pack *p)
{
	return &p->link->stats;
}

struct gw_pack *gw_find_pack(const struct gw *gw, const char *name)
{
	for (int i = 0; i < gw->npacks; i++)
		if (strcmp(gw->packs[i]->cfg->name, name) == 0)
			return gw->packs[i];
	return NULL;
}

bool gw_pack_in_bank(const struct gw *gw, const struct gw_pack *p)
{
	const struct conf_bank *b = &gw->conf->bank;
	for (int k = 0; b->enabled && k < b->npacks; k++)
		if (gw->packs[b->pack_idx[k]] == p)
			return true;
	return false;
}

bool gw_pack_online(const struct gw *gw, const struct gw_pack *p)
{
	return p->have_data && gw_mono() - p->last_good <= gw->conf->gw.stale_after;
}

int gw_packs_online(const struct gw *gw)
{
	int n = 0;
	for (int i = 0; i < gw->npacks; i++)
		n += gw_pack_online(gw, gw->packs[i]);
	return n;
}

bool gw_unit_lookup(struct gw *gw, int unit, struct gw_unit *u)
{
	u->pack = NULL;
	u->bank = false;
	const struct conf_bank *b = &gw->conf->bank;
	if (b->enabled && (unit == 0 || unit == 255 || unit == b->unit_id)) {
		u->bank = true;
		return true;
	}
	if (unit == 0 || unit == 255) {
		if (gw->npacks != 1)
			return false;
		u->pack = gw->packs[0];
		return true;
	}
	for (int i = 0; i < gw->npacks; i++)
		if (gw->packs[i]->cfg->unit_id == unit) {
			u->pack = gw->packs[i];
			return true;
		}
	return false;
}

bool gw_unit_online(const struct gw *gw, const struct gw_unit *u)
{
	if (u->pack)
		return gw_pack_online(gw, u->pack);
	const struct conf_bank *b = &gw->conf->bank;
	for (int k = 0; k < b->npacks; k++)
		if (gw_pack_online(gw, gw->packs[b->pack_idx[k]]))
			return true;
	return false;
}

/* Status common to packs and the bank: heartbeat and time zone. */
static void common_status(const struct gw *gw, double now, const struct tm *tm, struct reg_status *st)
{
	st->heartbeat = (uint16_t)((uint32_t)(now - gw->start) & 0xffff);
	st->tz_hours = (int16_t)(tm->tm_gmtoff / 3600);
}

static void pack_image(const struct gw *gw, const struct gw_pack *p, uint16_t regs[REG_MAP_SIZE])
{
	double now = gw_mono();
	struct reg_status st = {0};
	struct tm tm;
	int day = gw_local_now(&tm);
	memcpy(regs, p->data_regs, sizeof(p->data_regs));
	common_status(gw, now, &tm, &st);
	st.have_data = p->have_data;
	st.online = gw_pack_online(gw, p);
	double age = p->have_data ? now - p->last_good : 65535;
	st.age_s = age > 65535 ? 65535 : (uint32_t)age;
	if (p->have_data && p->soc_day == day) {
		st.soc_max_today = p->soc_max;
		st.soc_max_hour = p->soc_max_hour;
		st.soc_max_minute = p->soc_max_minute;
	}
	st.good_polls = p->good_polls;
	st.failed_polls = p->failed_polls;
	const struct gw_wire_stats *ws = gw_pack_wire_stats(p);
	st.wire_checksum_errors = ws->checksum_errors;
	st.wire_short_frames = ws->short_frames;
	st.wire_timeouts = ws->timeouts;
	st.energy_in_kwh = p->energy.in_kwh;
	st.energy_out_kwh = p->energy.out_kwh;
	st.ctl_done = p->ctl.done;
	st.ctl_failed = p->ctl.failed;
	st.protocol_id = p->drv->protocol_id;
	reg_encode_status(&st, p->have_data ? p->snap.alarms : 0, regs);
}

static void bank_image(const struct gw *gw, uint16_t regs[REG_MAP_SIZE])
{
	double now = gw_mono();
	struct gw_bank_state bs;
	struct reg_status st = {0};
	const struct conf_bank *b = &gw->conf->bank;
	gw_bank_compute(gw, &bs);
	reg_encode_bank(bs.online ? &bs.snap : NULL, &bs.rb, gw->conf->gw.float_order,
			regs);
	struct tm tm;
	gw_local_now(&tm);
	common_status(gw, now, &tm, &st);
	st.online = st.have_data = bs.online > 0;
	/* the bank's data is as old as its freshest pack */
	double age = 65535;
	for (int k = 0; k < b->npacks; k++) {
		const struct gw_pack *p = gw->packs[b->pack_idx[k]];
		if (p->have_data && now - p->last_good < age)
			age = now - p->last_good;
		st.good_polls += p->good_polls;
		st.failed_polls += p->failed_polls;
		/* each wire once, however many bank packs share it */
		const struct gw_wire_stats *ws = gw_pack_wire_stats(p);
		bool counted = false;
		for (int j = 0; j < k && !counted; j++)
			counted = gw_pack_wire_stats(gw->packs[b->pack_idx[j]]) == ws;
		if (!counted) {
			st.wire_checksum_errors += ws->checksum_errors;
			st.wire_short_frames += ws->short_frames;
			st.wire_timeouts += ws->timeouts;
		}
	}
	st.age_s = age > 65535 ? 65535 : (uint32_t)age;
	st.protocol_id = 0;
	st.energy_in_kwh = gw->bank_energy.in_kwh;
	st.energy_out_kwh = gw->bank_energy.out_kwh;
	st.packs_online = bs.online;
	st.packs_configured = bs.configured;
	st.online_mask = bs.online_mask;
	st.degraded = bs.online < bs.configured || bs.rb.deviation;
	reg_encode_status(&st, bs.alarms, regs);
}

void gw_unit_image(const struct gw *gw, const struct gw_unit *u, uint16_t regs[REG_MAP_SIZE])
{
	if (u->pack)
		pack_image(gw, u->pack, regs);
	else
		bank_image(gw, regs);
}
