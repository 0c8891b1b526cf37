/* SPDX-License-Identifier: MIT */
/* conf/check_out.c - the checks after the parse of what bmsgw sends out:
 * [limits] (the defaults of its chemistry, the order of its voltages),
 * [inverter.NAME] (its port read for its protocol, its source, keys of the
 * other protocol), [sunspec] (where its block lies) and [rtu] (its port).
 * They run after the packs, the bank and the tunnels are resolved.
 */
#include "conf_int.h"

#include "../bms/bms.h"

#include <ctype.h>
#include <string.h>

/* ------------------------------------------------------------------ limits */

/* The chemistry's default of every key the file did not set, whatever the
 * order of the lines. */
static void chemistry_defaults(struct conf_load *x)
{
	struct conf_limits *l = &x->c.limits;
	char why[CONF_WHY_MAX];
	for (size_t i = 0; i < conf__nchem_defaults; i++) {
		const struct chem_default *d = &conf__chem_defaults[i];
		if (!x->limits_seen[d->key])
			(void)conf__set_value(&conf__keys[d->key], l, d->def[l->chemistry], why, sizeof(why));
	}
}

static bool chemistry_key(int key)
{
	for (size_t i = 0; i < conf__nchem_defaults; i++)
		if (conf__chem_defaults[i].key == key)
			return true;
	return false;
}

/* a (key ka) below b (key kb), or at most b when !strict; false after an
 * error, which names the key the file wrote (ka if both or neither). */
static bool in_order(struct conf_load *x, int ka, double a, int kb, double b, bool strict, const char *rule)
{
	const int *seen = x->limits_seen;
	if (strict ? a < b : a <= b)
		return true;
	int k = seen[ka] || !seen[kb] ? ka : kb, other = k == ka ? kb : ka;
	char note[CONF_EXP_MAX] = "";
	if (!seen[other])
		conf_bfmt(note, sizeof(note), "; %s %g is the %s%sdefault", conf__keys[other].name, other == ka ? a : b,
		     chemistry_key(other) ? conf_key_word(&conf__keys[K_LI_CHEMISTRY], (int)x->c.limits.chemistry) : "",
		     chemistry_key(other) ? " " : "");
	conf__fail(x, conf__seen_line(seen, k, x->c.limits.line), "limits", conf__keys[k].name, "%s %s %s (%g %s %g%s; expected %s)",
	     conf__keys[ka].name, strict ? "not below" : "above", conf__keys[kb].name, a, strict ? ">=" : ">", b, note,
	     rule);
	return false;
}

/* A pack's own current rating is a [limits] setting. */
static bool pack_ratings(struct conf_load *x)
{
	for (int i = 0; i < x->c.npacks; i++) {
		const int *seen = x->pack_seen[i];
		int k = seen[K_PK_MAX_CHARGE] ? K_PK_MAX_CHARGE : seen[K_PK_MAX_DISCHARGE] ? K_PK_MAX_DISCHARGE : -1;
		if (k >= 0 && !x->c.limits.enabled) {
			char sect[CONF_NAME_MAX + 8];
			conf_bfmt(sect, sizeof(sect), "pack.%s", x->c.packs[i].name);
			conf__fail(x, seen[k], sect, conf__keys[k].name, "is a charge limit setting, but there is no [limits] "
			     "section (expected [limits], or no %s key)", conf__keys[k].name);
			return false;
		}
	}
	return true;
}

/* [limits]: chemistry defaults, then the voltages and spreads in order. */
void conf__finish_limits(struct conf_load *x)
{
	static const char volts[] = "min_cell_voltage < float_cell_voltage <= max_cell_voltage";
	struct conf_limits *l = &x->c.limits;
	if (!pack_ratings(x) || !l->enabled)
		return;
	chemistry_defaults(x);
	if (!in_order(x, K_LI_MIN_CELL, l->min_cell_voltage, K_LI_FLOAT_CELL, l->float_cell_voltage, true, volts) ||
	    !in_order(x, K_LI_FLOAT_CELL, l->float_cell_voltage, K_LI_MAX_CELL, l->max_cell_voltage, false, volts))
		return;
	(void)in_order(x, K_LI_ABS_DIFF, l->absorption_cell_diff, K_LI_REBULK_DIFF, l->rebulk_cell_diff, true,
	               "absorption_cell_diff < rebulk_cell_diff: a spread that starts absorption must not "
	               "also end it");
}

/* --------------------------------------------------------------- inverters */

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
		conf__fail(x, line, sect, "port", "\"%s\" is not a serial device or TCP serial server (expected /dev/... or "
		     "tcp://HOST:PORT for protocol %s)", v->port, conf_inv_name(v->protocol));
		return false;
	}
	if (conf__set_port(&tmp, v->port, why, sizeof(why)) < 0) {
		conf__fail(x, line, sect, "port", "%s", why);
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
	if (conf__can_port(v->port, &v->is_slcan, v->device, sizeof(v->device), why, sizeof(why)) < 0) {
		conf__fail(x, line, sect, "port", "%s", why);
		return false;
	}
	return true;
}

/* growatt-rs485 (a Modbus RTU slave): address 1 unless set; the keys of
 * pylon-rs485's frames are none of its own; false after an error. */
static bool growatt_rs485_keys(struct conf_load *x, struct conf_inverter *v, const int *seen, const char *sect)
{
	static const int pylon_only[] = { K_IN_REPLY_ADDRESS, K_IN_VER, K_IN_CURRENT_UNIT };
	for (size_t i = 0; i < sizeof(pylon_only) / sizeof(pylon_only[0]); i++) {
		int k = pylon_only[i];
		if (seen[k]) {
			conf__fail(x, seen[k], sect, conf__keys[k].name, "is for pylon-rs485 (growatt-rs485 answers "
			     "Modbus RTU from its address: expected no %s key)", conf__keys[k].name);
			return false;
		}
	}
	if (!seen[K_IN_ADDRESS]) {
		v->address = 1;
	} else if (v->address < 1 || v->address > 247) {
		conf__fail(x, seen[K_IN_ADDRESS], sect, "address", "%d is no Modbus slave address (expected 1 to 247)",
		     v->address);
		return false;
	}
	return true;
}

/* pylon-hv-can: address 0 or 1, the last nibble of its identifiers (0x4210
 * or 0x4211 ...), 0 unless set; false after an error. */
static bool pylon_hv_address(struct conf_load *x, struct conf_inverter *v, const int *seen, const char *sect)
{
	if (!seen[K_IN_ADDRESS]) {
		v->address = 0;
	} else if (v->address > 1) {
		conf__fail(x, seen[K_IN_ADDRESS], sect, "address", "%d is no pylon-hv-can battery address (expected 0 "
		     "or 1: the last digit of its identifiers 0x4210 / 0x4211)", v->address);
		return false;
	}
	return true;
}

/* Keys of the other kind of protocol (CAN or RS485); false after an error.
 * The CAN protocols' extras default to the protocol's. */
static bool inverter_keys(struct conf_load *x, struct conf_inverter *v, const int *seen, const char *sect)
{
	static const int can_only[] = { K_IN_INTERVAL, K_IN_EXTRAS };
	static const int rs485_only[] = { K_IN_BAUD, K_IN_ADDRESS, K_IN_REPLY_ADDRESS, K_IN_VER, K_IN_CURRENT_UNIT };
	bool can = conf_inv_kind(v->protocol) == CONF_INV_CAN;
	const int *other = can ? rs485_only : can_only;
	size_t n = can ? sizeof(rs485_only) / sizeof(rs485_only[0]) : sizeof(can_only) / sizeof(can_only[0]);
	for (size_t i = 0; i < n; i++) {
		int k = other[i];
		if (seen[k] && !conf__inv_takes(k, v->protocol)) {
			conf__fail(x, seen[k], sect, conf__keys[k].name, "is for the %s protocols (protocol %s %s: expected no "
			     "%s key)", can ? "RS485" : "CAN", conf_inv_name(v->protocol),
			     can ? "speaks on a CAN bus" : "answers when the inverter asks", conf__keys[k].name);
			return false;
		}
	}
	if ((v->protocol == CONF_INV_GROWATT_CAN || v->protocol == CONF_INV_PYLON_HV_CAN) && seen[K_IN_INTERVAL]) {
		conf__fail(x, seen[K_IN_INTERVAL], sect, "interval", "%s answers each request (%s) of the inverter and "
		     "has no period of its own (expected no interval key)", conf_inv_name(v->protocol),
		     v->protocol == CONF_INV_GROWATT_CAN ? "0x301" : "0x4200");
		return false;
	}
	if (v->protocol == CONF_INV_PYLON_HV_CAN && !pylon_hv_address(x, v, seen, sect))
		return false;
	if (v->protocol == CONF_INV_PYLON_RS485 && seen[K_IN_ADDRESS] && v->address < 1) {
		conf__fail(x, seen[K_IN_ADDRESS], sect, "address", "0 is no ADR of pylon-rs485 (expected 1 to 254)");
		return false;
	}
	if (v->protocol == CONF_INV_BYD_HVS_CAN && seen[K_IN_INTERVAL]) {
		conf__fail(x, seen[K_IN_INTERVAL], sect, "interval", "byd-hvs-can keeps a BYD battery's own periods "
		     "(0x110 every 2 s, 0x150, 0x1D0, 0x210 every 10 s, 0x190 every 60 s) (expected no interval key)");
		return false;
	}
	if (v->protocol == CONF_INV_GROWATT_RS485 && !growatt_rs485_keys(x, v, seen, sect))
		return false;
	if (v->extras < 0)
		v->extras = (int)conf_inv_default_extras(v->protocol);
	unsigned extra = (unsigned)v->extras & ~conf_inv_allowed_extras(v->protocol);
	if (extra && conf__inv_takes(K_IN_EXTRAS, v->protocol)) {
		conf__fail(x, seen[K_IN_EXTRAS], sect, "extras", "%s sends only the frames of its document (expected "
		     "extras = none)", conf_inv_name(v->protocol));
		return false;
	}
	if (!conf__inv_keys(x, v, seen, sect))
		return false;
	if (!can && !conf__inv_takes(K_IN_ADDRESS, v->protocol))
		v->address = 0; /* an RS485 protocol without addresses (kostal-rs485) */
	return true;
}

/* source: a pack or the bank; by default the bank, else the only pack. */
static bool inverter_source(struct conf_load *x, struct conf_inverter *v, const int *seen, const char *sect)
{
	if (!seen[K_IN_SOURCE] && (x->c.bank.enabled || x->c.npacks == 1)) {
		conf_bfmt(v->source, sizeof(v->source), "%s", x->c.bank.enabled ? "bank" : x->c.packs[0].name);
	} else if (!seen[K_IN_SOURCE]) {
		conf__fail(x, v->line, sect, NULL, "missing key \"source\": %d packs and no [bank] section (expected source = "
		     "the pack whose limits it sends, or a [bank] section)", x->c.npacks);
		return false;
	}
	if (strcmp(v->source, "bank") == 0) {
		if (!x->c.bank.enabled) {
			conf__fail(x, seen[K_IN_SOURCE], sect, "source", "bank, but there is no [bank] section");
			return false;
		}
		v->source_pack = CONF_BANK_SOURCE;
		return true;
	}
	v->source_pack = conf_pack_by_name(&x->c, v->source, strlen(v->source));
	if (v->source_pack < 0) {
		conf__fail(x, seen[K_IN_SOURCE], sect, "source", "no [pack.%s] section (expected a pack name or bank)",
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
	const struct conf_bank *b = &x->c.bank;
	bool bank = v->source_pack == CONF_BANK_SOURCE;
	const struct conf_pack *p = &x->c.packs[bank ? b->pack_idx[0] : v->source_pack];
	const char *lack = source_lacks(p->driver);
	for (int k = 1; bank && lack && k < b->npacks; k++)
		if (!source_lacks(x->c.packs[b->pack_idx[k]].driver))
			lack = NULL;
	if (!lack)
		return true;
	conf__fail(x, conf__seen_line(seen, K_IN_SOURCE, v->line), sect, "source", "%spack %s (protocol %s) can never give %s "
	     "(expected a source whose protocol reads cell voltages, or a bank with such a pack)",
	     bank ? "no pack of the bank can give what an inverter reads: " : "", p->name, p->driver->name, lack);
	return false;
}

/* A high-voltage protocol's source: every member's series cells given, and
 * its operating range (check_hv.c) inside the protocol's; true for the
 * other protocols. */
static bool inverter_source_range(struct conf_load *x, const struct conf_inverter *v, const int *seen, const char *sect)
{
	double lo, hi, smin, smax;
	char why[CONF_WHY_MAX];
	int line = conf__seen_line(seen, K_IN_SOURCE, v->line);
	if (!conf_inv_volt_range(v->protocol, &lo, &hi))
		return true;
	if (!conf__hv_source_range(&x->c, v->source_pack, &smin, &smax, why, sizeof(why))) {
		conf__fail(x, line, sect, "source", "%s: %s (protocol %s, %g-%g V)", v->source, why,
		     conf_inv_name(v->protocol), lo, hi);
		return false;
	}
	if (smin < lo - 1e-6 || smax > hi + 1e-6) {
		conf__fail(x, line, sect, "source", "%s runs %.1f-%.1f V (its series cells times their chemistry's cell "
		     "range), not inside protocol %s's %g-%g V (expected a source of more or fewer cells in series, "
		     "or another protocol)", v->source, smin, smax, conf_inv_name(v->protocol), lo, hi);
		return false;
	}
	return true;
}

/* Its port against the packs' (and so the tunnels') and the inverters' before it. */
static void inverter_shares(struct conf_load *x, int i, int line, const char *sect)
{
	const struct conf_inverter *v = &x->c.inverters[i];
	const char *w = inverter_wire(v);
	for (int j = 0; j < x->c.npacks; j++) {
		const struct conf_pack *p = &x->c.packs[j];
		if (strcmp(w, conf_pack_wire(p)) != 0)
			continue;
		if (p->is_can)
			conf__fail(x, line, sect, "port", "%s is the CAN bus [pack.%s] (line %d) reads: bmsgw would be a second "
			     "battery on that bus (expected a CAN port of its own for the inverter)", w, p->name, p->line);
		else
			conf__fail(x, line, sect, "port", "%s is the port of [pack.%s] (line %d) (expected a port of its own: "
			     "on a BMS's bus bmsgw is the master, on an inverter's a battery)", w, p->name, p->line);
		return;
	}
	for (int j = 0; j < i; j++)
		if (strcmp(w, inverter_wire(&x->c.inverters[j])) == 0) {
			conf__fail(x, line, sect, "port", "%s is already used by [inverter.%s] (line %d) (expected one inverter "
			     "per port)", w, x->c.inverters[j].name, x->c.inverters[j].line);
			return;
		}
}

static void finish_inverter(struct conf_load *x, int i)
{
	struct conf_inverter *v = &x->c.inverters[i];
	const int *seen = x->inverter_seen[i];
	char sect[CONF_NAME_MAX + 12];
	conf_bfmt(sect, sizeof(sect), "inverter.%s", v->name);
	if (!x->c.limits.enabled) {
		conf__fail(x, v->line, sect, NULL, "needs a [limits] section (expected [limits]: the limits an inverter is "
		     "sent come from there)");
		return;
	}
	if (!seen[K_IN_PROTOCOL]) {
		char list[CONF_EXP_MAX];
		conf__list_words(conf__keys[K_IN_PROTOCOL].words, list, sizeof(list));
		conf__fail(x, v->line, sect, NULL, "missing key \"protocol\" (expected protocol = one of %s)", list);
		return;
	}
	bool can = conf_inv_kind(v->protocol) == CONF_INV_CAN;
	if (!seen[K_IN_PORT]) {
		conf__fail(x, v->line, sect, NULL, "missing key \"port\" (expected port = %s)",
		     can ? "a CAN interface such as can0, or slcan:///dev/ttyACM0" : "/dev/... or tcp://HOST:PORT");
		return;
	}
	if (!inverter_keys(x, v, seen, sect))
		return;
	if (!(can ? can_port : rs485_port)(x, v, seen[K_IN_PORT], sect))
		return;
	conf_bfmt(v->wire, sizeof(v->wire), "%s", inverter_wire(v));
	if (inverter_source(x, v, seen, sect) && inverter_source_data(x, v, seen, sect) &&
	    inverter_source_range(x, v, seen, sect))
		inverter_shares(x, i, seen[K_IN_PORT], sect);
}

void conf__finish_inverters(struct conf_load *x)
{
	for (int i = 0; i < x->c.ninverters && !x->failed; i++)
		finish_inverter(x, i);
}
