/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialects.c - what the configuration takes of each
 * inverter protocol (dialects.h): its row's name, kind, extras and bit
 * rate; which [inverter.NAME] keys it takes beyond the ones every protocol
 * takes (protocol, port, source, soc_override, soc_hold_full,
 * failsafe_silence), with the range and the default a key has for it; the
 * voltage window of a high-voltage one; how one that keeps its own timing
 * speaks (--check's summary, the messages).
 *
 * One table each, the one truth: a key a protocol has no row for is refused
 * by --check, naming the protocols that take it (inv_dialect_keys(), run
 * by inverter_conf.c after the checks of the kind, CAN or RS485, whose
 * older messages it keeps).  A new protocol adds its row (dialects.h) and
 * its rows here (gateway/README.md "Adding an inverter protocol"); a new
 * key adds its member and row in inverter_conf.{h,c} and its rows here.
 */
#include <stdio.h>
#include <string.h>

#include "inverter_conf.h"

/* Key k of [inverter.NAME] (inverter_conf.h, enum inv_key) in the rows handed in */
#define KEY(k) (keys[k])
#define LIST_MAX 1536 /* a list of the protocols' names */

/* The protocols of CONF_INV_PROTOCOL_LIST, by enum conf_inv_protocol. */
#define CONF_INV_ROW_(id, sym, name, kind, extras, allowed, bitrate) { name, kind, extras, allowed, bitrate },
static const struct {
	const char *name;
	enum conf_inv_kind kind;
	unsigned extras, allowed;
	unsigned long bitrate;
} inv_rows[] = {
	CONF_INV_PROTOCOL_LIST(CONF_INV_ROW_)
};
#undef CONF_INV_ROW_

const char *inv_dialect_name(enum conf_inv_protocol p)
{
	return (unsigned)p < CONF_INV_NPROTOCOLS ? inv_rows[p].name : "?";
}

enum conf_inv_kind inv_dialect_kind(enum conf_inv_protocol p)
{
	return (unsigned)p < CONF_INV_NPROTOCOLS ? inv_rows[p].kind : CONF_INV_CAN;
}

unsigned inv_dialect_default_extras(enum conf_inv_protocol p)
{
	return (unsigned)p < CONF_INV_NPROTOCOLS ? inv_rows[p].extras : 0;
}

unsigned inv_dialect_allowed_extras(enum conf_inv_protocol p)
{
	return (unsigned)p < CONF_INV_NPROTOCOLS ? inv_rows[p].allowed : 0;
}

unsigned long inv_dialect_bitrate(enum conf_inv_protocol p)
{
	return (unsigned)p < CONF_INV_NPROTOCOLS ? inv_rows[p].bitrate : 0;
}

/* The protocols' ranges.  pylon-hv-can: its fields carry 0-6553.5 V and no
 * vendor range for the family is public; the peers' and real batteries'
 * examples run 202.5-426 V (75 to 120 LFP cells); 80-1000 V takes any
 * string of LV packs from two 16S packs of LFP on, and refuses a single LV
 * pack (PROTOCOLS.md §8.6).  byd-hvs-can: BYD's own HV batteries
 * operate at 80-576 V (the Battery-Box HVB data sheet: 2 to 10 modules of 16
 * LFP cells at 2.5-3.6 V; PROTOCOLS.md §9).  solax-can: SolaX's T-BAT HV
 * type 131 runs from 2 modules (89.6 V) to 13 (759.2 V): 80-760 V
 * (PROTOCOLS.md §11).  foxess-can: one to eight stacked ~50 V modules, at
 * most 8 x 15 LFP cells at 3.65 V = 438 V: 80-480 V, a guess where no
 * inverter's data sheet was read (PROTOCOLS.md §12).  sungrow-can: the SBR
 * of 2 to 8 modules runs 108-584 V (Battery-Emulator's wiki: SBR064
 * 108-146 V ... SBR256 432-584 V; PROTOCOLS.md §13).  sofar-can and
 * growatt-hv-can: no source gives a range; Growatt's fields carry 0-1000 V;
 * 80-1000 V as pylon-hv-can, a guess (PROTOCOLS.md §14, §15).  ferroamp-can,
 * afore-can, solxpow-can: no range of the inverters was read; pylon-hv-can's
 * 80-1000 V, the fields' family and the HV hybrids they are (PROTOCOLS.md
 * §20-§22), to widen when a data sheet is read.  byd-hvm-modbus: a Primo
 * GEN24 warns above 450 V (Battery-Emulator caps its CVL there), the lower
 * end a guess (PROTOCOLS.md §23).  kostal-rs485: no source gives a range;
 * 80-1000 V as pylon-hv-can, a guess (PROTOCOLS.md §24).  growatt-wit-can and
 * sma-hv-can: no source gives a range; their fields carry 0-1500 V and
 * 0-6553.5 V: 80-1000 V, the window every round-3 dialect without a
 * document shares, to be widened when a data sheet is read (PROTOCOLS.md
 * §17, §18).  schneider-can is a 48 V protocol: no window. */
static const struct {
	enum conf_inv_protocol p;
	double lo, hi;
} hv_ranges[] = {
	{ CONF_INV_PYLON_HV_CAN, 80, 1000 },
	{ CONF_INV_BYD_HVS_CAN, 80, 576 },
	{ CONF_INV_SOLAX_CAN, 80, 760 },
	{ CONF_INV_FOXESS_CAN, 80, 480 },
	{ CONF_INV_SUNGROW_CAN, 108, 584 },
	{ CONF_INV_SOFAR_CAN, 80, 1000 },
	{ CONF_INV_GROWATT_HV_CAN, 80, 1000 },
	{ CONF_INV_FERROAMP_CAN, 80, 1000 },
	{ CONF_INV_AFORE_CAN, 80, 1000 },
	{ CONF_INV_SOLXPOW_CAN, 80, 1000 },
	{ CONF_INV_BYD_HVM_MODBUS, 80, 450 },
	{ CONF_INV_KOSTAL_RS485, 80, 1000 },
	{ CONF_INV_GROWATT_WIT_CAN, 80, 1000 },
	{ CONF_INV_SMA_HV_CAN, 80, 1000 },
};

bool inv_dialect_volt_range(enum conf_inv_protocol p, double *lo, double *hi)
{
	for (size_t i = 0; i < sizeof(hv_ranges) / sizeof(hv_ranges[0]); i++)
		if (hv_ranges[i].p == p) {
			*lo = hv_ranges[i].lo;
			*hi = hv_ranges[i].hi;
			return true;
		}
	return false;
}

/* Why a protocol without a row refuses the key. */
static const struct {
	int key;
	const char *why;
} inv_whys[] = {
	{ IN_INTERVAL, "its frames keep the protocol's own timing" },
	{ IN_EXTRAS, "it sends only the frames of its document" },
	{ IN_BAUD, "it has no serial line of its own" },
	{ IN_ADDRESS, "it has no address" },
	{ IN_REPLY_ADDRESS, "it has no address to answer as" },
	{ IN_VER, "it has no VER field" },
	{ IN_CURRENT_UNIT, "it has no RS485 current field" },
	{ IN_MANUFACTURER, "no field of it carries a manufacturer" },
	{ IN_BATTERY_TYPE, "no field of it carries a battery type" },
	{ IN_REPORT_MODULES, "no field of it carries a module count" },
	{ IN_REPORT_CAPACITY, "no field of it carries a capacity" },
	{ IN_REPORT_CELLS, "no field of it carries a cell count" },
	{ IN_VARIANT, "it has no variants" },
	{ IN_INSTANCE, "it has no DC source instance" },
};

/* A protocol that takes a key: within lo..hi (both 0: the key's own range
 * of the key table), and def when the file does not set it (has_def). */
struct inv_take {
	int key;
	enum conf_inv_protocol p;
	double lo, hi;
	bool has_def;
	double def;
};

#define TAKES(k, p) { k, CONF_INV_##p, 0, 0, false, 0 }
#define TAKES_IN(k, p, lo, hi) { k, CONF_INV_##p, lo, hi, false, 0 }
#define TAKES_DEF(k, p, lo, hi, def) { k, CONF_INV_##p, lo, hi, true, def }

/* Sources of the ranges and defaults: gateway/inverter/PROTOCOLS.md (the
 * address of pylon-hv-can §8, of growatt-rs485 §6a; solax-can's battery
 * type 131 and its 1-13 modules, foxess-can's type 0x52 and its 1-8
 * modules, their sections §11, §12; sungrow-can's 2-8 modules §13,
 * sofar-can's battery id 0-15 and its u8 counts §14, growatt-hv-can's 1-32
 * modules and 1-512 cells §15; growatt-wit-can's 1-32 modules of at most
 * 32 cells §17, sma-hv-can's variants §18; ferroamp-can's address 1, §20;
 * byd-hvm-modbus's slave 21 §23, kostal-rs485's 57600 baud §24). */
static const struct inv_take takes[] = {
	TAKES(IN_INTERVAL, PYLON_CAN), TAKES(IN_INTERVAL, LUX_CAN), TAKES(IN_INTERVAL, SMA_CAN),
	TAKES(IN_INTERVAL, SOLARK_CAN), TAKES(IN_INTERVAL, DEYE_CAN),

	TAKES(IN_EXTRAS, PYLON_CAN), TAKES(IN_EXTRAS, LUX_CAN), TAKES(IN_EXTRAS, SMA_CAN),
	TAKES(IN_EXTRAS, SOLARK_CAN), TAKES(IN_EXTRAS, DEYE_CAN), TAKES(IN_EXTRAS, GROWATT_CAN),
	TAKES(IN_EXTRAS, PYLON_HV_CAN), TAKES(IN_EXTRAS, BYD_HVS_CAN),

	TAKES(IN_BAUD, PYLON_RS485), TAKES(IN_BAUD, GROWATT_RS485),

	TAKES_DEF(IN_ADDRESS, PYLON_RS485, 1, 254, 2), TAKES_DEF(IN_ADDRESS, GROWATT_RS485, 1, 247, 1),
	TAKES_DEF(IN_ADDRESS, PYLON_HV_CAN, 0, 1, 0),

	TAKES(IN_REPLY_ADDRESS, PYLON_RS485), TAKES(IN_VER, PYLON_RS485), TAKES(IN_CURRENT_UNIT, PYLON_RS485),

	TAKES(IN_MANUFACTURER, PYLON_CAN), TAKES(IN_MANUFACTURER, LUX_CAN), TAKES(IN_MANUFACTURER, SMA_CAN),
	TAKES(IN_MANUFACTURER, PYLON_RS485), TAKES(IN_MANUFACTURER, SOLARK_CAN),
	TAKES(IN_MANUFACTURER, DEYE_CAN), TAKES(IN_MANUFACTURER, GROWATT_CAN),
	TAKES(IN_MANUFACTURER, GROWATT_RS485), TAKES(IN_MANUFACTURER, PYLON_HV_CAN),
	TAKES(IN_MANUFACTURER, BYD_HVS_CAN),

	TAKES_DEF(IN_BATTERY_TYPE, SOLAX_CAN, 0, 255, 131), TAKES_DEF(IN_BATTERY_TYPE, FOXESS_CAN, 0, 255, 0x52),

	TAKES_IN(IN_REPORT_MODULES, SOLAX_CAN, 1, 13), TAKES_IN(IN_REPORT_MODULES, FOXESS_CAN, 1, 8),
	TAKES_IN(IN_REPORT_MODULES, PYLON_HV_CAN, 1, 255),

	TAKES(IN_REPORT_CAPACITY, SOLAX_CAN), TAKES(IN_REPORT_CAPACITY, FOXESS_CAN),
	TAKES(IN_REPORT_CAPACITY, PYLON_HV_CAN),

	TAKES(IN_REPORT_CELLS, PYLON_HV_CAN),

	/* sungrow-can (§13): 2 to 8 SBR modules */
	TAKES_IN(IN_REPORT_MODULES, SUNGROW_CAN, 2, 8), TAKES(IN_REPORT_CAPACITY, SUNGROW_CAN),
	/* sofar-can (§14): the battery id 0-15 in its identifiers; 0x359, 0x35E, 0x35F */
	TAKES_DEF(IN_ADDRESS, SOFAR_CAN, 0, 15, 0), TAKES(IN_MANUFACTURER, SOFAR_CAN),
	TAKES_IN(IN_REPORT_MODULES, SOFAR_CAN, 1, 255), TAKES_IN(IN_REPORT_CELLS, SOFAR_CAN, 1, 255),
	TAKES(IN_REPORT_CAPACITY, SOFAR_CAN),
	/* growatt-hv-can (§15): 0x3140, 0x3150, 0x3180, 0x3220 */
	TAKES_IN(IN_REPORT_MODULES, GROWATT_HV_CAN, 1, 32), TAKES_IN(IN_REPORT_CELLS, GROWATT_HV_CAN, 1, 512),
	TAKES(IN_REPORT_CAPACITY, GROWATT_HV_CAN),
	/* ferroamp-can (pylon-hv-can's frames at address 1 by default), afore-can, solxpow-can
	 * (PROTOCOLS.md §20-§22) */
	TAKES_DEF(IN_ADDRESS, FERROAMP_CAN, 0, 1, 1), TAKES(IN_MANUFACTURER, FERROAMP_CAN),
	TAKES_IN(IN_REPORT_MODULES, FERROAMP_CAN, 1, 255), TAKES(IN_REPORT_CAPACITY, FERROAMP_CAN),
	TAKES(IN_REPORT_CELLS, FERROAMP_CAN),
	/* afore-can: no row (its cell count also divides the CVL and DVL into 0x356's cell limits) */
	TAKES(IN_MANUFACTURER, SOLXPOW_CAN), TAKES_IN(IN_REPORT_MODULES, SOLXPOW_CAN, 1, 255),
	TAKES(IN_REPORT_CAPACITY, SOLXPOW_CAN), TAKES(IN_REPORT_CELLS, SOLXPOW_CAN),
	/* (end of ferroamp-can, afore-can, solxpow-can) */
	/* byd-hvm-modbus (§23): 9600 baud, slave 21; its energies from the capacity and the cells */
	TAKES_DEF(IN_BAUD, BYD_HVM_MODBUS, 0, 0, 9600), TAKES_DEF(IN_ADDRESS, BYD_HVM_MODBUS, 1, 247, 21),
	TAKES(IN_REPORT_CAPACITY, BYD_HVM_MODBUS), TAKES(IN_REPORT_CELLS, BYD_HVM_MODBUS),
	/* kostal-rs485 (§24): 57600 baud; blocks of 51.2 V in series, 1-20 within 1000 V */
	TAKES_DEF(IN_BAUD, KOSTAL_RS485, 0, 0, 57600), TAKES_IN(IN_REPORT_MODULES, KOSTAL_RS485, 1, 20),
	TAKES(IN_REPORT_CAPACITY, KOSTAL_RS485), TAKES(IN_REPORT_CELLS, KOSTAL_RS485),
	/* end of byd-hvm-modbus, kostal-rs485 */
	/* growatt-wit-can (§17), sma-hv-can (§18), schneider-can (§19) */
	TAKES_IN(IN_REPORT_MODULES, GROWATT_WIT_CAN, 1, 32), TAKES_IN(IN_REPORT_CELLS, GROWATT_WIT_CAN, 1, 1024),
	TAKES(IN_REPORT_CAPACITY, GROWATT_WIT_CAN),
	TAKES(IN_VARIANT, SMA_HV_CAN), TAKES_IN(IN_REPORT_MODULES, SMA_HV_CAN, 1, 255),
	TAKES(IN_REPORT_CAPACITY, SMA_HV_CAN),
	TAKES(IN_REPORT_CAPACITY, SCHNEIDER_CAN),
	/* rvc (PROTOCOLS.md §25): its J1939 source address (0x8F unless set; 254
	 * and 255 are no node's) and the DC source instance it speaks for
	 * (1, the main house battery) */
	TAKES_DEF(IN_ADDRESS, RVC, 0, 253, 0x8F), TAKES_DEF(IN_INSTANCE, RVC, 1, 253, 1),
};

/* How the protocols that keep their own timing speak. */
static const struct {
	enum conf_inv_protocol p;
	const char *speech;
} speeches[] = {
	{ CONF_INV_GROWATT_CAN, "answers each 0x301 of the inverter" },
	{ CONF_INV_PYLON_HV_CAN, "answers each 0x4200 of the inverter" },
	{ CONF_INV_BYD_HVS_CAN, "keeps a BYD battery's own periods once the inverter has spoken" },
	{ CONF_INV_SOLAX_CAN, "answers each 0x1871 of the inverter" },
	{ CONF_INV_FOXESS_CAN, "answers each 0x1871 of the inverter" },
	{ CONF_INV_SUNGROW_CAN, "keeps a Sungrow SBR's own periods (1, 10, 60 s), its init set until the inverter runs" },
	{ CONF_INV_SOFAR_CAN, "sends its set every second and replies to the inverter's 0x605 / 0x705" },
	{ CONF_INV_GROWATT_HV_CAN, "sends its set every second once the inverter's heartbeat is heard" },
	{ CONF_INV_FERROAMP_CAN, "answers each 0x4200 of the inverter" },
	{ CONF_INV_AFORE_CAN, "answers each 0x305 of the inverter" },
	{ CONF_INV_SOLXPOW_CAN, "answers each 0x4200 of the inverter" },
	{ CONF_INV_BYD_HVM_MODBUS, "answers the inverter's Modbus RTU polls as a BYD Battery-Box Premium HVM" },
	{ CONF_INV_KOSTAL_RS485, "answers the inverter's Kostal requests as a BYD battery" },
	{ CONF_INV_GROWATT_WIT_CAN, "keeps a Growatt WIT battery's own periods (100 ms to 2 s) once the inverter has "
	  "spoken" },
	{ CONF_INV_SMA_HV_CAN, "keeps its variant's periods once the inverter has spoken (byd-hvs: once it asked to "
	  "pair)" },
	{ CONF_INV_SCHNEIDER_CAN, "keeps an SE BMS's own periods (500 ms, 2 s, 10 s) from the source's first data" },
	{ CONF_INV_RVC, "claims its source address, then sends DC_SOURCE_STATUS_1-3 every 500 ms and "
			"DC_SOURCE_STATUS_4 every second" },
};

const char *inv_dialect_speech(enum conf_inv_protocol p)
{
	for (size_t i = 0; i < sizeof(speeches) / sizeof(speeches[0]); i++)
		if (speeches[i].p == p)
			return speeches[i].speech;
	return NULL;
}

/* Is key one that not every protocol takes? */
static const char *restricted(int key)
{
	for (size_t i = 0; i < sizeof(inv_whys) / sizeof(inv_whys[0]); i++)
		if (inv_whys[i].key == key)
			return inv_whys[i].why;
	return NULL;
}

/* The row of protocol p for key, or NULL. */
static const struct inv_take *take_of(int key, enum conf_inv_protocol p)
{
	for (size_t i = 0; i < sizeof(takes) / sizeof(takes[0]); i++)
		if (takes[i].key == key && takes[i].p == p)
			return &takes[i];
	return NULL;
}

bool inv_dialect_takes(int key, enum conf_inv_protocol p)
{
	return !restricted(key) || take_of(key, p) != NULL;
}

/* "pylon-can, lux-can" of the protocols that take key. */
static void takers(int key, char *buf, size_t cap)
{
	size_t n = 0;
	conf_bfmt(buf, cap, "none");
	for (size_t i = 0; i < sizeof(takes) / sizeof(takes[0]) && n < cap; i++) {
		if (takes[i].key != key)
			continue;
		int r = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", inv_dialect_name(takes[i].p));
		n += r > 0 ? (size_t)r : 0;
	}
}

/* The number a key of type KT_INT or KT_DOUBLE holds in v. */
static double *dbl_of(const struct conf_key *keys, int key, struct conf_inverter *v)
{
	return (double *)(void *)((char *)v + KEY(key).off);
}

static int *int_of(const struct conf_key *keys, int key, struct conf_inverter *v)
{
	return (int *)(void *)((char *)v + KEY(key).off);
}

/* A number key set by the file within the protocol's range; false after an
 * error. */
static bool in_range(struct conf_load *x, struct conf_inverter *v, const struct inv_take *t, int line, const char *sect,
		     const struct conf_key *keys)
{
	const struct conf_key *k = &KEY(t->key);
	if ((t->lo == 0 && t->hi == 0) || (k->type != KT_INT && k->type != KT_DOUBLE))
		return true;
	double val = k->type == KT_INT ? *int_of(keys, t->key, v) : *dbl_of(keys, t->key, v);
	if (val >= t->lo && val <= t->hi)
		return true;
	conf_fail(x, line, sect, k->name, "%g is outside protocol %s's %g to %g (expected %s = %g..%g, or no %s key)",
	     val, inv_dialect_name(v->protocol), t->lo, t->hi, k->name, t->lo, t->hi, k->name);
	return false;
}

bool inv_dialect_keys(struct conf_load *x, struct conf_inverter *v, const int *seen, const char *sect,
		      const struct conf_key *keys)
{
	char list[LIST_MAX];
	for (size_t i = 0; i < sizeof(inv_whys) / sizeof(inv_whys[0]); i++) {
		int key = inv_whys[i].key;
		const struct inv_take *t = take_of(key, v->protocol);
		const char *speech = inv_dialect_speech(v->protocol);
		if (seen[key] && !t) {
			takers(key, list, sizeof(list));
			conf_fail(x, seen[key], sect, KEY(key).name, "protocol %s takes no %s key: %s%s%s (expected "
			     "no %s key; the protocols that take it: %s)", inv_dialect_name(v->protocol), KEY(key).name,
			     inv_whys[i].why, key == IN_INTERVAL && speech ? ", it " : "",
			     key == IN_INTERVAL && speech ? speech : "", KEY(key).name, list);
			return false;
		}
		if (seen[key] && !in_range(x, v, t, seen[key], sect, keys))
			return false;
		if (!seen[key] && t && t->has_def) {
			if (KEY(key).type == KT_DOUBLE)
				*dbl_of(keys, key, v) = t->def;
			else
				*int_of(keys, key, v) = (int)t->def;
		}
	}
	return true;
}
