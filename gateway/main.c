/* gateway/main.c - bmsgw: BMS serial ports -> Modbus TCP server.
 *
 *   1. parse the command line
 *   2. load and validate the configuration (all or nothing)
 *   3. --check / --register-map: print and exit
 *   4. build packs and links, open the Modbus TCP server
 *   5. run the libev loop until SIGINT/SIGTERM (or, with --once, until every
 *      pack finished one poll)
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
#include "log.h"
#include "server.h"
#include "upstream.h"

#ifndef BMSGW_VERSION
#define BMSGW_VERSION "0.1.0"
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

/* ---- --once: JSON output ---- */

static void json_num(FILE *o, const char *key, double v, bool present, int prec)
{
	if (present && isfinite(v))
		fprintf(o, ",\"%s\":%.*f", key, prec, v);
	else
		fprintf(o, ",\"%s\":null", key);
}

static void json_str(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(o, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(o, "\\u%04x", ch);
		else
			fputc(ch, o);
	}
	fputc('"', o);
}

static void print_pack_json(FILE *o, const struct gw_pack *p)
{
	const struct bms_snapshot *s = &p->snap;
	uint32_t h = s->present;
	fprintf(o, "{\"pack\":");
	json_str(o, p->cfg->name);
	fprintf(o, ",\"protocol\":\"%s\",\"port\":", p->drv->name);
	json_str(o, p->cfg->port);
	fprintf(o, ",\"address\":%d,\"unit_id\":%d,\"ok\":%s", p->cfg->address, p->cfg->unit_id,
		p->have_data ? "true" : "false");
	if (!p->have_data) {
		fprintf(o, ",\"error\":");
		json_str(o, p->last_error[0] ? p->last_error : "no answer");
		fprintf(o, "}\n");
		return;
	}
	json_num(o, "voltage", s->voltage, h & BMS_HAS_VOLTAGE, 2);
	json_num(o, "current", s->current, h & BMS_HAS_CURRENT, 2);
	json_num(o, "power", s->power, h & BMS_HAS_POWER, 1);
	json_num(o, "soc", s->soc, h & BMS_HAS_SOC, 1);
	json_num(o, "soh", s->soh, h & BMS_HAS_SOH, 1);
	json_num(o, "remaining_ah", s->remain_ah, h & BMS_HAS_REMAIN, 3);
	json_num(o, "full_ah", s->full_ah, h & BMS_HAS_FULL, 3);
	json_num(o, "cycles", s->cycles, h & BMS_HAS_CYCLES, 0);
	fprintf(o, ",\"state\":\"%s\"",
		s->state == 1 ? "charging" : s->state == 2 ? "discharging" : "idle");
	fprintf(o, ",\"cell_count\":%u,\"cells_mv\":[", s->ncells);
	for (unsigned i = 0; i < s->ncells && i < BMS_MAX_CELLS; i++)
		fprintf(o, "%s%u", i ? "," : "", s->cell_mv[i]);
	fprintf(o, "]");
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs);
	if (s->ncells)
		fprintf(o, ",\"cell_min_mv\":%u,\"cell_min_index\":%u,\"cell_max_mv\":%u,"
			   "\"cell_max_index\":%u,\"cell_avg_mv\":%u,\"cell_delta_mv\":%u",
			cs.min_mv, cs.min_idx, cs.max_mv, cs.max_idx, cs.avg_mv, cs.delta_mv);
	fprintf(o, ",\"temps_c\":[");
	for (unsigned i = 0; i < s->ntemps && i < BMS_MAX_TEMPS; i++)
		fprintf(o, "%s%.1f", i ? "," : "", s->temp_c[i]);
	fprintf(o, "]");
	json_num(o, "mos_temp_c", s->mos_temp_c, h & BMS_HAS_MOS_TEMP, 1);
	if (h & BMS_HAS_MOSFETS)
		fprintf(o, ",\"charge_mos\":%s,\"discharge_mos\":%s", s->chg_mos ? "true" : "false",
			s->dsg_mos ? "true" : "false");
	else
		fprintf(o, ",\"charge_mos\":null,\"discharge_mos\":null");
	fprintf(o, ",\"balancing\":[");
	bool first = true;
	for (unsigned i = 0; i < 32; i++)
		if (s->balance & (1u << i)) {
			fprintf(o, "%s%u", first ? "" : ",", i + 1);
			first = false;
		}
	fprintf(o, "],\"alarms\":[");
	first = true;
	for (unsigned i = 0; i < BMS_AL_COUNT; i++)
		if (s->alarms & (1u << i)) {
			fprintf(o, "%s\"%s\"", first ? "" : ",", bms_alarm_name(i));
			first = false;
		}
	fprintf(o, "],\"raw_alarms\":[");
	for (unsigned i = 0; i < s->nraw && i < BMS_MAX_RAW_ALARMS; i++)
		fprintf(o, "%s%u", i ? "," : "", s->raw_alarms[i]);
	fprintf(o, "]}\n");
}

static void once_cb(struct gw *gw, struct gw_pack *p, bool ok)
{
	(void)p;
	(void)ok;
	for (int i = 0; i < gw->npacks; i++)
		if (!gw->packs[i].attempted)
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
	(void)w;
	(void)revents;
	gw_warn("SIGHUP: the configuration is read only at start; restart bmsgw to apply changes");
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
	static struct conf conf;
	char err[512];
	if (conf_load_file(file, &conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "bmsgw: %s\n", err);
		return 1;
	}
	if (hayaml) {
		gw_write_ha_yaml(&conf, stdout);
		return 0;
	}
	/* 3. --check */
	if (check) {
		conf_print_summary(&conf, stdout);
		printf("configuration OK\n");
		return 0;
	}
	gw_log_threshold = verbose ? GW_LOG_DEBUG : (enum gw_log_level)conf.gw.log_level;

	/* 4. packs, links, server */
	signal(SIGPIPE, SIG_IGN);
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		fprintf(stderr, "bmsgw: cannot initialise libev\n");
		return 1;
	}
	static struct gw gw;
	gw_init(&gw, loop, &conf);
	ev_signal sigint, sigterm, sighup;
	ev_signal_init(&sigint, signal_cb, SIGINT);
	ev_signal_init(&sigterm, signal_cb, SIGTERM);
	ev_signal_init(&sighup, sighup_cb, SIGHUP);
	ev_signal_start(loop, &sigint);
	ev_signal_start(loop, &sigterm);
	ev_signal_start(loop, &sighup);
	ev_timer deadline;
	struct gw_upstream *ups = NULL;
	if (once) {
		/* every pack gets its full timeout budget, plus one reconnect */
		double budget = 2.0;
		for (int i = 0; i < gw.npacks; i++)
			budget += gw.packs[i].cfg->timeout * (gw.packs[i].cfg->retries + 1) * 12 + 1;
		gw.on_poll = once_cb;
		ev_timer_init(&deadline, once_deadline_cb, budget, 0.);
		ev_timer_start(loop, &deadline);
	} else {
		gw.server = gw_server_new(&gw);
		if (!gw.server)
			return 1;
		ups = gw_upstreams_start(&gw);
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
			print_pack_json(stdout, &gw.packs[i]);
			if (!gw.packs[i].have_data)
				rc = 1;
		}
		fflush(stdout);
	}
	gw_upstreams_free(ups);
	gw_server_free(gw.server);
	gw_stop(&gw);
	ev_signal_stop(loop, &sigint);
	ev_signal_stop(loop, &sigterm);
	ev_signal_stop(loop, &sighup);
	ev_loop_destroy(loop);
	if (!once)
		gw_info("stopped");
	return rc;
}
