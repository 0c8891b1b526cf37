/* SPDX-License-Identifier: MIT */
/* gateway/inverter/canframes.h - private to gateway/inverter/: the frames and
 * fields the CAN codecs (dialect/emu_pylon_can.c, dialect/emu_lux_can.c, dialect/emu_sma_can.c, dialect/emu_solark_can.c,
 * dialect/emu_deye_can.c) share, and the
 * extras any of them may send.  Layouts and sources: PROTOCOLS.md §1-§3.
 * Pure: struct in, frame out. */
#ifndef GATEWAY_INVERTER_CANFRAMES_H
#define GATEWAY_INVERTER_CANFRAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "../wire/canframe.h"
#include "battery.h"
#include "codec.h"

/* The limits as fields (0.1 V, 0.1 A) and the request flags as sent: a
 * current not allowed, or whose field is 0, is 0 with its enable bit clear;
 * force charge only with the charge enable; all 0 without limits. */
struct inv_cf_limits {
	long cvl, ccl, dcl, dvl;
	bool charge, discharge, force, full;
};
void inv_cf_limits(const struct inv_battery *b, struct inv_cf_limits *l);
/* The currents of l as the inverter reads them (0.1 A fields), and
 * Pylontech's 0x351 limits so (a codec's `limits`). */
void inv_cf_report(const struct inv_cf_limits *l, struct inv_encoded *e);
void inv_cf_encoded(const struct inv_battery *b, struct inv_encoded *e);
/* Pylontech's request flag byte (0x35C byte 0, Luxpower's too): b7 charge,
 * b6 discharge enable, b5+b4 force charge, b3 full-charge request. */
uint8_t inv_cf_request_flags(const struct inv_battery *b);

void inv_cf_begin(struct gw_can_frame *f, uint32_t id, uint8_t dlc);
void inv_cf_put16(uint8_t *p, long v);
/* v into p[0..2) and p[0..4), high byte first (the big-endian dialects:
 * byd-hvs-can, sma-hv-can, schneider-can). */
void inv_cf_put16be(uint8_t *p, long v);
void inv_cf_put32be(uint8_t *p, long v);
/* Four 16-bit fields a, b, c, d into p[0..8), the most frames' whole
 * payload: low byte first, or (be) high byte first. */
void inv_cf_put16x4(uint8_t *p, long a, long b, long c, long d);
void inv_cf_put16x4be(uint8_t *p, long a, long b, long c, long d);
/* SOC and SOH as fields of `per` units a percent: SOC rounded down, SOH
 * to the nearest; `none` when absent. */
long inv_cf_soc(const struct inv_battery *b, long per, long none);
long inv_cf_soh(const struct inv_battery *b, long none);
/* Protections and alarms in Pylontech's four bytes (0x359 bytes 0-3,
 * Luxpower's too). */
void inv_cf_alarm_bytes(const struct inv_battery *b, uint8_t *d);
/* The alarms a system error stands for (0x359 byte 1 bit 3). */
#define INV_CF_SYSTEM (BMS_AL_HW_FAULT | BMS_AL_MOS_FAULT | BMS_AL_SENSOR | BMS_AL_OTHER)

/* 0x355 with `dlc` bytes: SOC (rounded down) and SOH in 1 %; no SOH: 100. */
void inv_cf_put355(const struct inv_battery *b, struct gw_can_frame *f, uint8_t dlc);
/* 0x356 with `dlc` bytes: voltage (s16, volt_per units a volt), current
 * (s16 0.1 A; + = charging, or + = discharging when discharge_positive),
 * average temperature (s16 0.1 degC); absent: 0. */
void inv_cf_put356(const struct inv_battery *b, struct gw_can_frame *f, uint8_t dlc, double volt_per,
		   bool discharge_positive);
/* The hottest and coldest sensor (the average for both without extremes,
 * 0 without any), degC. */
void inv_cf_temp_extremes(const struct inv_battery *b, float *hi, float *lo);
/* 0x35C with `dlc` bytes: the request flags in byte 0. */
void inv_cf_put35c(const struct inv_battery *b, struct gw_can_frame *f, uint8_t dlc);

/* The protections a dialect with faults and warnings sends as warnings
 * (sma-can, sma-hv-can, schneider-can): an inverter stops on a fault (a
 * Sunny Island goes to standby on any, SMA's document §1.2), which would
 * also stop the charging that rescues an empty or cold pack, while the
 * limits sent already stop the direction these forbid. */
#define INV_CF_WARN_ONLY (BMS_AL_CELL_UV | BMS_AL_PACK_UV | BMS_AL_CHG_UT | BMS_AL_DSG_UT | BMS_AL_SOC_LOW)
/* SMA's alarm frame (sma-can 0x35A, sma-hv-can 0x158): message k of
 * msgs[0..n) (its BMS_AL_* bits; n <= 16) in bytes 0-3 as a fault, then in
 * bytes 4-7 as a warning, two bits each: bit 2k set while it is raised, bit
 * 2k+1 while it is not, so that every frame states the whole truth.  A
 * protection is a fault, but those of INV_CF_WARN_ONLY go as warnings.
 * `fault` adds bits raised as faults whatever (sma-hv-can: a stale
 * source). */
void inv_cf_sma_alarms(const struct inv_battery *b, const uint32_t *msgs, unsigned n, uint32_t fault, uint8_t *d);

/* 0x351 of limits l: CVL, CCL, DCL (u16/s16/s16) and DVL. */
void inv_cf_put351(const struct inv_cf_limits *l, struct gw_can_frame *f);

/* Pylontech frames (also Luxpower's 0x351 and 0x35E) */
bool inv_cf_351(const struct inv_battery *b, struct gw_can_frame *f);
bool inv_cf_35e(const struct inv_battery *b, struct gw_can_frame *f);

/* The extras: 0x35F (Victron's layout: capacity), 0x379 (installed Ah),
 * 0x372 (modules), 0x373 (cell and temperature extremes), 0x374-0x377
 * (where they are, ASCII), 0x382 (product name); in that order when
 * asked, each left out without its data. */
bool inv_cf_35f(const struct inv_battery *b, struct gw_can_frame *f);
bool inv_cf_379(const struct inv_battery *b, struct gw_can_frame *f);
bool inv_cf_372(const struct inv_battery *b, struct gw_can_frame *f);
bool inv_cf_373(const struct inv_battery *b, struct gw_can_frame *f);
bool inv_cf_374(const struct inv_battery *b, struct gw_can_frame *f);
bool inv_cf_375(const struct inv_battery *b, struct gw_can_frame *f);
bool inv_cf_376(const struct inv_battery *b, struct gw_can_frame *f);
bool inv_cf_377(const struct inv_battery *b, struct gw_can_frame *f);
bool inv_cf_382(const struct inv_battery *b, struct gw_can_frame *f);

/* What a Pylon-speaking inverter sends: 0x305 (11 or 29 bits), 0x306,
 * 0x307 "VIC". */
enum inv_rx inv_cf_heard_pylon(const struct gw_can_frame *f, struct inv_heard *h);

#endif
