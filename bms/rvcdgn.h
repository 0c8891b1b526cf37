/* SPDX-License-Identifier: MIT */
/* bms/rvcdgn.h - RV-C's DC source status DGNs (bms/PROTOCOLS.md §63): the
 * 29-bit identifier, the byte layouts and the scalings, pure, shared by the
 * rvc BMS driver (bms/rvc.c, which reads a battery's) and the rvc inverter
 * output (gateway/inverter/dialect/emu_rvc.c, which sends bmsgw's).
 *
 * RV-C is J1939 at 250 kbit/s: an identifier is the priority (bits 28-26),
 * a reserved bit (25), the DGN (24-8: data page, PF, PS) and the source
 * address (7-0); data least significant byte first.  A field holds "not
 * available" as all ones (0xFF, 0xFFFF, 0xFFFFFFFF) and nothing above the
 * J1939 valid range (0xFA, 0xFAFF, 0xFAFFFFFF) is a value. */
#ifndef BMS_RVCDGN_H
#define BMS_RVCDGN_H

#include <stdbool.h>
#include <stdint.h>

/* The DGNs (17 bits: the data page and PF, PS). */
enum {
	RVC_DC1 = 0x1FFFD,    /* DC_SOURCE_STATUS_1: voltage, current */
	RVC_DC2 = 0x1FFFC,    /* DC_SOURCE_STATUS_2: temperature, SOC, time remaining */
	RVC_DC3 = 0x1FFFB,    /* DC_SOURCE_STATUS_3: SOH, capacity remaining, relative capacity, ripple */
	RVC_DC4 = 0x1FEC9,    /* DC_SOURCE_STATUS_4: desired charge state, voltage, current; battery type */
	RVC_DC6 = 0x1FEC7,    /* DC_SOURCE_STATUS_6: the voltage limits reached */
	RVC_DC11 = 0x1FEA5,   /* DC_SOURCE_STATUS_11: the buses connected, full capacity, power */
};

#define RVC_PRIO_DC 6u            /* the DC source DGNs' priority */
#define RVC_PRIORITY_BATTERY 120u /* device priority of a "battery SOC device" */

#define RVC_NA8 0xFFu
#define RVC_NA16 0xFFFFu
#define RVC_NA32 0xFFFFFFFFu
#define RVC_MAX8 0xFAu            /* the largest value a field may hold */
#define RVC_MAX16 0xFAFFu
#define RVC_MAX32 0xFAFFFFFFu

/* The scalings (RV-C table 5.3): raw = value * PER + ZERO. */
#define RVC_VOLT_PER 20.0         /* u16, 0.05 V */
#define RVC_AMP32_PER 1000.0      /* u32, 0.001 A, 0 A = 2 000 000 000 (0x77359400) */
#define RVC_AMP32_ZERO 2000000000L
#define RVC_AMP16_PER 20.0        /* u16, 0.05 A, 0 A = 32000 (0x7D00) */
#define RVC_AMP16_ZERO 32000L
#define RVC_TEMP_PER 32.0         /* u16, 0.03125 degC, 0 degC = 273 * 32 */
#define RVC_TEMP_ZERO (273L * 32L)
#define RVC_PCT_PER 2.0           /* u8, 0.5 % */

/* DC_SOURCE_STATUS_4 byte 2: the desired charge state. */
enum rvc_charge_state {
	RVC_CS_UNDEFINED = 0,
	RVC_CS_DO_NOT_CHARGE = 1,
	RVC_CS_BULK = 2,
	RVC_CS_ABSORPTION = 3,
	RVC_CS_OVERCHARGE = 4,
	RVC_CS_EQUALIZE = 5,
	RVC_CS_FLOAT = 6,
	RVC_CS_CVCC = 7,          /* constant voltage / current: the desired values as they are */
};
/* DC_SOURCE_STATUS_4 byte 7 bits 0-3: the battery type (the high bits all ones). */
#define RVC_BT_LIFEPO4 3u
#define RVC_BT_NA 0x0Fu
/* DC_SOURCE_STATUS_6 byte 2 and DC_SOURCE_STATUS_11 byte 2: 2-bit states,
 * 01 = yes (00 no, 10 error, 11 not available); the field's first bit. */
#define RVC_DC6_HV_LIMIT 0u       /* high voltage limit reached */
#define RVC_DC6_HV_DISCONNECT 2u  /* high voltage disconnect */
#define RVC_DC6_LV_LIMIT 4u       /* low voltage limit reached */
#define RVC_DC6_LV_DISCONNECT 6u  /* low voltage disconnect */
/* DC_SOURCE_STATUS_6 byte 3: low SOC limit (0) and disconnect (2), low
 * temperature limit (4) and disconnect (6); byte 4: high temperature limit
 * (0) and disconnect (2), high current limit (4) and disconnect (6). */
#define RVC_DC6_LIMIT 0u
#define RVC_DC6_DISCONNECT 2u
#define RVC_DC6_LIMIT_HI 4u
#define RVC_DC6_DISCONNECT_HI 6u
#define RVC_DC11_DISCHARGE 0u     /* the discharge bus connected */
#define RVC_DC11_CHARGE 2u        /* the charge bus connected */
#define RVC_DC11_CHARGE_DETECTED 4u
#define RVC_DC11_RESERVE 6u       /* at or below the reserve level */

/* Every field of the DC source DGNs, raw: what the wire carries. */
struct rvc_dc_raw {
	uint8_t instance, priority;   /* bytes 0 and 1 of each */
	uint16_t voltage;             /* DC1 */
	uint32_t current;
	uint16_t temp;                /* DC2 */
	uint8_t soc;
	uint16_t minutes;
	uint8_t soh;                  /* DC3 */
	uint16_t remain_ah;
	uint8_t rel_cap;
	uint16_t ripple_mv;
	uint8_t charge_state;         /* DC4 */
	uint16_t cvl;
	uint16_t ccl;
	uint8_t type_byte;            /* byte 7 whole: the type in bits 0-3 */
	uint8_t dc6;                  /* DC6 byte 2 */
	uint8_t dc6_soc_temp;         /* DC6 byte 3 */
	uint8_t dc6_temp_cur;         /* DC6 byte 4 */
	uint8_t dc11;                 /* DC11 byte 2 */
	uint16_t full_ah;
	uint16_t power_w;
};

/* The identifier of dgn from source address sa at priority prio. */
uint32_t rvc_id(unsigned prio, uint32_t dgn, uint8_t sa);
/* Its parts: the DGN (17 bits) and the source address. */
uint32_t rvc_id_dgn(uint32_t id);
uint8_t rvc_id_sa(uint32_t id);
/* Is dgn one of the DC source DGNs above? */
bool rvc_is_dc(uint32_t dgn);
/* Every field not available (all ones). */
void rvc_raw_na(struct rvc_dc_raw *r);
/* The 8 bytes of DC source DGN dgn from r, its unused bytes all ones;
 * false for a DGN that is none of them. */
bool rvc_put(uint32_t dgn, const struct rvc_dc_raw *r, uint8_t d[8]);
/* The fields of DC source DGN dgn in r from d[0..dlc): false for another
 * DGN or a dlc under the bytes its fields take (the other fields of r are
 * left as they are). */
bool rvc_get(uint32_t dgn, const uint8_t *d, unsigned dlc, struct rvc_dc_raw *r);

/* A raw field as its value; NAN when not available or beyond the valid
 * range. */
float rvc_volt(uint16_t raw);     /* V */
float rvc_amp32(uint32_t raw);    /* A as on the wire: + = out of the source
                                   * (a battery discharging; PROTOCOLS.md §63) */
float rvc_amp16(uint16_t raw);    /* A */
float rvc_temp(uint16_t raw);     /* degC */
float rvc_pct(uint8_t raw);       /* % */
float rvc_u16(uint16_t raw);      /* the plain count (Ah, W, minutes) */
/* A 2-bit state of a flags byte at its first bit: 1 yes, 0 no, -1 error
 * or not available. */
int rvc_state2(uint8_t flags, unsigned bit);

#endif
