/* SPDX-License-Identifier: MIT */
/* gateway/modes/cli.h - the command line of bmsgw (bmsgw(8) is its
 * contract): what it asks for, read once by cli.c, and the modes, one file
 * each, that main() picks from its table by their option. */
#ifndef GATEWAY_MODES_CLI_H
#define GATEWAY_MODES_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "../../conf/conf.h"
#include "../detect/capture.h"
#include "../detect/detect.h"

struct conf;

/* What the command line asks for. */
struct gw_cli {
	const char *file;
	bool check, once, regmap, verbose, hayaml, mqtt_dump, ble_scan, keys;
	bool list_protocols, json;     /* --list-protocols [--json] */
	long map_base;
	const char *hist_unit, *hist_from, *hist_to, *hist_step;
	double scan_seconds;
	const char *scan_adapter;      /* --adapter: a local adapter or a [ble_proxy.NAME] of -c FILE */
	const char *detect, *detect_baud, *detect_address; /* --detect PORT and its options */
	const char *capture, *cap_seconds, *cap_probe, *cap_output; /* --capture PORT and its own */
	bool detect_sweep, detect_all;
	const char *soc_replay, *capacity, *chemistry, *pack; /* --soc-replay FILE and its options */
	const char *hash_name, *hash_role; /* --hash-password NAME ROLE */
	unsigned long long given;       /* the long options given, by their row in cli.c */
};

/* 1. The command line into *o, every option checked: -1 to go on, else the
 * exit code (after the message, or --help's or --version's text). */
int gw_cli_parse(int argc, char **argv, struct gw_cli *o);
/* Was the long option `option` ("detect") given? */
bool gw_cli_given(const struct gw_cli *o, const char *option);
void gw_cli_usage(FILE *out);
/* -c FILE for a mode that takes a part of it (--ble-scan, --soc-replay):
 * NULL after the message. */
struct conf *gw_cli_conf_part(const char *file);
/* The options of --detect into *d, of --capture into *c: -1 to go on,
 * else the exit code (detect.c, capture.c). */
int gw_mode_detect_args(const struct gw_cli *o, struct gw_detect_opts *d);
int gw_mode_capture_args(const struct gw_cli *o, struct gw_capture_opts *c);

/* The modes: each its exit code.  conf is -c FILE's configuration for the
 * modes that print from it (--history-csv, --ha-yaml, --check), NULL for
 * the others. */
int gw_mode_register_map(const struct gw_cli *o, const struct conf *conf);
int gw_mode_protocols(const struct gw_cli *o, const struct conf *conf);
int gw_mode_ble_scan(const struct gw_cli *o, const struct conf *conf);
int gw_mode_keys(const struct gw_cli *o, const struct conf *conf);
int gw_mode_detect(const struct gw_cli *o, const struct conf *conf);
int gw_mode_capture(const struct gw_cli *o, const struct conf *conf);
int gw_mode_soc_replay(const struct gw_cli *o, const struct conf *conf);
int gw_mode_hash_password(const struct gw_cli *o, const struct conf *conf);
int gw_mode_history_csv(const struct gw_cli *o, const struct conf *conf);
int gw_mode_ha_yaml(const struct gw_cli *o, const struct conf *conf);
int gw_mode_check(const struct gw_cli *o, const struct conf *conf);

/* modeloop.c: the loop of a tool mode that runs one: the log at level
 * (a mode that says what happens itself: errors only), libev's default
 * loop, SIGPIPE ignored.  NULL, said, when libev cannot start. */
struct ev_loop;
struct ev_loop *gw_mode_loop(enum conf_log_level level);

#endif
