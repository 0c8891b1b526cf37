/* SPDX-License-Identifier: MIT */
/* gateway/venus/venus_conf.c - [venus], the output's own section of the
 * configuration (conf/section.h): its keys, the checks after the parse (the
 * bus's address; two units' words on the bus never the same) and its lines
 * of --check, which name every service it will publish. */
#include "venus_conf.h"

#include <stddef.h>
#include <string.h>

enum { VN_ENABLED, VN_BUS, VN_BANK, VN_NKEYS };

#define VN(f) offsetof(struct conf_venus, f)

/* any change restarts the output: its services leave the bus and come back */
static const struct conf_key keys[VN_NKEYS] = {
	/* no default: the section's header sets it (conf/reader.c), `enabled = false` keeps the
	 * section written and the output off */
	[VN_ENABLED] = {"enabled", CONF_RESTART, KT_BOOL, 0, 0, false, NULL, VN(enabled), NULL},
	[VN_BUS] = {"bus", CONF_RESTART, KT_LINE, 0, 0, false, NULL, VN(bus), "system",
		    .expect = "system, or a D-Bus address such as unix:path=/run/dbus/system_bus_socket"},
	[VN_BANK] = {"bank", CONF_RESTART, KT_BOOL, 0, 0, false, NULL, VN(bank), "true"},
};

void gw_venus_unit_word(const char *pack, char *out, size_t cap)
{
	snprintf(out, cap, "bmsgw_%s", pack ? pack : "bank");
	for (char *c = out; *c; c++)
		if (*c == '-')
			*c = '_';
}

/* A D-Bus address: TRANSPORT:KEY=VALUE,... (the D-Bus specification,
 * "Server Addresses"); bmsgw's sd-bus takes unix: and tcp:. */
static bool address_ok(const char *a)
{
	return (strncmp(a, "unix:", 5) == 0 || strncmp(a, "tcp:", 4) == 0) && !strchr(a, ' ');
}

static void finish(struct conf_load *x)
{
	const struct conf *c = conf_loading(x);
	const struct conf_venus *v = gw_venus_conf(c);
	const int *seen = conf_seen(x, &gw_venus_section, 0);
	if (!v->enabled)
		return;
	if (strcmp(v->bus, "system") != 0 && !address_ok(v->bus)) {
		conf_fail(x, seen[VN_BUS], "venus", "bus", "%s is no D-Bus address (expected system, or "
			  "unix:path=... or tcp:host=...,port=...)", v->bus);
		return;
	}
	char wi[CONF_NAME_MAX + 8], wj[CONF_NAME_MAX + 8];
	for (int i = 0; i < c->npacks; i++) {
		if (!c->packs[i].venus)
			continue;
		gw_venus_unit_word(c->packs[i].name, wi, sizeof(wi));
		if (v->bank && strcmp(wi, "bmsgw_bank") == 0) {
			conf_fail(x, c->packs[i].line, "venus", NULL, "[pack.%s] would be on D-Bus as the bank's "
				  "service (expected another name, or venus = false in it, or bank = false here)",
				  c->packs[i].name);
			return;
		}
		for (int j = 0; j < i; j++) {
			gw_venus_unit_word(c->packs[j].name, wj, sizeof(wj));
			if (c->packs[j].venus && strcmp(wi, wj) == 0) {
				conf_fail(x, c->packs[i].line, "venus", NULL, "[pack.%s] and [pack.%s] would be one "
					  "service on D-Bus (%s: a - is a _ there)", c->packs[j].name,
					  c->packs[i].name, wi);
				return;
			}
		}
	}
}

static void print(const struct conf *c, FILE *out)
{
	const struct conf_venus *v = gw_venus_conf(c);
	if (!v->enabled)
		return;
	char w[CONF_NAME_MAX + 8];
	fprintf(out, "venus\n  bus           %s\n", strcmp(v->bus, "system") == 0 ? "the system bus" : v->bus);
	if (v->bank && c->bank.enabled)
		fprintf(out, "  the bank      com.victronenergy.battery.bmsgw_bank\n");
	for (int i = 0; i < c->npacks; i++) {
		if (!c->packs[i].venus)
			continue;
		gw_venus_unit_word(c->packs[i].name, w, sizeof(w));
		fprintf(out, "  pack %-8s com.victronenergy.battery.%s\n", c->packs[i].name, w);
	}
	fprintf(out, "  paths         /Dc/0/*, /Soc, /Soh, the capacities, /Info/* (the limits), /Io/*, /System/*,\n"
		"                /Alarms/*, /Voltages/*, /Balances/* (a pack's cells), /Mgmt/*, /DeviceInstance\n"
		"                (from com.victronenergy.settings) ...: from each unit's first data on\n");
}

const struct conf_section gw_venus_section = {
	.word = "venus", .max = 1, .size = sizeof(struct conf_venus), .name = CONF_NO_FIELD, .line = VN(line),
	.enabled = VN(enabled), .keys = keys, .nkeys = VN_NKEYS,
	.list_order = 200, .finish_order = 160, .print_order = 190, .finish = finish, .print = print,
};
