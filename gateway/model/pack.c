/* SPDX-License-Identifier: MIT */
/* gateway/model/pack.c - a pack's register cache and its one writer.
 *
 * What a pack serves (its last complete snapshot, the registers encoded
 * from it, the counters of good and failed polls, why the last poll
 * failed, the day's highest SOC, what the BMS said about itself) changes
 * here alone: a poll that ended well is committed whole (gw_pack_commit),
 * one that did not is counted (gw_pack_fail), and the old snapshot stays
 * until it goes stale by age.  The poller (poll/poller.c) decides which;
 * every other room only reads.  With [soc] source = counted, the counted
 * SOC replaces the BMS's in the cache once synced (gw_pack_carry_soc).  A pack is made here too (gw_pack_new),
 * with the charge engine's memory of it; the plan wires it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "gw.h"

struct gw_pack *gw_pack_new(double now)
{
	struct gw_pack *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->created = now;
	p->soc.bms_soc = NAN;
	if (!(p->charge = gw_charge_pack_new())) {
		free(p);
		return NULL;
	}
	return p;
}

void gw_pack_free(struct gw_pack *p)
{
	if (!p)
		return;
	gw_charge_pack_free(p->charge);
	free(p);
}

/* The highest SOC of the local day, and when it was reached. */
static void soc_track(struct gw_pack *p)
{
	if (!(p->snap.present & BMS_HAS_SOC))
		return;
	struct tm tm;
	int day = gw_local_now(&tm);
	uint16_t soc = (uint16_t)lrintf(p->snap.soc < 0 ? 0 : p->snap.soc > 100 ? 100 : p->snap.soc);
	if (day != p->soc_day || soc > p->soc_max) {
		p->soc_day = day;
		p->soc_max = soc;
		p->soc_max_hour = (uint16_t)tm.tm_hour;
		p->soc_max_minute = (uint16_t)tm.tm_min;
	}
}

void gw_pack_commit(struct gw_pack *p, const struct bms_snapshot *s, enum reg_float_order fo, double now)
{
	p->snap = *s;
	bms_snapshot_derive(&p->snap);
	bms_snapshot_state(&p->snap, p->cfg->soc.current_threshold);
	p->snap.ncells = p->snap.ncells > BMS_MAX_CELLS ? BMS_MAX_CELLS : p->snap.ncells;
	/* encode into a scratch block, then swap in whole */
	uint16_t regs[REG_MAP_SIZE];
	reg_encode_data(&p->snap, fo, regs);
	memcpy(p->data_regs, regs, sizeof(regs));
	p->have_data = true;
	p->last_good = now;
	p->good_polls++;
	soc_track(p);
	if (p->fail_streak)
		gw_info("pack %s: answering again after %u failed polls", p->cfg->name, p->fail_streak);
	p->fail_streak = 0;
	p->last_error[0] = 0;
}

void gw_pack_fail(struct gw_pack *p, const char *why, bool wire_up)
{
	p->failed_polls++;
	snprintf(p->last_error, sizeof(p->last_error), "%s", why ? why : "failed");
	if (p->fail_streak++ == 0 && wire_up)
		gw_warn("pack %s: poll failed: %s (logged once until it answers again)", p->cfg->name,
			p->last_error);
	else
		gw_debug("pack %s: poll failed: %s", p->cfg->name, p->last_error);
}

void gw_pack_ident(struct gw_pack *p, const struct bms_ident *id)
{
	if (memcmp(id, &p->ident, sizeof(p->ident)) == 0)
		return;
	p->ident = *id;
	id = &p->ident;
	gw_info("pack %s: the BMS says%s%s%s%s%s%s%s%s%s%s", p->cfg->name, id->vendor[0] ? " vendor " : "",
		id->vendor, id->model[0] ? " model " : "", id->model, id->firmware[0] ? " firmware " : "",
		id->firmware, id->serial[0] ? " serial " : "", id->serial, id->pack_serial[0] ? " pack serial " : "",
		id->pack_serial);
}

void gw_pack_carry_soc(struct gw_pack *p, double soc, enum reg_float_order fo)
{
	if (!p->have_data || !isfinite(soc))
		return;
	p->snap.soc = (float)(soc < 0 ? 0 : soc > 100 ? 100 : soc);
	p->snap.present |= BMS_HAS_SOC;
	reg_encode_data(&p->snap, fo, p->data_regs);
	soc_track(p);
}

void gw_pack_reencode(struct gw_pack *p, enum reg_float_order fo)
{
	if (p->have_data)
		reg_encode_data(&p->snap, fo, p->data_regs);
}
