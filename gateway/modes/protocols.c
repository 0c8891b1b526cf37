/* SPDX-License-Identifier: MIT */
/* gateway/modes/protocols.c - bmsgw --list-protocols [--json]: the driver
 * table (bms/drivers.h) as it is built in: each protocol's name, id, links
 * and description, and with --json everything a tool needs to know of it
 * without reading C: its defaults and address range, what a poll gives,
 * its CAN identifiers, its Bluetooth LE GATT layouts, unlock and the hints
 * --ble-scan knows it by, and a register-table protocol's reads.  The
 * tests make their fake Bluetooth devices from it (tests/ble/). */
#include <stdio.h>

#include "../../bms/bms.h"
#include "../../bms/mbmaster.h"
#include "../core/jsonw.h"
#include "cli.h"

/* The BMS_HAS_* bits by name, in bit order (bms/bms.h). */
static const char *const has_names[] = {
	"voltage", "current", "soc", "soh", "remaining", "full", "cycles", "cells", "temperatures",
	"mos_temperature", "mosfets", "balance", "alarms", "power", "setpoint", "current_limits",
	"voltage_limits", "balancing", "balancer", "cell_resistance", "cell_extremes", "temperature_extremes",
};
_Static_assert(sizeof(has_names) / sizeof(has_names[0]) == 22, "a name for every BMS_HAS_* bit");

/* What carries the protocol: "ble" alone, "can", "mqtt" (a node's messages
 * through [mqtt]), else "serial,tcp", with ",ble" where it has a Bluetooth
 * LE mode too. */
static const char *links(const struct bms_driver *d)
{
	if (d->can)
		return "can";
	if (d->messages)
		return "mqtt";
	if (bms_ble_only(d))
		return "ble";
	return d->ble ? "serial,tcp,ble" : "serial,tcp";
}

static void jstr(FILE *o, const char *key, const char *s)
{
	fprintf(o, "\"%s\":", key);
	if (s)
		gw_json_str(o, s);
	else
		fputs("null", o);
}

static void hex(FILE *o, const uint8_t *p, size_t n)
{
	fputc('"', o);
	for (size_t i = 0; i < n; i++)
		fprintf(o, "%02x", p[i]);
	fputc('"', o);
}

static void ble_layouts(FILE *o, const struct bms_gatt *g)
{
	fputs("\"layouts\":[", o);
	for (int i = 0; g && g[i].service; i++) {
		fputs(i ? ",{" : "{", o);
		jstr(o, "service", g[i].service);
		fputc(',', o);
		jstr(o, "notify", g[i].notify);
		fputc(',', o);
		jstr(o, "write", g[i].write);
		fputc(',', o);
		jstr(o, "write_service", g[i].write_service);
		fputc(',', o);
		jstr(o, "notify2", g[i].notify2);
		fputs(",\"more\":[", o);
		for (int k = 0; g[i].more && g[i].more[k].uuid; k++) {
			fputs(k ? ",{" : "{", o);
			jstr(o, "uuid", g[i].more[k].uuid);
			fprintf(o, ",\"notify\":%s}", g[i].more[k].notify ? "true" : "false");
		}
		fputs("]}", o);
	}
	fputc(']', o);
}

/* The secret its BMS asks for (never a pack's pin: the form and the
 * maker's default). */
static void ble_pin(FILE *o, const struct bms_ble_pin *p)
{
	fputs(",\"pin\":", o);
	if (!p) {
		fputs("null", o);
		return;
	}
	fputc('{', o);
	jstr(o, "name", p->name);
	fprintf(o, ",\"min_len\":%u,\"max_len\":%u,\"digits\":%s,\"silent\":%s,", p->min_len, p->max_len,
		p->digits ? "true" : "false", p->silent ? "true" : "false");
	jstr(o, "default", p->dflt);
	fputc('}', o);
}

static void ble_hints(FILE *o, const struct bms_ble_hint *h)
{
	static const char *const kinds[] = { "company", "name", "service", "company+service", "address+service",
					     "service-data", "service128" };
	fputs(",\"hints\":[", o);
	for (int i = 0; h && h[i].why; i++) {
		fprintf(o, "%s{\"rank\":%u,\"kind\":\"%s\",", i ? "," : "", h[i].rank, kinds[h[i].kind]);
		jstr(o, "prefix", h[i].prefix);
		fprintf(o, ",\"name_test\":%s,\"value\":%lu,\"pairing\":%s,", h[i].name_ok ? "true" : "false",
			(unsigned long)h[i].value, h[i].pairing ? "true" : "false");
		jstr(o, "why", h[i].why);
		fputc('}', o);
	}
	fputc(']', o);
}

static void ble(FILE *o, const struct bms_driver *d)
{
	fputs(",\"ble\":", o);
	if (!d->ble) {
		fputs("null", o);
		return;
	}
	fputc('{', o);
	ble_layouts(o, d->ble->gatt);
	if (d->ble->company)
		fprintf(o, ",\"company\":%u", d->ble->company);
	else
		fputs(",\"company\":null", o);
	fputs(",\"auth\":", o);
	if (d->ble->auth) {
		fputc('{', o);
		jstr(o, "characteristic", d->ble->auth->chr);
		fputs(",\"data\":", o);
		hex(o, d->ble->auth->data, d->ble->auth->len);
		fprintf(o, ",\"ok\":%u,\"blind\":%s,\"after_notify\":%s}", d->ble->auth->ok,
			d->ble->auth->blind ? "true" : "false", d->ble->auth->after_notify ? "true" : "false");
	} else {
		fputs("null", o);
	}
	fprintf(o, ",\"write_request\":%s", d->ble->write_request ? "true" : "false");
	fprintf(o, ",\"write_piece\":%u", (unsigned)d->ble->write_piece);
	ble_pin(o, d->ble->pin);
	ble_hints(o, d->ble->hints);
	fputc('}', o);
}

static void modbus(FILE *o, const struct bms_mb_proto *t)
{
	static const char *const whens[] = { "live", "optional", "identity", "settings" };
	fputs(",\"modbus\":", o);
	if (!t) {
		fputs("null", o);
		return;
	}
	if (t->ble)
		fprintf(o, "{\"slave\":%u,\"prefix\":", t->device);
	else
		fputs("{\"slave\":null,\"prefix\":", o);
	if (t->prefix_len)
		hex(o, t->prefix, t->prefix_len);
	else
		fputs("null", o);
	fputs(",\"reads\":[", o);
	for (unsigned i = 0; i < t->nblocks; i++)
		fprintf(o, "%s{\"fc\":%u,\"start\":%u,\"count\":%u,\"when\":\"%s\"}", i ? "," : "", t->blocks[i].fc,
			t->blocks[i].start, t->blocks[i].count, t->blocks[i].when < 4 ? whens[t->blocks[i].when] : "?");
	fputs("]}", o);
}

static void one_json(FILE *o, const struct bms_driver *d)
{
	fputc('{', o);
	jstr(o, "name", d->name);
	fprintf(o, ",\"id\":%u,", d->protocol_id);
	jstr(o, "description", d->description);
	fputc(',', o);
	jstr(o, "vendor", d->vendor);
	fputs(",\"links\":[\"", o);
	for (const char *l = links(d); *l; l++) {
		if (*l == ',')
			fputs("\",\"", o);
		else
			fputc(*l, o);
	}
	fputs("\"],\"provides\":[", o);
	int k = 0;
	for (unsigned b = 0; b < sizeof(has_names) / sizeof(has_names[0]); b++)
		if (d->provides & (1u << b))
			fprintf(o, "%s\"%s\"", k++ ? "," : "", has_names[b]);
	fprintf(o, "],\"baud\":%d,\"address\":", d->default_baud);
	if (d->max_address) /* the default as the configuration takes it: else the lowest */
		fprintf(o, "{\"min\":%u,\"max\":%u,\"default\":%u}", d->min_address, d->max_address,
			d->default_address ? d->default_address : d->min_address);
	else
		fputs("null", o);
	fprintf(o, ",\"listen_only\":%s,\"control\":%s,\"probe\":%s,\"can\":", d->listen_only ? "true" : "false",
		d->control ? "true" : "false", d->probe ? "true" : "false");
	if (d->can)
		fprintf(o, "{\"bitrate\":%lu,\"id\":%u,\"mask\":%u}", (unsigned long)d->can->bitrate, d->can->id,
			d->can->mask);
	else
		fputs("null", o);
	ble(o, d);
	modbus(o, d->mb);
	fputc('}', o);
}

int gw_mode_protocols(const struct gw_cli *o, const struct conf *conf)
{
	(void)conf;
	if (o->json)
		fputs("[\n", stdout);
	for (size_t i = 0; bms_drivers[i]; i++) {
		const struct bms_driver *d = bms_drivers[i];
		if (o->json) {
			one_json(stdout, d);
			fputs(bms_drivers[i + 1] ? ",\n" : "\n", stdout);
			continue;
		}
		printf("%-14s %3u  %-15s %s\n", d->name, d->protocol_id, links(d), d->description);
	}
	if (o->json)
		fputs("]\n", stdout);
	return 0;
}
