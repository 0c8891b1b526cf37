/* SPDX-License-Identifier: MIT */
/* gateway/detect/run.c - the detector's run as its phases share it: its
 * one timer, the port's baud rate, and its end (the sections said, the
 * loop left; its clock is gw_det_now() of detect_int.h).  The phases
 * (listen_first.c, probing.c) call these, start each other through the
 * detector's start_listening / start_probing, and detect.c dispatches the
 * link's and the timer's events to them, so that no phase calls back into
 * the file that calls it.  The end tells the detector's owner (the tool's
 * loop ends, the daemon's job is done).
 */
#include <errno.h>
#include <string.h>

#include "detect_int.h"

void gw_det_timer(struct det *d, double after)
{
	ev_timer_stop(d->loop, &d->timer);
	ev_timer_set(&d->timer, after > 0 ? after : 0, 0.);
	ev_timer_start(d->loop, &d->timer);
}

int gw_det_set_baud(struct det *d, int baud)
{
	if (d->port.is_tcp || baud == d->baud)
		return 0;
	if (gw_link_set_baud(d->link, baud) < 0) {
		gw_det_say(d, "cannot set %d baud on %s: %s", baud, d->o->port, strerror(errno));
		gw_det_finish(d, 2);
		return -1;
	}
	d->baud = baud;
	d->quiet_from = ev_now(d->loop); /* silence at the old rate is no gap at the new one */
	return 0;
}

void gw_det_finish(struct det *d, int rc)
{
	if (d->phase == DET_DONE)
		return;
	d->phase = DET_DONE;
	ev_timer_stop(d->loop, &d->timer);
	ev_timer_stop(d->loop, &d->budget);
	ev_idle_stop(d->loop, &d->settle);
	d->rc = d->nfound ? 0 : rc;
	if (d->borrowed && d->link) {
		/* the lender's wire at its own rate again */
		const struct conf_pack *cfg = gw_link_cfg(d->link);
		if (cfg && !cfg->is_tcp && cfg->baud && d->baud != cfg->baud)
			gw_link_set_baud(d->link, cfg->baud);
	}
	gw_det_sections(d);
	d->done(d->done_arg, d->rc);
}
