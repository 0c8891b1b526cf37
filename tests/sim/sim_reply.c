/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_reply.c - bmsgw-sim: a responder's answer, frame by frame
 * (its own file: the responders and their unit test link it without the
 * simulator's main). */
#include "sim.h"

#include <string.h>

int sim_reply_add(struct sim_reply *r, const uint8_t *frame, size_t n)
{
	if (r->nframes >= SIM_REPLY_FRAMES || r->len + n > SIM_REPLY_MAX)
		return -1;
	memcpy(r->buf + r->len, frame, n);
	r->len += n;
	r->frame_end[r->nframes++] = r->len;
	return 0;
}
