/* SPDX-License-Identifier: MIT */
/* tests/unit/test_bankstate.c - one bank state for every output
 * (gateway/model/bankstate.h): on a fake clock (this file's gw_mono() and
 * gw_wall() stand in for gateway/core/clock.c), through the real end of a
 * poll (gw_pack_polled) and the daemon's tick (gw_emit_tick), members poll,
 * one goes stale, answers again, and all go stale.  At each step every
 * output's view of the bank is the one state, of one generation: the
 * Modbus image's data registers, the SunSpec block's inputs, the inverter
 * source's battery, the MQTT state JSON (gw_bank_json, the same object as
 * /api/state's "bank"), /metrics, the Victron JSON, the influx lines and
 * the alerts; that state is the bank computed afresh at that instant; it
 * is computed once per change (a good poll of a member, a member's
 * freshness turning) and never by a reader; a member going stale changes
 * it at that very instant, before any tick or poll.  The same for a bank
 * of strings (the strings JSON, influx's string lines, SunSpec's series).
 * With a shunt ([bank] shunt): its poll makes a new state, every output
 * (the inverter source's battery among them) carries its current and SOC,
 * its going stale turns the bank to the packs' sum that instant and back at
 * its next poll, each logged once, and a shunt without a SOC gives the
 * current alone.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../gateway/alerts/alerts_int.h"
#include "../../gateway/core/curlev.h"
#include "../../gateway/daemon/daemon.h"
#include "../../gateway/influx/influx_int.h"
#include "../../gateway/inverter/invout.h"
#include "../../gateway/modbus/identity.h"
#include "../../gateway/modbus/image.h"
#include "../../gateway/model/bankstate.h"
#include "../../gateway/model/events.h"
#include "../../gateway/core/log.h"
#include "../../gateway/model/json.h"
#include "../../gateway/model/socunit.h"
#include "../../gateway/mqtt/mqtt_int.h"
#include "../../gateway/web/status.h"
#include "check.h"
#include "sections.h"

/* ---- the fake clock: every reader of the daemon's clocks reads these ---- */

static double fake_now = 1000.0, t0 = 1000.0; /* the clock; the scenario's start */

double gw_mono(void)
{
	return fake_now;
}

uint64_t gw_mono_usec(void)
{
	return (uint64_t)(fake_now * 1e6);
}

double gw_wall(void)
{
	return 1.7e9 + fake_now;
}

int gw_local_now(struct tm *tm)
{
	time_t t = (time_t)gw_wall();
	localtime_r(&t, tm);
	return tm->tm_year * 1000 + tm->tm_yday;
}

/* ---- the daemon under test ---- */

#define STALE 10

static struct gw gw;
static struct gw_images *images;     /* the Modbus server's cache, kept across the steps */
static struct inv_out inv;
static struct gw_mqtt mq;
static struct al_dest *alerts;

/* A healthy 16-cell LFP pack: soc %, amps, its cells from mv up. */
static void snap_of(struct bms_snapshot *s, float soc, float amps, uint16_t mv)
{
	memset(s, 0, sizeof(*s));
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		     BMS_HAS_MOSFETS | BMS_HAS_ALARMS;
	s->ncells = 16;
	unsigned sum = 0;
	for (int i = 0; i < 16; i++)
		sum += s->cell_mv[i] = (uint16_t)(mv + i % 3);
	s->voltage = (float)sum / 1000.0f;
	s->current = amps;
	s->soc = soc;
	s->ntemps = 2;
	s->temp_c[0] = 25;
	s->temp_c[1] = (float)(mv % 7) + 20;
	s->chg_mos = s->dsg_mos = true;
}

/* A good poll of pack i ending now, through the one end of every poll. */
static void poll(int i, float soc, float amps, uint16_t mv)
{
	struct bms_snapshot s;
	snap_of(&s, soc, amps, mv);
	struct gw_poll_end e = { .snap = &s, .started = fake_now - 0.2, .wire_up = true };
	CHECK_EQ_INT(gw_pack_polled(&gw, gw.packs[i], &e), GW_POLLED_GOOD);
}

static void start(const char *packs_and_bank)
{
	char ini[2048], err[256];
	snprintf(ini, sizeof(ini),
		 "[gateway]\nstate_file = none\nstale_after = %d\n%s"
		 "[limits]\nmax_charge_current = 50\nmax_discharge_current = 60\n[sunspec]\n"
		 "[inverter.x]\nprotocol = pylon-can\nport = slcan:///dev/ttyACM0\nsource = bank\n"
		 "[alerts.t]\nurl = http://127.0.0.1:9/\non = soc_below:50, stale\n",
		 STALE, packs_and_bank);
	struct conf *c = malloc(sizeof(*c));
	CHECK(c && conf_load_string(ini, "t.ini", c, err, sizeof(err)) == 0);
	if (c && err[0])
		fprintf(stderr, "%s\n", err);
	CHECK_EQ_INT(gw_init(&gw, ev_loop_new(EVFLAG_AUTO), c), 0);
	images = gw_images_new();
	memset(&inv, 0, sizeof(inv));
	inv.gw = &gw;
	inv.cfg = *gw_inverter_cfg(gw.conf, 0);
	inv.codec = inv_codec_of(inv.cfg.protocol);
	memset(&mq, 0, sizeof(mq));
	mq.gw = &gw;
	mq.cfg.victron = true;
	CHECK(gw_curlev_global());
	alerts = al_dest_new(&gw, gw_alerts_cfg(gw.conf, 0));
	CHECK(alerts != NULL);
}

static void stop(void)
{
	al_dest_free(alerts);
	gw_images_free(images);
	struct ev_loop *loop = gw.loop;
	gw_free(&gw);
	ev_loop_destroy(loop);
}

/* ---- what each output shows of the bank ---- */

/* A JSON object's number (NAN: null or missing). */
static double num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The bank's object as MQTT publishes it on P/bank/state and /api/state
 * shows it: the values of v, to the digits the JSON prints. */
static void check_json(const json_t *b, const struct gw_bank_view *v, const char *who)
{
	const struct gw_bank_state *s = &v->bank;
	bool on = s->online > 0;
	if (!json_is_object(b)) {
		CHECK(!"the bank's JSON parses");
		fprintf(stderr, "   (%s)\n", who);
		return;
	}
	CHECK_EQ_INT(json_is_true(json_object_get(b, "online")), on);
	CHECK_EQ_INT(num(b, "packs_online"), s->online);
	CHECK_EQ_INT(json_is_true(json_object_get(b, "pack_missing")), s->missing > 0);
	if (!on) {
		CHECK(isnan(num(b, "voltage")));
		return;
	}
	CHECK_NEAR(num(b, "voltage"), s->snap.voltage, 0.006);
	CHECK_NEAR(num(b, "current"), s->snap.current, 0.06);
	CHECK_NEAR(num(b, "soc"), s->snap.soc, 0.06);
	CHECK_EQ_INT(num(b, "cell_min_mv"), s->rb.min_mv);
	CHECK_EQ_INT(num(b, "cell_max_mv"), s->rb.max_mv);
}

static void check_mqtt_and_status(const struct gw_bank_view *v)
{
	char *text = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&text, &len);
	gw_bank_json(o, &gw);
	fclose(o);
	json_t *b = json_loads(text, 0, NULL);
	check_json(b, v, "P/bank/state");
	json_decref(b);
	free(text);
	o = open_memstream(&text, &len);
	gw_status_json(&gw, o);
	fclose(o);
	json_t *st = json_loads(text, 0, NULL);
	check_json(json_object_get(st, "bank"), v, "/api/state");
	json_decref(st);
	free(text);
}

/* /metrics: the bank's voltage and SOC while it has data, none after. */
static void check_metrics(const struct gw_bank_view *v)
{
	char *text = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&text, &len);
	gw_status_metrics(&gw, o);
	fclose(o);
	static const char *const fam[2] = { "bmsgw_voltage_volts{pack=\"bank\"}", "bmsgw_soc_percent{pack=\"bank\"}" };
	const double want[2] = { v->bank.snap.voltage, v->bank.snap.soc };
	for (int k = 0; k < 2; k++) {
		const char *at = strstr(text, fam[k]);
		CHECK_EQ_INT(at != NULL, v->bank.online > 0);
		if (at)
			CHECK_NEAR(strtod(at + strlen(fam[k]), NULL), want[k], 1e-4);
	}
	free(text);
}

/* Victron's JSON on P/bank/victron: the bank while it has data, nothing after. */
static void check_victron(const struct gw_bank_view *v)
{
	char topic[400];
	char *js = mq_victron_message(&mq, NULL, topic, sizeof(topic));
	CHECK_EQ_INT(js != NULL, v->bank.online > 0);
	if (!js)
		return;
	json_t *j = json_loads(js, 0, NULL);
	CHECK_NEAR(num(json_object_get(j, "Dc"), "Voltage"), v->bank.snap.voltage, 0.006);
	CHECK_NEAR(num(j, "Soc"), v->bank.snap.soc, 0.06);
	json_decref(j);
	free(js);
}

/* The influx lines of one sample, collected. */
struct lines {
	char text[8192];
	size_t len;
};

static void put_line(void *arg, const char *line, size_t n)
{
	struct lines *l = arg;
	if (l->len + n < sizeof(l->text)) {
		memcpy(l->text + l->len, line, n);
		l->len += n;
		l->text[l->len] = 0;
	}
}

/* unit's line of l and its field key (NAN: no line, no field). */
static double line_field(const struct lines *l, const char *unit, const char *key)
{
	char tag[64], k[64];
	snprintf(tag, sizeof(tag), ",unit=%s ", unit);
	const char *at = strstr(l->text, tag);
	if (!at)
		return NAN;
	const char *end = strchr(at, '\n');
	snprintf(k, sizeof(k), " %s=", key);
	const char *f = strstr(at, k);
	if (!f || f > end) {
		snprintf(k, sizeof(k), ",%s=", key);
		f = strstr(at, k);
	}
	return f && f < end ? strtod(f + strlen(k), NULL) : NAN;
}

static void check_influx(const struct gw_bank_view *v, struct lines *l)
{
	memset(l, 0, sizeof(*l));
	ix_sample(&gw, fake_now, (long long)gw_wall(), put_line, l);
	double volts = line_field(l, "bank", "voltage");
	CHECK_EQ_INT(!isnan(volts), v->bank.online > 0);
	if (v->bank.online) {
		CHECK_NEAR(volts, v->bank.snap.voltage, 1e-4);
		CHECK_NEAR(line_field(l, "bank", "soc"), v->bank.snap.soc, 1e-4);
		CHECK_EQ_INT(line_field(l, "bank", "cell_min_mv"), v->bank.rb.min_mv);
	}
}

/* The Modbus image of the bank's unit (the server's long-lived cache, and
 * a new one: the same): its data registers are v's bank encoded. */
static void check_modbus(const struct gw_bank_view *v, double now)
{
	struct gw_unit u;
	CHECK(gw_unit_lookup(&gw, 0, &u) && u.bank);
	struct gw_images *fresh = gw_images_new();
	const uint8_t *w = gw_unit_image_wire(&gw, &u, now, images);
	CHECK(memcmp(w, gw_unit_image_wire(&gw, &u, now, fresh), 2 * REG_MAP_SIZE) == 0);
	gw_images_free(fresh);
	uint16_t want[REG_MAP_SIZE] = { 0 };
	reg_encode_bank(v->bank.online ? &v->bank.snap : NULL, &v->bank.rb, gw.conf->gw.float_order, want);
	int bad = 0, data = 0;
	for (unsigned off = 0; off < REG_MAP_SIZE; off++)
		if (reg_range_has_data(off, 1)) {
			data++;
			bad += (unsigned)(w[2 * off] << 8 | w[2 * off + 1]) != want[off];
		}
	CHECK(data > 40);
	CHECK_EQ_INT(bad, 0);
	int o = reg_offset(REG_SRC_BANK_ONLINE);
	CHECK_EQ_INT(w[2 * o] << 8 | w[2 * o + 1], v->bank.online);
	/* SunSpec's inputs point at the same state */
	static struct gw_ss_scratch sc;
	struct ss_unit su;
	gw_unit_sunspec(&gw, &u, now, &sc, &su);
	CHECK(su.snap == (v->bank.online ? &v->bank.snap : NULL));
	CHECK_EQ_INT(su.fresh, v->bank.online > 0);
}

/* The inverter output's battery: the bank's values while it is fresh. */
static void check_inverter(const struct gw_bank_view *v, double now)
{
	struct inv_battery b;
	bool fresh = inv_source(&inv, now, &b, true);
	CHECK_EQ_INT(fresh, v->bank.online > 0);
	if (!fresh)
		return;
	CHECK(b.voltage == v->bank.snap.voltage);
	CHECK(b.current == v->bank.snap.current);
	CHECK(b.soc == v->bank.snap.soc);
	CHECK_EQ_INT(b.cell_min_mv, v->bank.rb.min_mv);
	CHECK_EQ_INT(b.cell_max_mv, v->bank.rb.max_mv);
	CHECK_EQ_INT(b.packs_offline, v->bank.missing);
}

/* The alerts judged now; how many messages on the bank were queued. */
static int bank_alerts(void)
{
	int before = 0, after = 0;
	for (int i = 0; i < alerts->len; i++)
		before += strstr(alerts->q[(alerts->head + i) % AL_QUEUE_MAX].title, " on bank") != NULL;
	al_observe(alerts, fake_now);
	for (int i = 0; i < alerts->len; i++)
		after += strstr(alerts->q[(alerts->head + i) % AL_QUEUE_MAX].title, " on bank") != NULL;
	return after - before;
}

/* The last bank message queued (its title). */
static const char *last_alert(void)
{
	return alerts->len ? alerts->q[(alerts->head + alerts->len - 1) % AL_QUEUE_MAX].title : "";
}

/* The state against the bank computed afresh now. */
static void check_state(const struct gw_bank_view *v, double now)
{
	struct gw_bank_state fresh;
	gw_bank_compute_at(&gw, now, &fresh);
	uint16_t a[REG_MAP_SIZE] = { 0 }, b[REG_MAP_SIZE] = { 0 };
	reg_encode_bank(&v->bank.snap, &v->bank.rb, REG_FLOAT_ABCD, a);
	reg_encode_bank(&fresh.snap, &fresh.rb, REG_FLOAT_ABCD, b);
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	CHECK_EQ_INT(v->bank.online, fresh.online);
	CHECK_EQ_INT(v->bank.online_mask, fresh.online_mask);
	CHECK_EQ_INT(v->bank.missing_mask, fresh.missing_mask);
	CHECK_EQ_INT(v->bank.soc.in_soc, fresh.soc.in_soc);
	CHECK(v->bank.snap.soc == fresh.snap.soc);
}

/* Every output at the step's instant: one state, one generation, that of
 * want (the generation the step must have made); the alerts' count on the
 * bank returned. */
static int step(const char *what, uint64_t want, struct lines *l)
{
	const struct gw_bank_view *v = gw_bank_at(&gw, fake_now);
	fprintf(stderr, "== %.1f s: %s: generation %llu, %u of %u packs online\n", fake_now - t0, what,
		(unsigned long long)v->gen, v->bank.online, v->bank.configured);
	CHECK_EQ_INT(v->gen, want);
	check_state(v, fake_now);
	check_modbus(v, fake_now);
	check_inverter(v, fake_now);
	check_mqtt_and_status(v);
	check_metrics(v);
	check_victron(v);
	check_influx(v, l);
	int n = bank_alerts();
	/* no reader made a state of its own */
	CHECK_EQ_INT(gw_bank_at(&gw, fake_now)->gen, want);
	CHECK(gw_bank_at(&gw, fake_now) == v);
	return n;
}

/* The daemon's second at t. */
static void tick(double t)
{
	fake_now = t;
	gw_emit_tick(&gw, t);
}

static void test_parallel(void)
{
	static struct lines l;
	start("[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\ncapacity = 100\n"
	      "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB1\ncapacity = 100\n"
	      "[pack.c]\nprotocol = daly\nport = /dev/ttyUSB2\ncapacity = 100\n[bank]\n");
	uint64_t g = gw_bank_at(&gw, fake_now)->gen;
	CHECK(g >= 1);
	/* nothing read yet: no bank anywhere */
	CHECK_EQ_INT(step("nothing read", g, &l), 0);
	/* each poll of a member: a new state at once, before anyone heard */
	fake_now = 1000;
	poll(0, 60, 10, 3300);
	CHECK_EQ_INT(step("a polled", ++g, &l), 0);
	fake_now = 1001;
	poll(1, 70, 5, 3310);
	CHECK_EQ_INT(step("b polled", ++g, &l), 0);
	fake_now = 1002;
	poll(2, 40, -3, 3290);
	CHECK_EQ_INT(step("c polled", ++g, &l), 0);
	CHECK_NEAR(gw_bank_at(&gw, fake_now)->bank.snap.soc, (60 + 70 + 40) / 3.0, 1e-3);
	/* a second passes, nothing changed: the same state */
	tick(1003);
	CHECK_EQ_INT(step("a tick", g, &l), 0);
	/* a failed poll changes nothing the bank is made of */
	fake_now = 1004;
	struct gw_poll_end e = { .why = "timeout", .started = 1003.5, .wire_up = true };
	CHECK_EQ_INT(gw_pack_polled(&gw, gw.packs[2], &e), GW_POLLED_FAILED);
	CHECK_EQ_INT(step("c's poll failed", g, &l), 0);
	fake_now = 1005;
	poll(0, 61, 10, 3300);
	poll(1, 71, 5, 3310);
	g += 2;
	tick(1012);
	CHECK_EQ_INT(step("c's last poll 10 s ago: still fresh", g, &l), 0);
	CHECK_EQ_INT(gw_bank_at(&gw, fake_now)->bank.online, 3);
	/* c goes stale: the state changes that instant, no tick, no poll */
	fake_now = nextafter(1012.0, INFINITY);
	CHECK(!gw_pack_online_at(&gw, gw.packs[2], fake_now));
	CHECK_EQ_INT(step("c stale, the same instant", ++g, &l), 0);
	CHECK_EQ_INT(gw_bank_at(&gw, fake_now)->bank.online, 2);
	CHECK_EQ_INT(gw_bank_at(&gw, fake_now)->bank.missing_mask, 4);
	CHECK_NEAR(gw_bank_at(&gw, fake_now)->bank.snap.soc, (61 + 71) / 2.0, 1e-3);
	tick(1013);
	CHECK_EQ_INT(step("the tick after", g, &l), 0);
	/* a and b fall under 50 %: the alert on the bank at that poll */
	fake_now = 1014;
	poll(0, 30, -20, 3200);
	++g;
	poll(1, 35, -20, 3210);
	CHECK_EQ_INT(step("a and b under 50 %", ++g, &l), 1);
	CHECK(strstr(last_alert(), "soc_below on bank") != NULL);
	fake_now = 1015;
	poll(2, 40, -3, 3290);
	CHECK_EQ_INT(step("c again", ++g, &l), 0);
	CHECK_EQ_INT(gw_bank_at(&gw, fake_now)->bank.online, 3);
	/* every member stale (a and b at 1024, c at 1025): no bank, the
	 * bank's stale alert at that instant */
	fake_now = nextafter(1024.0, INFINITY);
	CHECK_EQ_INT(step("a and b stale", ++g, &l), 0);
	CHECK_EQ_INT(gw_bank_at(&gw, fake_now)->bank.online, 1);
	fake_now = nextafter(1025.0, INFINITY);
	CHECK_EQ_INT(step("every member stale", ++g, &l), 1);
	CHECK(strstr(last_alert(), "stale on bank") != NULL);
	CHECK_EQ_INT(gw_bank_at(&gw, fake_now)->bank.online, 0);
	tick(1030);
	CHECK_EQ_INT(step("a tick, still nothing", g, &l), 0);
	stop();
}

/* A bank of strings: each string as every output reads it. */
static void check_strings(const struct gw_bank_view *v, const struct lines *l)
{
	char *text = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&text, &len);
	gw_bank_json(o, &gw);
	fclose(o);
	json_t *b = json_loads(text, 0, NULL);
	const json_t *ss = json_object_get(b, "strings");
	CHECK_EQ_INT(json_array_size(ss), v->nstrings);
	static struct gw_ss_scratch sc;
	struct ss_unit su;
	struct gw_unit u = { .bank = true };
	gw_unit_sunspec(&gw, &u, fake_now, &sc, &su);
	for (int s = 0; s < v->nstrings && s < (int)json_array_size(ss); s++) {
		const struct gw_string_state *st = &v->strings[s];
		const json_t *js = json_array_get(ss, (size_t)s);
		char name[24];
		snprintf(name, sizeof(name), "string%d", s + 1);
		CHECK_EQ_INT(json_is_true(json_object_get(js, "online")), st->fresh);
		CHECK_EQ_INT(num(js, "members_online"), st->fresh_members);
		CHECK_EQ_INT(!isnan(line_field(l, name, "voltage")), st->fresh);
		CHECK(sc.packs[s].snap == &st->snap);
		CHECK_EQ_INT(sc.packs[s].fresh, st->fresh);
		if (!st->fresh)
			continue;
		CHECK_NEAR(num(js, "voltage"), st->snap.voltage, 0.006);
		CHECK_NEAR(line_field(l, name, "voltage"), st->snap.voltage, 1e-4);
		CHECK_EQ_INT(line_field(l, name, "cell_max_mv"), st->cell_max_mv);
	}
	json_decref(b);
	free(text);
}

static void test_strings(void)
{
	static struct lines l;
	fake_now = t0 = 2000;
	start("[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\ncapacity = 100\n"
	      "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB1\ncapacity = 100\n"
	      "[pack.c]\nprotocol = daly\nport = /dev/ttyUSB2\ncapacity = 100\n"
	      "[pack.d]\nprotocol = daly\nport = /dev/ttyUSB3\ncapacity = 100\n[bank]\nstrings = a+b, c+d\n");
	uint64_t g = gw_bank_at(&gw, fake_now)->gen;
	for (int i = 0; i < 4; i++)
		poll(i, (float)(50 + i), 4, (uint16_t)(3300 + 5 * i));
	g += 4;
	CHECK_EQ_INT(step("two strings", g, &l), 0);
	check_strings(gw_bank_at(&gw, fake_now), &l);
	fake_now = 2008;
	for (int i = 0; i < 3; i++)
		poll(i, (float)(50 + i), 4, (uint16_t)(3300 + 5 * i));
	g += 3;
	/* d silent since 2000: string2 goes with it, that instant */
	fake_now = nextafter(2010.0, INFINITY);
	CHECK_EQ_INT(step("d stale: string2 has no data", ++g, &l), 0);
	const struct gw_bank_view *v = gw_bank_at(&gw, fake_now);
	CHECK(v->strings[0].fresh && !v->strings[1].fresh && v->strings[1].stale);
	check_strings(v, &l);
	stop();
}

/* A good poll of the shunt, pack i: a VE.Direct monitor's values (soc NAN:
 * none). */
static void poll_shunt(int i, float amps, float soc)
{
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER;
	s.voltage = 53.1f;
	s.current = amps;
	s.power = 53.1f * amps;
	if (!isnan(soc)) {
		s.soc = soc;
		s.present |= BMS_HAS_SOC;
	}
	struct gw_poll_end e = { .snap = &s, .started = fake_now - 0.2, .wire_up = true };
	CHECK_EQ_INT(gw_pack_polled(&gw, gw.packs[i], &e), GW_POLLED_GOOD);
}

/* The bank's sources now: offset 138 of its unit, /api/state's words, and
 * the values every output carries (the inverter's battery among them). */
static void check_source(unsigned bits, float amps, float soc)
{
	const struct gw_bank_view *v = gw_bank_at(&gw, fake_now);
	struct gw_unit u;
	CHECK(gw_unit_lookup(&gw, 0, &u) && u.bank);
	const uint8_t *w = gw_unit_image_wire(&gw, &u, fake_now, images);
	int o = reg_offset(REG_SRC_BANK_SOURCE);
	CHECK_EQ_INT(o, 138);
	CHECK_EQ_INT(w[2 * o] << 8 | w[2 * o + 1], bits);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	gw_status_json(&gw, f);
	fclose(f);
	json_t *st = json_loads(text, 0, NULL);
	const json_t *b = json_object_get(st, "bank");
	CHECK_STR(json_string_value(json_object_get(b, "shunt")), "s");
	CHECK_STR(json_string_value(json_object_get(b, "current_from")), bits & 1 ? "shunt" : "packs");
	CHECK_STR(json_string_value(json_object_get(b, "soc_from")), bits & 2 ? "shunt" : "packs");
	CHECK_NEAR(num(b, "current"), amps, 0.06);
	CHECK_NEAR(num(b, "soc"), soc, 0.06);
	json_decref(st);
	free(text);
	CHECK_NEAR(v->bank.snap.current, amps, 1e-4);
	CHECK_NEAR(v->bank.snap.soc, soc, 1e-3);
	struct inv_battery ib;
	CHECK(inv_source(&inv, fake_now, &ib, true));
	CHECK_NEAR(ib.current, amps, 1e-4);
	CHECK_NEAR(ib.soc, soc, 1e-3);
	/* the shunt is no member: two packs, their cells */
	CHECK_EQ_INT(v->bank.configured, 2);
	CHECK_EQ_INT(v->bank.online, 2);
	CHECK_EQ_INT(v->bank.rb.min_pack >= 1 && v->bank.rb.min_pack <= 2, 1);
}

/* How many lines of the log hold needle. */
static int said(const char *log, const char *needle)
{
	int n = 0;
	for (const char *p = log; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_shunt(void)
{
	static struct lines l;
	fake_now = t0 = 3000;
	char *log = NULL;
	size_t loglen = 0;
	FILE *lf = open_memstream(&log, &loglen);
	gw_log_set_output(lf);
	start("[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\ncapacity = 100\n"
	      "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB1\ncapacity = 100\n"
	      "[pack.s]\nprotocol = vedirect\nport = /dev/ttyUSB2\ncapacity = 200\n[bank]\nshunt = s\n");
	uint64_t g = gw_bank_at(&gw, fake_now)->gen;
	poll(0, 60, 10, 3300);
	poll(1, 70, 5, 3310);
	g += 2;
	CHECK_EQ_INT(step("a and b, the shunt not read yet", g, &l), 0);
	check_source(4, 15, 65);
	/* the shunt's poll: a new state, its current and SOC everywhere */
	fake_now = 3001;
	poll_shunt(2, -42, 55);
	CHECK_EQ_INT(step("the shunt polled", ++g, &l), 0);
	check_source(3, -42, 55);
	const struct gw_bank_view *v = gw_bank_at(&gw, fake_now);
	CHECK_NEAR(v->bank.snap.power, 53.1 * -42, 0.01);
	CHECK_NEAR(v->bank.snap.full_ah, 200, 1e-3); /* its capacity */
	CHECK_NEAR(v->bank.snap.remain_ah, 110, 1e-3);
	struct gw_soc_out bank_count, shunt_count;
	gw_bank_counted(v, fake_now, &bank_count);
	gw_soc_pack_out(&gw, gw.packs[2], fake_now, &shunt_count);
	CHECK_NEAR(bank_count.capacity_ah, shunt_count.capacity_ah, 1e-9); /* its own count */
	CHECK_EQ_INT(bank_count.flags, shunt_count.flags);
	fake_now = 3005;
	poll(0, 61, 10, 3300);
	poll(1, 71, 5, 3310);
	g += 2;
	CHECK_EQ_INT(step("a and b again", g, &l), 0);
	check_source(3, -42, 55);
	/* the shunt goes stale (its last poll at 3001): the packs' sum that instant */
	fake_now = nextafter(3011.0, INFINITY);
	CHECK_EQ_INT(step("the shunt stale", ++g, &l), 0);
	check_source(4, 15, 66);
	tick(3012);
	CHECK_EQ_INT(step("the tick after", g, &l), 0);
	poll(0, 61, 10, 3300);
	poll(1, 71, 5, 3310);
	g += 2;
	check_source(4, 15, 66);
	/* it answers again */
	fake_now = 3013;
	poll_shunt(2, -30, 50);
	CHECK_EQ_INT(step("the shunt back", ++g, &l), 0);
	check_source(3, -30, 50);
	/* a shunt without a SOC: its current, the packs' SOC */
	fake_now = 3014;
	poll_shunt(2, -20, NAN);
	CHECK_EQ_INT(step("the shunt without a SOC", ++g, &l), 0);
	check_source(1, -20, 66);
	fflush(lf);
	CHECK_EQ_INT(said(log, "bank: shunt s measures the bank"), 1);
	CHECK_EQ_INT(said(log, "bank: shunt s is stale: the bank's current, power and SOC are the packs' sum"), 1);
	CHECK_EQ_INT(said(log, "bank: shunt s answers again"), 1);
	stop();
	gw_log_set_output(stderr);
	fclose(lf);
	free(log);
}

/* A bank of strings with a shunt: the strings give the members, the shunt
 * the current and SOC; stale, the strings' sum. */
static void test_strings_shunt(void)
{
	static struct lines l;
	fake_now = t0 = 4000;
	start("[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\ncapacity = 100\n"
	      "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB1\ncapacity = 100\n"
	      "[pack.c]\nprotocol = daly\nport = /dev/ttyUSB2\ncapacity = 100\n"
	      "[pack.d]\nprotocol = daly\nport = /dev/ttyUSB3\ncapacity = 100\n"
	      "[pack.s]\nprotocol = vedirect\nport = /dev/ttyUSB4\n[bank]\nstrings = a+b, c+d\nshunt = s\n");
	uint64_t g = gw_bank_at(&gw, fake_now)->gen;
	for (int i = 0; i < 4; i++)
		poll(i, (float)(50 + i), 4, (uint16_t)(3300 + 5 * i));
	g += 4;
	CHECK_EQ_INT(step("two strings, the shunt not read yet", g, &l), 0);
	const struct gw_bank_view *v = gw_bank_at(&gw, fake_now);
	CHECK_NEAR(v->bank.snap.current, 8, 1e-3); /* two strings of 4 A */
	fake_now = 4001;
	poll_shunt(4, -12, 44);
	/* the alerts follow the bank as well: its SOC, the shunt's 44 %, is under 50 % */
	CHECK_EQ_INT(step("the shunt polled", ++g, &l), 1);
	CHECK(strstr(last_alert(), "soc_below on bank") != NULL);
	v = gw_bank_at(&gw, fake_now);
	CHECK_EQ_INT(v->nstrings, 2);
	CHECK_EQ_INT(v->bank.configured, 4);
	CHECK_EQ_INT(gw_bank_shunt_bits(&v->bank.shunt), 3);
	CHECK_NEAR(v->bank.snap.current, -12, 1e-4);
	CHECK_NEAR(v->bank.snap.soc, 44, 1e-4);
	CHECK_NEAR(v->bank.snap.full_ah, 200, 1e-3); /* the strings' full Ah (100 each) */
	struct inv_battery ib;
	CHECK(inv_source(&inv, fake_now, &ib, true));
	CHECK_NEAR(ib.current, -12, 1e-4);
	CHECK_NEAR(ib.soc, 44, 1e-3);
	fake_now = 4008;
	for (int i = 0; i < 4; i++)
		poll(i, (float)(50 + i), 4, (uint16_t)(3300 + 5 * i));
	g += 4;
	fake_now = nextafter(4011.0, INFINITY);
	/* the strings' SOC (51.5 %): the alert clears */
	CHECK_EQ_INT(step("the shunt stale", ++g, &l), 1);
	CHECK(strstr(last_alert(), "soc_below on bank cleared") != NULL);
	v = gw_bank_at(&gw, fake_now);
	CHECK_EQ_INT(gw_bank_shunt_bits(&v->bank.shunt), 4);
	CHECK_NEAR(v->bank.snap.current, 8, 1e-3);
	stop();
}

int main(void)
{
	install_sections(); /* the outputs' sections, [alerts.NAME] among them */
	test_parallel();
	test_strings();
	test_shunt();
	test_strings_shunt();
	return check_report();
}
