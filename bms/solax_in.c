/* SPDX-License-Identifier: MIT */
/* bms/solax_in.c - a SolaX Triple Power (T-BAT HV) battery read listen
 * only from the CAN bus to its SolaX inverter (solax-in): the inverter
 * asks (0x1871 about once a second), the battery answers, bmsgw hears both
 * and sends nothing.  The inverse of bmsgw's own solax-can output
 * (gateway/inverter/dialect/emu_solax_can.c, gateway/inverter/
 * PROTOCOLS.md §11).
 *
 * See bms/PROTOCOLS.md §97.  500 kbit/s, 29-bit identifiers, little-endian,
 * DLC 8; the layouts are rand12345/solax_can_bus's (its dbc) and
 * Battery-Emulator's SOLAX-CAN; 0x1872 and 0x1873 are FoxESS's frames too:
 *	0x1872 the charge and discharge voltage limit u16 0.1 V, the charge
 *	       and discharge current limit u16 0.1 A
 *	0x1873 pack voltage u16 0.1 V, current s16 0.1 A (+ = charging), SOC
 *	       b4 %, the energy remaining u16 b6-b7 0.01 kWh
 *	0x1874 the hottest and coldest sensor s16 0.1 degC (b4-b7 the
 *	       highest and lowest cell in 0.1 V: 0x1876's in mV are read)
 *	0x1875 the mean temperature, the modules (b2), the contactor (b4)
 *	0x1876 the hottest s16 0.1 degC, the highest cell u16 mV, the
 *	       coldest, the lowest cell (0 and 0: none)
 *	0x187E the installed energy u32 Wh, SOH b4 %, SOC b5 %
 * 0x1877 (the battery type), 0x1878, 0x187A, the identity (0x1881,
 * 0x1882), the announcement (0x100A001, no data) and the contactor request
 * (0x1801), and the inverter's 0x1871 are not read.  No cell list is on
 * this bus.  A frame of the battery's shorter than 8 bytes is dropped
 * whole; a value no battery has refuses the poll.  A poll needs 0x1873.
 */
#include "hvcan.h"

#include <math.h>

#include "drivers.h"

enum { SX_1873, SX_1872, SX_1874, SX_1875, SX_1876, SX_187E };

static bool sx_ours(uint32_t id)
{
	return (id >= 0x1872 && id <= 0x1878) || id == 0x187E;
}

static bool sx_check(const struct bms_can_msg *m)
{
	return !m->ext || !sx_ours(m->id) || m->dlc == 8;
}

static int sx_1872(struct bms_poll *poll, const uint8_t *d)
{
	int rc = hv_limits(poll, (float)bms_le16(d) * 0.1f, (float)bms_le16(d + 2) * 0.1f,
			   (float)bms_le16(d + 4) * 0.1f, (float)bms_le16(d + 6) * 0.1f, BMS_PLAUSIBLE_MAX_V);
	return rc ? rc : SX_1872;
}

static int sx_1873(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	if (d[4] > 100)
		return BMS_E_RANGE;
	s->voltage = (float)bms_le16(d) * 0.1f;
	s->current = (float)bms_les16(d + 2) * 0.1f;
	s->soc = d[4];
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC;
	return SX_1873;
}

/* The hottest and coldest sensor (0x1874, 0x1876: the same two), also as
 * the two sensors. */
static int sx_temps(struct bms_poll *poll, const uint8_t *hot, const uint8_t *cold, int slot)
{
	float t[2] = { (float)bms_les16(hot) * 0.1f, (float)bms_les16(cold) * 0.1f };
	if (t[1] > t[0])
		return BMS_E_RANGE;
	hv_temps(&poll->snap, t, 2);
	return slot;
}

static int sx_1875(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	s->chg_mos = s->dsg_mos = d[4] == 1; /* the contactor */
	s->present |= BMS_HAS_MOSFETS;
	return SX_1875;
}

static int sx_1876(struct bms_poll *poll, const uint8_t *d)
{
	unsigned hi = bms_le16(d + 2), lo = bms_le16(d + 6);
	if (hi || lo) {
		if (lo > hi || lo < BMS_PLAUSIBLE_MIN_CELL_MV || hi > BMS_PLAUSIBLE_MAX_CELL_MV)
			return BMS_E_RANGE;
		bms_set_cell_ext(&poll->snap, hi, 0, lo, 0);
	}
	if (bms_le16(d) || bms_le16(d + 4)) /* 0 and 0: no temperature (Battery-Emulator's first data) */
		return sx_temps(poll, d, d + 4, SX_1876);
	return SX_1876;
}

static int sx_187e(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	if (d[4] > 100 || d[5] > 100)
		return BMS_E_RANGE;
	if (d[4]) {
		s->soh = d[4];
		s->present |= BMS_HAS_SOH;
	}
	return SX_187E;
}

static int sx_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	const uint8_t *d = m->data;
	if (!m->ext || !sx_ours(m->id))
		return BMS_E_UNEXPECTED; /* the inverter's 0x1871, the announcement, the identity */
	switch (m->id) {
	case 0x1872: return sx_1872(poll, d);
	case 0x1873: return sx_1873(poll, d);
	case 0x1874: return sx_temps(poll, d, d + 2, SX_1874);
	case 0x1875: return sx_1875(poll, d);
	case 0x1876: return sx_1876(poll, d);
	case 0x187E: return sx_187e(poll, d);
	default: return BMS_E_UNEXPECTED; /* 0x1877, 0x1878 */
	}
}

static const struct hv_family sx_family = {
	.check = sx_check,
	.frame = sx_frame,
	.need = 1u << SX_1873,
};

HV_DRIVER_FUNCS(sx, sx_family)

/* the extended ids 0x1800 ... 0x1FFF (0x1871 ... 0x1882, 0x1801); the
 * announcement 0x100A001 is not read */
static const struct bms_can sx_can = { .bitrate = 500000, .id = 0x7FF, .mask = 0x7FF, .ext_id = 0x1800,
				       .ext_mask = 0x1FFFF800 };

const struct bms_driver bms_solax_in_driver = {
	.name = "solax-in",
	.description = "SolaX Triple Power (T-BAT HV) battery heard on its SolaX inverter's bus, listen only "
		       "(0x1872-0x1876, 0x187E; no cell list)",
	.vendor = "SolaX",
	.protocol_id = 92,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_CELL_EXT |
		    BMS_HAS_TEMPS | BMS_HAS_TEMP_EXT | BMS_HAS_MOSFETS | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	HV_DRIVER_MEMBERS(sx),
	/* the inverter asks every second */
	.default_timeout = 3.0,
	.can = &sx_can,
};
