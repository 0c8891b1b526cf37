/* SPDX-License-Identifier: MIT */
/* conf/check.c - the checks that need the whole file, run after the parse:
 * required keys, defaults computed from other keys (a protocol's baud rate
 * and address, a pack's unit id), names that point at other sections, and
 * what sections must not share (unit ids, wires, listening ports).  Each
 * step records the first error with conf__fail() and the rest are skipped.
 */
#include "conf_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bms/bms.h"


static int key_line(const struct conf_load *x, int i, int key)
{
	int l = x->pack_seen[i][key];
	return l ? l : x->c.packs[i].line;
}

/* "jbd, daly, ..." : the protocols that have a Bluetooth LE mode */
static void list_ble_protocols(char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; bms_drivers[i] && n < cap; i++) {
		const struct bms_driver *d = bms_drivers[i];
		if (!d->ble)
			continue;
		int r = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", d->name);
		if (r < 0)
			break;
		n += (size_t)r;
	}
	if (!n)
		conf_bfmt(buf, cap, "none in this build");
}

_Static_assert(CONF_PIN_MAX == BMS_PIN_MAX, "a pack's pin fits struct bms_poll.pin");

/* The protocols whose BMS asks for a PIN over Bluetooth LE, for a message. */
static void list_pin_protocols(char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; bms_drivers[i] && n < cap; i++) {
		if (!bms_drivers[i]->ble || !bms_drivers[i]->ble->pin)
			continue;
		int r = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", bms_drivers[i]->name);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

/* `pin`: a protocol whose BMS asks for one (ble->pin), over Bluetooth LE,
 * of its form; the value never in a message.  false after an error. */
static bool check_pin(struct conf_load *x, int i, const char *sect)
{
	const struct conf_pack *p = &x->c.packs[i];
	const struct bms_driver *d = p->driver;
	int line = x->pack_seen[i][K_PIN];
	char why[CONF_EXP_MAX];
	if (!line)
		return true;
	if (!d->ble || !d->ble->pin) {
		list_pin_protocols(why, sizeof(why));
		conf__fail(x, line, sect, "pin", "protocol %s takes no PIN (expected no pin: only %s ask for one)",
			   d->name, why);
		return false;
	}
	if (!p->is_ble) {
		conf__fail(x, line, sect, "pin", "a PIN is the Bluetooth module's (expected port = "
			   "ble://AA:BB:CC:DD:EE:FF with it, or no pin on %s)", p->port);
		return false;
	}
	if (!bms_pin_ok(d->ble->pin, p->pin, why, sizeof(why))) {
		conf__fail(x, line, sect, "pin", "%s", why);
		return false;
	}
	return true;
}

/* A pack's port against its protocol's transports, baud and key.  false after an error. */
static bool check_ble_pack(struct conf_load *x, int i, const char *sect)
{
	struct conf_pack *p = &x->c.packs[i];
	const int *seen = x->pack_seen[i];
	const struct bms_driver *d = p->driver;
	char list[CONF_EXP_MAX];
	list_ble_protocols(list, sizeof(list));
	if (p->is_ble) {
#ifndef HAVE_SYSTEMD
		if (!conf__pack_proxy(x, p)) {
			conf__fail(x, seen[K_PORT], sect, "port", "%s: built without Bluetooth support (bmsgw reaches "
			     "BlueZ through libsystemd's D-Bus library; this build has none: expected a serial or "
			     "tcp:// port, or adapter = the NAME of a [ble_proxy.NAME])", p->port);
			return false;
		}
#endif
		if (!d->ble) {
			conf__fail(x, seen[K_PORT], sect, "port", "protocol %s is not spoken over Bluetooth LE (expected a "
			     "/dev/... or tcp:// port, or a protocol with a Bluetooth mode: %s)", d->name, list);
			return false;
		}
		if (seen[K_BAUD]) {
			conf__fail(x, seen[K_BAUD], sect, "baud", "a Bluetooth link (%s) has no baud rate (expected no baud "
			     "key)", p->port);
			return false;
		}
	} else if (bms_ble_only(d)) {
		conf__fail(x, seen[K_PORT], sect, "port", "protocol %s exists only over Bluetooth LE (expected port = "
		     "ble://AA:BB:CC:DD:EE:FF)", d->name);
		return false;
	}
	if (d->ble && d->ble->company && !seen[K_KEY]) {
		conf__fail(x, p->line, sect, NULL, "missing key \"key\" (protocol %s decrypts the device's "
		     "advertisements: expected key = its 32 hex digit advertisement key)", d->name);
		return false;
	}
	if (seen[K_KEY] && !(d->ble && d->ble->company)) {
		conf__fail(x, seen[K_KEY], sect, "key", "protocol %s takes no key (expected no key: only protocols read "
		     "from advertisements, such as victron-ble, have one)", d->name);
		return false;
	}
	return check_pin(x, i, sect);
}

static bool is_can_protocol(const struct bms_driver *d)
{
	return d->can != NULL;
}

/* The bit rates of a CAN bus an slcan adapter can be set to (S0..S8). */
static const int can_rates[] = { 10000, 20000, 50000, 100000, 125000, 250000, 500000, 800000, 1000000 };

/* `bitrate`: on a CAN port only, one of can_rates[]; the protocol's by
 * default.  false after an error. */
static bool check_can_bitrate(struct conf_load *x, int i, const char *sect)
{
	struct conf_pack *p = &x->c.packs[i];
	const int *seen = x->pack_seen[i];
	if (!seen[K_BITRATE]) {
		p->bitrate = p->driver->can ? (int)p->driver->can->bitrate : 0;
		return true;
	}
	if (!p->is_can) {
		conf__fail(x, seen[K_BITRATE], sect, "bitrate", "only a CAN port has a bit rate (expected no bitrate key "
		     "on %s)", p->port);
		return false;
	}
	for (size_t k = 0; k < sizeof(can_rates) / sizeof(can_rates[0]); k++)
		if (p->bitrate == can_rates[k])
			return true;
	conf__fail(x, seen[K_BITRATE], sect, "bitrate", "%d is no CAN bit rate (expected 10000, 20000, 50000, 100000, "
	     "125000, 250000, 500000, 800000 or 1000000)", p->bitrate);
	return false;
}

/* A CAN port and a CAN protocol go together; a CAN bus has no baud rate of
 * the configuration's.  false after an error. */
static bool check_can_pack(struct conf_load *x, int i, const char *sect)
{
	const struct conf_pack *p = &x->c.packs[i];
	const int *seen = x->pack_seen[i];
	const struct bms_driver *d = p->driver;
	char list[CONF_EXP_MAX];
	conf__list_protocols_with(list, sizeof(list), is_can_protocol);
	if (d->can && !p->is_can) {
		conf__fail(x, seen[K_PORT], sect, "port", "protocol %s reads a CAN bus (expected port = a CAN interface such "
		     "as can0, or slcan:///dev/ttyACM0 for a serial CAN adapter)", d->name);
		return false;
	}
	if (p->is_can && !d->can) {
		conf__fail(x, seen[K_PORT], sect, "port", "\"%s\" is a CAN port, and protocol %s is not spoken on a CAN bus "
		     "(expected /dev/..., tcp://HOST:PORT or ble://MAC%s%s; a CAN port is for %s)", p->port, d->name,
		     p->is_slcan ? "" : ", e.g. /dev/", p->is_slcan ? "" : p->port, list);
		return false;
	}
	if (p->is_can && seen[K_BAUD]) {
		conf__fail(x, seen[K_BAUD], sect, "baud", "a CAN bus (%s) runs at the protocol's bit rate, %u kbit/s (expected "
		     "no baud key)", p->port, (unsigned)(d->can->bitrate / 1000));
		return false;
	}
	return check_can_bitrate(x, i, sect);
}

static bool can_listen(const struct bms_driver *d)
{
	return d->listen != NULL;
}

/* listen = true: a driver that can be read so, a wire, never a write. */
static void check_listen(struct conf_load *x, int i, const char *sect)
{
	struct conf_pack *p = &x->c.packs[i];
	const int *seen = x->pack_seen[i];
	char list[CONF_EXP_MAX];
	if (!p->listen) {
		if (seen[K_TAKEOVER_AFTER] && p->takeover_after > 0)
			conf__fail(x, seen[K_TAKEOVER_AFTER], sect, "takeover_after",
			     "only a listening pack takes the bus over (expected listen = true, or no takeover_after)");
		return;
	}
	if (!p->driver->listen || p->is_ble || p->is_can) {
		conf__list_protocols_with(list, sizeof(list), can_listen);
		conf__fail(x, seen[K_PK_LISTEN], sect, "listen",
		     "protocol %s cannot be read by listening to its bus%s (expected false; listen mode exists for "
		     "%s on a serial port or tcp://)", p->driver->name, p->is_ble || p->is_can ? " on this port" : "",
		     list);
	} else if (p->control) {
		conf__fail(x, seen[K_CONTROL], sect, "control",
		     "a listening pack is never written to: its bus has another master (expected control = false "
		     "with listen = true)");
	} else if (p->position) {
		conf__fail(x, seen[K_POSITION], sect, "position",
		     "a listening pack is heard at its own address (expected no position with listen = true)");
	}
}

/* Per pack: required keys, computed defaults, address against the protocol. */
static bool takes_any_address(const struct bms_driver *d)
{
	return d->any_address;
}

static bool has_group(const struct bms_driver *d)
{
	return d->group > 0;
}

static void finish_pack(struct conf_load *x, int i)
{
	struct conf_pack *p = &x->c.packs[i];
	const int *seen = x->pack_seen[i];
	char sect[CONF_NAME_MAX + 8];
	conf_bfmt(sect, sizeof(sect), "pack.%s", p->name);

	if (!seen[K_PROTOCOL]) {
		char list[CONF_EXP_MAX];
		conf__list_protocols(list, sizeof(list));
		conf__fail(x, p->line, sect, NULL, "missing key \"protocol\" (expected protocol = one of %s)", list);
		return;
	}
	if (!conf__mqtt_pack(x, i, sect))
		return;
	if (!seen[K_PORT] && !p->is_mqtt) {
		conf__fail(x, p->line, sect, NULL, "missing key \"port\" (expected port = /dev/..., tcp://HOST:PORT, "
		     "ble://AA:BB:CC:DD:EE:FF, or for %s a CAN interface such as can0 or slcan:///dev/ttyACM0)",
		     p->driver && p->driver->can ? p->driver->name : "pylon-can");
		return;
	}
	const struct bms_driver *d = p->driver;
	if (!check_ble_pack(x, i, sect) || !check_can_pack(x, i, sect))
		return;
	if (!seen[K_BAUD])
		p->baud = d->default_baud;
	if (seen[K_ADDRESS] && d->max_address == 0) {
		conf__fail(x, seen[K_ADDRESS], sect, "address", "protocol %s has no bus address (expected no address key)",
		     d->name);
		return;
	}
	if (!seen[K_ADDRESS])
		p->address = !d->max_address ? 0 : d->default_address ? d->default_address : d->min_address;
	/* a listened bus's master may sit below the addresses a poll may ask (a JK-PB at DIP 0) */
	int lowest = p->listen ? 0 : d->min_address;
	if (d->max_address != 0 && (p->address > d->max_address || p->address < lowest)) {
		conf__fail(x, seen[K_ADDRESS], sect, "address", "%d is out of range for protocol %s (expected %d..%d%s)",
		     p->address, d->name, lowest, d->max_address, p->listen ? " with listen = true" : "");
		return;
	}
	if (d->max_address != 0 && d->address_ok && !d->address_ok((uint8_t)p->address)) {
		conf__fail(x, seen[K_ADDRESS] ? seen[K_ADDRESS] : p->line, sect, "address",
		     "%d (0x%02X) is not an address protocol %s can use (expected a valid %s address in %d..%d)",
		     p->address, p->address, d->name, d->name, d->min_address, d->max_address);
		return;
	}
	if (p->cells > (int)bms_max_cells(d)) {
		conf__fail(x, seen[K_CELLS], sect, "cells", "protocol %s lists at most %u cells (expected cells = 0 to %u)",
		     d->name, bms_max_cells(d), bms_max_cells(d));
		return;
	}
	if (!seen[K_TIMEOUT] && d->default_timeout > 0)
		p->timeout = d->default_timeout;
	if (!seen[K_GAP])
		p->gap = -1; /* derived from the baud rate (may come from another pack of the port) */
	if (p->control && !d->control) {
		conf__fail(x, seen[K_CONTROL], sect, "control",
		     "protocol %s has no MOSFET control documented well enough to use (expected false; "
		     "control exists for daly, daly-modbus, jbd, jk and jk-pb)", d->name);
		return;
	}
	char list[CONF_EXP_MAX];
	if (p->address_any && !d->any_address) {
		conf__list_protocols_with(list, sizeof(list), takes_any_address);
		conf__fail(x, seen[K_ADDRESS_ANY], sect, "address_any",
		     "protocol %s takes only answers from the address it asks (expected false; address_any "
		     "exists for %s)", d->name, list);
		return;
	}
	if (p->position > d->group) {
		conf__list_protocols_with(list, sizeof(list), has_group);
		conf__fail(x, seen[K_POSITION], sect, "position",
		     "protocol %s has no answer for several packs (expected no position; positions exist "
		     "for %s)", d->name, list);
		return;
	}
	if (!seen[K_UNIT_ID])
		p->unit_id = i + 1;
	if (!conf__check_bms_settings(x, i, sect))
		return;
	check_listen(x, i, sect);
}

/* bits per character on the wire (8N1) and Modbus RTU's inter-frame silence */
#define CHAR_BITS 10.0
#define T35_CHARS 3.5

double conf_pack_gap(const struct conf_pack *p, bool write)
{
	const struct bms_driver *d = p->driver;
	double floor = d->gap_floor;
	if (write && d->control && d->control->gap_floor > floor)
		floor = d->control->gap_floor;
	if (p->gap >= 0)
		return write && floor > p->gap ? floor : p->gap;
	if (p->is_ble || p->is_can)
		return floor; /* no baud rate, no character time: the protocol's floor only */
	double t35 = T35_CHARS * CHAR_BITS / (p->baud > 0 ? p->baud : d->default_baud);
	return t35 > floor ? t35 : floor;
}

/* The freshness rule every reader of a pack's data shares (units,
 * warnings): its own stale_after, else [gateway]'s. */
double conf_pack_stale_after(const struct conf_pack *p, double g)
{
	return p->stale_after > 0 ? p->stale_after : g;
}

/* `gap` is a property of the wire: given on one pack of a port, it holds for
 * every pack of that port (check_packs() refused different values). */
static void share_gaps(struct conf_load *x)
{
	for (int i = 0; i < x->c.npacks; i++) {
		struct conf_pack *p = &x->c.packs[i];
		for (int j = 0; j < x->c.npacks && p->gap < 0; j++)
			if (x->c.packs[j].gap >= 0 && strcmp(p->port, x->c.packs[j].port) == 0)
				p->gap = x->c.packs[j].gap;
	}
}

/* Packs i and j (j < i) share a port: distinct addresses, or one group
 * (the same protocol and address, distinct positions); address_any only
 * where no other pack could be taken for this one. */
static bool check_shared(struct conf_load *x, int i, int j, const char *sect)
{
	const struct conf_pack *p = &x->c.packs[i], *q = &x->c.packs[j];
	bool group = p->position && q->position && p->driver == q->driver && p->address == q->address;
	if (group && p->position == q->position) {
		conf__fail(x, key_line(x, i, K_POSITION), sect, "position",
		     "%d is already used by [pack.%s] (line %d) in the answer of address %d on %s "
		     "(expected a distinct position per pack)", p->position, q->name, key_line(x, j, K_POSITION),
		     p->address, p->port);
		return false;
	}
	if (!group && p->address == q->address) {
		conf__fail(x, key_line(x, i, K_ADDRESS), sect, "address",
		     "%d is already used by [pack.%s] (line %d) on the same port %s "
		     "(expected a distinct address per wire, or a position in its answer for all)",
		     p->address, q->name, key_line(x, j, K_ADDRESS), p->port);
		return false;
	}
	if (!group && (p->address_any || q->address_any)) {
		int k = p->address_any ? i : j;
		char ksect[CONF_NAME_MAX + 8];
		conf_bfmt(ksect, sizeof(ksect), "pack.%s", x->c.packs[k].name);
		conf__fail(x, key_line(x, k, K_ADDRESS_ANY), ksect, "address_any",
		     "[pack.%s] takes answers from any address, but [pack.%s] shares its port %s "
		     "(expected address_any only for a pack alone on its port, or the packs of one answer "
		     "for all)", x->c.packs[k].name, x->c.packs[k == i ? j : i].name, p->port);
		return false;
	}
	return true;
}

/* Packs i and j (j < i) share a port: both listen or neither (one reader
 * that never writes, or a poller), one protocol, one takeover. */
static bool check_listen_shared(struct conf_load *x, int i, int j, const char *sect)
{
	const struct conf_pack *p = &x->c.packs[i], *q = &x->c.packs[j];
	if (p->listen != q->listen) {
		conf__fail(x, p->listen ? x->pack_seen[i][K_PK_LISTEN] : p->line, sect, "listen",
		     "%s on %s, but [pack.%s] (line %d) %s there (expected listen = true on every pack of a bus "
		     "another master polls, or on none)", p->listen ? "listens" : "polls", p->port, q->name,
		     q->line, q->listen ? "listens" : "polls");
		return false;
	}
	if (p->listen && p->driver != q->driver) {
		conf__fail(x, x->pack_seen[i][K_PROTOCOL], sect, "protocol",
		     "%s differs from %s of [pack.%s] (line %d) on the listened bus %s (expected the protocol of "
		     "its master on every pack)", p->driver->name, q->driver->name, q->name, q->line, p->port);
		return false;
	}
	if (p->listen && p->takeover_after != q->takeover_after) {
		conf__fail(x, key_line(x, i, K_TAKEOVER_AFTER), sect, "takeover_after",
		     "%g differs from %g of [pack.%s] (line %d) on the same bus %s (expected one takeover_after "
		     "per bus)", p->takeover_after, q->takeover_after, q->name, q->line, p->port);
		return false;
	}
	return true;
}

/* Between packs: unique unit ids, one serial setting and distinct addresses per wire. */
static void check_packs(struct conf_load *x, int i)
{
	const struct conf_pack *p = &x->c.packs[i];
	const int *seen = x->pack_seen[i];
	char sect[CONF_NAME_MAX + 8];
	conf_bfmt(sect, sizeof(sect), "pack.%s", p->name);

	for (int j = 0; j < i && !x->failed; j++) {
		const struct conf_pack *q = &x->c.packs[j];
		if (p->unit_id == q->unit_id) {
			conf__fail(x, key_line(x, i, K_UNIT_ID), sect, "unit_id",
			     "%d%s is already used by [pack.%s] (line %d) (expected a unique unit id 1..247)",
			     p->unit_id, seen[K_UNIT_ID] ? "" : " (default: the pack's position)", q->name,
			     key_line(x, j, K_UNIT_ID));
			return;
		}
		if (strcmp(p->port, q->port) != 0) {
			if (strcmp(conf_pack_wire(p), conf_pack_wire(q)) == 0) {
				conf__fail(x, key_line(x, i, K_PORT), sect, "port", "%s opens %s, as [pack.%s] (line %d) does with "
				     "%s (expected one way to a device: the same port string on every pack of it)", p->port,
				     conf_pack_wire(p), q->name, key_line(x, j, K_PORT), q->port);
				return;
			}
			continue;
		}
		/* one pack per Bluetooth device, but for a device that carries
		 * several batteries, each a pack by its address (dometic) */
		if (p->is_ble && (p->driver != q->driver || !p->driver->max_address)) {
			conf__fail(x, key_line(x, i, K_PORT), sect, "port",
			     "%s is already used by [pack.%s] (line %d) (expected one pack per Bluetooth device, "
			     "but for the batteries of one device of a protocol with addresses, each its own)",
			     p->port, q->name, key_line(x, j, K_PORT));
			return;
		}
		if (!p->is_tcp && p->baud != q->baud) {
			conf__fail(x, key_line(x, i, K_BAUD), sect, "baud",
			     "%d%s differs from %d of [pack.%s] (line %d) on the same port %s "
			     "(expected one serial setting per wire)",
			     p->baud, seen[K_BAUD] ? "" : " (protocol default)", q->baud, q->name,
			     key_line(x, j, K_BAUD), p->port);
			return;
		}
		if (seen[K_GAP] && x->pack_seen[j][K_GAP] && p->gap != q->gap) {
			conf__fail(x, key_line(x, i, K_GAP), sect, "gap",
			     "%g differs from %g of [pack.%s] (line %d) on the same port %s "
			     "(expected one gap per wire)",
			     p->gap, q->gap, q->name, key_line(x, j, K_GAP), p->port);
			return;
		}
		const struct bms_driver *nd = p->driver->max_address == 0 ? p->driver
		                              : q->driver->max_address == 0 ? q->driver : NULL;
		if (nd) {
			conf__fail(x, key_line(x, i, K_PORT), sect, "port",
			     "%s is already used by [pack.%s] (line %d) and protocol %s has no bus address "
			     "(expected one pack on this port)",
			     p->port, q->name, key_line(x, j, K_PORT), nd->name);
			return;
		}
		if (!check_shared(x, i, j, sect) || !check_listen_shared(x, i, j, sect))
			return;
	}
}


/* One pack name of a bank list at p (n characters) into the bank, once;
 * false (and the error) when it is no pack or listed twice. */
static bool bank_add(struct conf_load *x, const char *key, int line, const char *p, size_t n)
{
	struct conf_bank *b = &x->c.bank;
	int idx = conf_pack_by_name(&x->c, p, n);
	if (idx < 0) {
		conf__fail(x, line, "bank", key, "no [pack.%.*s] section (expected names of configured packs)", (int)n,
			   p);
		return false;
	}
	if (idx == b->shunt_idx) {
		conf__fail(x, line, "bank", key, "%.*s is the bank's shunt (line %d), which measures the bank and is no "
			   "member of it (expected the packs without the shunt)", (int)n, p, x->bank_seen[K_BANK_SHUNT]);
		return false;
	}
	for (int j = 0; j < b->npacks; j++)
		if (b->pack_idx[j] == idx) {
			conf__fail(x, line, "bank", key, "%.*s is listed twice", (int)n, p);
			return false;
		}
	b->pack_idx[b->npacks++] = idx;
	return true;
}

/* `packs = a, b, c` (or every pack when empty). */
static bool bank_packs(struct conf_load *x)
{
	struct conf_bank *b = &x->c.bank;
	int pl = x->bank_seen[K_BANK_PACKS] ? x->bank_seen[K_BANK_PACKS] : b->line;
	if (b->packs_text[0] == '\0') {
		for (int i = 0; i < x->c.npacks; i++)
			if (i != b->shunt_idx)
				b->pack_idx[b->npacks++] = i;
		if (b->npacks == 0)
			conf__fail(x, x->bank_seen[K_BANK_SHUNT], "bank", "shunt", "%s is the only pack: the bank has no "
				   "member (expected the bank's packs beside its shunt)", b->shunt);
		return b->npacks > 0;
	}
	for (const char *p = b->packs_text; *p;) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		size_t n = strcspn(p, ", \t");
		if (!bank_add(x, "packs", pl, p, n))
			return false;
		p += n;
	}
	if (b->npacks == 0) {
		conf__fail(x, pl, "bank", "packs", "empty list (expected pack names, or no key for all packs)");
		return false;
	}
	return true;
}

/* `strings = a+b+c+d, e+f+g+h`: the bank's packs string by string. */
static bool bank_strings(struct conf_load *x)
{
	struct conf_bank *b = &x->c.bank;
	int sl = x->bank_seen[K_BANK_STRINGS];
	const char *p = b->strings_text;
	bool want_member = true;       /* after a start, a + or a , */
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		size_t n = strcspn(p, "+, \t");
		if (want_member && n == 0) {
			conf__fail(x, sl, "bank", "strings", "a pack name is missing %s (expected pack names joined by + "
				   "in series, strings separated by commas, e.g. a+b+c+d, e+f+g+h)",
				   *p ? "before a + or a comma" : "at the end");
			return false;
		}
		if (n) {
			if (!want_member) {
				conf__fail(x, sl, "bank", "strings", "%.*s follows a name without + or a comma", (int)n, p);
				return false;
			}
			if (b->string_len[b->nstrings] == 0)
				b->string_first[b->nstrings] = b->npacks;
			if (!bank_add(x, "strings", sl, p, n))
				return false;
			const struct conf_pack *cp = &x->c.packs[b->pack_idx[b->npacks - 1]];
			if (!(cp->driver->provides & BMS_HAS_CURRENT)) {
				conf__fail(x, sl, "bank", "strings", "%s: protocol %s measures no current (a balancer beside "
					   "a BMS, not a pack in series; expected packs whose BMS carries the current)",
					   cp->name, cp->driver->name);
				return false;
			}
			b->string_len[b->nstrings]++;
			p += n;
			want_member = false;
			continue;
		}
		if (*p == '\0')
			break;
		want_member = true;
		if (*p++ == ',')
			b->nstrings++;
	}
	b->nstrings++;
	return true;
}

/* `shunt = NAME`: a configured pack that measures a current (listen mode
 * is fine); it is resolved before the members, which it may not be. */
static bool bank_shunt(struct conf_load *x)
{
	struct conf_bank *b = &x->c.bank;
	if (!b->shunt[0])
		return true;
	int sl = x->bank_seen[K_BANK_SHUNT];
	int idx = conf_pack_by_name(&x->c, b->shunt, strlen(b->shunt));
	if (idx < 0) {
		conf__fail(x, sl, "bank", "shunt", "no [pack.%s] section (expected the name of the pack that measures the "
			   "bank's current)", b->shunt);
		return false;
	}
	const struct conf_pack *cp = &x->c.packs[idx];
	if (!(cp->driver->provides & BMS_HAS_CURRENT)) {
		conf__fail(x, sl, "bank", "shunt", "%s: protocol %s measures no current (expected a shunt or a BMS that "
			   "measures the whole bank's current)", cp->name, cp->driver->name);
		return false;
	}
	b->shunt_idx = idx;
	return true;
}

/* [bank]: resolve the shunt, `packs` or `strings`, check the unit id against the packs'. */
static void finish_bank(struct conf_load *x)
{
	struct conf_bank *b = &x->c.bank;
	b->shunt_idx = -1;
	if (!b->enabled || !bank_shunt(x))
		return;
	b->npacks = b->nstrings = 0;
	memset(b->string_len, 0, sizeof(b->string_len));
	if (b->strings_text[0] && x->bank_seen[K_BANK_PACKS]) {
		conf__fail(x, x->bank_seen[K_BANK_STRINGS], "bank", "strings",
			   "packs (line %d) lists the bank's packs too (expected one of the two: strings for packs in series)",
			   x->bank_seen[K_BANK_PACKS]);
		return;
	}
	if (b->strings_text[0] ? !bank_strings(x) : !bank_packs(x))
		return;
	/* the strings are units of the history named string1 ...: no pack may be */
	for (int i = 0; i < x->c.npacks; i++) {
		const char *nm = x->c.packs[i].name;
		int k = strncmp(nm, "string", 6) == 0 && nm[6] >= '1' && nm[6] <= '9' ? atoi(nm + 6) : 0;
		if (k >= 1 && k <= b->nstrings && strspn(nm + 6, "0123456789") == strlen(nm + 6)) {
			conf__fail(x, x->bank_seen[K_BANK_STRINGS], "bank", "strings",
				   "[pack.%s] has the name the history gives the bank's string %d (expected another pack "
				   "name)", nm, k);
			return;
		}
	}
	for (int i = 0; i < x->c.npacks; i++)
		if (x->c.packs[i].unit_id == b->unit_id) {
			conf__fail(x, x->bank_seen[K_BANK_UNIT_ID] ? x->bank_seen[K_BANK_UNIT_ID] : b->line, "bank", "unit_id",
			     "%d is already the unit id of [pack.%s] (line %d)%s", b->unit_id, x->c.packs[i].name,
			     key_line(x, i, K_UNIT_ID), x->bank_seen[K_BANK_UNIT_ID] ? "" : " (100 is the bank's default)");
			return;
		}
}

/* The file a key names must be a regular file bmsgw can read (checked at
 * load, so that --check and a reload catch it; rfile.c). */
static bool readable(struct conf_load *x, int key, const char *sect, const char *path)
{
	char why[CONF_PORT_MAX + 160];
	int fd = conf_file_open(path, why, sizeof(why));
	if (fd >= 0) {
		close(fd);
		return true;
	}
	conf__fail(x, x->mqtt_seen[key], sect, conf__keys[key].name, "%s", why);
	return false;
}


static bool private(struct conf_load *x, int key, const char *sect, const char *path)
{
	char why[CONF_PORT_MAX + 160];
	if (conf_private_file(path, why, sizeof(why)) == 0)
		return true;
	conf__fail(x, x->mqtt_seen[key], sect, conf__keys[key].name, "%s", why);
	return false;
}

/* [mqtt]: required host, computed defaults, TLS files, the password. */
static void finish_mqtt(struct conf_load *x)
{
	struct conf_mqtt *m = &x->c.mqtt;
	if (!m->enabled)
		return;
	const int *seen = x->mqtt_seen;
	const char *sect = "mqtt";
	if (!seen[K_MQ_HOST]) {
		conf__fail(x, m->line, sect, NULL, "missing key \"host\" (expected host = the MQTT broker's name or address)");
		return;
	}
	if (!seen[K_MQ_PORT] && m->tls)
		m->port = 8883;
	memcpy(m->site, x->c.gw.site, sizeof(m->site));
	if (!seen[K_MQ_TOPIC_PREFIX] && m->site[0]) /* an explicit topic_prefix wins */
		conf_bfmt(m->topic_prefix, sizeof(m->topic_prefix), "bmsgw/%s", m->site);
	if (!seen[K_MQ_CLIENT_ID]) {
		/* bmsgw-<hostname>, in the characters a client id may hold */
		char h[CONF_ID_MAX] = "";
		if (gethostname(h, sizeof(h) - 1) != 0 || !h[0])
			conf_bfmt(h, sizeof(h), "host");
		h[sizeof(h) - 1] = '\0';
		for (char *p = h; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
				*p = '-';
		conf_bfmt(m->client_id, sizeof(m->client_id), "bmsgw-%.*s", CONF_ID_MAX - 7, h);
	}
	if (!m->tls) {
		static const int tls_keys[] = { K_MQ_CA_FILE, K_MQ_CERT_FILE, K_MQ_KEY_FILE };
		for (size_t i = 0; i < sizeof(tls_keys) / sizeof(tls_keys[0]); i++)
			if (seen[tls_keys[i]]) {
				conf__fail(x, seen[tls_keys[i]], sect, conf__keys[tls_keys[i]].name,
				     "is for TLS (expected tls = true with it)");
				return;
			}
	}
	if (!seen[K_MQ_CERT_FILE] != !seen[K_MQ_KEY_FILE]) {
		int k = seen[K_MQ_CERT_FILE] ? K_MQ_CERT_FILE : K_MQ_KEY_FILE;
		conf__fail(x, seen[k], sect, conf__keys[k].name, "needs %s too (a client certificate and its key)",
		     k == K_MQ_CERT_FILE ? "key_file" : "cert_file");
		return;
	}
	if ((seen[K_MQ_CA_FILE] && !readable(x, K_MQ_CA_FILE, sect, m->ca_file)) ||
	    (seen[K_MQ_CERT_FILE] && !readable(x, K_MQ_CERT_FILE, sect, m->cert_file)) ||
	    (seen[K_MQ_KEY_FILE] && !private(x, K_MQ_KEY_FILE, sect, m->key_file)))
		return;
	if (seen[K_MQ_PASSWORD_FILE]) {
		if (!seen[K_MQ_USERNAME]) {
			conf__fail(x, seen[K_MQ_PASSWORD_FILE], sect, "password_file",
			     "a password needs a user name (expected username = ... too)");
			return;
		}
		char why[CONF_PORT_MAX + 160];
		if (conf_read_password(m->password_file, m->password, sizeof(m->password), why, sizeof(why)) < 0)
			conf__fail(x, seen[K_MQ_PASSWORD_FILE], sect, "password_file", "%s", why);
	}
}

/* May the file have no [pack.*]: a section's CONF_KF_PACKS_LATER key is
 * true and the section on (section.h: packs_later)?  Else how = the way
 * to have them later (", or [http] with setup = true to add them ..."). */
static bool packs_later(struct conf_load *x, char *how, size_t cap)
{
	how[0] = '\0';
	for (size_t i = 0; i < conf__nsections(); i++) {
		const struct conf__rt *r = conf__rt_nth(i);
		const struct conf_section *s = r->s;
		for (int k = 0; s->packs_later && !s->named && k < s->nkeys; k++) {
			if (!(s->keys[k].flags & CONF_KF_PACKS_LATER))
				continue;
			if (conf_section_on(&x->c, s) && *FIELD(conf__obj(&x->c, r, 0), s->keys[k].off, bool *))
				return true;
			conf_bfmt(how, cap, ", or [%s] with %s = true %s", s->word, s->keys[k].name, s->packs_later);
		}
	}
	return false;
}

/* [pack.*]: at least one; each alone, then against the others. */
static void finish_packs(struct conf_load *x)
{
	char how[CONF_EXP_MAX];
	if (x->c.npacks == 0) {
		/* a new installation: the section whose key says so adds them later */
		if (!packs_later(x, how, sizeof(how)))
			conf__fail(x, 0, NULL, NULL, "no [pack.*] section (expected at least one battery pack%s)", how);
		return;
	}
	for (int i = 0; i < x->c.npacks && !x->failed; i++)
		finish_pack(x, i);
	for (int i = 1; i < x->c.npacks && !x->failed; i++)
		check_packs(x, i);
	share_gaps(x);
}

/* Is the history kept: the section whose key keeps it (its file role) is on
 * (section.h, conf_section_on) and that key is not none?  *hs and *hk are
 * that section and key (NULL when no section has one). */
static bool history_kept(struct conf_load *x, const struct conf_section **hs, const struct conf_key **hk)
{
	*hs = NULL;
	*hk = NULL;
	for (size_t i = 0; i < conf__nsections(); i++) {
		const struct conf__rt *r = conf__rt_nth(i);
		for (int k = 0; !r->s->named && k < r->s->nkeys; k++)
			if (r->s->keys[k].file == CONF_FILE_HISTORY) {
				*hs = r->s;
				*hk = &r->s->keys[k];
				const char *v = (const char *)conf__obj(&x->c, r, 0) + (*hk)->off;
				return conf_section_on(&x->c, r->s) && strcmp(v, "none") != 0;
			}
	}
	return false;
}

/* [mqtt] backfill reads the history: it needs one. */
static void finish_backfill(struct conf_load *x)
{
	const struct conf_mqtt *m = &x->c.mqtt;
	const struct conf_section *hs;
	const struct conf_key *hk;
	if (!m->enabled || !m->backfill || history_kept(x, &hs, &hk))
		return;
	if (hs)
		conf__fail(x, x->mqtt_seen[K_MQ_BACKFILL], "mqtt", "backfill", "needs the history, which it publishes "
			   "from: there is none (expected a [%s] section%s%s%s, without %s = none; or backfill = false)",
			   hs->word, hs->with ? ", or [" : "", hs->with ? hs->with : "", hs->with ? "]" : "", hk->name);
	else
		conf__fail(x, x->mqtt_seen[K_MQ_BACKFILL], "mqtt", "backfill", "needs the history, which it publishes "
			   "from: there is none (expected backfill = false)");
}

/* conf's steps after the parse, by their order (sections.c adds the rooms'
 * sections' own at theirs, section.h): a step may rely on what the steps
 * before it resolved; whose each file is comes first, before any is read. */
#define STEP(o, f) { .order = o, .finish = f }
static const struct conf__step own[] = {
	STEP(0, conf__finish_files), STEP(10, finish_packs), STEP(20, finish_bank),
	STEP(40, finish_mqtt), STEP(45, conf__finish_mqtt_packs),
	STEP(65, finish_backfill), STEP(70, conf__finish_limits), STEP(80, conf__finish_soc),
	STEP(130, conf__finish_ble),
};

/* conf's steps and the rooms' sections' (sections.c), by order; conf's
 * first at one order. */
void conf__run_finish(struct conf_load *x)
{
	size_t n, i = 0, j = 0, nown = sizeof(own) / sizeof(own[0]);
	const struct conf__step *room = conf__room_steps(false, &n);
	while ((i < nown || j < n) && !x->failed)
		if (j >= n || (i < nown && own[i].order <= room[j].order))
			own[i++].finish(x);
		else
			room[j++].finish(x);
}
