/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_can.h - what the CAN driver targets (fuzz_jk_can.c ...)
 * share on top of fuzz_drive.h: their input's configuration, a record
 * built from a few bytes (the identifiers of the target's table, so that
 * the mutator reaches every slot), and the check of a record scan()
 * reports.
 *
 * Input:
 *	byte 0	bit 0 invert_current, bits 1..2 retries, bit 3 start with a
 *		learned set (persist = bytes 1..4, little endian), bit 4
 *		clear the rx buffer between polls
 *	bytes 1..4 (only with bit 3) persist
 *	then events, by their first byte E:
 *	E == 0		a timeout of the wait
 *	E == 0xFF	a record built here: the next byte S picks the id (S &
 *			63, modulo the target's table), bit 6 flips its form
 *			(standard / extended, where the id fits 11 bits), bit 7
 *			a remote frame; the next byte D: D & 15 the DLC (clamped
 *			to 8), bit 4 a DLC of 9 in the header (never sent by the
 *			transport); then its data bytes
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#ifndef TESTS_FUZZ_CAN_H
#define TESTS_FUZZ_CAN_H

#include "fuzz_drive.h"

struct fc_id {
	uint32_t id;
	bool ext;
};

static size_t fc_config(struct fd *s, const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	s->invert = data[0] & 1;
	s->retries = (data[0] >> 1) & 3;
	s->keep_rx = (data[0] & 16) == 0;
	if (!(data[0] & 8))
		return 1;
	if (size < 5)
		return 0;
	s->poll.persist = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
			  (uint32_t)data[4] << 24;
	return 5;
}

static size_t fc_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail, const struct fc_id *ids, size_t nids)
{
	uint8_t rec[BMS_CAN_REC_MAX + 1], d[8];
	size_t used = 0;
	if (e != 0xFF || avail < 2)
		return FD_NOT_MINE;
	uint8_t sel = p[used++], dl = p[used++];
	uint8_t dlc = dl & 15;
	if (dlc > 8)
		dlc = 8;
	memset(d, 0, sizeof(d));
	for (size_t i = 0; i < dlc && used < avail; i++)
		d[i] = p[used++];
	const struct fc_id *id = &ids[(sel & 63) % nids];
	bool ext = id->ext, rtr = (sel & 128) != 0;
	if ((sel & 64) && id->id <= 0x7FF)
		ext = !ext;
	size_t n = bms_can_record(rec, sizeof(rec), id->id, ext, rtr, dlc, d);
	REQUIRE(n == BMS_CAN_HDR + (rtr ? 0u : dlc));
	if (dl & 16)
		rec[7] = 9; /* a header the transport never writes */
	fd_bytes(s, rec, n);
	return used;
}

/* a frame is one record, whole */
static void fc_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= BMS_CAN_HDR && f[0] == BMS_CAN_MAGIC0 && f[1] == BMS_CAN_MAGIC1 && f[7] <= 8);
	REQUIRE((f[2] & ~(BMS_CAN_EXT | BMS_CAN_RTR)) == 0);
	REQUIRE(n == BMS_CAN_HDR + ((f[2] & BMS_CAN_RTR) ? 0u : f[7]));
}

#endif
