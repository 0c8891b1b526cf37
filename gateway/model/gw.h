/* SPDX-License-Identifier: MIT */
/* gateway/model/gw.h - the daemon's state: packs, buses and the loop.
 *
 * One bus (struct gw_bus, poll/poll.h) per distinct `port` string: its
 * link (a serial device, a TCP serial server, a Bluetooth LE device or a
 * CAN bus; wire/wire.h) and the packs on it, polled one after the other.  A pack's last
 * complete snapshot and its encoded register block are replaced only by a
 * complete, validated poll.  Packs and links are allocated one by one, so a
 * reload (gw_reload) can carry the unchanged ones over to the new
 * configuration as they are, link open and poll in progress included.
 */
#ifndef GATEWAY_MODEL_GW_H
#define GATEWAY_MODEL_GW_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../../bms/bms.h"
#include "../../conf/conf.h"
#include "../../registers/regmap.h"
#include "../core/clock.h"
#include "energy.h"
#include "healthfacts.h"
#include "../engine/health.h"
#include "histsrc.h"
#include "../engine/bank.h"
#include "../engine/chemfit.h"
#include "../engine/pack_limits.h"
#include "socunit.h"

struct gw;
struct gw_link;
struct gw_link_env;
struct gw_service;
struct gw_bus;
struct gw_setup;
struct gw_resolver;
struct gw_statefile;
struct gw_poll_slot;
struct gw_pack_ctl;
struct gw_pack_bset;
struct gw_charge_pack;
struct gw_charge_bank;
struct gw_bank_kept;
struct gw_string_state;
struct gw_state_record;

/* One configured pack.  Each group of fields has one writer; other rooms
 * read them, or ask their owner through its calls. */
struct gw_pack {
	/* Wiring: written by the plan (daemon/reload_plan.c) at start and at each
	 * reload that keeps the pack. */
	const struct conf_pack *cfg;
	const struct bms_driver *drv;
	struct gw_link *link;          /* its bus's link (wire/wire.h) */
	struct gw_bus *bus;            /* its bus: the packs on that link (poll/poll.h) */
	struct gw_bus_stats *bus_stats; /* that bus's counters (struct gw_bus) */
	/* What other rooms keep of the pack, each behind its own calls: made
	 * with the pack (the plan; model/pack.c for the charge engine's),
	 * written by their owner alone. */
	struct gw_poll_slot *slot;     /* the poller's: its polls (poll/poll.h, poller.c) */
	struct gw_pack_ctl *ctl;       /* MOSFET control's (poll/control.h, control.c) */
	struct gw_pack_bset *bset;     /* BMS settings writes' (poll/bmsset.h, bmsset.c) */
	struct gw_charge_pack *charge; /* the charge-limit engine's memory (model/charge.c) */

	/* Its making and its register cache: written by model/pack.c alone
	 * (gw_pack_new, gw_pack_polled), read everywhere. */
	double created;                /* monotonic time the pack was configured (start or reload) */
	bool have_data;                /* snap/data_regs hold a good poll */
	double last_good;              /* monotonic time of that poll */
	struct bms_snapshot snap;      /* last complete, validated snapshot */
	uint16_t data_regs[REG_MAP_SIZE];
	uint32_t good_polls, failed_polls;
	unsigned fail_streak;          /* failed polls since the last good one */
	bool fail_own;                 /* ... one of them not logged by who ended it (gw_poll_end.said) */
	bool fail_warned;              /* ... the streak logged here at warning: its end is too */
	char last_error[160];          /* why the last poll failed ("" after a good one) */
	uint8_t auth;                  /* GW_AUTH_*: its BMS and the pack's PIN (a protocol with
	                                * ble->pin over Bluetooth), by its last poll that said */
	bool auth_said;                /* a refused PIN is logged: once, until a good poll */
	int soc_day;                   /* local day of soc_max (tm_yday + 1000*year) */
	uint16_t soc_max, soc_max_hour, soc_max_minute;
	struct bms_ident ident;        /* what the BMS said about itself (identity commands) by its
	                                * last good poll that read it; logged when it changes */
	struct bms_settings settings;  /* the BMS's own settings its last read gave (have = 0:
	                                * never read), read only (bms/settings.h) */
	struct gw_chemfit chem;        /* its cells against its chemistry (engine/chemfit.h), stepped at
	                                * each good poll */
	bool implausible_said;         /* its implausible polls since the last good one are logged */
	uint32_t faults_said;          /* its sensor faults logged (bms_sensor_faults() bits): once each */

	/* Written by model/energy.c alone (integrated over good polls, kept in
	 * the state file). */
	struct gw_energy energy;       /* charged / discharged */
	/* Written by model/charge.c alone. */
	struct gw_limits lim;          /* its charge and discharge limits now */
	/* Written by model/socunit.c alone (stepped over good polls, kept in
	 * the state file). */
	struct gw_socunit soc;         /* the counted SOC */
	/* Written by the cell-health estimator alone, model/health_gw.c
	 * (stepped over good polls with [health], kept in the state file), and
	 * the facts it states for the outputs (model/healthfacts.h). */
	struct gw_health health_est;   /* cell health: resistance, weak cell, imbalance */
	struct gw_health_facts health; /* its weak cell, its resistance's rise */
};

/* struct gw_pack.auth */
enum { GW_AUTH_UNKNOWN = 0, GW_AUTH_OK, GW_AUTH_FAILED };

/* pack.c: a pack configured at monotonic time now, for the plan to wire
 * (daemon/reload_plan.c); NULL when out of memory.  gw_pack_free(): NULL is fine. */
struct gw_pack *gw_pack_new(double now);
void gw_pack_free(struct gw_pack *p);
/* The bytes of a poll's frames kept for the log of an implausible one. */
#define GW_HEARD_MAX 200

/* How a poll of a pack ended, for gw_pack_polled(). */
struct gw_poll_end {
	struct bms_poll *poll;         /* the poll that read it, its driver's finish() still to come, or */
	struct bms_snapshot *snap;     /* ... its record in its master's answer for all (poll NULL);
	                                * neither: it failed */
	const char *why;               /* neither: why it failed */
	const char *unfinished;        /* the words before the driver's finish() error (NULL: none) */
	const uint8_t *heard;          /* the frames its driver was handed: the first GW_HEARD_MAX */
	size_t heard_len;              /* ... bytes of heard_len in all (for the log of an implausible one) */
	double started;                /* monotonic start of the poll */
	bool wire_up;                  /* the wire is up (a failure is logged as a warning once) */
	bool said;                     /* it failed, and who ended it logged why (a bad message of
	                                * mqtt-json: poll/poller.c): counted, not logged again */
	bool auth_failed;              /* it failed because the BMS refused the pack's PIN */
	uint32_t *implausible;         /* counter of implausible polls (the bus's), or NULL */
	char failed[224];              /* out: why it was not good ("" when it was) */
};
enum gw_polled { GW_POLLED_FAILED, GW_POLLED_IMPLAUSIBLE, GW_POLLED_GOOD };

/* pack.c: the one end of every poll, and the one writer of the register
 * cache.  The poll is judged: the driver's finish() (a poll's), the sensors
 * that read out of range (served absent, logged once), the plausibility
 * table (an implausible poll is rejected whole, counted, logged with its
 * frames once in a row).  A good one is committed whole: its derived
 * values, the SOC step (model/socunit.c: with [soc] source = counted and
 * the count synced, the counted SOC replaces the BMS's), the registers
 * encoded once and swapped in, the counters, the day's highest SOC, what
 * the BMS said about itself.  One that is not is counted, its reason kept
 * (logged at warning the first time while the wire is up), the old
 * snapshot kept until it goes stale by age.  Then the bank's state is made
 * from a member's new snapshot (model/bankstate.h), and every output hears
 * of it (gw_emit_polled(), model/events.h). */
enum gw_polled gw_pack_polled(struct gw *gw, struct gw_pack *p, struct gw_poll_end *e);
/* The float order changed (a reload): the kept snapshot encoded again. */
void gw_pack_reencode(struct gw_pack *p, enum reg_float_order fo);

typedef void (*gw_poll_cb)(struct gw *gw, struct gw_pack *p, bool ok);

/* Error counters of one bus, as libmodbus and mbusd keep them (its poller
 * counts them: it is the one that frames what arrives). */
struct gw_bus_stats {
	uint32_t checksum_errors;      /* complete frames whose checksum (or end marker) failed */
	uint32_t short_frames;         /* frames cut short: truncated, or abandoned half-way */
	uint32_t timeouts;             /* tries with no complete answer within `timeout` */
	uint32_t exceptions;           /* answers that were an error code (a Modbus exception,
	                                * a paceic RTN other than 00) */
	uint32_t implausible;          /* polls (or records of an answer for all) whose frames
	                                * were valid but a value was not (bms/base/plausible.c) */
	uint32_t bad_messages;         /* mqtt-json: messages that were no JSON object, lacked a
	                                * required field or carried a value out of its range */
};

/* The counters of the bus pack p is on. */
const struct gw_bus_stats *gw_pack_bus_stats(const struct gw_pack *p);

/* What a Modbus unit id addresses: a pack, the bank, or nothing. */
struct gw_unit {
	struct gw_pack *pack;          /* NULL for the bank */
	bool bank;
};
/* Resolve a unit id (bmsgw-modbus(7) "UNIT IDS AND EXCEPTIONS"; 0/255 = the bank if any, else
 * the only pack). */
bool gw_unit_lookup(struct gw *gw, int unit, struct gw_unit *u);
/* Fresh data: a pack within stale_after, the bank with at least one fresh pack. */
bool gw_unit_online(const struct gw *gw, const struct gw_unit *u);
/* The same at monotonic time now (gw_mono()). */
bool gw_unit_online_at(const struct gw *gw, const struct gw_unit *u, double now);
/* A bank of strings ([bank] strings): one string has every member fresh. */
bool gw_strings_online_at(const struct gw *gw, double now);
/* An output as the running daemon holds it: its row of the service table
 * (model/service.h) and its state. */
#define GW_MAX_OUTPUTS 16
struct gw_output {
	const struct gw_service *svc;
	void *state;                    /* NULL while the output is off */
};

struct gw {
	struct ev_loop *loop;
	struct conf *conf;             /* owned; gw_reload() replaces it */
	int npacks, nbuses;
	struct gw_pack *packs[CONF_MAX_PACKS]; /* packs[i] serves conf->packs[i] */
	struct gw_bus *buses[CONF_MAX_PACKS]; /* one per distinct port */
	struct gw_link_env *link_env;  /* what every link shares: loop, resolver, BlueZ client (wire/wire.h) */
	int nout;                      /* the outputs (the daemon's service table), in its order */
	struct gw_output out[GW_MAX_OUTPUTS];
	bool serving;                  /* the daemon serves (gw_serve), not --once */
	int modbus_clients;            /* Modbus TCP clients connected now (the server counts) */
	struct gw_resolver *resolver;  /* host names of links and upstreams */
	double start;                  /* monotonic */
	char machine[9];               /* this machine's tag (core/machine.h), "" = none */
	gw_poll_cb on_poll;            /* optional: called after every finished poll */
	bool stopping;                 /* a stop began (a signal, gw_free()): schedule nothing new */
	void (*on_quiet)(struct gw *gw); /* optional: a stop waits for the commands on the wires
	                                  * (poll/control.h gw_control_stop()): the last ended */
	bool verbose;                  /* -v: debug logging whatever log_level says */
	int fd_limit;                  /* RLIMIT_NOFILE soft limit in force */
	int client_cap;                /* Modbus clients the descriptors allow */
	ev_timer tick;                 /* once a second: watchdog, status, log repeats */
	ev_timer stop_wait;            /* a stop waits for the commands on the wires (daemon.c) */
	double watchdog;               /* systemd's WatchdogSec, 0 = none */
	char status[128];              /* last STATUS= sent to systemd */
	struct gw_energy bank_energy;  /* the bank's, from the bank's power */
	struct gw_limits bank_lim;     /* the bank's charge and discharge limits (charge.c) */
	struct gw_health_facts bank_health; /* the bank's cell health (model/healthfacts.h) */
	struct gw_limits string_lim[CONF_MAX_PACKS]; /* each string's ([bank] strings; charge.c) */
	struct gw_charge_bank *charge; /* ... and the engine's memory of them (charge.c alone) */
	struct gw_statefile *state;    /* the state file (model/statefile.h) */
	struct gw_bank_kept *bank;     /* the bank's state, one for every reader
	                                * (model/bankstate.c alone; bankstate.h gw_bank_at) */
	unsigned long reloads;         /* applied */
	unsigned long reload_failures; /* failed since the last one applied */
	unsigned long reload_failures_total;
	struct gw_hist_source hist_src;  /* the running history's samples (model/histsrc.h) */
	/* the daemon's reload (daemon/daemon.c), for the setup API: nc (taken;
	 * freed when refused) applied as SIGHUP applies a file, `who` logged;
	 * 0, or -1 with err and nothing changed */
	int (*reload)(struct gw *gw, struct conf *nc, const char *who, char *err, size_t errlen);
	struct gw_setup *setup;        /* the setup API's state (web/setup/), which outlives the
	                                * HTTP servers a reload replaces; NULL = none */
};

/* charge.c: the charge and discharge limits ([limits]), kept current: a
 * poll of p finished (its limits and the bank's), a second passed (every
 * pack: holds, ramps, a pack gone stale is fail-safe), the configuration
 * changed (off: every limit 0).  gw_unit_limits(): those a unit serves. */
void gw_charge_polled(struct gw *gw, struct gw_pack *p);
void gw_charge_tick(struct gw *gw, double now);
void gw_charge_reset(struct gw *gw);
/* The bank is stepped again the moment one of its members goes stale (a
 * timer on gw->loop, armed at each poll of a bank pack and each tick, at
 * GW_CHARGE_STALE_SLACK after gw_bank_next_stale(), model/bankstate.h), so
 * that its limits never count a member gone until the next tick.
 * gw_charge_stale_step(): what the timer does at now (the bank's step, the
 * timer armed again). */
#define GW_CHARGE_STALE_SLACK 0.001
void gw_charge_stale_step(struct gw *gw, double now);
/* The engine's memory of a pack (gw_pack_new) and of the bank (gw_init):
 * NULL when out of memory; free: NULL is fine. */
struct gw_charge_pack *gw_charge_pack_new(void);
void gw_charge_pack_free(struct gw_charge_pack *m);
struct gw_charge_bank *gw_charge_bank_new(struct gw *gw);
void gw_charge_bank_free(struct gw_charge_bank *m);
/* The state file's record of the last full charge (model/statefile.h). */
extern const struct gw_state_record gw_charge_full_record;
const struct gw_limits *gw_unit_limits(const struct gw *gw, const struct gw_unit *u);
/* charge.c: a unit's runtime charge settings (engine/settings.h): those in
 * force; a write of n values from id first by origin, `who` for the log
 * (a refused one is logged and changes nothing), the limits stepped at
 * once; the state file's records of them. */
const struct gw_settings *gw_unit_settings(const struct gw *gw, const struct gw_unit *u);
enum gw_set_result gw_unit_settings_write(struct gw *gw, const struct gw_unit *u, int first, int n,
					  const uint32_t *v, enum gw_set_origin origin, const char *who, double now);
extern const struct gw_state_record gw_charge_settings_record, gw_charge_bank_settings_record;

/* True if the pack's data is fresh (units.c): now, or at monotonic time now. */
/* pack.c: a setting of p read back after a change (poll/bmsset.c): its
 * settings show it at once. */
void gw_pack_setting_read(struct gw_pack *p, enum bms_set_key k, float v);
bool gw_pack_online(const struct gw *gw, const struct gw_pack *p);
bool gw_pack_online_at(const struct gw *gw, const struct gw_pack *p, double now);
/* Stale at monotonic time now: not fresh, and it either had data or has
 * had stale_after since it was configured to get some (not read yet at
 * start is not stale). */
bool gw_pack_stale_at(const struct gw *gw, const struct gw_pack *p, double now);
/* Is p one of the bank's packs? */
bool gw_pack_in_bank(const struct gw *gw, const struct gw_pack *p);
/* The bank's shunt ([bank] shunt: no member, it measures the bank's
 * current and SOC), or NULL. */
const struct gw_pack *gw_bank_shunt(const struct gw *gw);
/* Does a poll of p change the bank: a member of it or its shunt? */
bool gw_pack_feeds_bank(const struct gw *gw, const struct gw_pack *p);
/* A balancer unit (its protocol measures no current: neey): it carries
 * none of the bank's current, has no share of its SOC, capacities or
 * limits, and its going stale is no pack missing. */
bool gw_pack_is_balancer(const struct gw_pack *p);
/* The pack called `name`, or NULL. */
struct gw_pack *gw_find_pack(const struct gw *gw, const char *name);
/* Packs online now. */
int gw_packs_online(const struct gw *gw);

#endif
