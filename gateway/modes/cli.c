/* SPDX-License-Identifier: MIT */
/* gateway/modes/cli.c - the command line of bmsgw, read once: the usage
 * text, the options (getopt_long), their checks, each with its message and
 * exit code 2, in the order bmsgw(8) and tests/integration/test_cli*.py
 * hold them to.  What each mode does is its own file in this folder. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../conf/conf.h"
#include "../../registers/regmap.h"
#include "cli.h"

#ifndef BMSGW_VERSION
#error "BMSGW_VERSION comes from the Makefile (VERSION)"
#endif

static const struct option lopts[] = {
	{"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
	{"once", no_argument, NULL, 'o'},         {"register-map", no_argument, NULL, 'm'},
	{"base", required_argument, NULL, 'b'},   {"verbose", no_argument, NULL, 'v'},
	{"ha-yaml", no_argument, NULL, 'y'},      {"mqtt-dump", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
	{"history-csv", required_argument, NULL, 'H'}, {"from", required_argument, NULL, 'F'},
	{"to", required_argument, NULL, 'T'},     {"step", required_argument, NULL, 'S'},
	{"ble-scan", optional_argument, NULL, 's'}, {"adapter", required_argument, NULL, 'J'},
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
	{"list-protocols", no_argument, NULL, 'l'}, {"json", no_argument, NULL, 'j'},
	{NULL, 0, NULL, 0},
};
_Static_assert(sizeof(lopts) / sizeof(lopts[0]) <= 64, "struct gw_cli's given has a bit per option");

bool gw_cli_given(const struct gw_cli *o, const char *option)
{
	for (size_t i = 0; lopts[i].name; i++)
		if (strcmp(lopts[i].name, option) == 0)
			return (o->given >> i) & 1;
	return false;
}

void gw_cli_usage(FILE *out)
{
	fprintf(out,
		"usage: bmsgw -c FILE [--check | --once | --ha-yaml | --mqtt-dump] [-v]\n"
		"       bmsgw -c FILE --history-csv UNIT [--from TIME] [--to TIME] [--step SPAN]\n"
		"       bmsgw --register-map [--base N]\n"
		"       bmsgw --ble-scan [SECONDS] [-c FILE] [--adapter NAME]\n"
		"       bmsgw --detect PORT [--baud N] [--address A | --scan-addresses] [--all] [-v]\n"
		"       bmsgw --capture PORT [--baud N] [--seconds S] [--probe PROTOCOL [--address A]]\n"
		"             [--output FILE]\n"
		"       bmsgw --soc-replay FILE.csv [--capacity AH] [--chemistry lfp|nmc] [-c FILE [--pack NAME]]\n"
		"       bmsgw --hash-password NAME ROLE < password\n"
		"       bmsgw --list-protocols [--json]\n"
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
		"                      needed; --adapter NAME: a local adapter (hci1), or a\n"
		"                      [ble_proxy.NAME] of -c FILE (an ESPHome Bluetooth proxy)\n"
		"      --detect PORT   which BMS is on PORT (serial, tcp://, a CAN bus)? Listens\n"
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
		"      --list-protocols  print the protocols bmsgw reads (name, protocol id,\n"
		"                      links, description) and exit; with --json every\n"
		"                      driver's table as JSON: defaults, address range, what a\n"
		"                      poll gives, CAN ids, GATT layouts, --ble-scan hints,\n"
		"                      a register-table protocol's reads\n"
		"  -v, --verbose       log level debug (hex dumps of wire traffic); with\n"
		"                      --detect: every request and answer in hex\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n"
		"\nprotocols:");
	for (size_t i = 0; bms_drivers[i]; i++)
		fprintf(out, " %s", bms_drivers[i]->name);
	fprintf(out, "\n");
}

/* What is left after the options: -1 to go on, else the exit code. */
static int check_args(int argc, char **argv, struct gw_cli *o, const char *scan_arg)
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
		gw_cli_usage(stderr);
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
	if (o->json && !o->list_protocols) {
		fprintf(stderr, "bmsgw: --json goes with --list-protocols\n");
		return 2;
	}
	if (o->scan_adapter && !o->ble_scan) {
		fprintf(stderr, "bmsgw: --adapter goes with --ble-scan\n");
		return 2;
	}
	if ((o->hist_from || o->hist_to || o->hist_step) && !o->hist_unit) {
		fprintf(stderr, "bmsgw: --from, --to and --step go with --history-csv UNIT\n");
		return 2;
	}
	struct gw_detect_opts d;
	struct gw_capture_opts cap;
	int rc = gw_mode_detect_args(o, &d);
	if (rc >= 0 || (rc = gw_mode_capture_args(o, &cap)) >= 0)
		return rc;
	if ((o->capacity || o->chemistry || o->pack) && !o->soc_replay) {
		fprintf(stderr, "bmsgw: --capacity, --chemistry and --pack go with --soc-replay FILE\n");
		return 2;
	}
	if (o->pack && !o->file) {
		fprintf(stderr, "bmsgw: --pack NAME goes with -c FILE\n");
		return 2;
	}
	if (!o->regmap && !o->ble_scan && !o->detect && !o->capture && !o->keys && !o->soc_replay && !o->hash_name &&
	    !o->list_protocols && !o->file) {
		fprintf(stderr, "bmsgw: no configuration file (-c FILE)\n");
		gw_cli_usage(stderr);
		return 2;
	}
	return -1;
}

int gw_cli_parse(int argc, char **argv, struct gw_cli *o)
{
	memset(o, 0, sizeof(*o));
	o->map_base = 290;
	o->scan_seconds = 10;
	const char *scan_arg = NULL;
	int ch, li = -1;
	while ((ch = getopt_long(argc, argv, "c:vhV", lopts, &li)) != -1) {
		if (li >= 0)
			o->given |= 1ull << li;
		li = -1;
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
		case 'J': o->scan_adapter = optarg; break;
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
		case 'l': o->list_protocols = true; break;
		case 'j': o->json = true; break;
		case 'h': gw_cli_usage(stdout); return 0;
		case 'V': printf("bmsgw %s\n", BMSGW_VERSION); return 0;
		default: gw_cli_usage(stderr); return 2;
		}
	}
	return check_args(argc, argv, o, scan_arg);
}

struct conf *gw_cli_conf_part(const char *file)
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
