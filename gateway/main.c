/* SPDX-License-Identifier: MIT */
/* gateway/main.c - bmsgw: BMSs in; Modbus, MQTT, the status page and the
 * inverter outputs out.  main() reads as its steps:
 *
 *   1. parse the command line (--register-map, --ble-scan, --detect and
 *      --soc-replay need no configuration and end here)
 *   2. load and validate the configuration (all or nothing)
 *   3. --check / --ha-yaml / --history-csv: print and exit
 *   4. build the packs, their links and the outputs (daemon/: gw_init,
 *      gw_serve)
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
#include <time.h>
#include <termios.h>
#include <unistd.h>

#include "wire/ble/ble.h"
#include "daemon/daemon.h"
#include "detect/capture.h"
#include "detect/detect.h"
#include "model/gw.h"
#include "modbus/mbdoc.h"
#include "mqtt/mqtt.h"
#include "poll/poll.h"
#include "ha/hayaml.h"
#include "history/history.h"
#include "history/replay.h"
#include "model/json.h"
#include "model/statefile.h"
#include "core/log.h"
#include "core/notify.h"
#include "core/resolve.h"
#include "web/users.h"

#ifndef BMSGW_VERSION
#error "BMSGW_VERSION comes from the Makefile (VERSION)"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bmsgw -c FILE [--check | --once | --ha-yaml | --mqtt-dump] [-v]\n"
		"       bmsgw -c FILE --history-csv UNIT [--from TIME] [--to TIME] [--step SPAN]\n"
		"       bmsgw --register-map [--base N]\n"
		"       bmsgw --ble-scan [SECONDS] [-c FILE]\n"
		"       bmsgw --detect PORT [--baud N] [--address A | --scan-addresses] [--all] [-v]\n"
		"       bmsgw --capture PORT [--baud N] [--seconds S] [--probe PROTOCOL [--address A]]\n"
		"             [--output FILE]\n"
		"       bmsgw --soc-replay FILE.csv [--capacity AH] [--chemistry lfp|nmc] [-c FILE [--pack NAME]]\n"
		"       bmsgw --hash-password NAME ROLE < password\n"
		"       bmsgw --help | --version\n"
		"\n"
		"  -c, --config FILE   configuration file (INI)\n"
		"      --check         validate the configuration, print a summary, exit 0/1\n"
		"      --once          poll every pack once, print one JSON object per pack,\n"
		"                      exit 0 if all answered\n"
		"      --ha-yaml       print a Home Assistant modbus: configuration for every\n"
		"                      pack and the bank, and exit\n"
		"      --mqtt-dump     poll every pack once, then print every MQTT discovery\n"
		"                      topic and payload ([mqtt]) without connecting, and exit\n"
		"      --history-csv UNIT  print the history of a pack (or the bank) as CSV and\n"
		"                      exit; --from / --to: unix seconds or ISO 8601 (default:\n"
		"                      the last 24 h), --step: buckets such as 15m or 1h\n"
		"                      (default: every sample as stored)\n"
		"      --register-map  print the register map (Markdown) and exit\n"
		"      --base N        base address for --register-map (default 290)\n"
		"      --ble-scan [SECONDS]\n"
		"                      discover Bluetooth LE devices through BlueZ for SECONDS\n"
		"                      (default 10; the adapter of -c FILE's [ble] section, else\n"
		"                      BlueZ's default) and list address, RSSI, name, the likely\n"
		"                      protocol and whether it may need pairing; no configuration\n"
		"                      needed\n"
		"      --detect PORT   which BMS is on PORT (/dev/... or tcp://HOST:PORT)? Listens\n"
		"                      first (another master on the line: nothing is sent), then\n"
		"                      sends each protocol's read-only probe at its usual rates\n"
		"                      and addresses; prints a [pack.NAME] section for what\n"
		"                      answered (stdout) and what was tried (stderr); exit 0\n"
		"                      found, 1 nothing found, 2 the port cannot be used (it\n"
		"                      cannot be opened, another process holds it, another\n"
		"                      master is on the line); no configuration needed\n"
		"      --capture PORT  record PORT into a capture file for a BMS bmsgw does not\n"
		"                      read yet: listen only, nothing sent; --probe PROTOCOL\n"
		"                      sends that protocol's read-only probe once a second and\n"
		"                      records the answers; exit 0 done, 2 the port cannot be used\n"
		"      --seconds S     with --capture: how long (default 60)\n"
		"      --probe PROTOCOL  with --capture: the protocol whose read to send\n"
		"      --output FILE   with --capture: the file (default: stdout)\n"
		"      --baud N        with --detect: listen and probe at N baud only; with\n"
		"                      --capture: the port's rate (default the probe's, or 9600)\n"
		"      --address A     with --detect: probe address A only; with --capture\n"
		"                      --probe: the address asked\n"
		"      --scan-addresses  with --detect: every address 0..16 and the protocols'\n"
		"                      special ones (Renogy 48..55 and 247, EG4 64): slower\n"
		"      --all           with --detect: every probe, not only until the first match\n"
		"      --soc-replay FILE.csv\n"
		"                      run bmsgw's SOC count over a history CSV (--history-csv's\n"
		"                      format, - for stdin) and print, a row each, the time, the\n"
		"                      BMS's SOC, the counted SOC, synced, the capacity in use and\n"
		"                      the points; exit 2 on a file it cannot read\n"
		"      --capacity AH   with --soc-replay: the usable capacity (else [soc] capacity)\n"
		"      --chemistry lfp|nmc  with --soc-replay: the cells' (default lfp, or [soc]'s)\n"
		"      --pack NAME     with --soc-replay -c FILE: count with that pack's [soc] keys\n"
		"      --hash-password NAME ROLE\n"
		"                      read a password (one line) from standard input and print\n"
		"                      the [http] users_file line of user NAME with ROLE (read or\n"
		"                      admin): NAME:ROLE:$pbkdf2-sha256$600000$SALT$HASH\n"
		"  -v, --verbose       log level debug (hex dumps of wire traffic); with\n"
		"                      --detect: every request and answer in hex\n"
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
		if (!gw_poll_attempted(gw->packs[i]))
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

/* What the command line asks for. */
struct opts {
	const char *file;
	bool check, once, regmap, verbose, hayaml, mqtt_dump, ble_scan, keys;
	long map_base;
	const char *hist_unit, *hist_from, *hist_to, *hist_step;
	double scan_seconds;
	const char *detect, *detect_baud, *detect_address; /* --detect PORT and its options */
	const char *capture, *cap_seconds, *cap_probe, *cap_output; /* --capture PORT and its own */
	bool detect_sweep, detect_all;
	const char *soc_replay, *capacity, *chemistry, *pack; /* --soc-replay FILE and its options */
	const char *hash_name, *hash_role; /* --hash-password NAME ROLE */
};

/* The options of --detect into *d.  -1 to go on, else the exit code. */
static int detect_args(const struct opts *o, struct gw_detect_opts *d)
{
	*d = (struct gw_detect_opts){ o->detect, 0, -1, o->detect_sweep, o->detect_all, o->verbose,
				      GW_DETECT_LISTEN, GW_DETECT_BUDGET };
	if (!o->detect) {
		if ((!o->detect_baud && !o->detect_address) || o->capture) {
			if (!o->detect_sweep && !o->detect_all)
				return -1;
			fprintf(stderr, "bmsgw: --scan-addresses and --all go with --detect PORT\n");
			return 2;
		}
		fprintf(stderr, "bmsgw: --baud and --address go with --detect PORT or --capture PORT\n");
		return 2;
	}
	char *end;
	if (o->detect_baud) {
		errno = 0;
		long b = strtol(o->detect_baud, &end, 10);
		if (errno || *end || !conf_baud_ok(b)) {
			fprintf(stderr, "bmsgw: --baud: \"%s\" is not a standard rate (1200 ... 921600)\n", o->detect_baud);
			return 2;
		}
		d->baud = (int)b;
	}
	if (o->detect_address) {
		errno = 0;
		const char *t = o->detect_address;
		bool hex = t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
		long a = strtol(hex ? t + 2 : t, &end, hex ? 16 : 10);
		if (errno || *end || !*t || (hex && !t[2]) || a < 0 || a > 255) {
			fprintf(stderr, "bmsgw: --address: \"%s\" is not 0..255\n", o->detect_address);
			return 2;
		}
		d->address = (int)a;
	}
	if (o->detect_address && o->detect_sweep) {
		fprintf(stderr, "bmsgw: --address and --scan-addresses exclude each other\n");
		return 2;
	}
	return -1;
}

/* The options of --capture into *c.  -1 to go on, else the exit code. */
static int capture_args(const struct opts *o, struct gw_capture_opts *c)
{
	struct gw_detect_opts d;
	*c = (struct gw_capture_opts){ o->capture, 0, -1, GW_CAPTURE_SECONDS, NULL, o->cap_output, o->verbose };
	if (!o->capture) {
		if (!o->cap_seconds && !o->cap_probe && !o->cap_output)
			return -1;
		fprintf(stderr, "bmsgw: --seconds, --probe and --output go with --capture PORT\n");
		return 2;
	}
	if (o->detect) {
		fprintf(stderr, "bmsgw: --capture and --detect exclude each other\n");
		return 2;
	}
	struct opts t = *o; /* --baud and --address, read as --detect reads them */
	t.detect = o->capture;
	int rc = detect_args(&t, &d);
	if (rc >= 0)
		return rc;
	c->baud = d.baud;
	c->address = d.address;
	if (o->cap_seconds) {
		char *end;
		errno = 0;
		c->seconds = strtod(o->cap_seconds, &end);
		if (errno || *end || !(c->seconds >= 0.1 && c->seconds <= 86400)) {
			fprintf(stderr, "bmsgw: --seconds: \"%s\" is not 0.1..86400 seconds\n", o->cap_seconds);
			return 2;
		}
	}
	if (o->cap_probe && !(c->probe = bms_find(o->cap_probe))) {
		fprintf(stderr, "bmsgw: --probe: \"%s\" is no protocol (bmsgw --help lists them)\n", o->cap_probe);
		return 2;
	}
	if (o->detect_address && !c->probe) {
		fprintf(stderr, "bmsgw: --address goes with --capture --probe PROTOCOL (listening asks nobody)\n");
		return 2;
	}
	return -1;
}

/* What is left after the options: -1 to go on, else the exit code. */
static int check_args(int argc, char **argv, struct opts *o, const char *scan_arg)
{
	if (o->hash_name) {
		if (optind >= argc) {
			fprintf(stderr, "bmsgw: --hash-password NAME ROLE: the role (read or admin) is missing\n");
			return 2;
		}
		o->hash_role = argv[optind++];
	}
	if (optind < argc) {
		fprintf(stderr, "bmsgw: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (scan_arg) {
		char *end;
		errno = 0;
		o->scan_seconds = strtod(scan_arg, &end);
		if (errno || *end || !(o->scan_seconds >= 1 && o->scan_seconds <= 3600)) {
			fprintf(stderr, "bmsgw: --ble-scan: \"%s\" is not 1..3600 seconds\n", scan_arg);
			return 2;
		}
	}
	if ((o->hist_from || o->hist_to || o->hist_step) && !o->hist_unit) {
		fprintf(stderr, "bmsgw: --from, --to and --step go with --history-csv UNIT\n");
		return 2;
	}
	struct gw_detect_opts d;
	struct gw_capture_opts cap;
	int rc = detect_args(o, &d);
	if (rc >= 0 || (rc = capture_args(o, &cap)) >= 0)
		return rc;
	if ((o->capacity || o->chemistry || o->pack) && !o->soc_replay) {
		fprintf(stderr, "bmsgw: --capacity, --chemistry and --pack go with --soc-replay FILE\n");
		return 2;
	}
	if (o->pack && !o->file) {
		fprintf(stderr, "bmsgw: --pack NAME goes with -c FILE\n");
		return 2;
	}
	if (!o->regmap && !o->ble_scan && !o->detect && !o->capture && !o->keys && !o->soc_replay && !o->hash_name && !o->file) {
		fprintf(stderr, "bmsgw: no configuration file (-c FILE)\n");
		usage(stderr);
		return 2;
	}
	return -1;
}

/* 1. The command line into *o.  -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
		{"once", no_argument, NULL, 'o'},         {"register-map", no_argument, NULL, 'm'},
		{"base", required_argument, NULL, 'b'},   {"verbose", no_argument, NULL, 'v'},
		{"ha-yaml", no_argument, NULL, 'y'},      {"mqtt-dump", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
		{"history-csv", required_argument, NULL, 'H'}, {"from", required_argument, NULL, 'F'},
		{"to", required_argument, NULL, 'T'},     {"step", required_argument, NULL, 'S'},
		{"ble-scan", optional_argument, NULL, 's'},
		{"man-protocols", required_argument, NULL, 'M'}, /* hidden: make man */
		{"keys", no_argument, NULL, 'K'}, /* not in --help: the key table, for the tests */
		{"detect", required_argument, NULL, 'D'}, {"baud", required_argument, NULL, 'R'},
		{"address", required_argument, NULL, 'A'}, {"scan-addresses", no_argument, NULL, 'W'},
		{"all", no_argument, NULL, 'L'},
		{"capture", required_argument, NULL, 'C'}, {"seconds", required_argument, NULL, 'E'},
		{"probe", required_argument, NULL, 'P'},  {"output", required_argument, NULL, 'O'},
		{"soc-replay", required_argument, NULL, 'r'}, {"capacity", required_argument, NULL, 'a'},
		{"chemistry", required_argument, NULL, 'e'}, {"pack", required_argument, NULL, 'p'},
		{"hash-password", required_argument, NULL, 'X'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	o->map_base = 290;
	o->scan_seconds = 10;
	const char *scan_arg = NULL;
	int ch;
	while ((ch = getopt_long(argc, argv, "c:vhV", lopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->file = optarg; break;
		case 'k': o->check = true; break;
		case 'o': o->once = true; break;
		case 'm': o->regmap = true; break;
		case 'M': /* 5 or 8 */
			return conf_print_man_protocols(stdout, optarg[0] && !optarg[1] ? optarg[0] - '0' : -1) ? 2 : 0;
		case 'y': o->hayaml = true; break;
		case 'q': o->mqtt_dump = o->once = true; break;
		case 'b': {
			char *end;
			errno = 0;
			o->map_base = strtol(optarg, &end, 10);
			if (errno || *end || o->map_base < 0 || o->map_base > 65536 - REG_MAP_SIZE) {
				fprintf(stderr, "bmsgw: --base: \"%s\" is not 0..%d\n", optarg,
					65536 - REG_MAP_SIZE);
				return 2;
			}
			break;
		}
		case 'H': o->hist_unit = optarg; break;
		case 'F': o->hist_from = optarg; break;
		case 'T': o->hist_to = optarg; break;
		case 'S': o->hist_step = optarg; break;
		case 's':
			o->ble_scan = true;
			/* --ble-scan=N, or --ble-scan N */
			if (optarg)
				scan_arg = optarg;
			else if (optind < argc && argv[optind][0] >= '0' && argv[optind][0] <= '9')
				scan_arg = argv[optind++];
			break;
		case 'D': o->detect = optarg; break;
		case 'R': o->detect_baud = optarg; break;
		case 'A': o->detect_address = optarg; break;
		case 'W': o->detect_sweep = true; break;
		case 'L': o->detect_all = true; break;
		case 'C': o->capture = optarg; break;
		case 'E': o->cap_seconds = optarg; break;
		case 'P': o->cap_probe = optarg; break;
		case 'O': o->cap_output = optarg; break;
		case 'r': o->soc_replay = optarg; break;
		case 'a': o->capacity = optarg; break;
		case 'e': o->chemistry = optarg; break;
		case 'p': o->pack = optarg; break;
		case 'X': o->hash_name = optarg; break;
		case 'v': o->verbose = true; break;
		case 'K': o->keys = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("bmsgw %s\n", BMSGW_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	return check_args(argc, argv, o, scan_arg);
}

/* --history-csv: the history of one unit as CSV on stdout. */
static int history_csv(const struct opts *o, const struct conf *conf)
{
	int64_t now = (int64_t)time(NULL), to = now + 1, from, step = 0;
	char path[CONF_PORT_MAX], err[512];
	if (o->hist_to && gw_history_parse_time(o->hist_to, now, &to) < 0) {
		fprintf(stderr, "bmsgw: --to: \"%s\" is not a time (unix seconds, 2026-11-20 or 2026-11-20T10:00:00Z)\n",
			o->hist_to);
		return 2;
	}
	from = to - 86400;
	if (o->hist_from && gw_history_parse_time(o->hist_from, now, &from) < 0) {
		fprintf(stderr, "bmsgw: --from: \"%s\" is not a time (unix seconds, 2026-11-20 or 2026-11-20T10:00:00Z)\n",
			o->hist_from);
		return 2;
	}
	if (o->hist_step && strcmp(o->hist_step, "0") != 0 && gw_history_parse_span(o->hist_step, &step) < 0) {
		fprintf(stderr, "bmsgw: --step: \"%s\" is not a duration (e.g. 300, 15m, 1h, 1d)\n", o->hist_step);
		return 2;
	}
	if (from >= to) {
		fprintf(stderr, "bmsgw: --from must be before --to\n");
		return 2;
	}
	if (!conf->history.enabled) {
		fprintf(stderr, "bmsgw: %s keeps no history (add a [history] or [http] section, without file = none)\n",
			conf->file);
		return 1;
	}
	gw_history_path(&conf->history, path, sizeof(path));
	if (gw_history_export(&conf->history, o->hist_unit, from, to, step, stdout, err, sizeof(err)) < 0) {
		fflush(stdout);
		fprintf(stderr, "bmsgw: history %s: %s\n", path, err);
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static void warn_stderr(void *arg, const char *text)
{
	(void)arg;
	fprintf(stderr, "bmsgw: warning: %s\n", text);
}

static void warn_log(void *arg, const char *text)
{
	(void)arg;
	gw_warn("%s", text);
}

/* 2-3. The configuration, and the commands that only print something from
 * it.  Returns the configuration to run with, or NULL with *rc set. */
static struct conf *load_conf(const struct opts *o, int *rc)
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
	if (o->hist_unit) {
		*rc = history_csv(o, conf);
		free(conf);
		return NULL;
	}
	if (o->hayaml && conf->gw.listen_port == 0) {
		fprintf(stderr, "bmsgw: --ha-yaml: [gateway] listen is empty, so there is no Modbus TCP server for Home "
				"Assistant's Modbus integration to read (it has no TLS for [modbus_tls]); use [mqtt] "
				"discovery, or a listen address\n");
		free(conf);
		*rc = 1;
		return NULL;
	}
	if (o->hayaml || o->check) {
		if (o->hayaml) {
			gw_write_ha_yaml(conf, stdout);
		} else {
			conf_warnings(conf, warn_stderr, NULL);
			conf_print_summary(conf, stdout);
			printf("configuration OK\n");
		}
		free(conf);
		*rc = 0;
		return NULL;
	}
	return conf;
}

/* -c FILE for a mode that takes a part of it (--ble-scan, --soc-replay):
 * NULL after the message. */
static struct conf *conf_part(const char *file)
{
	struct conf *c = malloc(sizeof(*c));
	char err[CONF_ERR_MAX];
	if (!c || conf_load_file(file, c, err, sizeof(err)) < 0) {
		fprintf(stderr, "bmsgw: %s\n", c ? err : "out of memory");
		free(c);
		return NULL;
	}
	return c;
}

/* --ble-scan: BlueZ's discovery, then the list. */
static int ble_scan(const struct opts *o)
{
	char adapter[CONF_ID_MAX] = "";
	if (o->file) {
		/* only for its [ble] adapter */
		struct conf *c = conf_part(o->file);
		if (!c)
			return 1;
		snprintf(adapter, sizeof(adapter), "%s", c->ble.adapter);
		free(c);
	}
#ifdef HAVE_SYSTEMD
	gw_log_threshold = o->verbose ? GW_LOG_DEBUG : GW_LOG_WARN;
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		fprintf(stderr, "bmsgw: cannot initialise libev\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	int rc = gw_ble_scan(loop, adapter, o->scan_seconds, stdout);
	ev_loop_destroy(loop);
	return rc;
#else
	fprintf(stderr, "bmsgw: --ble-scan: built without Bluetooth support (bmsgw reaches BlueZ through "
		"libsystemd's D-Bus library; this build has none)\n");
	return 1;
#endif
}

/* Requests of one poll that --once allows for, generously: Daly's poll has
 * 7, a Sinowealth's reads some registers twice to confirm them. */
#define ONCE_REQUESTS_PER_POLL 12

/* --detect PORT: which BMS is there; its own loop, as --ble-scan. */
static int detect_mode(const struct opts *o)
{
	struct gw_detect_opts d;
	if (detect_args(o, &d) >= 0)
		return 2;
	gw_log_threshold = GW_LOG_ERROR; /* the detector says what happens itself */
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		fprintf(stderr, "bmsgw: cannot initialise libev\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	int rc = gw_detect(loop, &d, stdout, stderr);
	ev_loop_destroy(loop);
	return rc;
}

/* --capture PORT: record the port; its own loop, as --detect. */
static int capture_mode(const struct opts *o)
{
	struct gw_capture_opts c;
	if (capture_args(o, &c) >= 0)
		return 2;
	gw_log_threshold = GW_LOG_ERROR; /* the capture says what happens itself */
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		fprintf(stderr, "bmsgw: cannot initialise libev\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	int rc = gw_capture(loop, &c, stderr);
	ev_loop_destroy(loop);
	return rc;
}

/* --once: every pack gets its full timeout budget, plus one reconnect and a lookup. */
static double once_budget(const struct gw *gw)
{
	double budget = 2.0 + GW_LOOKUP_TIMEOUT;
	for (int i = 0; i < gw->npacks; i++)
		budget += gw->packs[i]->cfg->timeout * (gw->packs[i]->cfg->retries + 1) * ONCE_REQUESTS_PER_POLL + 1;
	return budget;
}

/* -c FILE's [soc] keys of pack NAME (or of its only pack) and its
 * stale_after for --soc-replay; --chemistry (chem >= 0) over them.  -1 to
 * go on, else the exit code. */
static int replay_conf(const struct opts *o, int chem, struct conf_soc *soc, double *stale_after)
{
	struct conf *c = conf_part(o->file);
	if (!c)
		return 1;
	int k = -1;
	for (int i = 0; i < c->npacks; i++)
		if (o->pack ? strcmp(c->packs[i].name, o->pack) == 0 : c->npacks == 1)
			k = i;
	if (k < 0) {
		fprintf(stderr, o->pack ? "bmsgw: %s has no [pack.%s]\n" : "bmsgw: %s has several packs: --pack NAME "
			"says whose [soc] keys count\n", o->file, o->pack);
	} else {
		*soc = c->packs[k].soc;
		*stale_after = c->gw.stale_after;
		if (chem >= 0) {
			soc->chemistry = (enum conf_chemistry)chem;
			conf_soc_derive(soc, &c->limits);
		}
	}
	free(c);
	return k < 0 ? 2 : -1;
}

/* The [soc] keys --soc-replay counts with: -c FILE's, else the defaults;
 * --chemistry and --capacity over them.  -1 to go on, else the exit code. */
static int replay_keys(const struct opts *o, struct conf_soc *soc, double *stale_after)
{
	static const char *const chems[] = { "lfp", "nmc", "lto" };
	int chem = -1, rc;
	for (int i = 0; i < 3 && o->chemistry; i++)
		if (strcmp(o->chemistry, chems[i]) == 0)
			chem = i;
	if (o->chemistry && chem < 0) {
		fprintf(stderr, "bmsgw: --chemistry: \"%s\" is not lfp, nmc or lto\n", o->chemistry);
		return 2;
	}
	conf_soc_defaults(soc, chem < 0 ? CONF_CHEM_LFP : (enum conf_chemistry)chem);
	*stale_after = 30; /* [gateway]'s default */
	if (o->file && (rc = replay_conf(o, chem, soc, stale_after)) >= 0)
		return rc;
	char *end;
	if (o->capacity) {
		soc->capacity = strtod(o->capacity, &end);
		if (*end || !(soc->capacity > 0 && soc->capacity <= 100000)) {
			fprintf(stderr, "bmsgw: --capacity: \"%s\" is not a capacity in Ah (0 < AH <= 100000)\n",
				o->capacity);
			return 2;
		}
	}
	if (!(soc->capacity > 0)) {
		fprintf(stderr, "bmsgw: --soc-replay needs the capacity: --capacity AH, or [soc] capacity in -c FILE "
			"(a history holds no BMS capacity)\n");
		return 2;
	}
	soc->count = true;
	return -1;
}

/* --soc-replay FILE: the SOC count over a history CSV. */
static int soc_replay_mode(const struct opts *o)
{
	struct conf_soc soc;
	double stale_after;
	int rc = replay_keys(o, &soc, &stale_after);
	if (rc >= 0)
		return rc;
	bool std_in = strcmp(o->soc_replay, "-") == 0;
	FILE *in = std_in ? stdin : fopen(o->soc_replay, "r");
	if (!in) {
		fprintf(stderr, "bmsgw: %s: %s\n", o->soc_replay, strerror(errno));
		return 2;
	}
	rc = gw_soc_replay(in, std_in ? "stdin" : o->soc_replay, &soc, stale_after, stdout, stderr);
	if (!std_in)
		fclose(in);
	if (fflush(stdout) != 0 && !rc)
		rc = 1;
	return rc;
}

/* --hash-password NAME ROLE: the users_file line, from a password on stdin. */
/* One line of standard input into pw; typed at a terminal, asked for on
 * standard error and not echoed (as passwd and htpasswd do). */
static void read_password(const char *name, char *pw, size_t cap)
{
	struct termios keep, quiet;
	bool tty = isatty(0) && tcgetattr(0, &keep) == 0;
	if (tty) {
		/* echo off before the prompt, so nothing typed after it is shown */
		quiet = keep;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(0, TCSAFLUSH, &quiet);
		fprintf(stderr, "password for %s (one line, not shown): ", name);
	}
	if (!fgets(pw, (int)cap, stdin))
		pw[0] = '\0';
	if (tty)
		tcsetattr(0, TCSANOW, &keep);
}

static int hash_password(const struct opts *o)
{
	char pw[GW_PASSWORD_MAX + 2], line[512], err[200];
	const char *bad = gw_user_name_bad(o->hash_name);
	if (bad) {
		fprintf(stderr, "bmsgw: --hash-password: \"%s\": %s\n", o->hash_name, bad);
		return 2;
	}
	if (strcmp(o->hash_role, "read") != 0 && strcmp(o->hash_role, "admin") != 0) {
		fprintf(stderr, "bmsgw: --hash-password: \"%s\" is not a role (expected read or admin)\n", o->hash_role);
		return 2;
	}
	read_password(o->hash_name, pw, sizeof(pw));
	size_t n = strcspn(pw, "\r\n");
	bool whole = pw[n] != '\0' || feof(stdin);
	pw[n] = '\0';
	int rc = 0;
	if (!whole || n > GW_PASSWORD_MAX) {
		fprintf(stderr, "bmsgw: --hash-password: the password is longer than %d bytes\n", GW_PASSWORD_MAX);
		rc = 2;
	} else if (n == 0) {
		fprintf(stderr, "bmsgw: --hash-password: the password is empty (expected one line on standard input)\n");
		rc = 2;
	} else if (gw_user_hash_line(o->hash_name, o->hash_role, pw, n, line, sizeof(line), err, sizeof(err)) < 0) {
		fprintf(stderr, "bmsgw: --hash-password: %s\n", err);
		rc = 1;
	} else {
		printf("%s\n", line);
		rc = fflush(stdout) == 0 ? 0 : 1;
	}
	explicit_bzero(pw, sizeof(pw));
	return rc;
}

/* The modes that need no configuration: their exit code, or -1. */
static int without_conf(const struct opts *o)
{
	if (o->regmap) {
		reg_write_markdown(stdout, (unsigned)o->map_base);
		gw_modbus_markdown(stdout, (unsigned)o->map_base, 40000); /* [sunspec] base's default */
		return 0;
	}
	if (o->ble_scan)
		return ble_scan(o);
	if (o->keys) { /* every key: section, name, type, range, words, default, reload class */
		conf_print_keys(stdout);
		return 0;
	}
	if (o->detect)
		return detect_mode(o);
	if (o->capture)
		return capture_mode(o);
	if (o->soc_replay)
		return soc_replay_mode(o);
	if (o->hash_name)
		return hash_password(o);
	return -1;
}

int main(int argc, char **argv)
{
	/* 1. command line */
	struct opts o;
	conf_use_loaders(&gw_conf_loaders);
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if ((rc = without_conf(&o)) >= 0)
		return rc;

	/* 2. configuration; 3. --check, --ha-yaml */
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
	sighup.data = &gw;
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
