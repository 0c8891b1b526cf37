/* SPDX-License-Identifier: MIT */
/* gateway/detect/canport.c - `bmsgw --detect` on a CAN bus (a SocketCAN
 * interface such as can0, or an slcan adapter slcan:///dev/ttyACM0):
 * listen only.
 *
 * Nothing is ever written to the bus: the port is a listening CAN port of
 * wire/can.h (gw_can_new_listener() without transmit: an slcan adapter
 * opened with "L", gw_can_send() refuses), unfiltered.  At each bit rate
 * the CAN drivers use (canmatch.h, gw_can_rates(): the one most drivers
 * use first), an slcan adapter is set to that rate and the bus listened to
 * GW_CAN_LISTEN s; a SocketCAN interface runs at the rate ip link gave it,
 * so it is listened to once and every CAN family tried.  The frames heard,
 * as the records a pack's CAN poll reads, go to each listen-only CAN
 * driver of the rate (gw_can_match_best()); what makes whole plausible
 * polls is found, the family whose polls took the most frames first (the
 * others named on stderr, or sections too with --all), and the first rate
 * with a battery ends the detection.  A family that must be asked
 * (daly-can) is never sent its request: it is not detected, and the
 * detector says so.  Every wait is a timer of the detector (run.c).
 */
#include <stdio.h>
#include <string.h>

#include "../wire/can.h"
#include "detect_int.h"

/* "jk-can, ubms-can, rvc": the families tried at rate (0: every one). */
static void families(uint32_t rate, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; bms_drivers[i] && n < cap; i++)
		if (gw_can_tried(bms_drivers[i], rate))
			n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", bms_drivers[i]->name);
}

/* The CAN families that are not listened for: they must be asked. */
static void askers(char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; bms_drivers[i] && n < cap; i++)
		if (bms_drivers[i]->can && !bms_drivers[i]->listen_only)
			n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", bms_drivers[i]->name);
}

static void window_start(struct det *d)
{
	uint32_t rate = d->can_rates[d->can_ri];
	char fam[480]; /* every family of a rate: the high-voltage packs too */
	if (d->can_ri > 0 && gw_can_set_bitrate(d->can, rate) < 0) {
		gw_det_say(d, "cannot set %u bit/s on %s", (unsigned)rate, d->o->port);
		gw_det_finish(d, 2);
		return;
	}
	d->phase = DET_CAN;
	d->nheard = d->lost = 0;
	d->can_frames = 0;
	d->ncan_at = 0;
	d->can_from = ev_now(d->loop);
	d->baud = (int)rate;
	families(rate, fam, sizeof(fam));
	if (rate)
		gw_det_say(d, "  %u kbit/s, %.1f s, for %s", (unsigned)(rate / 1000), GW_CAN_LISTEN, fam);
	else
		gw_det_say(d, "  the interface's own bit rate, %.1f s, for %s", GW_CAN_LISTEN, fam);
	gw_det_timer(d, GW_CAN_LISTEN);
}

static void on_up(void *arg)
{
	struct det *d = arg;
	if (d->phase != DET_OPEN)
		return;
	gw_det_say(d, "%s: a CAN bus, listening only (nothing is sent)", d->o->port);
	window_start(d);
}

static void on_down(void *arg)
{
	struct det *d = arg;
	if (d->phase == DET_DONE)
		return;
	gw_det_say(d, "lost %s", d->o->port);
	gw_det_finish(d, 2);
}

static void on_frame(void *arg, const struct gw_can_frame *f)
{
	struct det *d = arg;
	if (d->phase != DET_CAN)
		return;
	d->can_frames++;
	size_t k = bms_can_record(d->heard + d->nheard, GW_HEARD_MAX - d->nheard, f->id, f->ext, f->rtr, f->dlc, f->data);
	if (k && d->ncan_at < sizeof(d->can_at) / sizeof(d->can_at[0])) {
		d->nheard += k;
		d->can_at[d->ncan_at++] = (float)(ev_now(d->loop) - d->can_from);
	} else {
		d->lost++;
	}
}

static const struct gw_can_owner can_owner = { on_up, on_down, on_frame };

int gw_det_can_open(struct det *d)
{
	if (d->port.is_slcan) {
		d->ncan_rates = gw_can_rates(d->can_rates, GW_CAN_RATES);
	} else {
		d->can_rates[0] = 0;
		d->ncan_rates = 1;
	}
	d->env.loop = d->loop;
	d->can = gw_can_new_listener(&d->env, d->o->port, d->port.is_slcan, d->port.can_device,
				     d->can_rates[0] ? d->can_rates[0] : 500000, NULL, false, &can_owner, d);
	if (!d->can) {
		gw_det_say(d, "out of memory");
		return -1;
	}
	gw_det_timer(d, GW_CAN_OPEN_MAX); /* a port that never comes up */
	gw_can_open(d->can);
	return 0;
}

/* One family that matched, found (its read kept for the chemistry). */
static void found(struct det *d, const struct gw_can_match *m, bool section)
{
	char w[96];
	gw_det_say(d, "  %s%s: %s (%u whole polls, %u of the %lu frames)", section ? "" : "also ",
		   gw_det_where(d, m->drv, d->baud, m->address, m->drv->max_address != 0, w, sizeof(w)), m->what,
		   m->polls, m->used, d->can_frames);
	if (!section)
		return;
	struct gw_found *f = gw_det_add_found(d, m->drv, d->baud, m->address, m->what);
	if (f)
		f->read = m->read;
}

/* The families of this rate on what was heard: the ranked matches. */
static int judge(struct det *d, uint32_t rate, struct gw_can_match *m, int cap)
{
	int n = 0;
	for (size_t i = 0; bms_drivers[i]; i++) {
		const struct bms_driver *drv = bms_drivers[i];
		struct gw_can_match t;
		if (!gw_can_tried(drv, rate))
			continue;
		if (!gw_can_match_best(drv, d->heard, d->nheard, d->can_at, d->ncan_at, &t)) {
			if (d->can_frames)
				gw_det_say(d, "  not %s: %s", drv->name, t.what);
			continue;
		}
		int k = n < cap ? n++ : cap - 1;
		if (k == cap - 1 && gw_can_match_cmp(&t, &m[k]) >= 0)
			continue;
		while (k > 0 && gw_can_match_cmp(&t, &m[k - 1]) < 0) {
			m[k] = m[k - 1];
			k--;
		}
		m[k] = t;
	}
	return n;
}

static void window_end(struct det *d)
{
	uint32_t rate = d->can_rates[d->can_ri];
	struct gw_can_match m[8];
	gw_det_say(d, "    %lu frames heard%s", d->can_frames, d->lost ? " (the last ones not kept)" : "");
	int n = judge(d, rate, m, 8);
	for (int i = 0; i < n; i++)
		found(d, &m[i], i == 0 || d->o->all);
	if (n) {
		gw_det_finish(d, 0);
		return;
	}
	if (++d->can_ri < d->ncan_rates) {
		window_start(d);
		return;
	}
	char ask[96];
	askers(ask, sizeof(ask));
	gw_det_say(d, "no battery heard on %s after %.1f s%s; a family that must be asked (%s) is not detected: "
		      "nothing is sent on a CAN bus (configure it, or see bmsgw --capture --probe)",
		   d->o->port, gw_det_now(d), d->port.is_slcan ? "" : " (at the rate ip link set)", ask);
	gw_det_finish(d, 1);
}

void gw_det_can_timer(struct det *d)
{
	if (d->phase == DET_CAN) {
		window_end(d);
		return;
	}
	if (d->port.is_slcan)
		gw_det_say(d, "cannot open %s", d->o->port);
	else
		gw_det_say(d, "cannot open %s (is the interface there and up? ip link set %s up type can bitrate N)",
			   d->o->port, d->port.can_device);
	gw_det_finish(d, 2);
}
