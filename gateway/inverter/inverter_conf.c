/* SPDX-License-Identifier: MIT */
/* gateway/inverter/inverter_conf.c - [inverter.NAME], the inverter room's
 * own section of the configuration (conf/section.h): its keys, and the
 * checks after the parse (the port read for its protocol's kind, its
 * source and what the source can give, the keys of the other kind and of
 * the other protocols, dialects.c; a port of its own), run after the
 * packs, the bank and [limits] are resolved; its --check lines (each
 * output's protocol, port and source, how it speaks, the identity it
 * reports, its window and its fail-safe). */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../../bms/bms.h"
#include "inverter_conf.h"

#define IN(f) offsetof(struct conf_inverter, f)
#define KEY(k) (gw_inverter_section.keys[k])
#define LIST_MAX 1536 /* a list of the protocols' names */
/* the line of key k of these seen lines, else the header's */
#define SEEN_LINE(seen, k, header) ((seen)[k] ? (seen)[k] : (header))

_Static_assert(sizeof(enum conf_inv_protocol) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_soc_override) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_current_unit) == sizeof(int), "enum stored as int");

#define CONF_INV_WORD_(id, sym, name, kind, extras, allowed, bitrate) name,
static const char *const inv_words[] = {CONF_INV_PROTOCOL_LIST(CONF_INV_WORD_) NULL};
#undef CONF_INV_WORD_
static const char *const extras_words[] = {"capacity", "cells", "modules", "name", NULL};
static const char *const override_words[] = {"none", "deye", NULL};
static const char *const unit_words[] = {"100mA", "10mA", NULL};
/* sma-hv-can's variants, in enum conf_inv_variant's order */
static const char *const variant_words[] = {"byd-hvs", "byd-h", "sbs", NULL};

/* any change restarts the output (its port opened again) */
static const struct conf_key keys[IN_NKEYS] = {
	[IN_PROTOCOL] = {"protocol", CONF_RESTART, KT_WORD, 0, 0, false, inv_words, IN(protocol), NULL},
	[IN_PORT] = {"port", CONF_RESTART, KT_OUTPORT, 0, 0, false, NULL, IN(port), NULL,
		     .expect = "a CAN interface such as can0 or slcan:///dev/ttyACM0 (pylon-can, sma-can), or a serial "
			       "device /dev/... or tcp://HOST:PORT (pylon-rs485)"},
	[IN_SOURCE] = {"source", CONF_RESTART, KT_NAME, 0, 0, false, NULL, IN(source), NULL},
	[IN_INTERVAL] = {"interval", CONF_RESTART, KT_DOUBLE, 0.2, 5, false, NULL, IN(interval), "1"},
	[IN_EXTRAS] = {"extras", CONF_RESTART, KT_FLAGS, 0, 0, false, extras_words, IN(extras), ""},
	[IN_SOC_OVERRIDE] = {"soc_override", CONF_RESTART, KT_WORD, 0, 0, false, override_words, IN(soc_override),
			     "none"},
	[IN_SOC_HOLD] = {"soc_hold_full", CONF_RESTART, KT_DOUBLE, 0, 100, false, NULL, IN(soc_hold_full), "98",
			 "percent"},
	[IN_BAUD] = {"baud", CONF_RESTART, KT_BAUD, 0, 0, false, NULL, IN(baud), "9600"},
	[IN_ADDRESS] = {"address", CONF_RESTART, KT_INT, 0, 254, false, NULL, IN(address), "2"},
	[IN_REPLY_ADDRESS] = {"reply_address", CONF_RESTART, KT_INT, 1, 254, false, NULL, IN(reply_address), ""},
	[IN_VER] = {"ver", CONF_RESTART, KT_VER, 0x20, 0x2F, false, NULL, IN(ver), "0x20"},
	[IN_CURRENT_UNIT] = {"current_unit", CONF_RESTART, KT_WORD, 0, 0, false, unit_words, IN(current_unit), "100mA"},
	[IN_MANUFACTURER] = {"manufacturer", CONF_RESTART, KT_LABEL, 1, 8, false, NULL, IN(manufacturer), "PYLON"},
	[IN_FAILSAFE] = {"failsafe_silence", CONF_RESTART, KT_DOUBLE, 0, 3600, false, NULL, IN(failsafe_silence), "30"},
	/* the identity overrides: "" = the source's (or the protocol's default, dialects.c) */
	[IN_BATTERY_TYPE] = {"battery_type", CONF_RESTART, KT_INT, 0, 255, false, NULL, IN(battery_type), ""},
	[IN_REPORT_MODULES] = {"report_modules", CONF_RESTART, KT_INT, 1, 255, false, NULL, IN(report_modules), ""},
	[IN_REPORT_CAPACITY] = {"report_capacity_ah", CONF_RESTART, KT_DOUBLE, 0, 100000, true, NULL,
				IN(report_capacity_ah), "", "ampere-hours"},
	[IN_REPORT_CELLS] = {"report_cells", CONF_RESTART, KT_INT, 1, 65535, false, NULL, IN(report_cells), ""},
	/* rvc's DC source instance: its default (1) is dialects.c's */
	[IN_INSTANCE] = {"instance", CONF_RESTART, KT_INT, 1, 253, false, NULL, IN(instance), ""},
	[IN_VARIANT] = {"variant", CONF_RESTART, KT_WORD, 0, 0, false, variant_words, IN(variant), "byd-hvs"},
};

/* What an inverter opens, to compare with the ports of the others: the
 * slcan adapter's device, the CAN interface, the RS485 device or tcp://. */
static const char *inverter_wire(const struct conf_inverter *v)
{
	return v->is_slcan ? v->device : v->port;
}

/* RS485: a serial device or tcp://HOST:PORT, as a pack's port. */
static bool rs485_port(struct conf_load *x, struct conf_inverter *v, int line, const char *sect)
{
	char why[CONF_WHY_MAX];
	struct conf_pack tmp;
	memset(&tmp, 0, sizeof(tmp));
	if (strncmp(v->port, "tcp://", 6) != 0 && v->port[0] != '/') {
		conf_fail(x, line, sect, "port", "\"%s\" is not a serial device or TCP serial server (expected /dev/... or "
		     "tcp://HOST:PORT for protocol %s)", v->port, inv_dialect_name(v->protocol));
		return false;
	}
	if (conf_parse_port(&tmp, v->port, why, sizeof(why)) < 0) {
		conf_fail(x, line, sect, "port", "%s", why);
		return false;
	}
	v->is_tcp = tmp.is_tcp;
	conf_bfmt(v->tcp_host, sizeof(v->tcp_host), "%s", tmp.tcp_host);
	v->tcp_port = tmp.tcp_port;
	conf_bfmt(v->device, sizeof(v->device), "%s", v->is_tcp ? "" : v->port);
	return true;
}

/* CAN: a network interface (can0) or slcan:///dev/PATH. */
static bool can_port(struct conf_load *x, struct conf_inverter *v, int line, const char *sect)
{
	char why[CONF_WHY_MAX];
	if (conf_can_port(v->port, &v->is_slcan, v->device, sizeof(v->device), why, sizeof(why)) < 0) {
		conf_fail(x, line, sect, "port", "%s", why);
		return false;
	}
	return true;
}

/* growatt-rs485 (a Modbus RTU slave): address 1 unless set; the keys of
 * pylon-rs485's frames are none of its own; false after an error. */
static bool growatt_rs485_keys(struct conf_load *x, struct conf_inverter *v, const int *seen, const char *sect)
{
	static const int pylon_only[] = { IN_REPLY_ADDRESS, IN_VER, IN_CURRENT_UNIT };
	for (size_t i = 0; i < sizeof(pylon_only) / sizeof(pylon_only[0]); i++) {
		int k = pylon_only[i];
		if (seen[k]) {
			conf_fail(x, seen[k], sect, KEY(k).name, "is for pylon-rs485 (growatt-rs485 answers "
			     "Modbus RTU from its address: expected no %s key)", KEY(k).name);
			return false;
		}
	}
	if (!seen[IN_ADDRESS]) {
		v->address = 1;
	} else if (v->address < 1 || v->address > 247) {
		conf_fail(x, seen[IN_ADDRESS], sect, "address", "%d is no Modbus slave address (expected 1 to 247)",
		     v->address);
		return false;
	}
	return true;
}

/* pylon-hv-can: address 0 or 1, the last nibble of its identifiers (0x4210
 * or 0x4211 ...), 0 unless set; false after an error. */
static bool pylon_hv_address(struct conf_load *x, struct conf_inverter *v, const int *seen, const char *sect)
{
	if (!seen[IN_ADDRESS]) {
		v->address = 0;
	} else if (v->address > 1) {
		conf_fail(x, seen[IN_ADDRESS], sect, "address", "%d is no pylon-hv-can battery address (expected 0 "
		     "or 1: the last digit of its identifiers 0x4210 / 0x4211)", v->address);
		return false;
	}
	return true;
}

/* Keys of the other kind of protocol (CAN or RS485); false after an error.
 * The CAN protocols' extras default to the protocol's. */
static bool inverter_keys(struct conf_load *x, struct conf_inverter *v, const int *seen, const char *sect)
{
	static const int can_only[] = { IN_INTERVAL, IN_EXTRAS };
	static const int rs485_only[] = { IN_BAUD, IN_ADDRESS, IN_REPLY_ADDRESS, IN_VER, IN_CURRENT_UNIT };
	bool can = inv_dialect_kind(v->protocol) == CONF_INV_CAN;
	const int *other = can ? rs485_only : can_only;
	size_t n = can ? sizeof(rs485_only) / sizeof(rs485_only[0]) : sizeof(can_only) / sizeof(can_only[0]);
	for (size_t i = 0; i < n; i++) {
		int k = other[i];
		if (seen[k] && !inv_dialect_takes(k, v->protocol)) {
			conf_fail(x, seen[k], sect, KEY(k).name, "is for the %s protocols (protocol %s %s: expected no "
			     "%s key)", can ? "RS485" : "CAN", inv_dialect_name(v->protocol),
			     can ? "speaks on a CAN bus" : "answers when the inverter asks", KEY(k).name);
			return false;
		}
	}
	if ((v->protocol == CONF_INV_GROWATT_CAN || v->protocol == CONF_INV_PYLON_HV_CAN) && seen[IN_INTERVAL]) {
		conf_fail(x, seen[IN_INTERVAL], sect, "interval", "%s answers each request (%s) of the inverter and "
		     "has no period of its own (expected no interval key)", inv_dialect_name(v->protocol),
		     v->protocol == CONF_INV_GROWATT_CAN ? "0x301" : "0x4200");
		return false;
	}
	if (v->protocol == CONF_INV_PYLON_HV_CAN && !pylon_hv_address(x, v, seen, sect))
		return false;
	if (v->protocol == CONF_INV_PYLON_RS485 && seen[IN_ADDRESS] && v->address < 1) {
		conf_fail(x, seen[IN_ADDRESS], sect, "address", "0 is no ADR of pylon-rs485 (expected 1 to 254)");
		return false;
	}
	if (v->protocol == CONF_INV_BYD_HVS_CAN && seen[IN_INTERVAL]) {
		conf_fail(x, seen[IN_INTERVAL], sect, "interval", "byd-hvs-can keeps a BYD battery's own periods "
		     "(0x110 every 2 s, 0x150, 0x1D0, 0x210 every 10 s, 0x190 every 60 s) (expected no interval key)");
		return false;
	}
	if (v->protocol == CONF_INV_GROWATT_RS485 && !growatt_rs485_keys(x, v, seen, sect))
		return false;
	if (v->extras < 0)
		v->extras = (int)inv_dialect_default_extras(v->protocol);
	unsigned extra = (unsigned)v->extras & ~inv_dialect_allowed_extras(v->protocol);
	if (extra && inv_dialect_takes(IN_EXTRAS, v->protocol)) {
		conf_fail(x, seen[IN_EXTRAS], sect, "extras", "%s sends only the frames of its document (expected "
		     "extras = none)", inv_dialect_name(v->protocol));
		return false;
	}
	if (!inv_dialect_keys(x, v, seen, sect, keys))
		return false;
	if (!can && !inv_dialect_takes(IN_ADDRESS, v->protocol))
		v->address = 0; /* an RS485 protocol without addresses (kostal-rs485) */
	return true;
}

/* source: a pack or the bank; by default the bank, else the only pack. */
static bool inverter_source(struct conf_load *x, struct conf_inverter *v, const int *seen, const char *sect)
{
	const struct conf *c = conf_loading(x);
	if (!seen[IN_SOURCE] && (c->bank.enabled || c->npacks == 1)) {
		conf_bfmt(v->source, sizeof(v->source), "%s", c->bank.enabled ? "bank" : c->packs[0].name);
	} else if (!seen[IN_SOURCE]) {
		conf_fail(x, v->line, sect, NULL, "missing key \"source\": %d packs and no [bank] section (expected source = "
		     "the pack whose limits it sends, or a [bank] section)", c->npacks);
		return false;
	}
	if (strcmp(v->source, "bank") == 0) {
		if (!c->bank.enabled) {
			conf_fail(x, seen[IN_SOURCE], sect, "source", "bank, but there is no [bank] section");
			return false;
		}
		v->source_pack = CONF_BANK_SOURCE;
		return true;
	}
	v->source_pack = conf_pack_by_name(c, v->source, strlen(v->source));
	if (v->source_pack < 0) {
		conf_fail(x, seen[IN_SOURCE], sect, "source", "no [pack.%s] section (expected a pack name or bank)",
		     v->source);
		return false;
	}
	return true;
}

/* What a pack of driver d can give an inverter: a CVL (from its cells or
 * reported by the BMS) and a SOC; NULL, or what it lacks. */
static const char *source_lacks(const struct bms_driver *d)
{
	if (!(d->provides & (BMS_HAS_CELLS | BMS_HAS_VOLT_LIMITS)))
		return "a charge voltage limit (it reads no cell voltages and reports none)";
	if (!(d->provides & BMS_HAS_SOC))
		return "a state of charge";
	return NULL;
}

/* The source can give an inverter what it must read: an output whose source
 * never can would send zeros as data, so it is refused.  The bank can when
 * one of its packs can. */
static bool inverter_source_data(struct conf_load *x, const struct conf_inverter *v, const int *seen, const char *sect)
{
	const struct conf *c = conf_loading(x);
	const struct conf_bank *b = &c->bank;
	bool bank = v->source_pack == CONF_BANK_SOURCE;
	const struct conf_pack *p = &c->packs[bank ? b->pack_idx[0] : v->source_pack];
	const char *lack = source_lacks(p->driver);
	for (int k = 1; bank && lack && k < b->npacks; k++)
		if (!source_lacks(c->packs[b->pack_idx[k]].driver))
			lack = NULL;
	if (!lack)
		return true;
	conf_fail(x, SEEN_LINE(seen, IN_SOURCE, v->line), sect, "source", "%spack %s (protocol %s) can never give %s "
	     "(expected a source whose protocol reads cell voltages, or a bank with such a pack)",
	     bank ? "no pack of the bank can give what an inverter reads: " : "", p->name, p->driver->name, lack);
	return false;
}

/* A high-voltage protocol's source: every member's series cells given, and
 * its operating range (invrange.c) inside the protocol's; true for the
 * other protocols. */
static bool inverter_source_range(struct conf_load *x, const struct conf_inverter *v, const int *seen, const char *sect)
{
	const struct conf *c = conf_loading(x);
	double lo, hi, smin, smax;
	char why[CONF_WHY_MAX];
	int line = SEEN_LINE(seen, IN_SOURCE, v->line);
	if (!inv_dialect_volt_range(v->protocol, &lo, &hi))
		return true;
	if (!inv_source_range(c, v->source_pack, &smin, &smax, why, sizeof(why))) {
		conf_fail(x, line, sect, "source", "%s: %s (protocol %s, %g-%g V)", v->source, why,
		     inv_dialect_name(v->protocol), lo, hi);
		return false;
	}
	if (smin < lo - 1e-6 || smax > hi + 1e-6) {
		conf_fail(x, line, sect, "source", "%s runs %.1f-%.1f V (its series cells times their chemistry's cell "
		     "range), not inside protocol %s's %g-%g V (expected a source of more or fewer cells in series, "
		     "or another protocol)", v->source, smin, smax, inv_dialect_name(v->protocol), lo, hi);
		return false;
	}
	return true;
}

/* Its port against the packs' (and so the tunnels') and the inverters' before it. */
static void inverter_shares(struct conf_load *x, int i, int line, const char *sect)
{
	const struct conf *c = conf_loading(x);
	const struct conf_inverter *v = gw_inverter_cfg(c, i);
	const char *w = inverter_wire(v);
	for (int j = 0; j < c->npacks; j++) {
		const struct conf_pack *p = &c->packs[j];
		if (strcmp(w, conf_pack_wire(p)) != 0)
			continue;
		if (p->is_can)
			conf_fail(x, line, sect, "port", "%s is the CAN bus [pack.%s] (line %d) reads: bmsgw would be a second "
			     "battery on that bus (expected a CAN port of its own for the inverter)", w, p->name, p->line);
		else
			conf_fail(x, line, sect, "port", "%s is the port of [pack.%s] (line %d) (expected a port of its own: "
			     "on a BMS's bus bmsgw is the master, on an inverter's a battery)", w, p->name, p->line);
		return;
	}
	for (int j = 0; j < i; j++)
		if (strcmp(w, inverter_wire(gw_inverter_cfg(c, j))) == 0) {
			conf_fail(x, line, sect, "port", "%s is already used by [inverter.%s] (line %d) (expected one inverter "
			     "per port)", w, gw_inverter_cfg(c, j)->name, gw_inverter_cfg(c, j)->line);
			return;
		}
}

static void finish_one(struct conf_load *x, int i)
{
	const struct conf *c = conf_loading(x);
	struct conf_inverter *v = (struct conf_inverter *)gw_inverter_cfg(c, i);
	const int *seen = conf_seen(x, &gw_inverter_section, i);
	char sect[CONF_NAME_MAX + 12];
	conf_bfmt(sect, sizeof(sect), "inverter.%s", v->name);
	if (!c->limits.enabled) {
		conf_fail(x, v->line, sect, NULL, "needs a [limits] section (expected [limits]: the limits an inverter is "
		     "sent come from there)");
		return;
	}
	if (!seen[IN_PROTOCOL]) {
		char list[LIST_MAX];
		conf_list_words(KEY(IN_PROTOCOL).words, list, sizeof(list));
		conf_fail(x, v->line, sect, NULL, "missing key \"protocol\" (expected protocol = one of %s)", list);
		return;
	}
	bool can = inv_dialect_kind(v->protocol) == CONF_INV_CAN;
	if (!seen[IN_PORT]) {
		conf_fail(x, v->line, sect, NULL, "missing key \"port\" (expected port = %s)",
		     can ? "a CAN interface such as can0, or slcan:///dev/ttyACM0" : "/dev/... or tcp://HOST:PORT");
		return;
	}
	if (!inverter_keys(x, v, seen, sect))
		return;
	if (!(can ? can_port : rs485_port)(x, v, seen[IN_PORT], sect))
		return;
	conf_bfmt(v->wire, sizeof(v->wire), "%s", inverter_wire(v));
	if (inverter_source(x, v, seen, sect) && inverter_source_data(x, v, seen, sect) &&
	    inverter_source_range(x, v, seen, sect))
		inverter_shares(x, i, seen[IN_PORT], sect);
}

static void finish(struct conf_load *x)
{
	for (int i = 0; i < gw_ninverters(conf_loading(x)) && !conf_failed(x); i++)
		finish_one(x, i);
}

/* ---------------------------------------------------------------- --check */

/* Where an inverter is: "can0 (SocketCAN)", "tcp 192.0.2.9:4196" ... */
static void fmt_inverter_link(char *buf, size_t cap, const struct conf_inverter *v)
{
	char hp[CONF_HOST_MAX + 16];
	if (v->is_slcan) {
		conf_bfmt(buf, cap, "slcan %s (serial CAN adapter, %lu kbit/s)", v->device,
		     inv_dialect_bitrate(v->protocol) / 1000);
	} else if (inv_dialect_kind(v->protocol) == CONF_INV_CAN) {
		conf_bfmt(buf, cap, "%s (SocketCAN)", v->device);
	} else if (v->is_tcp) {
		conf_fmt_hostport(hp, sizeof(hp), v->tcp_host, v->tcp_port);
		conf_bfmt(buf, cap, "tcp %s", hp);
	} else {
		conf_bfmt(buf, cap, "%s @ %d 8N1", v->port, v->baud);
	}
}

/* "capacity, cells" or "none" */
static void fmt_extras(char *buf, size_t cap, int extras)
{
	size_t n = 0;
	conf_bfmt(buf, cap, "none");
	for (int i = 0; i < 8 && n < cap; i++) {
		if (!(extras & (1 << i)))
			continue;
		int r = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", conf_key_word(&KEY(IN_EXTRAS), i));
		n += r > 0 ? (size_t)r : 0;
	}
}

/* A high-voltage protocol's window and its source's range within. */
static void print_inverter_range(const struct conf *c, const struct conf_inverter *v, FILE *out)
{
	double lo, hi, smin, smax;
	char why[CONF_WHY_MAX];
	if (inv_dialect_volt_range(v->protocol, &lo, &hi) && inv_source_range(c, v->source_pack, &smin, &smax, why,
	                                                                         sizeof(why)))
		fprintf(out, ", source range %.1f-%.1f V within %g-%g V", smin, smax, lo, hi);
}

/* How it speaks: every interval with its extras, or answering an address. */
static void print_inverter_speech(const struct conf *c, const struct conf_inverter *v, FILE *out)
{
	char extras[LIST_MAX];
	if (inv_dialect_kind(v->protocol) == CONF_INV_CAN) {
		fmt_extras(extras, sizeof(extras), v->extras);
		if (v->protocol == CONF_INV_GROWATT_CAN)
			fprintf(out, ", the set as the answer to each 0x301 of the inverter, extras %s", extras);
		else if (v->protocol == CONF_INV_PYLON_HV_CAN || v->protocol == CONF_INV_FERROAMP_CAN)
			fprintf(out, ", ids 0x%X ..., the answer to each 0x4200 of the inverter", 0x4210 + v->address);
		else if (v->protocol == CONF_INV_BYD_HVS_CAN)
			fprintf(out, ", after the inverter's first frame: 0x110 every 2 s, 0x150, 0x1D0, 0x210 every 10 s, "
			        "0x190 every 60 s, the identification on its 0x151, extras %s",
			        extras);
		else if (v->protocol == CONF_INV_RVC)
			fprintf(out, ", source address %d (0x%02X), DC source instance %d: %s", v->address, v->address,
			        v->instance, inv_dialect_speech(v->protocol));
		else if (v->protocol == CONF_INV_SOFAR_CAN)
			fprintf(out, ", battery id %d (ids 0x%X ...), %s", v->address, 0x351 + (v->address << 12),
			        inv_dialect_speech(v->protocol));
		else if (inv_dialect_speech(v->protocol))
			fprintf(out, ", %s", inv_dialect_speech(v->protocol));
		else
			fprintf(out, ", every %g s, extras %s", v->interval, extras);
		print_inverter_range(c, v, out);
		return;
	}
	if (inv_dialect_speech(v->protocol)) { /* an RS485 protocol of its own kind */
		fprintf(out, ", %s", inv_dialect_speech(v->protocol));
		if (inv_dialect_takes(IN_ADDRESS, v->protocol))
			fprintf(out, ", Modbus address %d", v->address);
		print_inverter_range(c, v, out);
		return;
	}
	if (v->protocol == CONF_INV_GROWATT_RS485) {
		fprintf(out, ", answers Modbus address %d (EXPERIMENTAL: the image is the one reported working on "
		        "a Growatt SPF, not Growatt's document)", v->address);
		return;
	}
	if (v->reply_address >= 0)
		fprintf(out, ", answers address %d as %d", v->address, v->reply_address);
	else
		fprintf(out, ", answers address %d", v->address);
	if (v->ver == CONF_VER_ECHO)
		fprintf(out, ", VER as asked");
	else
		fprintf(out, ", VER 0x%02X", v->ver);
	fprintf(out, ", currents in %s", conf_key_word(&KEY(IN_CURRENT_UNIT), (int)v->current_unit));
}

/* The identity the inverter is told where the file overrides the source's. */
static void print_inverter_identity(const struct conf_inverter *v, FILE *out)
{
	if (v->battery_type >= 0)
		fprintf(out, ", battery type %d", v->battery_type);
	if (v->report_modules > 0)
		fprintf(out, ", reports %d modules", v->report_modules);
	if (v->report_cells > 0)
		fprintf(out, ", reports %d cells", v->report_cells);
	if (v->report_capacity_ah > 0)
		fprintf(out, ", reports %g Ah", v->report_capacity_ah);
	if (inv_dialect_takes(IN_VARIANT, v->protocol))
		fprintf(out, ", variant %s", conf_key_word(&KEY(IN_VARIANT), v->variant));
}

static void print(const struct conf *c, FILE *out)
{
	char link[CONF_PORT_MAX + 64];
	if (gw_ninverters(c))
		fprintf(out, "inverters (a virtual battery; nothing is sent to an inverter without this section)\n");
	for (int i = 0; i < gw_ninverters(c); i++) {
		const struct conf_inverter *v = gw_inverter_cfg(c, i);
		bool can = inv_dialect_kind(v->protocol) == CONF_INV_CAN;
		fmt_inverter_link(link, sizeof(link), v);
		fprintf(out, "  %s: %s on %s, source %s%s", v->name, inv_dialect_name(v->protocol), link,
		        v->source_pack == CONF_BANK_SOURCE ? "the bank" : "pack ",
		        v->source_pack == CONF_BANK_SOURCE ? "" : v->source);
		if (inv_dialect_takes(IN_MANUFACTURER, v->protocol))
			fprintf(out, ", manufacturer \"%s\"", v->manufacturer);
		print_inverter_speech(c, v, out);
		print_inverter_identity(v, out);
		if (v->soc_hold_full > 0)
			fprintf(out, "; SOC at most %g %% until absorbed", v->soc_hold_full);
		if (v->soc_override == CONF_SOC_OVERRIDE_DEYE)
			fprintf(out, "; SOC 0 %% while DCL = 0, 100 %% while CCL = 0 (soc_override deye)");
		double lo, hi;
		if (inv_dialect_volt_range(v->protocol, &lo, &hi))
			fprintf(out, "; silent while the source's voltage is outside %g-%g V", lo, hi);
		fprintf(out, "; a stale source: zero limits, then %s after %g s\n", can ? "silence" : "no answer",
		        v->failsafe_silence);
	}
}

/* After [limits] (70) and [soc] (80): the limits it is sent come from there;
 * its `wire`, what it opens, no other output may open ([rtu]'s check). */
const struct conf_section gw_inverter_section = {
	.word = "inverter", .named = true, .max = CONF_MAX_INVERTERS, .size = sizeof(struct conf_inverter),
	.name = IN(name), .line = IN(line), .enabled = CONF_NO_FIELD, .wire = IN(wire), .keys = keys, .nkeys = IN_NKEYS,
	.list_order = 110, .finish_order = 90, .print_order = 120, .finish = finish, .print = print,
};
