/* SPDX-License-Identifier: MIT */
/* bms/creabest_vb.c - Creabest VB series packs over Bluetooth LE.
 *
 * See bms/PROTOCOLS.md §67.  Bluetooth LE only: notifications on FFE4 of
 * service FFE0, writes to FFE9 of service FFE5 (cbt-power's services), the
 * BMS taking at most 20 bytes a write (ble->write_piece: the transport
 * writes a longer request in pieces).  The frames are the Pylontech-style
 * ASCII of bms/pylonframe.h (§8): requests with VER 0x11, ADR 1, CID1 0x46,
 * answers with VER 0x22.  One poll, two reads:
 *	0x42  INFO 01: cells, temperatures, current, voltage, SOC, cycles,
 *	      the problem bytes
 *	0x81  INFO 01 00 01: the design capacity
 * The 0x42 answer's INFO (big-endian):
 *	M, M x cell mV (u16), N, N x temperature (s16 0.1 degC), then
 *	+0 current (s16 0.1 A, + = charging), +2 voltage (u16 0.1 V),
 *	+4 SOC (u16 %, above 100 taken as 100), +6 one byte not described,
 *	+7 cycles (u16), +9 six bytes not described, +15 the problem bytes
 *	(six, raw_alarms[0..2]; a bit of mask FFF000FF000F raises OTHER:
 *	no bit is named)
 * the 0x81 answer's: the design capacity (u16 0.1 Ah).
 *
 * Progress: step (enum below); no private state.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"
#include "pylonframe.h"

#define VB_VER_REQ 0x11
#define VB_VER_ANS 0x22
#define VB_ADR 0x01
#define VB_PIECE 20   /* the most the BMS takes in one write */
#define VB_TAIL 21    /* INFO bytes after the temperatures */
#define VB_PROBLEM 15 /* the problem bytes' offset in them */

enum { VB_ANALOG = 0, VB_CAP, VB_DONE };

/* The command and INFO of each step. */
static const struct {
	uint8_t cid2, ninfo;
	uint8_t info[3];
} vb_steps[] = {
	[VB_ANALOG] = { 0x42, 1, { VB_ADR } },
	[VB_CAP] = { 0x81, 3, { 0x01, 0x00, VB_ADR } },
};

static int vb_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (poll->step == VB_DONE)
		return 0;
	if (poll->step < VB_ANALOG || poll->step > VB_CAP)
		return BMS_E_RANGE;
	return bms_pylonframe_build(out, cap, VB_VER_REQ, VB_ADR, BMS_PYLONFRAME_CID1_BATTERY, vb_steps[poll->step].cid2,
				    vb_steps[poll->step].info, vb_steps[poll->step].ninfo);
}

/* '~' ... CR with LCHKSUM and CHKSUM right; a request echoed is skipped. */
static enum bms_scan vb_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	return bms_pylonframe_scan(buf, len, n);
}

/* The 0x42 answer's INFO into a fresh snapshot; every count checked
 * against the INFO's length before it is used. */
static int vb_analog(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	if (ninfo < 1)
		return BMS_E_SHORT;
	unsigned m = info[0];
	if (m == 0 || m > BMS_LV_MAX_CELLS)
		return BMS_E_RANGE;
	size_t at = 1u + 2u * m; /* N */
	if (at >= ninfo)
		return BMS_E_SHORT;
	unsigned nt = info[at];
	if (nt > BMS_MAX_TEMPS)
		return BMS_E_RANGE;
	if (ninfo < at + 1u + 2u * nt + VB_TAIL)
		return BMS_E_SHORT;
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	struct bms_pylonframe_rd r;
	bms_pylonframe_rd_init(&r, info + 1, ninfo - 1);
	for (unsigned i = 0; i < m; i++)
		s.cell_mv[i] = bms_pylonframe_u16(&r);
	bms_pylonframe_skip(&r, 1); /* N */
	for (unsigned i = 0; i < nt; i++)
		s.temp_c[i] = (float)bms_pylonframe_s16(&r) / 10.0f;
	int16_t cur = bms_pylonframe_s16(&r);
	uint16_t dv = bms_pylonframe_u16(&r), soc = bms_pylonframe_u16(&r);
	bms_pylonframe_skip(&r, 1);
	s.cycles = bms_pylonframe_u16(&r);
	bms_pylonframe_skip(&r, VB_PROBLEM - 9);
	for (int i = 0; i < 3; i++)
		s.raw_alarms[i] = bms_pylonframe_u16(&r);
	if (r.bad)
		return BMS_E_SHORT;
	s.ncells = (uint8_t)(poll->cells_forced && poll->cells_forced < m ? poll->cells_forced : m);
	s.ntemps = (uint8_t)nt;
	s.current = (float)cur / 10.0f * (poll->invert_current ? -1.0f : 1.0f);
	s.voltage = (float)dv / 10.0f;
	s.soc = soc > 100 ? 100.0f : (float)soc;
	s.nraw = 3;
	/* the mask FFF000FF000F over the six bytes, word by word */
	s.alarms = (s.raw_alarms[0] & 0xFFF0u) || (s.raw_alarms[1] & 0x00FFu) || (s.raw_alarms[2] & 0x000Fu)
			   ? BMS_AL_OTHER : 0;
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CYCLES | BMS_HAS_CELLS |
		    BMS_HAS_ALARMS | (nt ? BMS_HAS_TEMPS : 0);
	poll->snap = s;
	return BMS_OK;
}

/* The 0x81 answer: the design capacity. */
static int vb_cap(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	if (ninfo < 2)
		return BMS_E_SHORT;
	poll->snap.full_ah = (float)bms_be16(info) / 10.0f;
	poll->snap.present |= BMS_HAS_FULL;
	return BMS_OK;
}

static int vb_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_pylonframe f;
	uint8_t info[BMS_PYLONFRAME_MAX_INFO];
	int rc = bms_pylonframe_parse(frame, len, &f, info, sizeof(info));
	if (rc < 0)
		return rc;
	if (f.ver != VB_VER_ANS)
		return BMS_E_HEADER;
	if (poll->step < VB_ANALOG || poll->step > VB_CAP)
		return BMS_E_UNEXPECTED;
	rc = bms_pylonframe_check_from(&f, BMS_PYLONFRAME_CID1_BATTERY, VB_ADR, false);
	if (rc < 0)
		return rc;
	/* the two answers tell themselves apart by their length only: the
	 * 0x81 one is 2 bytes, a 0x42 one at least 25 */
	if ((poll->step == VB_CAP) != (f.ninfo == 2))
		return BMS_E_UNEXPECTED; /* a late answer to the other read */
	rc = poll->step == VB_ANALOG ? vb_analog(poll, info, f.ninfo) : vb_cap(poll, info, f.ninfo);
	if (rc == BMS_OK)
		poll->step++;
	return rc;
}

static int vb_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, VB_DONE);
}

/* Notify FFE4 of FFE0, write FFE9 of FFE5 (aiobmsble cbtpwr_vb_bms). */
static const struct bms_gatt vb_gatt[] = {
	{ .service = BMS_UUID16("ffe0"), .notify = BMS_UUID16("ffe4"), .write = BMS_UUID16("ffe9"),
	  .write_service = BMS_UUID16("ffe5") },
	BMS_GATT_END,
};

/* aiobmsble's matchers: "VB" and nine more characters (with service FFF0
 * there; VB024001223 in fl4p/batmon-ha issue 290), and, in its earlier
 * version, company 0x4243 with service FFF0.  Ranked before cbt-power's
 * hints (its service FFE5 is a VB pack's too). */
static bool vb_name_ok(const char *n)
{
	return strlen(n) == 11 && n[0] == 'V' && n[1] == 'B';
}

static const struct bms_ble_hint vb_ble_hints[] = {
	{2, BMS_BLE_NAME, NULL, vb_name_ok, 0, false, "a name VB and nine characters (Creabest VB)"},
	{2, BMS_BLE_COMPANY_SERVICE, NULL, NULL, 0xFFF04243u, false, "company 0x4243 with service FFF0 (Creabest VB)"},
	{0},
};

static const struct bms_ble vb_ble = {
	.only = true,
	.gatt = vb_gatt,
	.hints = vb_ble_hints,
	.write_piece = VB_PIECE,
};

const struct bms_driver bms_creabest_vb_driver = {
	.name = "creabest-vb",
	.description = "Creabest VB packs over Bluetooth LE (~11..46 ASCII reads in 20-byte writes, notify FFE4, write FFE9)",
	.vendor = "Creabest",
	.protocol_id = 58,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_FULL | BMS_HAS_CYCLES |
		BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS,
	BMS_BLE_LINK,
	.next_request = vb_next_request,
	.scan = vb_scan,
	.handle = vb_handle,
	.finish = vb_finish,
	.ble = &vb_ble,
};
