/* SPDX-License-Identifier: MIT */
/* conf/warnings.c - what a valid configuration may still get wrong: said
 * (bmsgw --check, the start and every reload log it), never refused.
 *
 * A pack is stale when its last good poll is older than stale_after.  Its
 * good polls come once a poll cycle: its poll_interval (start to start),
 * plus the time the poll itself takes, and a poll may have to wait for
 * the other packs of its bus.  stale_after = 5 beside the default
 * poll_interval = 5 makes every pack flap stale between two good polls
 * (seen in a long run: "pack sv3 is stale but still on the DC bus" ten
 * times in ten minutes with no failed poll).  The cycle this file allows
 * for is the interval, one request of this pack that needed all its tries
 * (timeout x (retries + 1)), and one answer's wait (timeout) of every other
 * pack that polls on the same wire before this one's turn; a pack read
 * through its master's answer (position) takes no bus time of its own.
 * A pack that only listens (listen = true without takeover_after) has no
 * poll cycle: its master sets the pace.
 *
 * [soc] source = counted with count = false counts nothing: the BMS's SOC
 * is carried all the same.
 *
 * The bank's SOC is the sum of its packs' remaining Ah over the sum of
 * their full Ah (gateway/engine/banksoc.h): a pack of the bank whose
 * protocol gives a SOC but neither a full nor a remaining capacity, and
 * without [soc] capacity, is left out of it (a balancer, without a
 * current, is no member of it at all).
 *
 * With [limits] on, a pack of another chemistry than [limits]' gets
 * fail-safe limits (issue 62: one cell table for every pack).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "chem.h"
#include "conf.h"

double conf_pack_cycle(const struct conf *c, int i, int *on_bus)
{
	const struct conf_pack *p = &c->packs[i];
	double cycle = p->poll_interval + p->timeout * (p->retries + 1);
	int n = 1;
	for (int k = 0; k < c->npacks; k++) {
		const struct conf_pack *q = &c->packs[k];
		if (k == i || q->position || strcmp(conf_pack_wire(q), conf_pack_wire(p)) != 0)
			continue;
		cycle += q->timeout;
		n++;
	}
	if (on_bus)
		*on_bus = n;
	return cycle;
}

/* source = counted without a count, in [soc] (i = -1) or pack i (said once
 * where the pack only inherits it). */
static int soc_warnings(const struct conf *c, void (*say)(void *arg, const char *text), void *arg)
{
	int n = 0;
	for (int i = -1; i < c->npacks; i++) {
		const struct conf_soc *s = i < 0 ? &c->soc : &c->packs[i].soc;
		if (s->count || s->source != CONF_SOC_SRC_COUNTED ||
		    (i >= 0 && !c->soc.count && c->soc.source == CONF_SOC_SRC_COUNTED))
			continue;
		char text[CONF_ERR_MAX];
		snprintf(text, sizeof(text), "%s:%d: [%s%s]: source = counted, but count = false: nothing is counted, "
			 "the BMS's SOC is carried", c->file, i < 0 ? c->soc.line : c->packs[i].line,
			 i < 0 ? "soc" : "pack.", i < 0 ? "" : c->packs[i].name);
		say(arg, text);
		n++;
	}
	return n;
}

/* With [limits] on, a pack whose chemistry (its own, or [soc]'s) is not
 * [limits]': the limits hold every pack to [limits]' cell voltages and
 * tables, which follow its chemistry; such a pack's limits are fail-safe
 * (gateway/model/charge.c), never another chemistry's cell rules. */
static int chem_warnings(const struct conf *c, void (*say)(void *arg, const char *text), void *arg)
{
	int n = 0;
	for (int i = 0; c->limits.enabled && i < c->npacks; i++) {
		const struct conf_pack *p = &c->packs[i];
		if (p->soc.chemistry == c->limits.chemistry)
			continue;
		const char *pc = conf_chem_name(p->soc.chemistry), *lc = conf_chem_name(c->limits.chemistry);
		char text[CONF_ERR_MAX];
		snprintf(text, sizeof(text), "%s:%d: [pack.%s]: chemistry %s, but [limits] chemistry is %s: its limits "
			 "are fail-safe (reason chemistry) rather than %s's cell rules for %s cells; set chemistry = %s "
			 "in [limits] (a voltage or table written there still wins)", c->file, p->line, p->name, pc, lc,
			 lc, pc, pc);
		say(arg, text);
		n++;
	}
	return n;
}

/* A pack of the bank with no capacity to weigh its SOC by. */
static int bank_warnings(const struct conf *c, void (*say)(void *arg, const char *text), void *arg)
{
	int n = 0;
	for (int k = 0; c->bank.enabled && k < c->bank.npacks; k++) {
		const struct conf_pack *p = &c->packs[c->bank.pack_idx[k]];
		uint32_t has = p->driver->provides;
		if (!(has & BMS_HAS_CURRENT) || !(has & BMS_HAS_SOC) || (has & (BMS_HAS_FULL | BMS_HAS_REMAIN)) ||
		    p->soc.capacity > 0)
			continue;
		char text[CONF_ERR_MAX];
		snprintf(text, sizeof(text), "%s:%d: [pack.%s]: protocol %s gives no capacity and capacity is not set: "
			 "the pack is left out of the bank's SOC (set capacity = its usable Ah)", c->file, p->line,
			 p->name, p->driver->name);
		say(arg, text);
		n++;
	}
	return n;
}

/* Two members of one string on one wired bus: each member's port sits at
 * its own pack's potential (gateway/inverter/PROTOCOLS.md §10, hazard 4). */
static int string_warnings(const struct conf *c, void (*say)(void *arg, const char *text), void *arg)
{
	const struct conf_bank *b = &c->bank;
	int n = 0;
	for (int s = 0; b->enabled && s < b->nstrings; s++)
		for (int i = 0; i < b->string_len[s]; i++)
			for (int j = i + 1; j < b->string_len[s]; j++) {
				const struct conf_pack *p = &c->packs[b->pack_idx[b->string_first[s] + i]];
				const struct conf_pack *q = &c->packs[b->pack_idx[b->string_first[s] + j]];
				if (p->is_ble || strcmp(p->port, q->port) != 0)
					continue;
				char text[CONF_ERR_MAX];
				snprintf(text, sizeof(text), "%s:%d: [bank] strings: %s and %s are in series and share "
					 "port %s: their ports sit at different potentials, so that bus must be "
					 "isolated at each pack (a shared non-isolated bus short-circuits packs)",
					 c->file, b->line, p->name, q->name, p->port);
				say(arg, text);
				n++;
				j = b->string_len[s]; /* once per member */
			}
	return n;
}

int conf_warnings(const struct conf *c, void (*say)(void *arg, const char *text), void *arg)
{
	int n = soc_warnings(c, say, arg) + bank_warnings(c, say, arg) + string_warnings(c, say, arg) +
		chem_warnings(c, say, arg);
	for (int i = 0; i < c->npacks; i++) {
		const struct conf_pack *p = &c->packs[i];
		int on_bus;
		double cycle = conf_pack_cycle(c, i, &on_bus);
		double stale = conf_pack_stale_after(p, c->gw.stale_after);
		if (stale >= cycle || (p->listen && p->takeover_after <= 0) || p->is_mqtt)
			continue; /* a listening pack follows its master's pace, an mqtt-json pack its node's:
			           * not a poll cycle */
		char text[CONF_ERR_MAX];
		snprintf(text, sizeof(text),
			 "%s:%d: [pack.%s]: stale_after = %g s (%s) is not longer than this pack's poll "
			 "cycle (about %.1f s: poll_interval %g s, up to %.1f s for one answer with its retries "
			 "and the %d pack(s) on its wire): it will go stale between good polls; make stale_after "
			 "at least %.0f s (twice the cycle is comfortable), or poll it more often",
			 c->file, p->line, p->name, stale, p->stale_after > 0 ? "the pack's" : "[gateway]", cycle,
			 p->poll_interval,
			 cycle - p->poll_interval, on_bus, ceil(cycle));
		say(arg, text);
		n++;
	}
	return n;
}
