/* SPDX-License-Identifier: MIT */
/* tests/unit/hv_check.h - what the unit tests of the high-voltage packs
 * read listen only (bms/hvcan.h: test_leaf.c ... test_foxess_in.c) share:
 * a poll played from candump text as the gateway runs it (the frames in
 * chunks through the daemon's framing loop; a poll the frames do not
 * complete ends at its timeout, as the poller's wait does), a first poll
 * that learns and the next that is whole, each frame of a text broken in
 * turn (its check refused: counted as the wire's checksum errors, the rest
 * used), the driver's table.  Include after check.h with `drv` defined. */
#ifndef TESTS_HV_CHECK_H
#define TESTS_HV_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "../../bms/hvcan.h"
#include "can_recs.h"
#include "drive.h"

static const size_t hv_chunks[] = { 1, 3, 16, 7, 40, 5, 11 };

/* One poll of text's frames: fed in chunks; a poll they do not complete
 * ends at its timeout (timeout() then finish()).  BMS_OK, or why not
 * (BMS_E_INVALID for a poll timeout() refused); *r what the frames did. */
static inline int hv_poll(struct bms_poll *poll, const char *text, uint8_t forced, bool inv, struct drive_res *r)
{
	static uint8_t buf[16384];
	struct bms_rx rx;
	size_t n = recs(buf, sizeof(buf), text);
	drive_begin(poll, &rx, 0, forced, inv);
	*r = drive_feed_bytes(poll, &rx, buf, n, hv_chunks, DRIVE_NCH(hv_chunks));
	if (!r->ok && (!drv->timeout(poll)))
		return BMS_E_INVALID;
	return drv->finish(poll);
}

/* The family reads a tester's answers (leaf, zoe1): its learning poll is
 * whole at the answers' end, not at its timeout. */
static bool hv_answers __attribute__((unused));

/* A fresh pack: the first poll of text learns (it ends at its timeout, or
 * a family of answers' at them), the second is whole (handle()'s BMS_OK);
 * both BMS_OK.  The snapshot is the second's. */
static inline void hv_two_polls(struct bms_poll *poll, const char *text)
{
	struct drive_res r;
	memset(poll, 0, sizeof(*poll));
	CHECK_EQ_INT(hv_poll(poll, text, 0, false, &r), BMS_OK);
	CHECK_EQ_INT(r.ok, hv_answers ? 1 : 0); /* the first poll learns: it waits its timeout */
	CHECK_EQ_INT(r.badsum, 0);
	CHECK_EQ_INT(hv_poll(poll, text, 0, false, &r), BMS_OK);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.badsum, 0);
}

/* The table every high-voltage driver has: listen only, no request, no
 * control, no writes, no probe, no address, its bit rate, up to 192
 * cells. */
static inline void hv_table(const char *name, int id, uint32_t bitrate)
{
	CHECK_STR(drv->name, name);
	CHECK_EQ_INT(drv->protocol_id, id);
	CHECK(bms_find(name) == drv);
	CHECK(drv->listen_only && !drv->next_request && !drv->control && !drv->writer && !drv->listen && !drv->probe);
	CHECK(drv->can && drv->can->bitrate == bitrate);
	CHECK_EQ_INT(drv->max_address, 0);
	CHECK_EQ_INT(bms_max_cells(drv), BMS_MAX_CELLS);
	CHECK(drv->default_timeout >= 2.0);
}

/* Does the CAN filter of the driver pass identifier id (ext: 29-bit)? */
static inline bool hv_passes(uint32_t id, bool ext)
{
	if (ext)
		return drv->can->ext_mask && (id & drv->can->ext_mask) == (drv->can->ext_id & drv->can->ext_mask);
	return (id & drv->can->mask) == (drv->can->id & drv->can->mask);
}

/* text with its k-th frame (0-based) made to fail: its last data byte's
 * low bit flipped (mode 0) or its last byte cut (mode 1). */
static inline void hv_break(char *out, size_t cap, const char *text, int k, int mode)
{
	size_t o = 0;
	int i = 0;
	for (const char *p = text; *p;) {
		while (*p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		size_t len = (size_t)(e - p);
		if (!len)
			break;
		char f[64];
		snprintf(f, sizeof(f), "%.*s", (int)len, p);
		if (i == k && len >= 4 && f[len - 1] != '#' && f[len - 3] != '#') { /* a frame with data, of 2 bytes or more */
			if (mode)
				f[len - 2] = '\0';
			else {
				char *last = f + len - 1;
				int v = *last >= 'A' ? *last - 'A' + 10 : *last >= 'a' ? *last - 'a' + 10 : *last - '0';
				v ^= 1;
				*last = (char)(v < 10 ? '0' + v : 'A' + v - 10);
			}
		}
		o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? " " : "", f);
		i++;
		p = e;
	}
}

/* The frames of text. */
static inline int hv_nframes(const char *text)
{
	int n = 0;
	for (const char *p = text; *p; p++)
		n += *p == '#';
	return n;
}

#endif
