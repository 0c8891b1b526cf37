/* SPDX-License-Identifier: MIT */
/* gateway/poll/listener.c - listen mode (see listener.h).
 *
 * One reader per bus.  What is heard is framed by the protocol's bus
 * framer (struct bms_listen.at): a request is kept until an answer from
 * its address comes; an answer goes with it, or alone when the pack put
 * it on the bus unasked (a master's own data); an anonymous answer (a
 * JK-PB record) waits for the acknowledgement that names its address.
 * Each pack heard has a poll of its own here, fed by its driver's hear():
 * complete when every key of the master's last round for it came again,
 * or when the master comes round to a key already heard (then that round's
 * keys are what it waits for next).  A pack not heard for stale_after is
 * failed once (it goes stale by age).  Nothing here writes to the link.
 */
#include "listener.h"

#include <stdlib.h>
#include <string.h>

#include "../../bms/bus.h"
#include "../core/clock.h"
#include "../core/log.h"

#define LI_TICK 0.5           /* s between looks at the clock */
#define LI_REQ_MAX BMS_BUS_REQ_MAX /* the poller's request, to know its echo */

/* The listener's poll of one pack. */
struct li_pack {
	struct bms_poll poll;
	bool begun;
	double started;           /* its first answer (monotonic) */
	double heard_at;          /* the last answer taken (0: none yet) */
	uint32_t got, want;       /* keys heard in this poll; of the master's last round */
	bool damaged;             /* an answer of this round was damaged on the wire */
	bool unheard_said;        /* failed for silence since it was last heard */
	const struct gw_pack *of; /* the pack it is of (a reload moves the packs) */
};

struct gw_listener {
	struct gw_bus *w;
	const struct gw_listener_ops *ops;
	const struct bms_listen *ls;
	double takeover_after;
	struct bms_rx rx;
	struct bms_bus_pairer pair;
	double master_at;         /* the master's last frame (monotonic) */
	bool master_heard;        /* ... since the link came up */
	unsigned long frames, answers, taken_answers, noise;
	double heard_at;          /* the last bytes heard */
	bool taken;               /* no master heard for takeover_after: the poller polls */
	uint8_t sent[LI_REQ_MAX]; /* the poller's last request (taken over) */
	size_t sentlen;
	ev_timer tick;
	struct li_pack lp[CONF_MAX_PACKS];
};

/* stale_after now (a reload may change it) */
static double li_stale_after(const struct gw_listener *li)
{
	return li->w->gw->conf->gw.stale_after;
}

static void li_begin(struct li_pack *l, const struct gw_pack *p, double now)
{
	bms_poll_begin(&l->poll, (uint8_t)p->cfg->address, (uint8_t)p->cfg->cells, p->cfg->invert_current);
	l->poll.address_any = p->cfg->address_any;
	l->poll.refresh = true; /* whatever the master asks may be decoded */
	l->poll.link = BMS_LINK_WIRE;
	l->got = 0;
	l->damaged = false;
	l->begun = true;
	l->started = now;
}

static void li_commit(struct gw_listener *li, struct gw_pack *p, struct li_pack *l)
{
	li->ops->heard(li->w, p, &l->poll, l->started);
	l->begun = false;
	l->got = 0;
}

/* Key `key` of pack p was decoded into l->poll (or, came round, into
 * the fresh poll). */
static void li_took(struct gw_listener *li, struct gw_pack *p, struct li_pack *l, int key, double now)
{
	l->heard_at = now;
	l->unheard_said = false;
	if (key >= BMS_LISTEN_EXTRA)
		return;
	l->got |= 1u << key;
	if (l->want && (l->got & l->want) == l->want) {
		l->want = l->got;
		li_commit(li, p, l);
	}
}

/* What is heard of the pack at addr (*pp: the pack), its round begun now
 * if it had none or what it had is too old to go with new data; NULL: no
 * pack of the bus is at addr. */
static struct li_pack *li_at(struct gw_listener *li, uint8_t addr, double now, struct gw_pack **pp)
{
	struct gw_bus *w = li->w;
	for (int i = 0; i < w->npacks; i++) {
		struct gw_pack *p = w->packs[i];
		if ((uint8_t)p->cfg->address != addr && !p->cfg->address_any)
			continue;
		struct li_pack *l = &li->lp[i];
		l->of = p;
		if (!l->begun || now - l->started > li_stale_after(li) / 2)
			li_begin(l, p, now);
		*pp = p;
		return l;
	}
	return NULL;
}

/* A frame damaged on the wire, most likely the answer of the pack at addr:
 * its round misses that answer unless the master asks again. */
static void li_damaged(struct gw_listener *li, uint8_t addr, double now)
{
	struct gw_pack *p;
	struct li_pack *l = li_at(li, addr, now, &p);
	if (l)
		l->damaged = true;
}

/* The answer ans of the pack p (its round begun: li_at): decoded into its
 * poll, which may complete. */
static void li_hear(struct gw_listener *li, struct gw_pack *p, struct li_pack *l, const uint8_t *req, size_t rn,
		    const uint8_t *ans, size_t an, double now)
{
	struct bms_poll c = l->poll;
	int key = li->ls->hear(&c, req, rn, ans, an);
	if (key == BMS_E_UNEXPECTED)
		return;
	if (key < 0) {
		if (key == BMS_E_REFUSED)
			li->w->stats.exceptions++;
		else if (key == BMS_E_CHECKSUM)
			li->w->stats.checksum_errors++;
		else
			li->w->stats.short_frames++;
		gw_debug("pack %s: an answer heard that its driver refuses: %s", p->cfg->name, bms_strerror(key));
		/* an answer damaged on the wire (its checksum; not an answer the
		 * driver refuses every round): unless the master asks again, its
		 * round misses a key */
		l->damaged = l->damaged || key == BMS_E_CHECKSUM;
		return;
	}
	if (key < BMS_LISTEN_EXTRA && (l->got & (1u << key))) {
		/* the master came round: its last round for this pack is
		 * complete, unless it misses a key of the round before for an
		 * answer damaged on the wire: never committed half, nor taken
		 * as the master's round (a round it asks less is taken) */
		if (l->damaged && (!l->want || (l->got & l->want) != l->want)) {
			gw_debug("pack %s: a round with a damaged answer dropped", p->cfg->name);
		} else {
			l->want = l->got;
			li_commit(li, p, l);
		}
		li_begin(l, p, now);
		c = l->poll;
		if ((key = li->ls->hear(&c, req, rn, ans, an)) < 0)
			return;
	}
	l->poll = c;
	li_took(li, p, l, key, now);
}

/* An answer from addr (req: the request before it to that address, or
 * NULL): to the pack at addr. */
static void li_answer(struct gw_listener *li, uint8_t addr, const uint8_t *req, size_t rn, const uint8_t *ans,
		      size_t an, double now)
{
	struct gw_pack *p;
	struct li_pack *l = li_at(li, addr, now, &p);
	if (!l)
		return;
	li_hear(li, p, l, req, rn, ans, an, now);
	li->taken_answers++;
}

/* A frame of the bus, while listening. */
static void li_frame(struct gw_listener *li, const struct bms_bus_frame *f, const uint8_t *b, double now)
{
	struct bms_bus_answer a;
	int r = bms_bus_pair(&li->pair, f, b, &a);
	if (r == BMS_BUS_ASKED || (r == BMS_BUS_ANSWERED && !a.rn)) {
		li->master_at = now; /* a request, or the master's own data (unasked) */
		li->master_heard = true;
	}
	if (r == BMS_BUS_ANSWERED) {
		li->answers++;
		li_answer(li, a.addr, a.req, a.rn, a.ans, a.an, now);
	}
}

/* A frame while the poller has the bus: a request that is not its own is
 * the master's, back: the bus is its again. */
static void li_watch(struct gw_listener *li, const struct bms_bus_frame *f, const uint8_t *b, double now)
{
	if (f->kind != BMS_BUS_REQUEST || (f->len == li->sentlen && memcmp(b, li->sent, f->len) == 0))
		return;
	li->taken = false;
	li->master_at = now;
	li->master_heard = true;
	gw_info("link %s: a master polls the bus again: bmsgw stops polling and listens",
		gw_link_port(li->w->link));
	li->ops->yield(li->w);
	for (int i = 0; i < li->w->npacks; i++)
		if (li->lp[i].heard_at)
			li->lp[i].heard_at = now; /* polled until now: stale_after from here */
	bms_bus_pair_reset(&li->pair);
	li_frame(li, f, b, now); /* its answer is heard from now on */
}

/* The frames of what was heard.  silent: the bus has been quiet since: a
 * frame begun is not coming, its beginning is skipped (else a false
 * beginning inside a broken frame holds the frames after it until as
 * many bytes as it claims come, a round later). */
static void li_scan(struct gw_listener *li, double now, bool silent)
{
	for (;;) {
		struct bms_bus_frame f;
		size_t k = 0;
		enum bms_scan r = bms_bus_scan(li->ls->at, &li->pair.ctx, li->rx.buf, li->rx.len, &f, &k);
		if (r == BMS_SCAN_NEED && (!silent || !li->rx.len))
			break;
		if (r == BMS_SCAN_NEED)
			k = 1;
		if (r != BMS_SCAN_FRAME)
			li->noise += k;
		if (r == BMS_SCAN_BADSUM && !li->taken) {
			li->w->stats.checksum_errors++; /* (taken over, the poller counts its own) */
			if (li->pair.reqlen)
				li_damaged(li, li->pair.req_addr, now); /* the answer to the request before it */
		}
		if (r == BMS_SCAN_FRAME) {
			li->frames++;
			if (li->taken)
				li_watch(li, &f, li->rx.buf, now);
			else
				li_frame(li, &f, li->rx.buf, now);
		}
		bms_rx_consume(&li->rx, k);
	}
}

bool gw_listener_bytes(struct gw_listener *li, const uint8_t *p, size_t n)
{
	double now = gw_mono();
	bool was_taken = li->taken;
	li->heard_at = now;
	bms_rx_feed(&li->rx, p, n);
	li_scan(li, now, false);
	return !was_taken;
}

bool gw_listener_polls(const struct gw_listener *li)
{
	return li->taken;
}

void gw_listener_sent(struct gw_listener *li, const uint8_t *req, size_t n)
{
	li->sentlen = n <= LI_REQ_MAX ? n : 0;
	memcpy(li->sent, req, li->sentlen);
}

/* Every LI_TICK: packs not heard for stale_after fail once; a bus with
 * no master for takeover_after is the poller's. */
static void li_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_listener *li = t->data;
	struct gw_bus *w = li->w;
	double now = gw_mono();
	if (li->rx.len && now - li->heard_at >= LI_TICK)
		li_scan(li, now, true);
	for (int i = 0; i < w->npacks && !li->taken; i++) {
		struct li_pack *l = &li->lp[i];
		double since = l->heard_at ? l->heard_at : li->master_at;
		if (l->unheard_said || now - since < li_stale_after(li))
			continue;
		l->unheard_said = true;
		li->ops->unheard(w, w->packs[i], l->heard_at ? "no answer of it heard on the bus (its master no longer "
								  "polls it?)"
							    : "no answer of it heard on the bus yet");
	}
	if (li->takeover_after > 0 && !li->taken && now - li->master_at >= li->takeover_after &&
	    gw_link_state(w->link) == GW_LINK_UP) {
		li->taken = true;
		li->sentlen = 0;
		bms_rx_clear(&li->rx);
		gw_warn("link %s: no master heard for %g s: bmsgw polls the bus itself until one is heard again",
			gw_link_port(w->link), li->takeover_after);
		li->ops->take(w);
	}
}

struct gw_listener *gw_listener_new(struct gw_bus *w, const struct conf_pack *cfg, const struct gw_listener_ops *ops)
{
	struct gw_listener *li = calloc(1, sizeof(*li));
	if (!li)
		return NULL;
	li->w = w;
	li->ops = ops;
	li->ls = cfg->driver->listen;
	li->takeover_after = cfg->takeover_after;
	ev_timer_init(&li->tick, li_tick, LI_TICK, LI_TICK);
	li->tick.data = li;
	return li;
}

void gw_listener_packs_moved(struct gw_listener *li)
{
	static struct li_pack old[CONF_MAX_PACKS];
	memcpy(old, li->lp, sizeof(old));
	memset(li->lp, 0, sizeof(li->lp));
	for (int i = 0; i < li->w->npacks; i++)
		for (int j = 0; j < CONF_MAX_PACKS; j++)
			if (old[j].of && old[j].of == li->w->packs[i]) {
				li->lp[i] = old[j];
				break;
			}
}

bool gw_listener_same(const struct gw_listener *li, const struct conf_pack *cfg)
{
	return li->ls == cfg->driver->listen && li->takeover_after == cfg->takeover_after;
}

void gw_listener_free(struct gw_listener *li)
{
	if (!li)
		return;
	ev_timer_stop(li->w->gw->loop, &li->tick);
	free(li);
}

void gw_listener_up(struct gw_listener *li)
{
	li->master_at = gw_mono();
	li->taken = false;
	bms_rx_clear(&li->rx);
	bms_bus_pair_reset(&li->pair);
	ev_timer_again(li->w->gw->loop, &li->tick);
}

void gw_listener_info(const struct gw_listener *li, struct gw_listener_info *out)
{
	out->master_ago = li->master_heard ? gw_mono() - li->master_at : -1;
	out->taken = li->taken;
	out->frames = li->frames;
	out->answers = li->answers;
	out->taken_answers = li->taken_answers;
	out->noise = li->noise;
}
