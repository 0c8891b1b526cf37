/* SPDX-License-Identifier: MIT */
/* gateway/detect/late.c - an answer that came after its probe's wait.
 *
 * A slow line delivers a probe's answer after the wait has ended, in a
 * later probe's gap or wait: a serial server behind Wi-Fi, or a USB adapter
 * or a pty on a loaded host, whose kernel hands the bytes on late (on the
 * test machine, a pty's bytes came up to 1 s late under the whole test
 * suite, writer and reader both real-time).  So the last GW_LATE_KEEP
 * probes that ended unanswered are kept, each with what it got (the start
 * of an answer that then stopped) and what came after it; the bytes that
 * come later, in a gap or in a later probe's wait, are judged by each of
 * them too, the newest first.  Where they make a valid answer to one, it
 * was answered late: probing.c goes back to it and on from there, with a
 * wait as long as that answer took and half again (at least twice the
 * probe's own, at most GW_ANSWER_MAX), GW_LATE_MAX times a run at most.  A
 * late answer only earns its probe another try, which counts as any try
 * does (a valid answer within the wait, confirmed by a second one); by
 * itself it names no BMS.
 */
#include <string.h>

#include "detect_int.h"

void gw_det_late_keep(struct det *d)
{
	struct gw_late *k = &d->late[d->late_next++ % GW_LATE_KEEP];
	k->on = true;
	k->pi = d->pi;
	k->attempt = d->attempt;
	k->confirming = d->confirming;
	k->baud = d->baud;
	k->sent_at = d->sent_ring[(d->sent_next - 1) % GW_DET_SENT].at; /* its request, the newest sent */
	k->rxlen = d->rxlen < sizeof(k->rx) ? d->rxlen : sizeof(k->rx);
	memcpy(k->rx, d->rx, k->rxlen);
}

void gw_det_late_forget(struct det *d)
{
	for (int i = 0; i < GW_LATE_KEEP; i++)
		d->late[i].on = false;
}

/* Do what k kept and p[0..n) make a valid answer to it?  buf (BMS_RX_CAP)
 * gets the two, *len their length. */
static bool answers(const struct det *d, const struct gw_late *k, const uint8_t *p, size_t n, uint8_t *buf,
		    size_t *len)
{
	const struct gw_detect_try *t = &d->plan[k->pi];
	size_t more = n < BMS_RX_CAP - k->rxlen ? n : BMS_RX_CAP - k->rxlen;
	memcpy(buf, k->rx, k->rxlen);
	memcpy(buf + k->rxlen, p, more);
	*len = k->rxlen + more;
	struct bms_poll poll;
	uint8_t req[256];
	bms_probe_begin(t->drv, &poll, t->address, k->attempt);
	if (bms_probe_request(t->drv, &poll, req, sizeof(req)) <= 0)
		return false;
	struct bms_probe_result r;
	bms_probe_judge(t->drv, &poll, buf, *len, &r);
	return r.verdict == BMS_PROBE_MATCH;
}

/* k was answered late: back to it, with a longer wait. */
static void late_hit(struct det *d, const struct gw_late *k, const uint8_t *buf, size_t len)
{
	const struct gw_detect_try *t = &d->plan[k->pi];
	double took = ev_now(d->loop) - k->sent_at, own = gw_plan_timeout(t);
	double wait = took * 1.5 > 2 * own ? took * 1.5 : 2 * own;
	d->stretch = wait < GW_ANSWER_MAX ? wait : GW_ANSWER_MAX;
	d->late_tries++;
	d->back_to = *k;
	gw_det_late_forget(d); /* the probes after it are tried again anyway */
	if (d->o->verbose)
		gw_det_hex(d, "<-", buf, len);
	char w[96];
	gw_det_say(d, "  %s: its answer came whole %.2f s after the request, after its wait (a slow line): asked "
		      "again, waiting up to %.1f s",
		   gw_det_where(d, t->drv, t->baud, t->address, t->drv->max_address != 0, w, sizeof(w)), took,
		   d->stretch);
}

bool gw_det_late_answer(struct det *d, const uint8_t *p, size_t n, bool keep)
{
	uint8_t buf[BMS_RX_CAP];
	if (d->late_tries >= GW_LATE_MAX)
		return false; /* the run's tries after a late answer are spent */
	for (unsigned i = 1; i <= GW_LATE_KEEP; i++) {
		struct gw_late *k = &d->late[(d->late_next - i) % GW_LATE_KEEP];
		if (!k->on || k->baud != d->baud || ev_now(d->loop) - k->sent_at > GW_DET_ECHO_LATE) {
			k->on = false;
			continue;
		}
		size_t len = 0;
		if (answers(d, k, p, n, buf, &len)) {
			late_hit(d, k, buf, len);
			return true;
		}
		if (keep) {
			memcpy(k->rx, buf, len);
			k->rxlen = len;
			k->on = len < BMS_RX_CAP; /* so much came since that it holds no answer of its */
		}
	}
	return false;
}
