/* SPDX-License-Identifier: MIT */
/* gateway/modbus/modbus_conf.c - the Modbus room's sections of the
 * configuration (conf/section.h) but [modbus_tls] (mbtls_conf.c):
 * [upstream.NAME] (its source, its register window), [sunspec] (where its
 * block lies) and [rtu] (a serial port of its own): their keys, the checks
 * after the parse and their lines of --check. */
#include "modbus_conf.h"

#include <stddef.h>
#include <string.h>

/* ---------------------------------------------------------------- upstream */

enum { UP_HOST, UP_PORT, UP_UNIT_ID, UP_BASE, UP_SOURCE, UP_INTERVAL, UP_TIMEOUT, UP_REGISTERS, UP_NKEYS };

#define UP(f) offsetof(struct conf_upstream, f)
_Static_assert(UP(reg_last) == UP(reg_first) + sizeof(int), "KT_RANGE stores two adjacent ints");

/* any change restarts the pusher */
static const struct conf_key up_keys[UP_NKEYS] = {
	[UP_HOST] = {"host", CONF_RESTART, KT_HOST, 0, 0, false, NULL, UP(host), NULL},
	[UP_PORT] = {"port", CONF_RESTART, KT_INT, 1, 65535, false, NULL, UP(port), "502"},
	[UP_UNIT_ID] = {"unit_id", CONF_RESTART, KT_INT, 0, 255, false, NULL, UP(unit_id), "1"},
	[UP_BASE] = {"base", CONF_RESTART, KT_INT, 0, 65535, false, NULL, UP(base), NULL},
	[UP_SOURCE] = {"source", CONF_RESTART, KT_NAME, 0, 0, false, NULL, UP(source), NULL},
	[UP_INTERVAL] = {"interval", CONF_RESTART, KT_DOUBLE, 0.2, 86400, false, NULL, UP(interval), "5"},
	[UP_TIMEOUT] = {"timeout", CONF_RESTART, KT_DOUBLE, 0, 60, true, NULL, UP(timeout), "2"},
	[UP_REGISTERS] = {"registers", CONF_RESTART, KT_RANGE, 0, REG_MAP_SIZE - 1, false, NULL, UP(reg_first),
			  "0-124"},
};

/* [upstream.NAME]: required keys, the source, the register window. */
static void upstream_one(struct conf_load *x, int i)
{
	const struct conf *c = conf_loading(x);
	struct conf_upstream *u = (struct conf_upstream *)gw_upstream_cfg(c, i);
	const int *seen = conf_seen(x, &gw_upstream_section, i);
	char sect[CONF_NAME_MAX + 12];
	conf_bfmt(sect, sizeof(sect), "upstream.%s", u->name);
	if (!seen[UP_HOST]) {
		conf_fail(x, u->line, sect, NULL, "missing key \"host\" (expected host = the Modbus TCP server to push to)");
		return;
	}
	if (!seen[UP_SOURCE]) {
		conf_fail(x, u->line, sect, NULL, "missing key \"source\" (expected source = a pack name or bank)");
		return;
	}
	if (strcmp(u->source, "bank") == 0) {
		if (!c->bank.enabled) {
			conf_fail(x, seen[UP_SOURCE], sect, "source", "bank, but there is no [bank] section");
			return;
		}
		u->source_pack = CONF_BANK_SOURCE;
	} else {
		u->source_pack = conf_pack_by_name(c, u->source, strlen(u->source));
		if (u->source_pack < 0) {
			conf_fail(x, seen[UP_SOURCE], sect, "source", "no [pack.%s] section (expected a pack name or bank)",
				  u->source);
			return;
		}
	}
	u->base_set = seen[UP_BASE] != 0;
	if (!u->base_set)
		u->base = c->gw.base + u->reg_first;
	if (u->base + (u->reg_last - u->reg_first) > 65535)
		conf_fail(x, seen[UP_BASE] ? seen[UP_BASE] : seen[UP_REGISTERS], sect, "base",
			  "%d + %d registers runs past 65535", u->base, u->reg_last - u->reg_first + 1);
}

static void upstream_finish(struct conf_load *x)
{
	for (int i = 0; i < gw_nupstreams(conf_loading(x)) && !conf_failed(x); i++)
		upstream_one(x, i);
}

static void upstream_print(const struct conf *c, FILE *out)
{
	char hp[CONF_HOST_MAX + 16];
	if (gw_nupstreams(c))
		fprintf(out, "upstreams (Modbus TCP push, FC16)\n");
	for (int i = 0; i < gw_nupstreams(c); i++) {
		const struct conf_upstream *u = gw_upstream_cfg(c, i);
		conf_fmt_hostport(hp, sizeof(hp), u->host, u->port);
		fprintf(out, "  %s: %s unit %d, registers %d..%d of %s%s -> addresses %d..%d, every %g s "
			"(timeout %g s); a stale source pushes only its failure flag\n",
			u->name, hp, u->unit_id, u->reg_first, u->reg_last,
			u->source_pack == CONF_BANK_SOURCE ? "the bank" : "pack ",
			u->source_pack == CONF_BANK_SOURCE ? "" : u->source, u->base,
			u->base + u->reg_last - u->reg_first, u->interval, u->timeout);
	}
}

const struct conf_section gw_upstream_section = {
	.word = "upstream", .named = true, .max = CONF_MAX_UPSTREAMS, .size = sizeof(struct conf_upstream),
	.name = UP(name), .line = UP(line), .enabled = CONF_NO_FIELD, .keys = up_keys, .nkeys = UP_NKEYS,
	.list_order = 40, .finish_order = 30, .print_order = 90, .finish = upstream_finish, .print = upstream_print,
};

/* ----------------------------------------------------------------- sunspec */

enum { SS_BASE, SS_SERIAL, SS_NKEYS };

#define SS(f) offsetof(struct conf_sunspec, f)

/* read as the servers answer */
static const struct conf_key ss_keys[SS_NKEYS] = {
	[SS_BASE] = {"base", CONF_LIVE, KT_INT, 0, 65535, false, NULL, SS(base), "40000"},
	[SS_SERIAL] = {"serial", CONF_LIVE, KT_LABEL, 1, CONF_SS_SERIAL_MAX, false, NULL, SS(serial), NULL},
};

int gw_sunspec_regs(const struct conf *c, bool bank)
{
	int n = CONF_SUNSPEC_MARKER + CONF_SUNSPEC_HEADER + CONF_SUNSPEC_COMMON + CONF_SUNSPEC_HEADER +
		CONF_SUNSPEC_BATTERY + CONF_SUNSPEC_HEADER;
	if (bank) /* 803's strings: the bank's packs, or its strings of packs in series */
		n += CONF_SUNSPEC_HEADER + CONF_SUNSPEC_BANK +
		     CONF_SUNSPEC_STRING * (c->bank.nstrings ? c->bank.nstrings : c->bank.npacks);
	return n;
}

/* [sunspec]: the largest block fits below 65536 and clear of the register map. */
static void sunspec_finish(struct conf_load *x)
{
	const struct conf *c = conf_loading(x);
	const struct conf_sunspec *s = gw_sunspec_cfg(c);
	if (!s->enabled)
		return;
	int len = gw_sunspec_regs(c, c->bank.enabled), gb = c->gw.base;
	int line = conf_key_line(x, &gw_sunspec_section, 0, SS_BASE);
	const char *which = c->bank.enabled ? "the bank's block" : "a pack's block";
	if (s->base + len > 65536) {
		conf_fail(x, line, "sunspec", "base", "%d + %d registers (%s) runs past 65535 (expected a base of at most "
			  "%d)", s->base, len, which, 65536 - len);
		return;
	}
	if (s->base < gb + REG_MAP_SIZE && gb < s->base + len) {
		char alt[64];
		conf_bfmt(alt, sizeof(alt), "%d or less, or ", gb - len);
		conf_fail(x, line, "sunspec", "base", "registers %d..%d (%s) overlap the register map %d..%d of [gateway] "
			  "base = %d (expected a base of %s%d or more)", s->base, s->base + len - 1, which, gb,
			  gb + REG_MAP_SIZE - 1, gb, gb - len >= 0 ? alt : "", gb + REG_MAP_SIZE);
	}
}

static void sunspec_print(const struct conf *c, FILE *out)
{
	const struct conf_sunspec *s = gw_sunspec_cfg(c);
	if (!s->enabled)
		return;
	int np = gw_sunspec_regs(c, false);
	fprintf(out, "sunspec\n  registers     %d..%d on a pack's unit (SunS, models 1 and 802, end)", s->base,
		s->base + np - 1);
	if (c->bank.enabled)
		fprintf(out, "; %d..%d on the bank's unit (model 803 too, %d string%s)", s->base,
			s->base + gw_sunspec_regs(c, true) - 1, c->bank.npacks, c->bank.npacks == 1 ? "" : "s");
	fprintf(out, "; read-only\n  serial        %s\n",
		s->serial[0] ? s->serial : "(the unit's name, id and this machine's id)");
}

const struct conf_section gw_sunspec_section = {
	.word = "sunspec", .max = 1, .size = sizeof(struct conf_sunspec), .name = CONF_NO_FIELD, .line = SS(line),
	.enabled = SS(enabled), .keys = ss_keys, .nkeys = SS_NKEYS,
	.list_order = 120, .finish_order = 100, .print_order = 130, .finish = sunspec_finish, .print = sunspec_print,
};

/* --------------------------------------------------------------------- rtu */

enum { RT_PORT, RT_BAUD, RT_MODE, RT_CONTROL, RT_NKEYS };

#define RT(f) offsetof(struct conf_rtu, f)
_Static_assert(sizeof(enum conf_rtu_mode) == sizeof(int), "enum stored as int");

static const char *const mode_words[] = {"8N1", "8E1", "8O1", "8N2", NULL};

/* the serial line restarts the server; control is read as it goes */
static const struct conf_key rt_keys[RT_NKEYS] = {
	[RT_PORT] = {"port", CONF_RESTART, KT_DEVICE, 0, 0, false, NULL, RT(port), NULL},
	[RT_BAUD] = {"baud", CONF_RESTART, KT_BAUD, 0, 0, false, NULL, RT(baud), "9600"},
	[RT_MODE] = {"mode", CONF_RESTART, KT_WORD, 0, 0, false, mode_words, RT(mode), "8N1"},
	[RT_CONTROL] = {"control", CONF_LIVE, KT_BOOL, 0, 0, false, NULL, RT(control), "false"},
};

/* [rtu]: a serial port that no pack and no other output opens (a tunnel
 * lends a pack's wire: the packs cover it). */
static void rtu_finish(struct conf_load *x)
{
	const struct conf *c = conf_loading(x);
	const struct conf_rtu *r = gw_rtu_cfg(c);
	int line = conf_seen(x, &gw_rtu_section, 0)[RT_PORT];
	char who[CONF_NAME_MAX + 32];
	int wline;
	if (!r->enabled)
		return;
	if (!line) {
		conf_fail(x, r->line, "rtu", NULL, "missing key \"port\" (expected port = the serial device of the RS485 "
			  "bus, /dev/...)");
		return;
	}
	for (int j = 0; j < c->npacks; j++)
		if (strcmp(r->port, conf_pack_wire(&c->packs[j])) == 0) {
			conf_fail(x, line, "rtu", "port", "%s is the port of [pack.%s] (line %d) (expected a port of its own: "
				  "on a BMS's bus bmsgw is the master, on this one a slave)", r->port, c->packs[j].name,
				  c->packs[j].line);
			return;
		}
	if (conf_wire_user(c, &gw_rtu_section, r->port, who, sizeof(who), &wline))
		conf_fail(x, line, "rtu", "port", "%s is the port of %s (line %d) (expected a port of its own)", r->port,
			  who, wline);
}

static void rtu_print(const struct conf *c, FILE *out)
{
	const struct conf_rtu *r = gw_rtu_cfg(c);
	if (!r->enabled)
		return;
	fprintf(out, "rtu (Modbus RTU server: the units, map and function codes of Modbus TCP)\n  port          %s @ %d "
		"%s; writes %s\n", r->port, r->baud, conf_key_word(&rt_keys[RT_MODE], (int)r->mode),
		r->control ? "by the rules of MOSFET control, by unit" : "refused (control = false)");
}

const struct conf_section gw_rtu_section = {
	.word = "rtu", .max = 1, .size = sizeof(struct conf_rtu), .name = CONF_NO_FIELD, .line = RT(line),
	.enabled = RT(enabled), .keys = rt_keys, .nkeys = RT_NKEYS,
	.list_order = 130, .finish_order = 110, .print_order = 140, .finish = rtu_finish, .print = rtu_print,
};
