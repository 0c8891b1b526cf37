/* SPDX-License-Identifier: MIT */
/* bms/samsung_sdi_lv.c - a Samsung SDI low-voltage (48 V) battery rack read
 * listen only from its CAN bus (samsung-sdi-lv): the rack broadcasts every
 * 500 ms once it is switched on, nobody asks, bmsgw sends nothing.
 *
 * See bms/PROTOCOLS.md §100.  500 kbit/s, 11-bit identifiers, DLC 8,
 * little-endian ("low byte first", the protocol's rule as Battery-Emulator's
 * SAMSUNG-SDI-LV-BATTERY quotes it; its code reads the high byte first, a
 * second reader written from the specification, drurew/samsung-sdi-victron-
 * integration, the low byte); the layouts are Battery-Emulator's:
 *	0x500 pack voltage u16 b0-b1 0.01 V, current s16 b2-b3 1 A (+ =
 *	      charging), SOC b4 %, SOH b5 % (b6-b7 a heartbeat: not read)
 *	0x501 the alarm word b0-b1 and the protection word b2-b3 (raw)
 *	0x502 the charge voltage u16 0.1 V, the charge and discharge current
 *	      limit u16 0.1 A, the discharge voltage u16 0.1 V
 *	0x503 the highest cell u16 b2-b3 mV, the lowest b4-b5
 *	0x504 the highest cell temperature s8 b5 degC, the lowest s8 b6
 *	0x505 the permanent failure: its dry contact b2, the fuse open b3
 * No cell list is read.  A frame of the rack's (0x500-0x505) shorter than 8
 * bytes is dropped whole; a value no 48 V battery has (a voltage above
 * 70 V, an SOC or SOH above 100 %, a charge voltage not above the
 * discharge one, a lowest cell or temperature above the highest, a cell
 * outside 500-5000 mV) refuses the poll: a rack that sends the high byte
 * first has its cells read above 5 V, refused, never shown.  A poll needs
 * 0x500.
 */
#include "hvcan.h"

#include <math.h>

#include "drivers.h"

enum { SD_500, SD_501, SD_502, SD_503, SD_504, SD_505 };

#define SD_MAX_V 70.0f /* no 48 V battery: 16 LFP cells 58.4 V, 14 NMC 58.8 V */

static bool sd_check(const struct bms_can_msg *m)
{
	return m->ext || m->id < 0x500 || m->id > 0x505 || m->dlc == 8;
}

static int sd_500(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	float v = (float)bms_le16(d) * 0.01f;
	if (v > SD_MAX_V || d[4] > 100 || d[5] > 100)
		return BMS_E_RANGE;
	s->voltage = v;
	s->current = (float)bms_les16(d + 2);
	s->soc = d[4];
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC;
	if (d[5]) {
		s->soh = d[5];
		s->present |= BMS_HAS_SOH;
	}
	return SD_500;
}

/* The raw words: 0 the alarm word, 1 the protection word (0x501), 2 the
 * permanent failure's dry contact and fuse (0x505). */
static void sd_raw(struct bms_snapshot *s, unsigned k, uint16_t w, uint32_t bit)
{
	s->raw_alarms[k] = w;
	if (s->nraw < k + 1)
		s->nraw = (uint8_t)(k + 1);
	if (w)
		s->alarms |= bit;
	s->present |= BMS_HAS_ALARMS;
}

static int sd_501(struct bms_poll *poll, const uint8_t *d)
{
	sd_raw(&poll->snap, 0, bms_le16(d), BMS_AL_OTHER); /* its bits' meanings are not Battery-Emulator's */
	sd_raw(&poll->snap, 1, bms_le16(d + 2), BMS_AL_PROTECTION);
	return SD_501;
}

static int sd_502(struct bms_poll *poll, const uint8_t *d)
{
	int rc = hv_limits(poll, (float)bms_le16(d) * 0.1f, (float)bms_le16(d + 6) * 0.1f,
			   (float)bms_le16(d + 2) * 0.1f, (float)bms_le16(d + 4) * 0.1f, SD_MAX_V);
	return rc ? rc : SD_502;
}

static int sd_503(struct bms_poll *poll, const uint8_t *d)
{
	unsigned hi = bms_le16(d + 2), lo = bms_le16(d + 4);
	if (lo > hi || lo < BMS_PLAUSIBLE_MIN_CELL_MV || hi > BMS_PLAUSIBLE_MAX_CELL_MV)
		return BMS_E_RANGE;
	bms_set_cell_ext(&poll->snap, hi, 0, lo, 0);
	return SD_503;
}

static int sd_504(struct bms_poll *poll, const uint8_t *d)
{
	float t[2] = { (float)(int8_t)d[5], (float)(int8_t)d[6] };
	if (t[1] > t[0])
		return BMS_E_RANGE;
	hv_temps(&poll->snap, t, 2); /* the highest and lowest as the sensors */
	return SD_504;
}

static int sd_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	const uint8_t *d = m->data;
	if (m->ext)
		return BMS_E_UNEXPECTED;
	switch (m->id) {
	case 0x500: return sd_500(poll, d);
	case 0x501: return sd_501(poll, d);
	case 0x502: return sd_502(poll, d);
	case 0x503: return sd_503(poll, d);
	case 0x504: return sd_504(poll, d);
	case 0x505:
		sd_raw(&poll->snap, 2, (uint16_t)(d[2] << 8 | d[3]), BMS_AL_HW_FAULT);
		return SD_505;
	default: return BMS_E_UNEXPECTED; /* 0x506, 0x507 */
	}
}

static const struct hv_family sd_family = {
	.check = sd_check,
	.frame = sd_frame,
	.need = 1u << SD_500,
};

HV_DRIVER_FUNCS(sd, sd_family)

/* the standard ids 0x500 ... 0x507 */
static const struct bms_can sd_can = { .bitrate = 500000, .id = 0x500, .mask = 0x7F8 };

const struct bms_driver bms_samsung_sdi_lv_driver = {
	.name = "samsung-sdi-lv",
	.description = "Samsung SDI low-voltage (48 V) battery rack on its CAN bus, read listen only (0x500-0x505; "
		       "no cell list)",
	.vendor = "Samsung SDI",
	.protocol_id = 95,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_CELL_EXT |
		    BMS_HAS_TEMPS | BMS_HAS_TEMP_EXT | BMS_HAS_ALARMS | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	HV_DRIVER_MEMBERS(sd),
	/* every frame every 500 ms */
	.default_timeout = 3.0,
	.can = &sd_can,
};
