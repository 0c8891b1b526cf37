/* SPDX-License-Identifier: MIT */
/* gateway/detect/master.c - `--detect` on a bus another master polls: which
 * master, which packs, and a `listen = true` section for each (design §19).
 *
 * Nothing is written.  What was heard at the rate is given to every driver
 * that can be listened to at that rate (struct bms_listen): its own bus
 * framer cuts it (bms_bus_scan()), bms_bus_pair() pairs each answer with
 * the request to the same address before it, and the driver's hear()
 * decodes the answer on a poll of that address, as the daemon's listener
 * does (gateway/poll/listener.c).  The driver that decodes the most answers
 * is the bus's protocol (a tie: the one with more addresses decoded, then
 * the first in the driver list).  An address whose answers came with no
 * request before it, and that no request went to, is the master's own
 * data (a JK-PB master's records acknowledged from address 0, a Seplos V3
 * master's answers: bms/PROTOCOLS.md §39).
 *
 * A master's round over its addresses takes seconds (JK-PB: 1-3 s over 15
 * addresses), so the line is listened to on, GW_MASTER_STEP at a time, until
 * every address heard came up again after others (two rounds), at most
 * GW_MASTER_MAX s at that rate; a silent line is never extended.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bus.h"
#include "detect_int.h"

#define JKPB_TRIGGER_FC 0x10
#define JKPB_TRIGGER_HI 0x16

/* Where the walk through the bus is (the address last up, its first request). */
struct walk {
	int last;
	uint8_t req[BMS_BUS_REQ_MAX];
	size_t rn;
};

/* Does drv listen at this rate (its probe's rates or its default; every
 * driver at the one rate of a TCP server or of --baud)? */
static bool listens_at(const struct det *d, const struct bms_driver *drv, int baud)
{
	if (!drv->listen || bms_ble_only(drv))
		return false;
	if (d->po.tcp || d->po.baud || drv->default_baud == baud)
		return true;
	for (int i = 0; drv->probe && i < BMS_PROBE_BAUDS && drv->probe->bauds[i]; i++)
		if (drv->probe->bauds[i] == baud)
			return true;
	return false;
}

/* addr comes up: a new visit when another address was up before it, or
 * when its first request of this visit comes again (one address alone). */
static void visit(struct gw_bus_tally *t, struct walk *w, uint8_t addr, const uint8_t *req, size_t rn)
{
	bool again = req && w->last == addr && w->rn == rn && memcmp(w->req, req, rn) == 0;
	if (w->last != addr || again) {
		if (t->visits[addr] < 255)
			t->visits[addr]++;
		w->last = addr;
		w->rn = 0;
	}
	if (req && w->rn == 0 && rn <= sizeof(w->req)) {
		memcpy(w->req, req, rn);
		w->rn = rn;
	}
}

/* The pack at addr (and its poll), made on its first answer; NULL: no room. */
static int pack_of(struct gw_bus_tally *t, struct bms_poll *polls, uint8_t addr)
{
	for (int i = 0; i < t->npacks; i++)
		if (t->packs[i].addr == addr)
			return i;
	if (t->npacks >= GW_BUS_PACKS)
		return -1;
	int i = t->npacks++;
	memset(&t->packs[i], 0, sizeof(t->packs[i]));
	t->packs[i].addr = addr;
	bms_poll_begin(&polls[i], addr, 0, false);
	polls[i].refresh = true; /* whatever the master asks may be decoded */
	polls[i].link = BMS_LINK_WIRE;
	return i;
}

/* An answer paired (or not) with its request: to the driver's hear(). */
static void hear(struct gw_bus_tally *t, struct bms_poll *polls, const struct bms_bus_answer *a)
{
	int i = pack_of(t, polls, a->addr);
	if (i < 0)
		return;
	struct bms_poll c = polls[i];
	int key = t->drv->listen->hear(&c, a->req, a->rn, a->ans, a->an);
	if (key == BMS_E_UNEXPECTED)
		return;
	if (key < 0) {
		t->refused++;
		return;
	}
	polls[i] = c;
	struct gw_bus_pack *p = &t->packs[i];
	t->decoded++;
	p->answers++;
	if (!a->rn)
		p->unasked++;
	if (!bms_probe_plausible(&c.snap, p->what, sizeof(p->what)))
		p->what[0] = '\0';
}

static void frame(struct gw_bus_tally *t, struct bms_bus_pairer *pr, struct walk *w, struct bms_poll *polls,
		  const struct bms_bus_frame *f, const uint8_t *b)
{
	struct bms_bus_answer a;
	t->frames++;
	int r = bms_bus_pair(pr, f, b, &a);
	if (r == BMS_BUS_ASKED) {
		t->requests++;
		if (t->asked[f->addr] < 0xFFFFu)
			t->asked[f->addr]++;
		if (f->len > 3 && b[1] == JKPB_TRIGGER_FC && b[2] == JKPB_TRIGGER_HI)
			t->triggers++;
		visit(t, w, f->addr, b, f->len);
	} else if (r == BMS_BUS_ANSWERED) {
		visit(t, w, a.addr, NULL, 0);
		hear(t, polls, &a);
	}
}

/* What driver drv makes of buf[0..len). */
static void tally(const struct bms_driver *drv, const uint8_t *buf, size_t len, struct gw_bus_tally *t,
		  struct bms_poll *polls)
{
	struct bms_bus_pairer pr;
	struct walk w = { .last = -1 };
	memset(t, 0, sizeof(*t));
	memset(&pr, 0, sizeof(pr));
	t->drv = drv;
	for (size_t i = 0; i < len;) {
		struct bms_bus_frame f;
		size_t k = 0;
		enum bms_scan r = bms_bus_scan(drv->listen->at, &pr.ctx, buf + i, len - i, &f, &k);
		if (r == BMS_SCAN_NEED || k == 0)
			break; /* a frame cut off by the end of the window */
		if (r == BMS_SCAN_FRAME)
			frame(t, &pr, &w, polls, &f, buf + i);
		i += k;
	}
}

/* Addresses t decoded answers of. */
static int decoded_packs(const struct gw_bus_tally *t)
{
	int n = 0;
	for (int i = 0; i < t->npacks; i++)
		n += t->packs[i].answers > 0;
	return n;
}

/* Is a better than b (more answers decoded, then more addresses)? */
static bool better(const struct gw_bus_tally *a, const struct gw_bus_tally *b)
{
	if (a->decoded != b->decoded)
		return a->decoded > b->decoded;
	return decoded_packs(a) > decoded_packs(b);
}

/* Every driver that listens at baud over what was heard: d->best (the
 * most answers decoded; drv NULL: none decoded one) and d->asker (the most
 * requests framed). */
static void judge(struct det *d, int baud)
{
	struct bms_poll *polls = calloc(GW_BUS_PACKS, sizeof(*polls));
	memset(&d->best, 0, sizeof(d->best));
	memset(&d->asker, 0, sizeof(d->asker));
	if (!polls)
		return;
	for (size_t i = 0; bms_drivers[i]; i++) {
		if (!listens_at(d, bms_drivers[i], baud))
			continue;
		tally(bms_drivers[i], d->heard, d->nheard, &d->tally, polls);
		if (d->tally.decoded && better(&d->tally, &d->best))
			d->best = d->tally;
		if (d->tally.requests > d->asker.requests)
			d->asker = d->tally;
	}
	free(polls);
}

/* Two rounds of the master: every address heard came up twice. */
static bool rounds_seen(const struct gw_bus_tally *t)
{
	bool any = false;
	for (int a = 0; a < 256; a++) {
		if (t->visits[a] == 1)
			return false;
		any |= t->visits[a] > 1;
	}
	return any;
}

int gw_det_master(struct det *d, int baud)
{
	judge(d, baud);
	const struct gw_bus_tally *t = d->best.drv ? &d->best : &d->asker;
	/* after a rate where nothing decoded, a rate is heard longer only for a decode */
	if (!t->frames || rounds_seen(t) || d->listened >= GW_MASTER_MAX - 1e-6 || (d->foreign_baud && !d->best.drv))
		return 1;
	if (!d->mastered) {
		d->mastered = true;
		gw_det_say(d, "  another master polls this line: listening on to learn who it polls (until it came round "
			      "twice, at most %.0f s), still sending nothing", GW_MASTER_MAX);
	}
	double step = GW_MASTER_MAX - d->listened < GW_MASTER_STEP ? GW_MASTER_MAX - d->listened : GW_MASTER_STEP;
	d->listened += step;
	gw_det_timer(d, step);
	return 0;
}

/* The addresses set in in[]: "1, 2, 3" or, with runs, a run of three or
 * more as "1..15". */
static void addr_list(const bool in[256], bool runs, char *out, size_t cap)
{
	size_t l = 0;
	out[0] = '\0';
	for (int a = 0; a < 256 && l < cap; a++) {
		if (!in[a])
			continue;
		int b = a;
		while (runs && b + 1 < 256 && in[b + 1])
			b++;
		int n;
		if (b - a >= 2)
			n = snprintf(out + l, cap - l, "%s%d..%d", l ? ", " : "", a, b);
		else if (b > a)
			n = snprintf(out + l, cap - l, "%s%d, %d", l ? ", " : "", a, b);
		else
			n = snprintf(out + l, cap - l, "%s%d", l ? ", " : "", a);
		l += n > 0 ? (size_t)n : 0;
		a = b;
	}
}

/* The master's name where its own data is a pack of the protocol. */
static const char *brand(const struct bms_driver *drv)
{
	static const struct {
		const char *proto, *name;
	} names[] = { { "jk-pb", "JK-PB" }, { "seplos3", "Seplos V3" } };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(drv->name, names[i].proto) == 0)
			return names[i].name;
	return drv->name;
}

/* The kind of master its requests show (JK-PB's trigger is a write of one
 * register at 0x16xx, bms/PROTOCOLS.md §39). */
static const char *family(const struct gw_bus_tally *t)
{
	if (t->triggers)
		return "JK-PB";
	return t->drv->listen->at == bms_bus_paceic_at ? "paceic (Pylontech-style)" : "Modbus";
}

/* The address of the master's own data: answers with no request, and no
 * request to it (the most such answers); -1: none heard. */
static int own_address(const struct gw_bus_tally *t)
{
	int own = -1;
	unsigned most = 0;
	for (int i = 0; i < t->npacks; i++) {
		const struct gw_bus_pack *p = &t->packs[i];
		if (p->answers && p->unasked > most && !t->asked[p->addr]) {
			most = p->unasked;
			own = p->addr;
		}
	}
	return own;
}

/* One section for each address heard, in address order. */
static void add_packs(struct det *d, const struct gw_bus_tally *t, int baud, int own)
{
	for (int a = 0; a < 256; a++)
		for (int i = 0; i < t->npacks; i++) {
			const struct gw_bus_pack *p = &t->packs[i];
			if (p->addr != a || !p->answers)
				continue;
			char what[BMS_PROBE_TEXT];
			snprintf(what, sizeof(what), "%s, %u answer%s heard%s%s", a == own ? "the master's own data" : "polled",
				 p->answers, p->answers == 1 ? "" : "s", p->what[0] ? ": " : "", p->what);
			struct gw_found *f = gw_det_add_found(d, t->drv, baud, p->addr, what);
			if (f)
				f->listen = true;
		}
}

/* Name the master and its packs: 0 packs heard (their sections follow),
 * 2 a master whose packs did not answer, -1 nothing to name. */
int gw_det_master_end(struct det *d, int baud)
{
	const struct gw_bus_tally *t = &d->best;
	bool asked[256], polled[256];
	char asks[160], packs[160];
	if (!t->drv) {
		t = &d->asker;
		if (!t->requests)
			return -1;
		for (int a = 0; a < 256; a++)
			asked[a] = t->asked[a] > 0;
		addr_list(asked, true, asks, sizeof(asks));
		gw_det_say(d, "another master polls this line: a %s master that asks %s, and no pack answered it: nothing "
			      "to listen to; nothing was sent, and nothing will be (see bmsgw(8), DETECTING A BMS)",
			   family(t), asks);
		return 2;
	}
	int own = own_address(t);
	memset(polled, 0, sizeof(polled));
	for (int a = 0; a < 256; a++)
		asked[a] = t->asked[a] > 0;
	for (int i = 0; i < t->npacks; i++)
		polled[t->packs[i].addr] = t->packs[i].answers && t->packs[i].addr != own;
	addr_list(asked, true, asks, sizeof(asks));
	addr_list(polled, false, packs, sizeof(packs));
	gw_det_say(d, "  %s: %u answers decoded from %d addresses, %u requests heard", t->drv->name, t->decoded,
		   decoded_packs(t), t->requests);
	if (own >= 0)
		gw_det_say(d, "a %s master (address %d, its own data heard) %s%s (it asks %s)", brand(t->drv), own,
			   packs[0] ? "polls packs " : "has no pack answering it", packs, asks[0] ? asks : "nothing");
	else
		gw_det_say(d, "a %s master polls %s packs %s (it asks %s; it has no data of its own on the bus: bmsgw "
			      "cannot read the master itself)", family(t), t->drv->name, packs, asks);
	gw_det_say(d, "nothing was sent, and nothing will be: each pack below is read by listening (listen = true)");
	add_packs(d, t, baud, own);
	return 0;
}
