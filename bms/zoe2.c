/* SPDX-License-Identifier: MIT */
/* bms/zoe2.c - a Renault Zoe ZE50 (Phase 2, 52 kWh) pack (its LBC) read
 * listen only from its CAN bus (zoe2): bmsgw sends no frame, not the
 * requests a tester sends, not a flow control.
 *
 * See bms/PROTOCOLS.md §88.  500 kbit/s, big-endian; the layouts are
 * Battery-Emulator's RENAULT-ZOE-GEN2-BATTERY (after OVMS's
 * vehicle_renaultzoe_ph2_obd and ljames28's LBC notes):
 *	0x0F8 the interlock b0-b1 (0xFFFE: closed), the pack voltage u16
 *	      b2-b3 / 80 V
 *	0x4DB the highest cell (b0 << 4 | b1 >> 4) + 1000 mV, the lowest
 *	      ((b1 & 0x0F) << 8 | b2) + 1000 mV
 *	0x36C b7 the CRC-8 (polynomial 0x1D, initial 0) of b0-b6 XOR 0x01
 *	0x18DAF1DB the LBC's UDS answers to another tester's requests on
 *	      0x18DADBF1 (ISO-TP): single frames "0L 62 DID value"; 0x9001
 *	      SOC 0.01 %, 0x9003 SOH 0.01 %, 0x925D current (u16 - 32640) /
 *	      32 A (+ = charging), 0x9013 / 0x9014 the lowest / highest
 *	      temperature (u16 - 640) / 16 degC
 * 0x0F8 or 0x36C not of 8 bytes, 0x4DB under 3, 0x36C whose CRC fails,
 * an answer frame whose ISO-TP header does not fit its length, an answer
 * of a data identifier read whose length is not its layout's: dropped
 * whole.  A poll needs 0x0F8 and 0x4DB, and its voltage within the 96
 * cells' extremes (5 % either side); the answers are the poll's where it
 * heard them: SOC, SOH, current and temperatures only while a tester
 * asks.  The cells (one data identifier each, asked one by one through a
 * tester's cycle) are not read.
 */
#include "hvcan.h"

#include "drivers.h"

#include <math.h>

enum { Z2_0F8, Z2_4DB, Z2_36C };

#define Z2_CELLS 96
#define Z2_ANSWER 0x18DAF1DBu

/* The data identifiers read: each answer's value is a u16. */
static bool z2_did_read(unsigned did)
{
	return did == 0x9001 || did == 0x9003 || did == 0x925D || did == 0x9013 || did == 0x9014;
}

/* An answer frame: its ISO-TP header against its length; a single frame
 * "62 DID" of a data identifier read of 5 bytes (62, the DID, a u16). */
static bool z2_tp_check(const struct bms_can_msg *m)
{
	if (!m->dlc)
		return false;
	unsigned pci = m->data[0] >> 4, len = m->data[0] & 0x0Fu;
	if (pci == 0) {
		if (len < 1 || len > 7 || m->dlc < 1 + len)
			return false;
		if (len >= 3 && m->data[1] == 0x62 && z2_did_read(bms_be16(m->data + 2)))
			return len == 5;
		return true;
	}
	if (pci == 1 || pci == 2)
		return hv_tp_check(m);
	return false; /* no flow control nor other header comes from the LBC */
}

static bool z2_check(const struct bms_can_msg *m)
{
	if (m->ext)
		return m->id == Z2_ANSWER ? z2_tp_check(m) : true;
	switch (m->id) {
	case 0x0F8: return m->dlc == 8;
	case 0x4DB: return m->dlc >= 3; /* 3 in ljames28's DBC */
	case 0x36C: return m->dlc == 8 && (hv_crc8(0x1D, m->data, 7) ^ 0x01u) == m->data[7];
	default: return true;
	}
}

/* 0x0F8: the interlock and the pack voltage. */
static int z2_0f8(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned hvil = bms_be16(d);
	s->voltage = (float)bms_be16(d + 2) / 80.0f;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_ALARMS;
	s->alarms = hvil != 0xFFFE ? BMS_AL_HW_FAULT : 0;
	s->raw_alarms[0] = (uint16_t)hvil;
	s->nraw = 1;
	return Z2_0F8;
}

static int z2_4db(struct bms_poll *poll, const uint8_t *d)
{
	unsigned hi = ((unsigned)d[0] << 4 | d[1] >> 4) + 1000u, lo = ((d[1] & 0x0Fu) << 8 | d[2]) + 1000u;
	if (lo > hi || hi > BMS_PLAUSIBLE_MAX_CELL_MV)
		return BMS_E_RANGE;
	bms_set_cell_ext(&poll->snap, hi, 0, lo, 0);
	return Z2_4DB;
}

/* A temperature answer ((u16 - 640) / 16 degC): sensor 1 the highest,
 * 2 the lowest, as heard so far (one out of range is the gateway's sensor
 * fault, not a refused poll). */
static int z2_temp(struct bms_poll *poll, unsigned did, unsigned v)
{
	struct bms_snapshot *s = &poll->snap;
	float two[2] = { NAN, NAN }; /* highest, lowest */
	if (s->present & BMS_HAS_TEMP_EXT)
		two[0] = s->ext_tmax_c, two[1] = s->ext_tmin_c;
	two[did == 0x9013] = ((float)v - 640.0f) / 16.0f;
	s->present &= ~(uint32_t)(BMS_HAS_TEMPS | BMS_HAS_TEMP_EXT);
	s->ntemps = 0;
	hv_temps(s, two, 2);
	return HV_TAKEN;
}

/* A single frame: an answer "62 DID value" of a data identifier read. */
static int z2_single(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	if ((d[0] & 0x0Fu) != 5 || d[1] != 0x62)
		return HV_TAKEN; /* another service's answer, a refusal (7F), a DID not read */
	unsigned did = bms_be16(d + 2), v = bms_be16(d + 4);
	switch (did) {
	case 0x9001:
	case 0x9003:
		if (v > 10000)
			return BMS_E_RANGE;
		if (did == 0x9001)
			s->soc = (float)v * 0.01f, s->present |= BMS_HAS_SOC;
		else
			s->soh = (float)v * 0.01f, s->present |= BMS_HAS_SOH;
		return HV_TAKEN;
	case 0x925D:
		s->current = ((float)v - 32640.0f) / 32.0f;
		s->present |= BMS_HAS_CURRENT;
		return HV_TAKEN;
	case 0x9013:
	case 0x9014: return z2_temp(poll, did, v);
	default: return HV_TAKEN;
	}
}

static const struct hv_family z2_family;

static int z2_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	if (m->ext) {
		if (m->id != Z2_ANSWER || !z2_check(m))
			return BMS_E_UNEXPECTED; /* scan() refused it already */
		if (m->data[0] >> 4) /* a first or consecutive frame: an answer no DID of which is read */
			return hv_tp_frame(&z2_family, poll, m);
		(void)hv_tp_frame(&z2_family, poll, m); /* ends a multi-frame answer it cuts */
		return z2_single(poll, m->data);
	}
	switch (m->id) {
	case 0x0F8: return z2_0f8(poll, m->data);
	case 0x4DB: return z2_4db(poll, m->data);
	case 0x36C: return Z2_36C; /* its CRC checked: a heartbeat */
	default: return BMS_E_UNEXPECTED;
	}
}

/* 0x0F8's voltage against 0x4DB's extremes for 96 cells in series: a
 * frame of the LBC's start-up (Battery-Emulator passes over its first 50
 * 0x0F8) refuses the poll. */
static int z2_derive(struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	float lo = (float)s->ext_min_mv * Z2_CELLS / 1000.0f, hi = (float)s->ext_max_mv * Z2_CELLS / 1000.0f;
	if (s->voltage < lo * 0.95f || s->voltage > hi * 1.05f)
		return BMS_E_INVALID;
	return BMS_OK;
}

static const struct hv_family z2_family = {
	.check = z2_check,
	.frame = z2_frame,
	.finish = z2_derive,
	.need = 1u << Z2_0F8 | 1u << Z2_4DB,
};

HV_DRIVER_FUNCS(z2, z2_family)

/* every 11-bit id; of the 29-bit ones the LBC's answers */
static const struct bms_can z2_can = { .bitrate = 500000, .ext_id = Z2_ANSWER, .ext_mask = 0x1FFFFFFF };

const struct bms_driver bms_zoe2_driver = {
	.name = "zoe2",
	.description = "Renault Zoe ZE50 (52 kWh) pack on its CAN bus, read listen only (0x0F8, 0x4DB, 0x36C; SOC, "
		       "current, SOH and temperatures while another tester asks; no cell list)",
	.vendor = "Renault",
	.protocol_id = 83,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_TEMPS |
		    BMS_HAS_TEMP_EXT | BMS_HAS_CELL_EXT | BMS_HAS_ALARMS,
	HV_DRIVER_MEMBERS(z2),
	.default_timeout = 3.0,
	.can = &z2_can,
};
