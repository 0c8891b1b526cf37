/* SPDX-License-Identifier: MIT */
/* bms/base/rvcdgn.c - RV-C's DC source status layouts (rvcdgn.h): one table of
 * the fields (DGN, byte, width, member), written and read by the same two
 * loops.  Pure. */
#include "../rvcdgn.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define RVC_ID_PRIO_SHIFT 26
#define RVC_DGN_SHIFT 8
#define RVC_DGN_MASK 0x1FFFFu

struct rvc_field {
	uint32_t dgn;
	uint8_t at, width;   /* byte, bytes (1, 2, 4) */
	size_t off;          /* the member of struct rvc_dc_raw (of that width) */
};

#define RF(dgn, at, w, m) { dgn, at, w, offsetof(struct rvc_dc_raw, m) }
#define RF_HEAD(dgn) RF(dgn, 0, 1, instance), RF(dgn, 1, 1, priority)

/* Sources: bms/PROTOCOLS.md §63 (CoachProxy-OS's rvc-spec.yml, rvc2mqtt's
 * for DC_SOURCE_STATUS_11, thomasonw/RV-C's encoders; DC_SOURCE_STATUS_6
 * bytes 3-4 from dbus-serialbattery's RV-C driver). */
static const struct rvc_field fields[] = {
	RF_HEAD(RVC_DC1), RF(RVC_DC1, 2, 2, voltage), RF(RVC_DC1, 4, 4, current),
	RF_HEAD(RVC_DC2), RF(RVC_DC2, 2, 2, temp), RF(RVC_DC2, 4, 1, soc), RF(RVC_DC2, 5, 2, minutes),
	RF_HEAD(RVC_DC3), RF(RVC_DC3, 2, 1, soh), RF(RVC_DC3, 3, 2, remain_ah), RF(RVC_DC3, 5, 1, rel_cap),
	RF(RVC_DC3, 6, 2, ripple_mv),
	RF_HEAD(RVC_DC4), RF(RVC_DC4, 2, 1, charge_state), RF(RVC_DC4, 3, 2, cvl), RF(RVC_DC4, 5, 2, ccl),
	RF(RVC_DC4, 7, 1, type_byte),
	RF_HEAD(RVC_DC6), RF(RVC_DC6, 2, 1, dc6), RF(RVC_DC6, 3, 1, dc6_soc_temp), RF(RVC_DC6, 4, 1, dc6_temp_cur),
	RF_HEAD(RVC_DC11), RF(RVC_DC11, 2, 1, dc11), RF(RVC_DC11, 3, 2, full_ah), RF(RVC_DC11, 5, 2, power_w),
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

uint32_t rvc_id(unsigned prio, uint32_t dgn, uint8_t sa)
{
	return (uint32_t)(prio & 7u) << RVC_ID_PRIO_SHIFT | (dgn & RVC_DGN_MASK) << RVC_DGN_SHIFT | sa;
}

uint32_t rvc_id_dgn(uint32_t id)
{
	return id >> RVC_DGN_SHIFT & RVC_DGN_MASK;
}

uint8_t rvc_id_sa(uint32_t id)
{
	return (uint8_t)(id & 0xFFu);
}

bool rvc_is_dc(uint32_t dgn)
{
	return dgn == RVC_DC1 || dgn == RVC_DC2 || dgn == RVC_DC3 || dgn == RVC_DC4 || dgn == RVC_DC6 ||
	       dgn == RVC_DC11;
}

void rvc_raw_na(struct rvc_dc_raw *r)
{
	memset(r, 0xFF, sizeof(*r));
}

bool rvc_put(uint32_t dgn, const struct rvc_dc_raw *r, uint8_t d[8])
{
	if (!rvc_is_dc(dgn))
		return false;
	memset(d, 0xFF, 8);
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct rvc_field *f = &fields[i];
		const unsigned char *m = (const unsigned char *)r + f->off;
		uint32_t v = f->width == 1 ? *m : f->width == 2 ? *(const uint16_t *)(const void *)m
							       : *(const uint32_t *)(const void *)m;
		for (unsigned k = 0; f->dgn == dgn && k < f->width; k++)
			d[f->at + k] = (uint8_t)(v >> (8 * k));
	}
	return true;
}

bool rvc_get(uint32_t dgn, const uint8_t *d, unsigned dlc, struct rvc_dc_raw *r)
{
	unsigned need = 0;
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].dgn == dgn && fields[i].at + fields[i].width > need)
			need = fields[i].at + fields[i].width;
	if (!need || dlc < need)
		return false;
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct rvc_field *f = &fields[i];
		if (f->dgn != dgn)
			continue;
		uint32_t v = 0;
		for (unsigned k = 0; k < f->width; k++)
			v |= (uint32_t)d[f->at + k] << (8 * k);
		unsigned char *m = (unsigned char *)r + f->off;
		if (f->width == 1)
			*m = (uint8_t)v;
		else if (f->width == 2)
			*(uint16_t *)(void *)m = (uint16_t)v;
		else
			*(uint32_t *)(void *)m = v;
	}
	return true;
}

float rvc_volt(uint16_t raw)
{
	return raw > RVC_MAX16 ? NAN : (float)(raw / RVC_VOLT_PER);
}

float rvc_amp32(uint32_t raw)
{
	return raw > RVC_MAX32 ? NAN : (float)(((double)raw - (double)RVC_AMP32_ZERO) / RVC_AMP32_PER);
}

float rvc_amp16(uint16_t raw)
{
	return raw > RVC_MAX16 ? NAN : (float)(((double)raw - (double)RVC_AMP16_ZERO) / RVC_AMP16_PER);
}

float rvc_temp(uint16_t raw)
{
	return raw > RVC_MAX16 ? NAN : (float)(((double)raw - (double)RVC_TEMP_ZERO) / RVC_TEMP_PER);
}

float rvc_pct(uint8_t raw)
{
	return raw > RVC_MAX8 ? NAN : (float)(raw / RVC_PCT_PER);
}

float rvc_u16(uint16_t raw)
{
	return raw > RVC_MAX16 ? NAN : (float)raw;
}

int rvc_state2(uint8_t flags, unsigned bit)
{
	unsigned s = (unsigned)(flags >> (bit & 6u)) & 3u;
	return s == 1 ? 1 : s == 0 ? 0 : -1;
}
