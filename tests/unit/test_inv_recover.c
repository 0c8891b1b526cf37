/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_recover.c - an inverter output speaks again as soon as
 * its source is fresh, whatever the source (issue: a bank of one 4 x 16S
 * string stayed silent after its member came back), on a fake clock
 * through the real model: the packs' snapshots and freshness, the charge
 * engine's ticks (model/charge.c: every pack, the strings, the bank), the
 * output's source and states (inverter/invsource.c).
 *
 * For a pack, a bank of packs (every pack silent, one pack), a bank of one
 * string (a member silent) and a bank of two strings (bank_stale = block; a
 * member silent, then every member): fresh, then the member silent for
 * longer than failsafe_silence (fail-safe at once with zero current limits
 * and the communication warning, then silent), then back: the output sends
 * at the step its source is fresh again, with the current limits at 0 and
 * no communication warning, never above the steady limits, held for
 * recovery_hold, rising at recovery_rate at most, and back at the steady
 * limits in the end. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/core/log.h"
#include "../../gateway/daemon/daemon.h"
#include "../../gateway/inverter/invout.h"
#include "../../gateway/model/bankstate.h"
#include "../../gateway/model/gw.h"
#include "../../gateway/modbus/image.h"
#include "check.h"
#include "sections.h"

#define T0 1000.0    /* the fake monotonic clock's start */
#define DT 0.5       /* s between steps (a poll of every answering pack, the tick) */
#define STALE 5      /* stale_after */
#define SILENCE 10   /* failsafe_silence */
#define HOLD 10      /* recovery_hold */
#define RATE 5       /* recovery_rate, A/s */

static struct gw gws[32];
static int ngw;

/* A healthy 16-cell LFP pack at 3.300 V a cell, idle, half full. */
static void poll_pack(struct gw_pack *p, double t)
{
	struct bms_snapshot *s = &p->snap;
	memset(s, 0, sizeof(*s));
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		     BMS_HAS_MOSFETS | BMS_HAS_ALARMS | BMS_HAS_REMAIN;
	s->ncells = 16;
	for (int i = 0; i < 16; i++)
		s->cell_mv[i] = (uint16_t)(3300 + i % 3);
	s->voltage = 52.8f;
	s->current = 0;
	s->soc = 50;
	s->remain_ah = 50;
	s->ntemps = 2;
	s->temp_c[0] = s->temp_c[1] = 25;
	s->chg_mos = s->dsg_mos = true;
	bms_snapshot_derive(s);
	p->have_data = true;
	p->last_good = t;
	p->good_polls++;
}

/* One scenario: its configuration (the [inverter.x] output of protocol
 * proto, source src), the packs silenced at T0 + 100 and answering again
 * at T0 + 100 + gap; mute[i] true for the packs that go silent. */
struct scen {
	const char *name;
	const char *packs_and_bank;   /* [pack.*] and [bank] sections */
	const char *limits_extra;     /* more [limits] keys */
	const char *proto, *src;
	bool mute[8];
};

/* The port of an output of protocol name: a CAN adapter, or a serial line
 * for an RS485 protocol. */
static const char *port_of(const char *name)
{
	for (int p = 0; p < CONF_INV_NPROTOCOLS; p++)
		if (strcmp(inv_dialect_name((enum conf_inv_protocol)p), name) == 0 &&
		    inv_dialect_kind((enum conf_inv_protocol)p) == CONF_INV_RS485)
			return "/dev/ttyUSB9";
	return "slcan:///dev/ttyACM0";
}

static struct gw *make(const struct scen *sc)
{
	char ini[4096], err[256];
	snprintf(ini, sizeof(ini),
		 "[gateway]\nstate_file = none\nstale_after = %d\n%s"
		 "[limits]\nrecovery_hold = %d\nrecovery_rate = %d\nmax_charge_current = 50\nmax_discharge_current = 60\n%s"
		 "[inverter.x%d]\nprotocol = %s\nport = %s\nsource = %s\nfailsafe_silence = %d\n",
		 STALE, sc->packs_and_bank, HOLD, RATE, sc->limits_extra, ngw, sc->proto, port_of(sc->proto), sc->src,
		 SILENCE);
	struct conf *c = malloc(sizeof(*c));
	if (!c || conf_load_string(ini, "t.ini", c, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", sc->name, c ? err : "out of memory");
		free(c);
		CHECK(!"the scenario's configuration loads");
		return NULL;
	}
	if (ngw >= (int)(sizeof(gws) / sizeof(gws[0]))) {
		CHECK(!"room for the scenario (gws[], outs[])");
		free(c);
		return NULL;
	}
	struct gw *gw = &gws[ngw++];
	CHECK_EQ_INT(gw_init(gw, NULL, c), 0);
	return gw;
}

/* What the output does at t: the answering packs polled, the engine's
 * tick, the battery the output would send and its state. */
static void step(struct gw *gw, struct inv_out *o, double t, bool muted, const bool *mute, struct inv_battery *b,
		 bool *fresh)
{
	for (int i = 0; i < gw->npacks; i++)
		if (!(muted && mute[i]))
			poll_pack(gw->packs[i], t);
	gw_charge_tick(gw, t);
	*fresh = inv_source(o, t, b, true);
	inv_update_state(o, true, *fresh, t);
}

/* How many lines of the log so far hold what. */
static int logged(FILE *log, const char *what)
{
	char line[1024];
	int n = 0;
	fflush(log);
	rewind(log);
	while (fgets(line, sizeof(line), log))
		n += strstr(line, what) != NULL;
	return n;
}

static void run(const struct scen *sc)
{
	fprintf(stderr, "== %s\n", sc->name);
	FILE *log = tmpfile();
	CHECK(log != NULL);
	if (!log)
		return;
	gw_log_set_output(log);
	struct gw *gw = make(sc);
	if (!gw) {
		gw_log_set_output(NULL);
		fclose(log);
		return;
	}
	static struct inv_out outs[32];
	struct inv_out *o = &outs[ngw - 1];
	o->gw = gw;
	o->cfg = *gw_inverter_cfg(gw->conf, 0);
	o->codec = inv_codec_of(o->cfg.protocol);
	struct inv_battery b;
	bool fresh = false;
	double t = T0, t_mute = T0 + 100, t_back = t_mute + 3 * SILENCE;
	/* fresh: steady limits */
	for (; t < t_mute; t += DT)
		step(gw, o, t, false, sc->mute, &b, &fresh);
	CHECK_EQ_INT(o->state, INV_SENDING);
	double ccl = b.ccl_a, dcl = b.dcl_a;
	CHECK(ccl > 10 && dcl > 10);
	/* the members silent: fail-safe once stale, then silent */
	bool failsafe_seen = false;
	for (; t < t_back; t += DT) {
		step(gw, o, t, true, sc->mute, &b, &fresh);
		if (o->state == INV_FAILSAFE && !failsafe_seen) {
			failsafe_seen = true;
			CHECK(b.ccl_a == 0 && b.dcl_a == 0 && !b.charge_allowed && !b.discharge_allowed);
			CHECK(b.warn & BMS_AL_COMM);
			CHECK(t <= t_mute + STALE + 2 * DT);
		}
	}
	CHECK(failsafe_seen);
	CHECK_EQ_INT(o->state, INV_SILENT);
	/* back: speaking at the step the members answer, the limits rising by
	 * the recovery rules */
	step(gw, o, t, false, sc->mute, &b, &fresh);
	CHECK(fresh);
	CHECK_EQ_INT(o->state, INV_SENDING);
	CHECK(b.present & INV_HAS_LIMITS);
	CHECK(b.ccl_a == 0 && b.dcl_a == 0);
	CHECK(!(b.warn & BMS_AL_COMM));
	double prev_c = b.ccl_a, prev_d = b.dcl_a, first_rise = 0;
	bool steady = false;
	int bad_state = 0, too_fast = 0, too_high = 0;
	for (t += DT; t < t_back + 8 * HOLD + 4 * (ccl + dcl) / RATE; t += DT) {
		step(gw, o, t, false, sc->mute, &b, &fresh);
		bad_state += o->state != INV_SENDING;
		too_fast += b.ccl_a - prev_c > RATE * DT + 1e-6 || b.dcl_a - prev_d > RATE * DT + 1e-6;
		too_high += b.ccl_a > ccl + 1e-6 || b.dcl_a > dcl + 1e-6;
		if (first_rise == 0 && (b.ccl_a > 0 || b.dcl_a > 0))
			first_rise = t;
		prev_c = b.ccl_a;
		prev_d = b.dcl_a;
		if (fabs(b.ccl_a - ccl) < 1e-6 && fabs(b.dcl_a - dcl) < 1e-6) {
			steady = true;
			break;
		}
	}
	CHECK_EQ_INT(bad_state, 0);
	CHECK_EQ_INT(too_fast, 0);
	CHECK_EQ_INT(too_high, 0);
	/* the hold, once: no current before it, a rise soon after it */
	CHECK(first_rise >= t_back + HOLD);
	CHECK(first_rise <= t_back + HOLD + 3 * DT);
	CHECK(steady);
	fprintf(stderr, "   back at %.1f s: first rise after %.1f s, steady %.0f / %.0f A after %.1f s\n", t_back - T0,
		first_rise - t_back, ccl, dcl, t - t_back);
	/* each change of the output's state said once (each scenario's output
	 * has a name of its own: the log folds a text said again) */
	char who[64];
	snprintf(who, sizeof(who), "inverter %s: source", o->cfg.name);
	CHECK_EQ_INT(logged(log, who), 3);   /* has data, stale, fresh again */
	CHECK_EQ_INT(logged(log, "fresh again after"), 1);
	snprintf(who, sizeof(who), "inverter %s: silent", o->cfg.name);
	CHECK_EQ_INT(logged(log, who), 1);
	gw_log_set_output(NULL);
	fclose(log);
}

/* The scenario's daemon and its output o, stepped from *t = T0 for 100 s
 * with every pack answering; *t the next step's time. */
static struct gw *steady(const struct scen *sc, struct inv_out *o, struct inv_battery *b, bool *fresh, double *t)
{
	struct gw *gw = make(sc);
	if (!gw)
		return NULL;
	o->gw = gw;
	o->cfg = *gw_inverter_cfg(gw->conf, 0);
	o->codec = inv_codec_of(o->cfg.protocol);
	for (; *t < T0 + 100; *t += DT)
		step(gw, o, *t, false, sc->mute, b, fresh);
	return gw;
}

/* bank_stale = block and a member that goes stale between two of the
 * limit engine's steps: an output that builds its set, and the bank's limit
 * registers read, after the member is stale and before the next step are
 * fail-safe at once (zero current limits, nothing allowed), not the last
 * step's limits.  (A set built there with the last step's limits was what
 * a loaded machine showed: hvinv's bank of two strings.) */
static void between_steps(const char *packs_and_bank)
{
	fprintf(stderr, "== a member stale between two steps, bank_stale = block (sofar-can, registers)\n");
	const struct scen sc = { "between steps", packs_and_bank, "bank_stale = block\n", "sofar-can", "bank",
				 { false, false, false, true } };
	static struct inv_out o;
	struct inv_battery b;
	bool fresh = false;
	double t = T0;
	struct gw *gw = steady(&sc, &o, &b, &fresh, &t);
	if (!gw)
		return;
	struct gw_images *im = gw_images_new();
	const struct gw_unit bank = { .bank = true };
	const uint8_t *w = gw_unit_image_wire(gw, &bank, t - DT, im);
	CHECK(fresh && b.ccl_a > 10 && b.dcl_a > 10);
	CHECK(w && (w[2 * 47] << 8 | w[2 * 47 + 1]) > 100 && (w[2 * 48] << 8 | w[2 * 48 + 1]) > 100);
	/* d silent: full steps until just before it is stale (stale_after
	 * past its last answer), then the set and the registers at that
	 * moment, before the next step */
	const struct gw_pack *d = gw->packs[3];
	double mid = d->last_good + STALE + 0.01;
	for (; t < mid; t += DT)
		step(gw, &o, t, true, sc.mute, &b, &fresh);
	CHECK(fresh && b.ccl_a > 10); /* the last step: d not stale yet */
	CHECK(gw_pack_stale_at(gw, d, mid) && !gw->bank_lim.failsafe && !gw->bank_lim.member_stale);
	fresh = inv_source(&o, mid, &b, true);
	CHECK(!fresh);
	CHECK(b.ccl_a == 0 && b.dcl_a == 0 && !b.charge_allowed && !b.discharge_allowed);
	w = gw_unit_image_wire(gw, &bank, mid, im);
	CHECK(w && (w[2 * 47] << 8 | w[2 * 47 + 1]) == 0 && (w[2 * 48] << 8 | w[2 * 48 + 1]) == 0);
	gw_images_free(im);
}

/* The same with bank_stale = degrade (the default), a bank of four packs:
 * d stale between two ticks is left out of the bank's currents, and its
 * CVL capped at float, from the moment it is stale: the charge engine's
 * timer (at gw_bank_next_stale(), doing gw_charge_stale_step()), not the
 * next tick.  (Without it the bank counted d for up to a second.) */
static void between_steps_degrade(const char *packs_and_bank)
{
	fprintf(stderr, "== a member stale between two steps, bank_stale = degrade (pylon-can)\n");
	const struct scen sc = { "between steps, degrade", packs_and_bank, "", "pylon-can", "bank",
				 { false, false, false, true } };
	static struct inv_out o;
	struct inv_battery b;
	bool fresh = false;
	double t = T0;
	struct gw *gw = steady(&sc, &o, &b, &fresh, &t);
	if (!gw)
		return;
	float ccl4 = b.ccl_a, cvl4 = b.cvl_v;
	CHECK(fresh && ccl4 > 10 && !gw->bank_lim.member_stale);
	const struct gw_pack *d = gw->packs[3];
	double at = d->last_good + STALE;
	for (; t < at; t += DT)
		step(gw, &o, t, true, sc.mute, &b, &fresh);
	/* the last tick: d still fresh, its share in the bank's limits */
	CHECK(!gw->bank_lim.member_stale && b.ccl_a == ccl4);
	CHECK(fabs(gw_bank_next_stale(gw, t - DT) - at) < 1e-9);
	double mid = at + GW_CHARGE_STALE_SLACK;
	CHECK(gw_pack_stale_at(gw, d, mid) && !gw_pack_stale_at(gw, d, at));
	gw_charge_stale_step(gw, mid);
	CHECK(gw->bank_lim.member_stale && !gw->bank_lim.failsafe);
	fresh = inv_source(&o, mid, &b, true);
	const struct conf_limits *l = &gw->conf->limits;
	CHECK(fresh && b.ccl_a > 0 && b.ccl_a < ccl4);
	CHECK(b.cvl_v <= 16 * l->float_cell_voltage + l->voltage_drop + 0.01 && b.cvl_v < cvl4);
	/* what the next tick would have given */
	struct gw_limits was = gw->bank_lim;
	gw_charge_tick(gw, mid);
	CHECK(gw->bank_lim.ccl_a == was.ccl_a && gw->bank_lim.dcl_a == was.dcl_a && gw->bank_lim.cvl_v == was.cvl_v);
	/* nothing left to watch but the three fresh packs */
	CHECK(gw_bank_next_stale(gw, mid) > mid && isfinite(gw_bank_next_stale(gw, mid)));
}

/* The timer itself, on a real loop and the real clock: a bank of two
 * packs, p2 stale 0.3 s after its poll; the loop run until the bank's
 * limits say a member is stale (at most 10 s, no tick running). */
static bool stale_seen;
/* before the loop blocks again: after the callbacks of its last turn */
static void check_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)revents;
	struct gw *gw = w->data;
	if (gw->bank_lim.member_stale) {
		stale_seen = true;
		ev_break(loop, EVBREAK_ALL);
	}
}
static void guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void stale_timer(void)
{
	fprintf(stderr, "== the stale timer on a real loop (bank_stale = degrade)\n");
	char err[256];
	static const char ini[] = "[gateway]\nstate_file = none\nstale_after = 60\n[limits]\n"
				  "[pack.p1]\nprotocol = daly\nport = /dev/ttyUSB0\ncells = 16\n"
				  "[pack.p2]\nprotocol = daly\nport = /dev/ttyUSB1\ncells = 16\nstale_after = 0.3\n"
				  "[bank]\n";
	struct conf *c = malloc(sizeof(*c));
	if (!c || conf_load_string(ini, "t.ini", c, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", c ? err : "out of memory");
		free(c);
		CHECK(!"the configuration loads");
		return;
	}
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	static struct gw gw;
	CHECK_EQ_INT(gw_init(&gw, loop, c), 0);
	for (int i = 0; i < 2; i++) {
		poll_pack(gw.packs[i], gw_mono());
		gw_charge_polled(&gw, gw.packs[i]);
	}
	CHECK(!gw.bank_lim.member_stale && gw.bank_lim.ccl_a > 0);
	ev_prepare chk;
	ev_prepare_init(&chk, check_cb);
	chk.data = &gw;
	ev_prepare_start(loop, &chk);
	ev_timer guard;
	ev_timer_init(&guard, guard_cb, 10., 0.);
	ev_timer_start(loop, &guard);
	ev_run(loop, 0);
	double now = gw_mono();
	CHECK(stale_seen);
	CHECK(gw_pack_stale_at(&gw, gw.packs[1], now) && gw_pack_online_at(&gw, gw.packs[0], now));
	CHECK(!gw.bank_lim.failsafe && gw.bank_lim.ccl_a > 0);
	ev_prepare_stop(loop, &chk);
	ev_timer_stop(loop, &guard);
	gw_free(&gw);
	ev_loop_destroy(loop);
}

static const char PACKS2[] = "[pack.p1]\nprotocol = daly\nport = /dev/ttyUSB0\ncells = 16\n"
			     "[pack.p2]\nprotocol = daly\nport = /dev/ttyUSB1\ncells = 16\n[bank]\n";
static const char PACKS4[] = "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\ncells = 16\n"
			     "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB1\ncells = 16\n"
			     "[pack.c]\nprotocol = daly\nport = /dev/ttyUSB2\ncells = 16\n"
			     "[pack.d]\nprotocol = daly\nport = /dev/ttyUSB3\ncells = 16\n";

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	static char s1[512], s2[512];
	snprintf(s1, sizeof(s1), "%s[bank]\nstrings = a+b+c+d\n", PACKS4);
	snprintf(s2, sizeof(s2), "%s[bank]\nstrings = a+b, c+d\n", PACKS4);
	const struct scen scens[] = {
		{ "a pack (growatt-can)", "[pack.p1]\nprotocol = daly\nport = /dev/ttyUSB0\ncells = 16\n", "",
		  "growatt-can", "p1", { true } },
		{ "a bank of two packs, both silent (deye-can)", PACKS2, "", "deye-can", "bank", { true, true } },
		{ "a bank of one pack (pylon-can)", "[pack.p1]\nprotocol = daly\nport = /dev/ttyUSB0\ncells = 16\n[bank]\n",
		  "", "pylon-can", "bank", { true } },
		{ "a bank of one 4 x 16S string, a member silent (pylon-hv-can)", s1, "", "pylon-hv-can", "bank",
		  { false, false, true, false } },
		{ "a bank of one 4 x 16S string, a member silent (byd-hvs-can)", s1, "", "byd-hvs-can", "bank",
		  { false, true, false, false } },
		{ "a bank of two strings, bank_stale = block, a member silent (byd-hvs-can)", s2,
		  "bank_stale = block\n", "byd-hvs-can", "bank", { false, true, false, false } },
		{ "a bank of two strings, every member silent (pylon-hv-can)", s2, "", "pylon-hv-can", "bank",
		  { true, true, true, true } },
		{ "a bank of one 4 x 16S string, a member silent (solax-can)", s1, "", "solax-can", "bank",
		  { false, false, false, true } },
		{ "a bank of two strings, bank_stale = block, a member silent (foxess-can)", s2,
		  "bank_stale = block\n", "foxess-can", "bank", { true, false, false, false } },
		/* sungrow-can, sofar-can, growatt-hv-can */
		{ "a bank of one 4 x 16S string, a member silent (sungrow-can)", s1, "", "sungrow-can", "bank",
		  { false, true, false, false } },
		{ "a bank of two strings, bank_stale = block, a member silent (sofar-can)", s2,
		  "bank_stale = block\n", "sofar-can", "bank", { false, false, true, false } },
		{ "a bank of two strings, every member silent (growatt-hv-can)", s2, "", "growatt-hv-can", "bank",
		  { true, true, true, true } },
		/* ferroamp-can, afore-can, solxpow-can */
		{ "a bank of one 4 x 16S string, a member silent (ferroamp-can)", s1, "", "ferroamp-can", "bank",
		  { false, true, false, false } },
		{ "a bank of two strings, bank_stale = block, a member silent (afore-can)", s2,
		  "bank_stale = block\n", "afore-can", "bank", { false, false, true, false } },
		{ "a bank of two strings, every member silent (solxpow-can)", s2, "", "solxpow-can", "bank",
		  { true, true, true, true } },
		/* the RS485 dialects of round 3: byd-hvm-modbus, kostal-rs485 */
		{ "a bank of one 4 x 16S string, a member silent (byd-hvm-modbus)", s1, "", "byd-hvm-modbus", "bank",
		  { false, false, true, false } },
		{ "a bank of two strings, bank_stale = block, a member silent (kostal-rs485)", s2,
		  "bank_stale = block\n", "kostal-rs485", "bank", { false, false, false, true } },
		/* growatt-wit-can, sma-hv-can, schneider-can */
		{ "a bank of one 4 x 16S string, a member silent (growatt-wit-can)", s1, "", "growatt-wit-can", "bank",
		  { false, false, true, false } },
		{ "a bank of two strings, bank_stale = block, a member silent (sma-hv-can)", s2,
		  "bank_stale = block\n", "sma-hv-can", "bank", { false, false, false, true } },
		{ "a pack (schneider-can)", "[pack.p1]\nprotocol = daly\nport = /dev/ttyUSB0\ncells = 16\n", "",
		  "schneider-can", "p1", { true } },
		{ "a pack (rvc)", "[pack.p1]\nprotocol = daly\nport = /dev/ttyUSB0\ncells = 16\n", "", "rvc", "p1",
		  { true } },
	};
	for (size_t i = 0; i < sizeof(scens) / sizeof(scens[0]); i++)
		run(&scens[i]);
	between_steps(s2);
	static char s4[512];
	snprintf(s4, sizeof(s4), "%s[bank]\n", PACKS4);
	between_steps_degrade(s4);
	stale_timer();
	return check_report();
}
