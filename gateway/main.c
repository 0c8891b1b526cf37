/* SPDX-License-Identifier: MIT */
/* gateway/main.c - bmsgw: BMSs in; Modbus, MQTT, the status page and the
 * inverter outputs out.  main() reads as its steps:
 *
 *   1. parse the command line (modes/cli.c)
 *   2. a tool mode of the table below, which needs no configuration, runs
 *      and ends here (--register-map, --list-protocols, --ble-scan, --detect,
 *      --capture, --soc-replay, --hash-password ...)
 *   3. load and validate the configuration (all or nothing); a mode that
 *      prints from it runs and ends here (--history-csv, --ha-yaml, --check)
 *   4. build the packs, their links and the outputs (daemon/: gw_init,
 *      gw_serve)
 *   5. run the libev loop until SIGINT/SIGTERM (or, with --once and
 *      --mqtt-dump, until every pack finished one poll); SIGHUP reloads the
 *      configuration
 *   6. tear down in reverse order
 *
 * A new tool mode is its file in modes/ and its row in modes[] below.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/daemon.h"
#include "model/gw.h"
#include "mqtt/mqtt.h"
#include "poll/poll.h"
#include "model/json.h"
#include "model/statefile.h"
#include "core/heap.h"
#include "core/log.h"
#include "core/statedir.h"
#include "core/notify.h"
#include "core/resolve.h"
#include "modes/cli.h"

#ifndef BMSGW_VERSION
#error "BMSGW_VERSION comes from the Makefile (VERSION)"
#endif

/* The tool modes, in the order they win when several are given: each runs
 * when its option is on the command line, and its exit code is bmsgw's.
 * Those with conf print from -c FILE's configuration, loaded first. */
static const struct mode {
	const char *option;
	bool conf;
	int (*run)(const struct gw_cli *o, const struct conf *conf);
} modes[] = {
	{ "register-map", false, gw_mode_register_map },
	{ "list-protocols", false, gw_mode_protocols },
	{ "ble-scan", false, gw_mode_ble_scan },
	{ "keys", false, gw_mode_keys },
	{ "detect", false, gw_mode_detect },
	{ "capture", false, gw_mode_capture },
	{ "soc-replay", false, gw_mode_soc_replay },
	{ "hash-password", false, gw_mode_hash_password },
	{ "history-csv", true, gw_mode_history_csv },
	{ "ha-yaml", true, gw_mode_ha_yaml },
	{ "check", true, gw_mode_check },
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

/* The first mode of the table given (with or without a configuration), or NULL. */
static const struct mode *mode_given(const struct gw_cli *o, bool conf)
{
	for (size_t i = 0; i < NMODES; i++)
		if (modes[i].conf == conf && gw_cli_given(o, modes[i].option))
			return &modes[i];
	return NULL;
}

static void once_cb(struct gw *gw, struct gw_pack *p, bool ok)
{
	(void)p;
	(void)ok;
	for (int i = 0; i < gw->npacks; i++)
		if (!gw_poll_attempted(gw->packs[i]))
			return;
	ev_break(gw->loop, EVBREAK_ALL);
}

/* ---- signals ---- */

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	gw_info("signal %d: shutting down", w->signum);
	if (!gw_stop_begin(w->data))
		ev_break(loop, EVBREAK_ALL); /* else once what is on the wires ended */
}

static void sighup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw *gw = w->data;
	if (gw->serving)
		gw_reload_file(gw);
	else
		gw_info("SIGHUP ignored in --once");
}

static void once_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void warn_log(void *arg, const char *text)
{
	(void)arg;
	gw_warn("%s", text);
}

/* 3. The configuration, and the modes that only print something from it.
 * Returns the configuration to run with, or NULL with *rc set. */
static struct conf *load_conf(const struct gw_cli *o, int *rc)
{
	struct conf *conf = malloc(sizeof(*conf));
	char err[CONF_ERR_MAX];
	*rc = 1;
	if (!conf) {
		fprintf(stderr, "bmsgw: out of memory\n");
		return NULL;
	}
	if (conf_load_file(o->file, conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "bmsgw: %s\n", err);
		free(conf);
		return NULL;
	}
	if (o->mqtt_dump && !conf->mqtt.enabled) {
		fprintf(stderr, "bmsgw: --mqtt-dump: %s has no [mqtt] section\n", o->file);
		free(conf);
		return NULL;
	}
	const struct mode *m = mode_given(o, true);
	if (m) {
		*rc = m->run(o, conf);
		free(conf);
		return NULL;
	}
	return conf;
}

/* Requests of one poll that --once allows for, generously: Daly's poll has
 * 7, a Sinowealth's reads some registers twice to confirm them. */
#define ONCE_REQUESTS_PER_POLL 12

/* --once: every pack gets its full timeout budget, plus one reconnect and a lookup. */
static double once_budget(const struct gw *gw)
{
	double budget = 2.0 + GW_LOOKUP_TIMEOUT;
	for (int i = 0; i < gw->npacks; i++)
		budget += gw->packs[i]->cfg->timeout * (gw->packs[i]->cfg->retries + 1) * ONCE_REQUESTS_PER_POLL + 1;
	return budget;
}

/* What conf/ is handed before any load: the outputs' sections of the
 * configuration (each service row's) and the directory of bmsgw's own
 * files (core/statedir.h). */
static int conf_setup(void)
{
	char why[256], dir[CONF_PORT_MAX];
	gw_state_dir_name(dir, sizeof(dir));
	conf_use_state_dir(dir);
	if (gw_conf_sections(why, sizeof(why)) < 0) {
		fprintf(stderr, "bmsgw: %s\n", why);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* 1. command line (the allocator set first: heap.h) */
	gw_heap_setup();
	struct gw_cli o;
	if (conf_setup() < 0)
		return 1;
	int rc = gw_cli_parse(argc, argv, &o);
	if (rc >= 0)
		return rc;

	/* 2. a mode without a configuration */
	const struct mode *m = mode_given(&o, false);
	if (m)
		return m->run(&o, NULL);

	/* 3. configuration; a mode that prints from it */
	struct conf *conf = load_conf(&o, &rc);
	if (!conf)
		return rc;
	gw_log_threshold = o.verbose ? GW_LOG_DEBUG : conf->gw.log_level;
	conf_warnings(conf, warn_log, NULL);

	/* 4. packs, links, server */
	signal(SIGPIPE, SIG_IGN);
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
	static struct gw gw;
	if (!loop) {
		fprintf(stderr, "bmsgw: cannot initialise libev\n");
		free(conf);
		return 1;
	}
	if (gw_init(&gw, loop, conf) < 0) {
		gw_free(&gw);
		return 1;
	}
	gw.verbose = o.verbose;
	ev_signal sigint, sigterm, sighup;
	ev_signal_init(&sigint, signal_cb, SIGINT);
	ev_signal_init(&sigterm, signal_cb, SIGTERM);
	ev_signal_init(&sighup, sighup_cb, SIGHUP);
	sigint.data = sigterm.data = sighup.data = &gw;
	ev_signal_start(loop, &sigint);
	ev_signal_start(loop, &sigterm);
	ev_signal_start(loop, &sighup);
	ev_timer deadline;
	if (o.once) {
		gw.on_poll = once_cb;
		gw_statefile_load(&gw);
		ev_timer_init(&deadline, once_deadline_cb, once_budget(&gw), 0.);
		ev_timer_start(loop, &deadline);
	} else {
		if (gw_serve(&gw) < 0) {
			gw_free(&gw);
			return 1;
		}
		gw_info("bmsgw %s started: %d pack(s) on %d link(s)", BMSGW_VERSION, gw.npacks,
			gw.nbuses);
	}
	gw_start(&gw);

	/* 5. run */
	ev_run(loop, 0);

	/* 6. tear down */
	rc = 0;
	if (o.mqtt_dump) {
		gw_mqtt_dump(&gw, stdout);
		fflush(stdout);
	} else if (o.once) {
		for (int i = 0; i < gw.npacks; i++) {
			gw_pack_json(stdout, &gw, gw.packs[i]);
			if (!gw.packs[i]->have_data)
				rc = 1;
		}
		fflush(stdout);
	} else {
		gw_notify("STOPPING=1");
	}
	gw_free(&gw);
	ev_signal_stop(loop, &sigint);
	ev_signal_stop(loop, &sigterm);
	ev_signal_stop(loop, &sighup);
	ev_loop_destroy(loop);
	if (!o.once)
		gw_info("stopped");
	return rc;
}
