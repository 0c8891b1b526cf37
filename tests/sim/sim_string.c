/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_string.c - bmsgw-sim: packs in series (a `string`).
 *
 * The packs of one simulator process that carry the same `string=N` in
 * their --pack SPEC are members of one series string: one current flows
 * through all of them.  Each member keeps its own cells, SOC, capacity,
 * temperatures and alarms; the second's movement steps every member with
 * the string's current, so the same ampere-hours go into each member and a
 * member of smaller capacity (or higher SOC) fills first: the string's
 * current turns when its first member reaches 95 % (charging) or 10 %
 * (discharging), as a charger that the first full member stops.  A
 * `set ADDR current A` on a member sets the string's current (every
 * member's).  A member made `apart` (`set ADDR apart A`) measures a current
 * of its own, A, and moves with it alone, as a member whose series link is
 * broken or bypassed or whose shunt is wrong would report; `set ADDR apart
 * off` joins it to its string's current again.
 */
#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOC_TURN_HIGH 95.0
#define SOC_TURN_LOW 10.0
#define CURRENT_MAX 3000.0

/* The first member of string s that shares its current (not apart), or NULL. */
static struct sim_pack *string_lead(struct sim_pack *packs, int n, int s)
{
	for (int i = 0; i < n; i++)
		if (packs[i].string == s && !packs[i].apart)
			return &packs[i];
	return NULL;
}

int sim_string_check(struct sim_pack *packs, int n, char *err, size_t errlen)
{
	for (int i = 0; i < n; i++) {
		struct sim_pack *p = &packs[i];
		if (!p->string)
			continue;
		if (p->model.cfg.on) {
			snprintf(err, errlen, "pack %d: `string` and the battery model (`model=`) do not go together: "
			         "the model runs its own charger", p->address);
			return -1;
		}
		const struct sim_pack *lead = string_lead(packs, n, p->string);
		if (lead->current != p->current) {
			snprintf(err, errlen, "string %d: its members share one current; pack %d is given %g A, "
			         "pack %d %g A", p->string, lead->address, lead->current, p->address, p->current);
			return -1;
		}
	}
	return 0;
}

/* One second of a member: its SOC moves with its current, no turning. */
static void member_move(struct sim_pack *p)
{
	if (p->capacity_ah > 0)
		p->soc += p->current / p->capacity_ah / 36.0;
	if (p->soc > 100)
		p->soc = 100;
	if (p->soc < 0)
		p->soc = 0;
	p->life = (p->life + 1) & 0xFF;
}

/* The string s after its second: its current turns when a member that
 * shares it has reached the end it was going to. */
static void string_turn(struct sim_pack *packs, int n, int s)
{
	struct sim_pack *lead = string_lead(packs, n, s);
	if (!lead)
		return;
	double cur = lead->current;
	int turn = 0;
	for (int i = 0; i < n; i++) {
		const struct sim_pack *p = &packs[i];
		if (p->string != s || p->apart)
			continue;
		if ((cur > 0 && p->soc >= SOC_TURN_HIGH) || (cur < 0 && p->soc <= SOC_TURN_LOW))
			turn = 1;
	}
	if (!turn)
		return;
	for (int i = 0; i < n; i++) {
		struct sim_pack *p = &packs[i];
		if (p->string != s || p->apart)
			continue;
		p->current = -cur;
		if (cur > 0)
			p->cycles++;
	}
}

void sim_bus_tick(struct sim_pack *packs, int n)
{
	for (int i = 0; i < n; i++) {
		struct sim_pack *p = &packs[i];
		if (!p->string || p->apart)
			sim_pack_tick(p); /* a lone pack, or a member on its own current */
		else
			member_move(p);
	}
	for (int i = 0; i < n; i++)
		if (packs[i].string && string_lead(packs, n, packs[i].string) == &packs[i])
			string_turn(packs, n, packs[i].string);
}

/* `set ADDR apart A|off`.  0, or -1 with err. */
static int set_apart(struct sim_pack *packs, int n, struct sim_pack *p, const char *v, char *err, size_t errlen)
{
	if (!p->string) {
		snprintf(err, errlen, "pack %d is in no string (`string=N` in its --pack)", p->address);
		return -1;
	}
	if (strcmp(v, "off") == 0) {
		p->apart = 1; /* the string's current is its other members' */
		const struct sim_pack *lead = string_lead(packs, n, p->string);
		if (lead)
			p->current = lead->current;
		p->apart = 0;
		return 0;
	}
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (!*v || *end || errno || !isfinite(d) || d < -CURRENT_MAX || d > CURRENT_MAX) {
		snprintf(err, errlen, "bad value '%s' for apart (A, or off)", v);
		return -1;
	}
	p->apart = 1;
	p->current = d;
	return 0;
}

int sim_string_set(struct sim_pack *packs, int n, struct sim_pack *p, int argc, char **argv, char *err,
                   size_t errlen, int *rc)
{
	if (argc == 2 && strcmp(argv[0], "apart") == 0) {
		*rc = set_apart(packs, n, p, argv[1], err, errlen);
		return 1;
	}
	return 0;
}

void sim_string_after_set(struct sim_pack *packs, int n, const struct sim_pack *p, const char *key)
{
	if (!p->string || p->apart || strcmp(key, "current") != 0)
		return;
	for (int i = 0; i < n; i++)
		if (packs[i].string == p->string && !packs[i].apart)
			packs[i].current = p->current;
}

void sim_strings_json(struct sim_buf *b, struct sim_pack *packs, int n, const struct sim_proto *proto)
{
	sim_buf_printf(b, ",\"strings\":[");
	int first = 1;
	for (int i = 0; i < n; i++) {
		int s = packs[i].string, seen = 0;
		for (int j = 0; j < i; j++)
			seen |= packs[j].string == s;
		if (!s || seen)
			continue;
		double volts = 0;
		sim_buf_printf(b, "%s{\"string\":%d,\"members\":[", first ? "" : ",", s);
		first = 0;
		int k = 0;
		for (int j = i; j < n; j++) {
			if (packs[j].string != s)
				continue;
			struct sim_view v;
			proto->view(&packs[j], &v);
			volts += v.voltage;
			sim_buf_printf(b, "%s%d", k++ ? "," : "", packs[j].address);
		}
		const struct sim_pack *lead = string_lead(packs, n, s);
		sim_buf_printf(b, "],\"voltage\":");
		sim_buf_num(b, volts, 3);
		sim_buf_printf(b, ",\"current\":");
		if (lead) {
			struct sim_view v;
			proto->view(lead, &v);
			sim_buf_num(b, v.current, 3);
		} else {
			sim_buf_printf(b, "null");
		}
		sim_buf_printf(b, "}");
	}
	sim_buf_printf(b, "]");
}
