/* SPDX-License-Identifier: MIT */
/* bms/topbms.c - TopBMS "Lithium iron phosphate battery system communication
 * protocol V1.7" (TopBMS / cleverbms 12-16S boards in AliExpress LFP packs).
 *
 * bms/PROTOCOLS.md §8 (framing, shared: bms/base/pylonframe.c) and §10.  Pylontech
 * framing, but not Pylontech scaling.  A poll is one request, 0x42, with VER
 * 0x21 (what the vendor tool sends; the BMS answers with VER 0x52, which is
 * not checked), ADR = `address` (1..254) and INFO = the pack command: 0x01..
 * 0x10 = pack 1..16, 0xFF = all packs.  The known installs give each pack the
 * same number as its address (~21014642E00201FD34\r), so the command is the
 * address for 1..16 and 0xFF above (a unit at such an address has no pack
 * number of its own: the first pack of its answer is decoded).
 *
 * 0x42 answer INFO (capture TOP-01; the document's reserved INFOFLAG is not
 * sent): the command value, or the pack count when the answer covers several
 * packs, then per pack:
 *	M, M x cell voltage (u16 mV), N, N x temperature (u16 degC + 40),
 *	current (s16 10 mA, + = charge), voltage (u16 10 mV),
 *	remaining capacity (u16 10 mAh), P = number of user-defined items:
 *	1 total capacity (u16 10 mAh), 2 cycles (u16), 3 SOC (u8 %) + SOH
 *	(u8 %), 4 balancing (u16, bit 0 = cell 1), 5 humidity (u8 %),
 *	6 three bytes of unknown meaning (TOP-01: P = 6, zeros).
 * Every item P announces must be there (humidity and item 6 are not used).
 * Items beyond the sixth have no known size; they only matter for reaching
 * a later pack of a several-pack answer, which is then refused.
 *
 * Not read: 0x44 (alarms, MOSFET state).  Its layout is known only from the
 * vendor document, which contradicts itself (a custom-flag count of 10
 * before 15 status bytes, an optional 2-byte short-circuit counter), and no
 * capture exists; so alarms and MOSFETs stay absent rather than guessed.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"
#include "pylonframe.h"

#define TOP_VER 0x21
#define TOP_MIN_ADR 1
#define TOP_MAX_ADR 254
#define TOP_MAX_PACK 0x10       /* command values 0x01..0x10 */
#define TOP_ALL_PACKS 0xFF
#define TOP_TEMP_OFFSET 40
#define TOP_ANALOG 0x42

/* Sizes of the user-defined items 1..6 (bms/PROTOCOLS.md §10, TOP-01). */
static const uint8_t top_item_size[] = { 2, 2, 2, 2, 1, 3 };
#define TOP_NITEMS ((unsigned)sizeof(top_item_size))

static uint8_t top_command(uint8_t adr)
{
	return adr <= TOP_MAX_PACK ? adr : TOP_ALL_PACKS;
}

static int top_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	uint8_t cmd;

	if (poll->address < TOP_MIN_ADR || poll->address > TOP_MAX_ADR || poll->step < 0)
		return BMS_E_RANGE;
	if (poll->step >= 1)
		return 0;
	cmd = top_command(poll->address);
	return bms_pylonframe_build(out, cap, TOP_VER, poll->address, BMS_PYLONFRAME_CID1_BATTERY,
				    TOP_ANALOG, &cmd, 1);
}

static enum bms_scan top_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	return bms_pylonframe_scan(buf, len, n);
}

/* One pack record into s (s == NULL: only step over it, which needs every
 * user-defined item to have a known size). */
static int top_pack(struct bms_pylonframe_rd *r, struct bms_snapshot *s, const struct bms_poll *poll)
{
	struct bms_pylonframe_analog a;
	int rc = bms_pylonframe_analog(r, &a);
	if (rc != BMS_OK)
		return rc;
	unsigned m = a.ncells, nt = a.ntemps, p = a.p;

	if (!s) {
		if (p > TOP_NITEMS)
			return BMS_E_UNEXPECTED;
		for (unsigned i = 0; i < p; i++)
			if (!bms_pylonframe_skip(r, top_item_size[i]))
				return BMS_E_SHORT;
		return BMS_OK;
	}

	/* user-defined items, in order, as far as P says they are there */
	uint16_t total = 0, cycles = 0, balance = 0;
	uint8_t soc = 0, soh = 0;
	if (p >= 1)
		total = bms_pylonframe_u16(r);
	if (p >= 2)
		cycles = bms_pylonframe_u16(r);
	if (p >= 3) {
		soc = bms_pylonframe_u8(r);
		soh = bms_pylonframe_u8(r);
	}
	if (p >= 4)
		balance = bms_pylonframe_u16(r);
	/* items 5 (humidity) and 6 are not used, but must be there */
	for (unsigned i = 4; i < p && i < TOP_NITEMS; i++)
		(void)bms_pylonframe_skip(r, top_item_size[i]);
	if (r->bad)
		return BMS_E_SHORT;

	s->ncells = (uint8_t)m;
	if (poll->cells_forced && poll->cells_forced < m)
		s->ncells = poll->cells_forced;
	memcpy(s->cell_mv, a.cell_mv, m * sizeof(a.cell_mv[0]));
	s->ntemps = (uint8_t)(nt < BMS_MAX_TEMPS ? nt : BMS_MAX_TEMPS);
	for (unsigned i = 0; i < s->ntemps; i++)
		s->temp_c[i] = (float)((int)a.temp[i] - TOP_TEMP_OFFSET);
	s->current = (float)a.current / 100.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->voltage = (float)a.voltage / 100.0f;
	s->remain_ah = (float)a.remain / 100.0f;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_REMAIN | BMS_HAS_CELLS |
		      (s->ntemps ? BMS_HAS_TEMPS : 0);
	if (p >= 1) {
		s->full_ah = (float)total / 100.0f;
		s->present |= BMS_HAS_FULL;
	}
	if (p >= 2) {
		s->cycles = cycles;
		s->present |= BMS_HAS_CYCLES;
	}
	if (p >= 3) {
		s->soc = soc > 100 ? 100.0f : (float)soc;
		s->soh = soh > 100 ? 100.0f : (float)soh;
		s->present |= BMS_HAS_SOC | BMS_HAS_SOH;
	}
	if (p >= 4) {
		s->balance = balance;
		s->present |= BMS_HAS_BALANCE;
	}
	return BMS_OK;
}

static int top_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_pylonframe f;
	struct bms_pylonframe_rd r;
	uint8_t info[BMS_PYLONFRAME_MAX_INFO];
	struct bms_snapshot s;
	int rc, idx;

	rc = bms_pylonframe_take(poll, 1, frame, len, &f, info, sizeof(info));
	if (rc < 0)
		return rc;

	uint8_t cmd = top_command(poll->address);
	bms_pylonframe_rd_init(&r, info, f.ninfo);
	uint8_t b = bms_pylonframe_u8(&r);
	if (r.bad)
		return BMS_E_SHORT;
	idx = bms_pylonframe_pack_index(b, cmd, cmd == TOP_ALL_PACKS ? 0u : cmd - 1u);
	if (idx < 0)
		return idx;
	for (int k = 0; k < idx; k++) {
		rc = top_pack(&r, NULL, poll);
		if (rc < 0)
			return rc;
	}
	s = poll->snap;
	rc = top_pack(&r, &s, poll);
	if (rc < 0)
		return rc;
	poll->snap = s;
	poll->step++;
	return BMS_OK;
}

/* Identification (§27): the poll's read, 0x42 of ADR 1 (VER 0x21,
 * CID1 0x46); TopBMS answers with VER 0x52 (TOP-01). */
static void top_probe_judge(const struct bms_poll *poll, const uint8_t *buf, size_t len, struct bms_probe_result *r)
{
	static const uint8_t vers[] = { 0x52, 0x21, 0 };
	bms_paceic_probe_judge(&bms_topbms_driver, vers, poll, buf, len, r);
}

static const struct bms_probe top_probe = {
	.bauds = { 9600 },
	.addrs = { TOP_MIN_ADR },
	.naddrs = 1,
	.rank = 15,
	.gap = 0.05,
	.timeout = 0.3,
	.judge = top_probe_judge,
};

const struct bms_driver bms_topbms_driver = {
	.name = "topbms",
	.description = "TopBMS V1.7 RS485/RS232 (Pylontech-style ~...CR ASCII, 0x42)",
	.vendor = "TopBMS",
	.protocol_id = 8,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_BALANCE,
	.default_baud = 9600,
	BMS_PYLONFRAME_LINK(TOP_MIN_ADR, TOP_MAX_ADR),
	.default_timeout = 1.0,
	.next_request = top_next_request,
	.scan = top_scan,
	.handle = top_handle,
	.finish = bms_finish_pack,
	.probe = &top_probe,
};
