/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialects.h - every inverter protocol (dialect), written
 * once: its row below, its codec in its own file (codec.h), and what the
 * configuration takes of it (dialects.c: the keys it takes beyond those
 * every dialect takes, with their ranges and defaults; its voltage window;
 * how it speaks).  conf/ knows no dialect: the [inverter.NAME] section is
 * this room's (inverter_conf.h). */
#ifndef GATEWAY_INVERTER_DIALECTS_H
#define GATEWAY_INVERTER_DIALECTS_H

#include <stdbool.h>

/* A dialect's kind: it speaks on a CAN bus, or answers on an RS485 line. */
enum conf_inv_kind { CONF_INV_CAN = 0, CONF_INV_RS485 };
/* `extras`: CAN frames beyond a protocol's own set. */
enum {
	CONF_EXTRA_CAPACITY = 1u << 0,   /* 0x35F, 0x379: installed capacity */
	CONF_EXTRA_CELLS = 1u << 1,      /* 0x373 cell and temperature extremes, 0x374-0x377 where */
	CONF_EXTRA_MODULES = 1u << 2,    /* 0x372 modules online, blocking, offline */
	CONF_EXTRA_NAME = 1u << 3,       /* 0x382 product name */
	CONF_EXTRA_ALL = 0xF,
};
/* Every inverter protocol, written once (gateway/README.md "Adding an inverter
 * protocol"): X(ID, sym, "name", kind, default extras, extras allowed, CAN
 * bit rate in bit/s (0 for RS485)).  Its codec is inv_codec_<sym> in
 * gateway/inverter/dialect/emu_<sym>.c (a row may name an earlier row's sym:
 * the same frames under a name, keys' defaults and window of its own); the
 * keys it takes beyond those every protocol takes are its rows in
 * dialects.c.  A Sunny Island takes no identifier beyond SMA's table ("No
 * further CAN-IDs are allowed", SMA's FSS-ConnectingBat-TI-en-10 §5): no
 * extras for sma-can. */
#define CONF_INV_PROTOCOL_LIST(X) \
	X(PYLON_CAN, pylon_can, "pylon-can", CONF_INV_CAN, CONF_EXTRA_CAPACITY, CONF_EXTRA_ALL, 500000) \
	X(LUX_CAN, lux_can, "lux-can", CONF_INV_CAN, 0, CONF_EXTRA_ALL, 500000) \
	X(SMA_CAN, sma_can, "sma-can", CONF_INV_CAN, 0, 0, 500000) \
	X(PYLON_RS485, pylon_rs485, "pylon-rs485", CONF_INV_RS485, 0, 0, 0) \
	X(SOLARK_CAN, solark_can, "solark-can", CONF_INV_CAN, 0, 0, 500000) \
	X(DEYE_CAN, deye_can, "deye-can", CONF_INV_CAN, 0, 0, 500000) \
	X(GROWATT_CAN, growatt_can, "growatt-can", CONF_INV_CAN, 0, 0, 500000) \
	X(GROWATT_RS485, growatt_rs485, "growatt-rs485", CONF_INV_RS485, 0, 0, 0) \
	X(PYLON_HV_CAN, pylon_hv_can, "pylon-hv-can", CONF_INV_CAN, 0, 0, 500000) \
	X(BYD_HVS_CAN, byd_hvs_can, "byd-hvs-can", CONF_INV_CAN, 0, 0, 500000) \
	X(SOLAX_CAN, solax_can, "solax-can", CONF_INV_CAN, 0, 0, 500000) \
	X(FOXESS_CAN, foxess_can, "foxess-can", CONF_INV_CAN, 0, 0, 500000) \
	X(SUNGROW_CAN, sungrow_can, "sungrow-can", CONF_INV_CAN, 0, 0, 250000) \
	X(SOFAR_CAN, sofar_can, "sofar-can", CONF_INV_CAN, 0, 0, 500000) \
	X(GROWATT_HV_CAN, growatt_hv_can, "growatt-hv-can", CONF_INV_CAN, 0, 0, 500000) \
	/* ferroamp-can is pylon-hv-can's codec under its own name (address 1) */ \
	X(FERROAMP_CAN, pylon_hv_can, "ferroamp-can", CONF_INV_CAN, 0, 0, 500000) \
	X(AFORE_CAN, afore_can, "afore-can", CONF_INV_CAN, 0, 0, 500000) \
	X(SOLXPOW_CAN, solxpow_can, "solxpow-can", CONF_INV_CAN, 0, 0, 500000) \
	X(BYD_HVM_MODBUS, byd_hvm_modbus, "byd-hvm-modbus", CONF_INV_RS485, 0, 0, 0) \
	X(KOSTAL_RS485, kostal_rs485, "kostal-rs485", CONF_INV_RS485, 0, 0, 0) \
	X(GROWATT_WIT_CAN, growatt_wit_can, "growatt-wit-can", CONF_INV_CAN, 0, 0, 500000) \
	X(SMA_HV_CAN, sma_hv_can, "sma-hv-can", CONF_INV_CAN, 0, 0, 500000) \
	X(SCHNEIDER_CAN, schneider_can, "schneider-can", CONF_INV_CAN, 0, 0, 500000) \
	X(RVC, rvc, "rvc", CONF_INV_CAN, 0, 0, 250000)

#define CONF_INV_ENUM_(id, sym, name, kind, extras, allowed, bitrate) CONF_INV_##id,
enum conf_inv_protocol { CONF_INV_PROTOCOL_LIST(CONF_INV_ENUM_) CONF_INV_NPROTOCOLS };
#undef CONF_INV_ENUM_

/* A protocol's name ("pylon-can"), kind, default extras and the extras it
 * may send (its row). */
const char *inv_dialect_name(enum conf_inv_protocol p);
enum conf_inv_kind inv_dialect_kind(enum conf_inv_protocol p);
unsigned inv_dialect_default_extras(enum conf_inv_protocol p);
unsigned inv_dialect_allowed_extras(enum conf_inv_protocol p);
/* A CAN protocol's bit rate in bit/s (the slcan adapter is opened at it); 0 for RS485. */
unsigned long inv_dialect_bitrate(enum conf_inv_protocol p);
/* How a protocol that keeps its own timing speaks, for --check and the
 * messages ("answers each 0x1871 of the inverter"); NULL for one that sends
 * every `interval` or has its own printer (dialects.c). */
const char *inv_dialect_speech(enum conf_inv_protocol p);
/* A high-voltage protocol's voltage range (V) in *lo, *hi: true for one
 * (pylon-hv-can 80..1000 V, byd-hvs-can 80..576 V), false for a protocol
 * without (dialects.c). */
bool inv_dialect_volt_range(enum conf_inv_protocol p, double *lo, double *hi);
/* Does protocol p take key k of [inverter.NAME] (enum inv_key,
 * inverter_conf.h; every protocol takes a key that is no protocol's own)? */
bool inv_dialect_takes(int k, enum conf_inv_protocol p);

#endif
