/* SPDX-License-Identifier: MIT */
/* gateway/detect/listen_first.c - listen before talking.
 *
 * About 1.2 s at the first rate (115200; the one rate of --baud or of a
 * TCP serial server), then at 19200 and 9600 as long again once anything
 * was heard, and 0.4 s each while the line was silent (silence is the
 * same at every rate; the first byte heard makes a short window whole),
 * nothing sent.  What was heard is cut into
 * frames (sniff.h): frames of any family mean another master polls this
 * line, or a device talks on it, and nothing is ever written then: where
 * a protocol bmsgw can listen to is heard, master.c names the master and
 * the packs it polls (their sections say listen = true, exit 0);
 * otherwise what was heard is said (exit 2).  A protocol whose device talks by itself (VE.Direct) is recognised
 * here by its probe's judge, confirmed by a second block, and the port is
 * not probed at all.  Bytes that form no frame are noise: reported, and
 * the probing goes on.
 */
#include <stdio.h>
#include <string.h>

#include "detect_int.h"

void gw_det_listen_start(struct det *d)
{
	if (d->li == 0)
		gw_det_say(d, "%s: listening first, sending nothing", d->o->port);
	if (gw_det_set_baud(d, d->lbauds[d->li]) < 0)
		return;
	d->phase = DET_LISTEN;
	d->nheard = d->lost = 0;
	d->extended = false;
	d->mastered = false;
	d->listen_from = ev_now(d->loop);
	/* after a silent window, silence at another rate needs no whole window */
	d->short_window = d->li > 0 && !d->noisy && d->o->listen > GW_PLAN_QUIET;
	d->listened = d->short_window ? GW_PLAN_QUIET : d->o->listen;
	gw_det_timer(d, d->listened);
}

void gw_det_listen_bytes(struct det *d, const uint8_t *p, size_t n)
{
	if (n && d->short_window) {
		/* a byte on a line silent so far: this rate's whole window */
		d->short_window = false;
		d->listened = d->o->listen;
		gw_det_timer(d, d->listen_from + d->o->listen - ev_now(d->loop));
	}
	d->noisy = d->noisy || n > 0;
	size_t room = GW_HEARD_MAX - d->nheard;
	size_t k = n < room ? n : room;
	memcpy(d->heard + d->nheard, p, k);
	d->nheard += k;
	d->lost += n - k;
}

/* A driver that talks by itself at this rate, twice in what was heard:
 * found.  Returns 1 found, 0 none, -1 one block only (listen on). */
static int talkers(struct det *d, int baud)
{
	int partial = 0;
	for (size_t i = 0; bms_drivers[i]; i++) {
		const struct bms_driver *drv = bms_drivers[i];
		if (!gw_plan_listens_at(&d->po, drv, baud))
			continue;
		struct bms_poll poll;
		struct bms_probe_result r1, r2;
		bms_probe_begin(drv, &poll, bms_probe_address(drv), 0);
		bms_probe_judge(drv, &poll, d->heard, d->nheard, &r1);
		if (r1.verdict == BMS_PROBE_IMPLAUSIBLE)
			gw_det_say(d, "  %s text heard, but %s", drv->name, r1.what);
		if (r1.verdict != BMS_PROBE_MATCH)
			continue;
		bms_probe_judge(drv, &poll, d->heard + r1.used, d->nheard - r1.used, &r2);
		if (r2.verdict != BMS_PROBE_MATCH) {
			partial = -1;
			continue;
		}
		gw_det_say(d, "  %s talks on its own: %s (twice)", drv->name, r1.what);
		struct gw_found *f = gw_det_add_found(d, drv, baud, bms_probe_address(drv), r1.what);
		if (f)
			f->read = r1;
		return 1;
	}
	return partial;
}

/* Another master (or device) on the line: name what was heard, and who
 * polls whom where a protocol bmsgw listens to is heard (master.c). */
static void foreign(struct det *d, const struct gw_sniff *s, int baud)
{
	for (int k = 0; k < GW_SNIFF_KINDS; k++)
		if (s->count[k] && k != GW_SNIFF_TALKER)
			gw_det_say(d, "  %u x %s, e.g. %s", s->count[k], gw_sniff_kind_name((enum gw_sniff_kind)k),
				   s->first[k]);
	int rc = gw_det_master_end(d, baud);
	if (rc < 0) {
		gw_det_say(d, "another master polls this line (or a device talks on it): nothing was sent, and nothing "
			      "will be; bmsgw must be the only master of a bus (see bmsgw(8), DETECTING A BMS)");
		rc = 2;
	}
	gw_det_finish(d, rc);
}

static void describe_window(struct det *d, int baud, const struct gw_sniff *s)
{
	char rate[32];
	snprintf(rate, sizeof(rate), baud ? "%d baud" : "the server's rate", baud);
	if (!s->bytes)
		gw_det_say(d, "  %s, %.1f s: quiet", rate, d->listened);
	else if (s->noise == s->bytes)
		gw_det_say(d, "  %s, %.1f s: %zu bytes that form no frame (noise, or another rate)", rate, d->listened,
			   s->bytes);
	else
		gw_det_say(d, "  %s, %.1f s: %zu bytes, %u frames, %zu bytes of noise", rate, d->listened, s->bytes,
			   gw_sniff_foreign(s) + s->count[GW_SNIFF_TALKER], s->noise);
	if (d->o->verbose && d->nheard)
		gw_det_hex(d, "heard", d->heard, d->nheard);
}

/* The families whose signatures were heard at this rate (hints.h): their
 * probes go first (probe_order.h). */
static void hints(struct det *d, int baud)
{
	unsigned *sig = d->hints.sig[d->li];
	memset(sig, 0, sizeof(d->hints.sig[d->li]));
	gw_hints_scan(d->heard, d->nheard, sig);
	d->hints.bauds[d->li] = baud;
	d->hints.n = d->li + 1;
	for (int f = 1; f < GW_FAMILIES; f++)
		if (sig[f] >= GW_HINT_MIN)
			gw_det_say(d, "  the start of %u %s frames heard (none whole): those probes first", sig[f],
				   gw_family_name((enum gw_family)f));
}

void gw_det_listen_end(struct det *d)
{
	struct gw_sniff s;
	int baud = d->lbauds[d->li];
	memset(&s, 0, sizeof(s));
	gw_sniff_scan(d->heard, d->nheard, &s);
	s.bytes += d->lost;
	s.noise += d->lost;
	int talk = gw_sniff_foreign(&s) ? 0 : talkers(d, baud);
	if (talk < 0 && !d->extended) {
		d->extended = true; /* one block: listen as long again for the second */
		d->listened += d->o->listen;
		gw_det_timer(d, d->o->listen);
		return;
	}
	if (gw_sniff_foreign(&s) && gw_det_master(d, baud) == 0)
		return; /* a master: listened to on */
	describe_window(d, baud, &s);
	unsigned answers = s.count[GW_SNIFF_MODBUS_ANS] + s.count[GW_SNIFF_PACEIC_ANS] + s.count[GW_SNIFF_JK_RECORD];
	if (gw_sniff_foreign(&s) && answers && !d->best.drv && d->li + 1 < d->nlisten) {
		/* answers, but none decodes: perhaps another rate's bytes (a
		 * pty carries any rate); the next rate is heard too (a master
		 * whose packs never answer is named at once) */
		if (!d->foreign_baud)
			d->foreign_baud = baud ? baud : -1;
		gw_det_say(d, "  no pack's answer decodes at this rate: listening at the next one, still sending nothing");
		d->li++;
		gw_det_listen_start(d);
		return;
	}
	if (gw_sniff_foreign(&s)) {
		foreign(d, &s, baud);
		return;
	}
	if (talk > 0) {
		gw_det_finish(d, 0);
		return;
	}
	hints(d, baud);
	if (++d->li < d->nlisten) {
		gw_det_listen_start(d);
	} else if (d->relistening) {
		gw_det_say(d, "the master heard while probing was not heard again: nothing more will be sent; bmsgw must "
			      "be the only master of a bus (see bmsgw(8), DETECTING A BMS)");
		gw_det_finish(d, 2);
	} else if (d->foreign_baud) {
		/* a line another master polls is never probed */
		gw_det_say(d, "another master polls this line (frames at %d baud), and no pack's answer decodes at any rate: "
			      "nothing was sent, and nothing will be; bmsgw must be the only master of a bus (see bmsgw(8), "
			      "DETECTING A BMS)", d->foreign_baud);
		gw_det_finish(d, 2);
	} else {
		d->start_probing(d);
	}
}
