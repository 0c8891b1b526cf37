/* SPDX-License-Identifier: MIT */
/* bms/base/listen.c - listen mode for a driver whose requests are its own
 * poll's (bms/bus.h): the request another master was heard sending is
 * matched against the request each step of the driver's poll would send,
 * and the answer goes to the driver's handle() at that step, as if the
 * gateway had asked it.  A paceic request is the same when its ADR, CID1,
 * CID2 and INFO are (a master may write another VER).  Pure.
 */
#include "../bus.h"

#include <string.h>

#include "../pylonframe.h"

#define LISTEN_STEPS BMS_LISTEN_EXTRA
#define LISTEN_REQ_MAX 256

bool bms_listen_same_paceic(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	struct bms_pylonframe fa, fb;
	uint8_t ia[BMS_PYLONFRAME_MAX_INFO], ib[BMS_PYLONFRAME_MAX_INFO];
	if (bms_pylonframe_parse(a, an, &fa, ia, sizeof(ia)) != BMS_OK ||
	    bms_pylonframe_parse(b, bn, &fb, ib, sizeof(ib)) != BMS_OK)
		return false;
	return fa.adr == fb.adr && fa.cid1 == fb.cid1 && fa.cid2 == fb.cid2 && fa.ninfo == fb.ninfo &&
	       memcmp(ia, ib, fa.ninfo) == 0;
}

/* The answer at step s of a copy of the poll: the key, BMS_E_UNEXPECTED
 * (not this step's), or a bad answer's code. */
static int replay_at(const struct bms_driver *d, struct bms_poll *c, int s, const uint8_t *ans, size_t an)
{
	size_t fn = 0;
	if (d->scan(c, ans, an, &fn) != BMS_SCAN_FRAME || fn != an)
		return BMS_E_UNEXPECTED; /* its framer does not take it whole */
	uint8_t ident = c->kept.ident_state;
	int rc = d->handle(c, ans, an);
	if (rc < 0)
		return rc;
	/* an identity command: read now and then, its values kept */
	return c->kept.ident_state != ident ? BMS_LISTEN_EXTRA + s : s;
}

int bms_listen_replay(const struct bms_driver *d, bms_listen_same *same, struct bms_poll *poll, const uint8_t *req,
		      size_t rn, const uint8_t *ans, size_t an)
{
	if (rn == 0 || !d->next_request || !d->scan || !d->handle)
		return BMS_E_UNEXPECTED; /* nothing to pair it with: these packs never talk unasked */
	uint8_t out[LISTEN_REQ_MAX];
	for (int s = 0; s < LISTEN_STEPS; s++) {
		struct bms_poll c = *poll;
		c.step = s;
		c.sub = 0;
		c.seen = 0;
		c.attempt = 0;
		int n = d->next_request(&c, out, sizeof(out));
		if (n <= 0 || !(same ? same(out, (size_t)n, req, rn) : (size_t)n == rn && memcmp(out, req, rn) == 0))
			continue;
		int key = replay_at(d, &c, s, ans, an);
		if (key == BMS_E_UNEXPECTED)
			continue;
		if (key >= 0)
			*poll = c;
		return key;
	}
	return BMS_E_UNEXPECTED;
}
