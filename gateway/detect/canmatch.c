/* SPDX-License-Identifier: MIT */
/* gateway/detect/canmatch.c - the CAN families' verdict on the frames a
 * CAN bus carried (see canmatch.h).  Pure: no I/O, no globals but the
 * driver table. */
#include "canmatch.h"

#include <stdio.h>
#include <string.h>

int gw_can_rates(uint32_t *rates, int cap)
{
	unsigned count[GW_CAN_RATES] = { 0 };
	int n = 0;
	for (size_t i = 0; bms_drivers[i]; i++) {
		uint32_t r = bms_drivers[i]->can ? bms_drivers[i]->can->bitrate : 0;
		int k = 0;
		while (k < n && rates[k] != r)
			k++;
		if (!r || (k == n && n >= cap))
			continue;
		if (k == n)
			rates[n++] = r;
		count[k]++;
	}
	/* most drivers first, then the higher rate: an insertion sort of n <= 4 */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && (count[j] > count[j - 1] || (count[j] == count[j - 1] && rates[j] > rates[j - 1]));
		     j--) {
			uint32_t r = rates[j];
			unsigned c = count[j];
			rates[j] = rates[j - 1], count[j] = count[j - 1];
			rates[j - 1] = r, count[j - 1] = c;
		}
	return n;
}

bool gw_can_tried(const struct bms_driver *drv, uint32_t rate)
{
	return drv->can && drv->listen_only && drv->scan && drv->handle && (!rate || drv->can->bitrate == rate);
}

/* A poll handle() completed: its finish(), the derived values, the
 * daemon's plausibility table and the probes' battery check. */
static bool poll_good(const struct bms_driver *drv, struct bms_poll *poll, char *what, size_t cap,
		      struct bms_probe_result *read)
{
	struct bms_implausible why;
	if (drv->finish && drv->finish(poll) != BMS_OK) {
		snprintf(what, cap, "the poll's frames are no whole sample");
		return false;
	}
	bms_snapshot_derive(&poll->snap);
	(void)bms_sensor_faults(&poll->snap, NULL);
	if (!bms_plausible(&poll->snap, &why)) {
		char t[80];
		bms_implausible_text(&why, t, sizeof(t));
		snprintf(what, cap, "%s", t);
		return false;
	}
	/* a family of more than 32 cells: a low-voltage battery's range, or a high-voltage pack's */
	bool hv = bms_max_cells(drv) > BMS_LV_MAX_CELLS;
	if (!bms_probe_plausible(&poll->snap, what, cap) && !(hv && bms_probe_plausible_hv(&poll->snap, what, cap)))
		return false;
	memset(read, 0, sizeof(*read));
	read->verdict = BMS_PROBE_MATCH;
	bms_probe_cells_read(&poll->snap, read);
	return true;
}

/* The poll ends: whole (handle()'s BMS_OK, or its timeout() says the
 * frames it has are enough) and good, or not. */
static void poll_end(const struct bms_driver *drv, struct bms_poll *poll, bool whole, unsigned took,
		     struct gw_can_match *m)
{
	char what[BMS_PROBE_TEXT];
	if (!took)
		return; /* nothing of it heard: no poll at all */
	if (whole && poll_good(drv, poll, what, sizeof(what), &m->read)) {
		m->polls++;
		m->used += took;
		memcpy(m->what, what, sizeof(what));
		return;
	}
	m->bad++;
	if (!whole)
		snprintf(what, sizeof(what), "%s", poll->seen & BMS_CAN_REFUSED ? "a frame refused" : "no whole poll");
	if (!m->polls)
		memcpy(m->what, what, sizeof(what));
}

static void poll_start(struct bms_poll *poll, uint8_t address, bool first)
{
	if (first)
		memset(poll, 0, sizeof(*poll));
	bms_poll_begin(poll, address, 0, false); /* what it learned is kept */
	poll->link = BMS_LINK_WIRE;
	poll->link_fresh = first;
}

void gw_can_match_run(const struct bms_driver *drv, uint8_t address, const uint8_t *rec, size_t n, const float *at,
		      size_t nat, struct gw_can_match *m)
{
	struct bms_poll poll;
	double timeout = drv->default_timeout > 0 ? drv->default_timeout : 1.0, deadline = 0;
	unsigned took = 0;
	size_t off = 0, i = 0;
	memset(m, 0, sizeof(*m));
	m->drv = drv;
	m->address = address;
	snprintf(m->what, sizeof(m->what), "no frame of it");
	poll_start(&poll, address, true);
	for (; off < n; i++) {
		size_t k = 0;
		enum bms_scan sc = drv->scan(&poll, rec + off, n - off, &k);
		if (sc != BMS_SCAN_FRAME && sc != BMS_SCAN_SKIP && sc != BMS_SCAN_BADSUM)
			break;
		if (k == 0 || k > n - off)
			break;
		if (sc != BMS_SCAN_FRAME) {
			m->refused += sc == BMS_SCAN_BADSUM; /* a frame its family's check refused: dropped whole */
			off += k;
			continue;
		}
		if (at && i < nat && took && at[i] > deadline) {
			/* the poll's wait ran out before this frame, as the daemon's would */
			poll_end(drv, &poll, drv->timeout && drv->timeout(&poll), took, m);
			poll_start(&poll, address, false);
			took = 0;
		}
		int rc = drv->handle(&poll, rec + off, k);
		off += k;
		if (rc == BMS_E_UNEXPECTED)
			continue;
		if ((rc == BMS_OK || rc == BMS_MORE) && !took++)
			deadline = (at && i < nat ? at[i] : 0) + timeout;
		if (rc == BMS_MORE)
			continue;
		poll_end(drv, &poll, rc == BMS_OK, took ? took : 1, m);
		poll_start(&poll, address, false);
		took = 0;
	}
	/* the window ended: a poll its timeout() finds enough is one */
	if (took)
		poll_end(drv, &poll, drv->timeout && drv->timeout(&poll), took, m);
}

bool gw_can_match_best(const struct bms_driver *drv, const uint8_t *rec, size_t n, const float *at, size_t nat,
			struct gw_can_match *m)
{
	struct gw_can_match t;
	unsigned hi = drv->max_address > drv->min_address ? drv->max_address : drv->min_address;
	uint8_t first = drv->default_address ? drv->default_address : drv->min_address;
	gw_can_match_run(drv, first, rec, n, at, nat, m);
	for (unsigned a = drv->min_address; a <= hi; a++) {
		if (a == first)
			continue;
		gw_can_match_run(drv, (uint8_t)a, rec, n, at, nat, &t);
		if (gw_can_match_cmp(&t, m) < 0)
			*m = t;
	}
	return m->polls > 0;
}

int gw_can_match_cmp(const struct gw_can_match *a, const struct gw_can_match *b)
{
	if (a->used != b->used)
		return a->used > b->used ? -1 : 1;
	if (a->polls != b->polls)
		return a->polls > b->polls ? -1 : 1;
	return 0;
}
