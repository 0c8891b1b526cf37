/* SPDX-License-Identifier: MIT */
/* bms/foxess_in.c - a FoxESS HV2600 / ECS battery read listen only from
 * the bus to its H-series inverter (foxess-in): the inverter asks (0x1871
 * every second), the battery answers, bmsgw hears both and sends nothing.
 * The inverse of bmsgw's own foxess-can output (gateway/inverter/dialect/
 * emu_foxess_can.c).
 *
 * See bms/PROTOCOLS.md §95.  500 kbit/s, 29-bit identifiers, little-endian;
 * the layouts are FozzieUK/FoxESS-Canbus-Protocol's (FoxESS_v1_15.dbc and
 * its README):
 *	0x1872 limits: the highest and lowest pack voltage (u16 0.1 V), the
 *	      charge and discharge current (u16 0.1 A)
 *	0x1873 pack voltage u16 0.1 V, current s16 0.1 A (its own sign is
 *	      not settled: bmsgw gives it 0x1879's, below), SOC b4 %, the
 *	      energy remaining u16 b6-b7 0.01 kWh
 *	0x1874 the highest and lowest cell temperature s16 0.1 degC
 *	0x1875 the BMS's temperature, the packs on line (b2, a bit each),
 *	      the packs (b3), the contactor (b4 bit 0), cycles u16 b6-b7
 *	0x1876 b0 bit 0: charging not permitted (a full pack, or the BMS
 *	      master says no: the charge limit 0 A); the highest cell u16
 *	      b2-b3 mV, the lowest b6-b7
 *	0x1879 the error code b0, the flags b1: bit 3 discharging, bit 4
 *	      charging, bit 5 operational, bit 6 an active error
 *	0x0C1D + 4k (k 0..35) four cells a frame u16 mV: cell 4k + i
 *	0x0D21 + 8k (k 0..7) eight cell temperatures a frame, b - 50 degC
 *	      (0 and 0xFF none): sensors 1-16 the first two frames', the
 *	      highest and lowest of all
 * A frame shorter than 8 bytes is dropped whole.  A poll needs 0x1873 and
 * 0x1879 (the current's sign).
 */
#include "hvcan.h"

#include <math.h>

#include "drivers.h"

enum { FI_1873, FI_1879, FI_1872, FI_1874, FI_1875, FI_1876 };
#define FI_CELL_FRAMES 36 /* 144 cells */
#define FI_TEMP_FRAMES 8  /* 64 sensors */

struct fi_state {
	float tmax, tmin;  /* every sensor's (NaN: none yet) */
	bool t_any;
	uint8_t flags;     /* 0x1879 b1 */
	bool inhibit;      /* 0x1876 b0 bit 0 */
};

static bool fi_ours(uint32_t id)
{
	return (id >= 0x1872 && id <= 0x1879) || (id >= 0x0C1D && id < 0x0C1Du + 4u * FI_CELL_FRAMES) ||
	       (id >= 0x0D21 && id < 0x0D21u + 8u * FI_TEMP_FRAMES);
}

static bool fi_check(const struct bms_can_msg *m)
{
	return !m->ext || !fi_ours(m->id) || m->dlc == 8;
}

static int fi_1873(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	if (d[4] > 100)
		return BMS_E_RANGE;
	s->voltage = (float)bms_le16(d) * 0.1f;
	s->current = (float)bms_les16(d + 2) * 0.1f;
	s->soc = d[4];
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC;
	return FI_1873;
}

/* 0x1872: the BMS's limits.  A charge voltage limit not above the
 * discharge one is no battery's (refused); a current limit beyond
 * BMS_MAX_LIMIT_A none. */
static int fi_1872(struct bms_poll *poll, const uint8_t *d)
{
	int rc = hv_limits(poll, (float)bms_le16(d) * 0.1f, (float)bms_le16(d + 2) * 0.1f,
			   (float)bms_le16(d + 4) * 0.1f, (float)bms_le16(d + 6) * 0.1f, BMS_PLAUSIBLE_MAX_V);
	return rc ? rc : FI_1872;
}

static int fi_1875(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	s->cycles = bms_le16(d + 6);
	s->chg_mos = s->dsg_mos = (d[4] & 1u) != 0; /* the contactor */
	s->present |= BMS_HAS_CYCLES | BMS_HAS_MOSFETS;
	return FI_1875;
}

static int fi_1876(struct bms_poll *poll, const uint8_t *d)
{
	unsigned hi = bms_le16(d + 2), lo = bms_le16(d + 6);
	HV_FAM(poll, struct fi_state)->inhibit = (d[0] & 1u) != 0;
	if (!hi || !lo)
		return FI_1876;
	if (lo > hi || lo < BMS_PLAUSIBLE_MIN_CELL_MV || hi > BMS_PLAUSIBLE_MAX_CELL_MV)
		return BMS_E_RANGE;
	bms_set_cell_ext(&poll->snap, hi, 0, lo, 0);
	return FI_1876;
}

static int fi_cells(struct bms_poll *poll, unsigned k, const uint8_t *d)
{
	for (unsigned i = 0; i < 4; i++) {
		unsigned mv = bms_le16(d + 2 * i);
		if (!mv)
			continue; /* no cell there */
		if (mv < BMS_PLAUSIBLE_MIN_CELL_MV || mv > BMS_PLAUSIBLE_MAX_CELL_MV)
			return BMS_E_RANGE;
		hv_cell(poll, 4 * k + i, mv);
	}
	return HV_A(k);
}

static int fi_temps(struct bms_poll *poll, unsigned k, const uint8_t *d)
{
	struct fi_state *f = HV_FAM(poll, struct fi_state);
	for (unsigned i = 0; i < 8; i++) {
		float t = (d[i] == 0 || d[i] == 0xFF) ? NAN : (float)d[i] - 50.0f;
		if (k < 2)
			poll->snap.temp_c[8 * k + i] = t;
		if (isnan(t))
			continue;
		f->tmax = f->t_any && f->tmax >= t ? f->tmax : t;
		f->tmin = f->t_any && f->tmin <= t ? f->tmin : t;
		f->t_any = true;
	}
	return HV_B(k);
}

static int fi_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	const uint8_t *d = m->data;
	if (!m->ext || !fi_ours(m->id))
		return BMS_E_UNEXPECTED; /* the inverter's 0x1871, the serial numbers, the packs' own */
	if (m->id >= 0x0D21 && m->id < 0x1872)
		return (m->id - 0x0D21) % 8 ? BMS_E_UNEXPECTED : fi_temps(poll, (m->id - 0x0D21) / 8, d);
	if (m->id < 0x0D21)
		return (m->id - 0x0C1D) % 4 ? BMS_E_UNEXPECTED : fi_cells(poll, (m->id - 0x0C1D) / 4, d);
	switch (m->id) {
	case 0x1872: return fi_1872(poll, d);
	case 0x1873: return fi_1873(poll, d);
	case 0x1874: {
		float t[2] = { (float)bms_les16(d) * 0.1f, (float)bms_les16(d + 2) * 0.1f };
		bms_set_temp_ext(&poll->snap, t[0], t[1]);
		return FI_1874;
	}
	case 0x1875: return fi_1875(poll, d);
	case 0x1876: return fi_1876(poll, d);
	case 0x1879:
		HV_FAM(poll, struct fi_state)->flags = d[1];
		poll->snap.alarms = (d[0] ? BMS_AL_OTHER : 0) | ((d[1] & 0x40u) ? BMS_AL_PROTECTION : 0);
		poll->snap.raw_alarms[0] = (uint16_t)(d[0] | d[1] << 8);
		poll->snap.nraw = 1;
		poll->snap.present |= BMS_HAS_ALARMS;
		return FI_1879;
	default: return BMS_E_UNEXPECTED; /* 0x1877, 0x1878 */
	}
}

/* The current's sign from the flags (charging +, discharging -); charging
 * not permitted: a charge limit of 0 A; the sensors. */
static int fi_derive(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	const struct fi_state *f = HV_FAM(poll, struct fi_state);
	const struct hv_state *st = BMS_PRIV(poll, struct hv_state);
	bool chg = (f->flags & 0x10u) != 0, dsg = (f->flags & 0x08u) != 0;
	if (chg != dsg)
		s->current = chg ? fabsf(s->current) : -fabsf(s->current);
	if (f->inhibit && (s->present & BMS_HAS_CUR_LIMITS))
		s->bms_ccl_a = 0;
	if (st->b & 1u) {
		s->ntemps = (st->b & 2u) ? 16 : 8; /* the first frames' sensors */
		s->present |= BMS_HAS_TEMPS;
	} else {
		for (unsigned i = 0; i < 16; i++)
			s->temp_c[i] = 0;
	}
	if (!(s->present & BMS_HAS_TEMP_EXT) && f->t_any)
		bms_set_temp_ext(s, f->tmax, f->tmin);
	return BMS_OK;
}

static const struct hv_family fi_family = {
	.check = fi_check,
	.frame = fi_frame,
	.finish = fi_derive,
	.need = 1u << FI_1873 | 1u << FI_1879,
};

HV_DRIVER_FUNCS(fi, fi_family)

/* the extended ids under 0x2000: 0x0C05 ... 0x1883 */
static const struct bms_can fi_can = { .bitrate = 500000, .id = 0x7FF, .mask = 0x7FF, .ext_id = 0,
				       .ext_mask = 0x1FFFE000 };

const struct bms_driver bms_foxess_in_driver = {
	.name = "foxess-in",
	.description = "FoxESS HV2600 / ECS battery heard on its H-series inverter's bus, listen only (0x1872-"
		       "0x1879, the cells 0x0C1D ..., the sensors 0x0D21 ...)",
	.vendor = "FoxESS",
	.protocol_id = 90,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_CELLS | BMS_HAS_CELL_EXT |
		    BMS_HAS_TEMPS | BMS_HAS_TEMP_EXT | BMS_HAS_CYCLES | BMS_HAS_MOSFETS | BMS_HAS_ALARMS |
		    BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	HV_DRIVER_MEMBERS(fi),
	/* the inverter asks every second */
	.default_timeout = 3.0,
	.can = &fi_can,
};
