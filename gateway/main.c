/* gateway/main.c - bmsgw: BMS serial ports -> Modbus TCP server.
 *
 *   1. parse the command line
 *   2. load and validate the configuration (all or nothing)
 *   3. --check / --register-map: print and exit
 *   4. build packs and links, open the Modbus TCP server
 *   5. run the libev loop until SIGINT/SIGTERM (or, with --once, until every
 *      pack finished one poll); SIGHUP reloads the configuration
 *   6. tear down in reverse order
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "hayaml.h"
#include "json.h"
#include "log.h"
#include "notify.h"
#include "resolve.h"

#ifndef BMSGW_VERSION
#error "BMSGW_VERSION comes from the Makefile (VERSION)"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bmsgw -c FILE [--check | --once | --ha-yaml] [-v]\n"
		"       bmsgw --register-map [--base N]\n"
		"       bmsgw --help | --version\n"
		"\n"
		"  -c, --config FILE   configuration file (INI)\n"
		"      --check         validate the configuration, print a summary, exit 0/1\n"
		"      --once          poll every pack once, print one JSON object per pack,\n"
		"                      exit 0 if all answered\n"
		"      --ha-yaml       print a Home Assistant modbus: configuration for every\n"
		"                      pack and the bank, and exit\n"
		"      --register-map  print the register map (Markdown) and exit\n"
		"      --base N        base address for --register-map (default 290)\n"
		"  -v, --verbose       log level debug (hex dumps of wire traffic)\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n"
		"\nprotocols:");
	for (size_t i = 0; bms_drivers[i]; i++)
		fprintf(out, " %s", bms_drivers[i]->name);
	fprintf(out, "\n");
}

static void once_cb(struct gw *gw, struct gw_pack *p, bool ok)
{
	(void)p;
	(void)ok;
	for (int i = 0; i < gw->npacks; i++)
		if (!gw->packs[i]->attempted)
			return;
	ev_break(gw->loop, EVBREAK_ALL);
}

/* ---- signals ---- */

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	gw_info("signal %d: shutting down", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static void sighup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw *gw = w->data;
	if (gw->server)
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

int main(int argc, char **argv)
{
	/* 1. command line */
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
		{"once", no_argument, NULL, 'o'},         {"register-map", no_argument, NULL, 'm'},
		{"base", required_argument, NULL, 'b'},   {"verbose", no_argument, NULL, 'v'},
		{"ha-yaml", no_argument, NULL, 'y'},
		{"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *file = NULL;
	bool check = false, once = false, regmap = false, verbose = false, hayaml = false;
	long map_base = 290;
	int ch;
	while ((ch = getopt_long(argc, argv, "c:vhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': file = optarg; break;
		case 'k': check = true; break;
		case 'o': once = true; break;
		case 'm': regmap = true; break;
		case 'y': hayaml = true; break;
		case 'b': {
			char *end;
			errno = 0;
			map_base = strtol(optarg, &end, 10);
			if (errno || *end || map_base < 0 || map_base > 65536 - REG_MAP_SIZE) {
				fprintf(stderr, "bmsgw: --base: \"%s\" is not 0..%d\n", optarg,
					65536 - REG_MAP_SIZE);
				return 2;
			}
			break;
		}
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("bmsgw %s\n", BMSGW_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bmsgw: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (regmap) {
		reg_write_markdown(stdout, (unsigned)map_base);
		return 0;
	}
	if (!file) {
		fprintf(stderr, "bmsgw: no configuration file (-c FILE)\n");
		usage(stderr);
		return 2;
	}

	/* 2. configuration */
	struct conf *conf = malloc(sizeof(*conf));
	char err[1280];
	if (!conf) {
		fprintf(stderr, "bmsgw: out of memory\n");
		return 1;
	}
	if (conf_load_file(file, conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "bmsgw: %s\n", err);
		free(conf);
		return 1;
	}
	if (hayaml) {
		gw_write_ha_yaml(conf, stdout);
		free(conf);
		return 0;
	}
	/* 3. --check */
	if (check) {
		conf_print_summary(conf, stdout);
		printf("configuration OK\n");
		free(conf);
		return 0;
	}
	gw_log_threshold = verbose ? GW_LOG_DEBUG : (enum gw_log_level)conf->gw.log_level;

	/* 4. packs, links, server */
	signal(SIGPIPE, SIG_IGN);
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		fprintf(stderr, "bmsgw: cannot initialise libev\n");
		free(conf);
		return 1;
	}
	static struct gw gw;
	if (gw_init(&gw, loop, conf) < 0) {
		gw_free(&gw);
		return 1;
	}
	gw.verbose = verbose;
	ev_signal sigint, sigterm, sighup;
	ev_signal_init(&sigint, signal_cb, SIGINT);
	ev_signal_init(&sigterm, signal_cb, SIGTERM);
	ev_signal_init(&sighup, sighup_cb, SIGHUP);
	sighup.data = &gw;
	ev_signal_start(loop, &sigint);
	ev_signal_start(loop, &sigterm);
	ev_signal_start(loop, &sighup);
	ev_timer deadline;
	if (once) {
		/* every pack gets its full timeout budget, plus one reconnect and a lookup */
		double budget = 2.0 + GW_LOOKUP_TIMEOUT;
		for (int i = 0; i < gw.npacks; i++)
			budget += gw.packs[i]->cfg->timeout * (gw.packs[i]->cfg->retries + 1) * 12 + 1;
		gw.on_poll = once_cb;
		ev_timer_init(&deadline, once_deadline_cb, budget, 0.);
		ev_timer_start(loop, &deadline);
	} else {
		if (gw_serve(&gw) < 0) {
			gw_free(&gw);
			return 1;
		}
		gw_info("bmsgw %s started: %d pack(s) on %d link(s)", BMSGW_VERSION, gw.npacks,
			gw.nlinks);
	}
	gw_start(&gw);

	/* 5. run */
	ev_run(loop, 0);

	/* 6. tear down */
	int rc = 0;
	if (once) {
		for (int i = 0; i < gw.npacks; i++) {
			gw_pack_json(stdout, gw.packs[i]);
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
	if (!once)
		gw_info("stopped");
	return rc;
}
