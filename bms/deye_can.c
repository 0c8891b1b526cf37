/* SPDX-License-Identifier: MIT */
/* bms/deye_can.c - a Deye low-voltage battery (SE-G5.1 Pro, BOS-G ...) on
 * its PCS CAN bus to the inverter, read listen only: bmsgw never sends a
 * frame on that bus (deye-can).
 *
 * See bms/PROTOCOLS.md §43.  No capture with decoded values is public: the
 * layout is the one open reader's (asmcc's deye_can reader for dbus-serialbattery,
 * after Adminius' PCSCAN and Psynosaur's frame table), marked UNCERTAIN
 * there.  500 kbit/s, 11-bit identifiers, little-endian fields, about once
 * a second:
 *	0x351 CVL u16 0.1 V, CCL s16 0.1 A, DCL s16 0.1 A, DVL u16 0.1 V
 *	0x355 SOC u16 %, SOH u16 %
 *	0x356 voltage s16 0.01 V, current s16 0.1 A (+ = discharging, the
 *	      reader's sign: UNCERTAIN), temperature s16 0.1 degC
 *	0x359 alarm bytes: 0 warnings, 1 warnings / errors, 2-3 errors, 4-6
 *	      alarms (protections)
 *	0x35E "DY" "001", the cell type, capacity u16 0.1 Ah
 *	0x361 highest and lowest cell mV, highest and lowest temperature
 *	      s16 0.1 degC
 * A poll takes frames as jk-can does (bms_can_took()).  The per-battery
 * frames of a bank (0x110, 0x150 ... + n) and the internal bus are not read.
 */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"

enum { DY_351, DY_355, DY_356, DY_359, DY_35E, DY_361, DY_NSLOTS };

#define DY_BIT(k) (1u << (k))
#define DY_NEED (DY_BIT(DY_355) | DY_BIT(DY_356))
#define DY_ALL ((1u << DY_NSLOTS) - 1u)

static const uint16_t dy_ids[DY_NSLOTS] = { 0x351, 0x355, 0x356, 0x359, 0x35E, 0x361 };
static const uint8_t dy_min_dlc[DY_NSLOTS] = { 8, 4, 6, 8, 8, 8 };

static enum bms_scan dy_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	return bms_can_scan(buf, len, n);
}

/* 0x351: the battery's limits. */
static int dy_351(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	float cvl = (float)bms_le16(d) / 10.0f, dvl = (float)bms_le16(d + 6) / 10.0f;
	float ccl = (float)bms_les16(d + 2) / 10.0f, dcl = fabsf((float)bms_les16(d + 4) / 10.0f);
	if (ccl > BMS_PLAUSIBLE_MAX_A || dcl > BMS_PLAUSIBLE_MAX_A)
		return BMS_E_RANGE;
	bms_set_cur_limits(poll, ccl > 0 ? ccl : 0.0f, dcl, false);
	if (cvl > 0) {
		s->bms_cvl_v = cvl;
		s->bms_dvl_v = dvl > 0 && dvl < cvl ? dvl : NAN;
		s->present |= BMS_HAS_VOLT_LIMITS;
	}
	return BMS_OK;
}

/* 0x356: voltage, current, temperature. */
static int dy_356(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	if (bms_les16(d) <= 0)
		return BMS_E_RANGE;
	float cur = -(float)bms_les16(d + 2) / 10.0f; /* the reader's sign: + = discharging on the wire */
	s->voltage = (float)bms_les16(d) / 100.0f;
	s->current = poll->invert_current ? -cur : cur;
	s->temp_c[0] = (float)bms_les16(d + 4) / 10.0f;
	s->ntemps = s->ntemps ? s->ntemps : 1;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_TEMPS;
	return BMS_OK;
}

/* 0x359's bits [impl, asmcc's to_protection_bits()]: byte 0 (warning) and
 * byte 4 (alarm) b0 cell high V, b1 cell low V, b2 pack high V, b3 pack low
 * V, b4 charge over-current, b5 discharge over-current, b6 charge high T,
 * b7 charge low T; byte 1 (warning) and 5 (alarm) b0 discharge high T, b1
 * discharge low T, b2 cell difference, b3-b5 internal temperature, b6-b7
 * failures; byte 6 b0, b3 internal temperature, b4 fuse, the others
 * failures; bytes 2-3 failures. */
static const uint32_t dy_b0[8] = {
	BMS_AL_CELL_OV, BMS_AL_CELL_UV, BMS_AL_PACK_OV, BMS_AL_PACK_UV,
	BMS_AL_CHG_OC, BMS_AL_DSG_OC, BMS_AL_CHG_OT, BMS_AL_CHG_UT,
};
static const uint32_t dy_b1[8] = {
	BMS_AL_DSG_OT, BMS_AL_DSG_UT, BMS_AL_CELL_DIFF, BMS_AL_MOS_OT,
	BMS_AL_MOS_OT, BMS_AL_MOS_OT, BMS_AL_HW_FAULT, BMS_AL_HW_FAULT,
};
static const uint32_t dy_b6[8] = {
	BMS_AL_MOS_OT, BMS_AL_HW_FAULT, BMS_AL_HW_FAULT, BMS_AL_MOS_OT,
	BMS_AL_HW_FAULT, BMS_AL_HW_FAULT, BMS_AL_HW_FAULT, BMS_AL_HW_FAULT,
};

static uint32_t dy_bits(uint8_t b, const uint32_t *map)
{
	uint32_t al = 0;
	for (unsigned i = 0; i < 8; i++)
		if (b & (1u << i))
			al |= map[i];
	return al;
}

static void dy_359(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	uint32_t warn = dy_bits(d[0], dy_b0) | dy_bits(d[1], dy_b1);
	uint32_t prot = dy_bits(d[4], dy_b0) | dy_bits(d[5], dy_b1) | dy_bits(d[6], dy_b6);
	if (d[2] || d[3])
		prot |= BMS_AL_HW_FAULT;
	s->alarms = warn | prot | (prot ? BMS_AL_PROTECTION : 0u);
	for (int i = 0; i < 4; i++)
		s->raw_alarms[i] = bms_le16(d + 2 * i);
	s->nraw = 4;
	s->present |= BMS_HAS_ALARMS;
}

static int dy_decode(struct bms_poll *poll, int k, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	switch (k) {
	case DY_351:
		return dy_351(poll, d);
	case DY_355:
		if (bms_le16(d) > 100)
			return BMS_E_RANGE;
		s->soc = bms_le16(d);
		s->present |= BMS_HAS_SOC;
		if (bms_le16(d + 2) <= 100) {
			s->soh = bms_le16(d + 2);
			s->present |= BMS_HAS_SOH;
		}
		return BMS_OK;
	case DY_356:
		return dy_356(poll, d);
	case DY_359:
		dy_359(poll, d);
		return BMS_OK;
	case DY_35E:
		if (bms_le16(d + 6)) {
			s->full_ah = (float)bms_le16(d + 6) / 10.0f;
			s->present |= BMS_HAS_FULL;
		}
		bms_ident_text(poll->kept.ident.vendor, sizeof(poll->kept.ident.vendor), d, 5);
		if (bms_ident_any(&poll->kept.ident))
			poll->kept.ident_state = BMS_IDENT_HAVE;
		return BMS_OK;
	default: /* 0x361: the highest and lowest temperatures (the cells' extremes: no list) */
		s->temp_c[1] = (float)bms_les16(d + 4) / 10.0f;
		s->temp_c[2] = (float)bms_les16(d + 6) / 10.0f;
		s->ntemps = 3;
		s->present |= BMS_HAS_TEMPS;
		return BMS_OK;
	}
}

static int dy_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_can_msg m;
	int rc = bms_can_parse(frame, len, &m);
	if (rc != BMS_OK)
		return rc;
	int k = -1;
	for (int i = 0; i < DY_NSLOTS && !m.ext && !m.rtr; i++)
		if (dy_ids[i] == m.id)
			k = i;
	if (k < 0)
		return BMS_E_UNEXPECTED; /* the inverter's 0x305, a bank's per-battery frames ... */
	return bms_can_take(poll, k, &m, dy_min_dlc[k], dy_decode, DY_NEED);
}

static bool dy_timeout(struct bms_poll *poll)
{
	return bms_can_usable(poll, DY_NEED);
}

static int dy_finish(struct bms_poll *poll)
{
	return bms_can_learn(poll, DY_NEED, DY_ALL);
}

static const struct bms_can dy_can = {
	.bitrate = 500000,
	.id = 0x340,
	.mask = 0x7C0, /* 0x340 ... 0x37F */
};

const struct bms_driver bms_deye_can_driver = {
	.name = "deye-can",
	.description = "a Deye low-voltage battery on its PCS CAN bus to the inverter, read listen only "
		       "(0x351-0x361; SocketCAN or an slcan adapter)",
	.vendor = "Deye CAN",
	.protocol_id = 35,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_FULL |
		BMS_HAS_TEMPS | BMS_HAS_ALARMS | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	/* nothing sent (no request), no address */
	BMS_CAN_LINK(0, 0),
	.listen_only = true,
	.default_timeout = 3.0, /* a set about once a second */
	.scan = dy_scan,
	.handle = dy_handle,
	.timeout = dy_timeout,
	.finish = dy_finish,
	.can = &dy_can,
};
