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
#include "../wire/wire.h"
#include "energy.h"
#include "limits.h"
#include "service.h"

struct gw;
struct gw_link;
struct gw_bus;
struct gw_resolver;
struct gw_afile;

/* What one pack's MOSFET control has done (poll/control.c acts on it; the
 * registers 123-124, /metrics and the state file read it). */
struct gw_ctl;
struct gw_pack_ctl {
	struct gw_ctl *cur;            /* the command in progress, NULL if none */
	double last;                   /* monotonic time of the last accepted command */
	bool intent[2];                /* what the gateway wants of each FET (JBD writes both) */
	uint32_t done, failed;         /* commands confirmed / not (registers 123-124) */
};

struct gw_pack {
	const struct conf_pack *cfg;
	const struct bms_driver *drv;
	struct gw_link *link;          /* its bus's link (wire/wire.h) */
	struct gw_bus *bus;            /* its bus: the packs on that link, the poller's state (poll/poll.h) */
	struct gw_bus_stats *bus_stats; /* that bus's counters (struct gw_bus) */
	struct gw_pack *next_on_link;

	struct bms_poll poll;          /* the poll in progress */
	double poll_started;           /* monotonic */
	double next_due;               /* monotonic time of the next poll */
	double slow_at;                /* monotonic start of the last good poll that read the
	                                * slow-changing values (0 = none yet) */
	unsigned slow_age;             /* good polls since then */
	unsigned long link_opens;      /* link->opens at its last poll (link_fresh) */

	bool have_data;                /* snap/data_regs hold a good poll */
	double last_good;              /* monotonic time of that poll */
	struct bms_snapshot snap;      /* last complete, validated snapshot */
	uint16_t data_regs[REG_MAP_SIZE];
	uint32_t good_polls, failed_polls;
	unsigned fail_streak;          /* failed polls since the last good one */
	char last_error[160];
	int last_bad;                  /* BMS_E_* of the last bad answer in the poll in progress, 0 = none */

	int soc_day;                   /* local day of soc_max (tm_yday + 1000*year) */
	uint16_t soc_max, soc_max_hour, soc_max_minute;

	bool attempted;                /* at least one poll finished (for --once) */
	struct gw_energy energy;       /* charged / discharged, integrated over good polls */
	double created;                /* monotonic time the pack was configured (start or reload) */
	struct gw_lim_state lim_st;    /* the charge-limit engine's memory (charge.c) */
	struct gw_limits lim;          /* its charge and discharge limits now */
	struct gw_pack_ctl ctl;        /* MOSFET control */
	struct bms_ident ident;        /* what the BMS said about itself (identity commands) by its
	                                * last good poll; logged when it changes */
	/* the records a poll of this pack gets for the other packs of its
	 * master's answer for all (`position`: the group's lead polls) */
	struct bms_snapshot group[BMS_MAX_GROUP];
};

typedef void (*gw_poll_cb)(struct gw *gw, struct gw_pack *p, bool ok);

/* Error counters of one bus, as libmodbus and mbusd keep them (its poller
 * counts them: it is the one that frames what arrives). */
struct gw_bus_stats {
	uint32_t checksum_errors;      /* complete frames whose checksum (or end marker) failed */
	uint32_t short_frames;         /* frames cut short: truncated, or abandoned half-way */
	uint32_t timeouts;             /* tries with no complete answer within `timeout` */
	uint32_t exceptions;           /* answers that were an error code (a Modbus exception,
	                                * a paceic RTN other than 00) */
};

/* The counters of the bus pack p is on. */
const struct gw_bus_stats *gw_pack_bus_stats(const struct gw_pack *p);

/* The bank unit, as computed now from the fresh packs (bank.c). */
struct gw_bank_state {
	struct bms_snapshot snap;      /* aggregated; no cells of its own */
	struct reg_bank rb;            /* cross-pack cell statistics, deviation */
	uint16_t online, configured;
	uint32_t online_mask;          /* bit n = bank pack n+1 fresh */
	uint32_t alarms;               /* the OR of the fresh packs' words */
	uint32_t protect, warn;        /* the OR of their levels (gw_limits_alarm_levels) */
	struct gw_temp_at {           /* the coldest and hottest sensor of every fresh pack */
		float c;
		uint8_t pack, index;   /* bank position and sensor, 1-based; pack 0 = none */
	} tmin, tmax;
};
/* The bank now: gw_bank_aggregate() over the bank's packs that are fresh. */
void gw_bank_compute(const struct gw *gw, struct gw_bank_state *out);
/* Pure: aggregate the n packs of a bank, fresh[k] = bank pack k's snapshot
 * if its data is fresh, NULL if not (it counts as configured, not online). */
void gw_bank_aggregate(const struct bms_snapshot *const fresh[], int n, double max_deviation,
		       struct gw_bank_state *out);

/* What a Modbus unit id addresses: a pack, the bank, or nothing. */
struct gw_unit {
	struct gw_pack *pack;          /* NULL for the bank */
	bool bank;
};
/* Resolve a unit id (README.md "Register map"; 0/255 = the bank if any, else
 * the only pack). */
bool gw_unit_lookup(struct gw *gw, int unit, struct gw_unit *u);
/* Fresh data: a pack within stale_after, the bank with at least one fresh pack. */
bool gw_unit_online(const struct gw *gw, const struct gw_unit *u);
/* The same at monotonic time now (gw_mono()). */
bool gw_unit_online_at(const struct gw *gw, const struct gw_unit *u, double now);
/* The full register image of a unit as served now. */
void gw_unit_image(const struct gw *gw, const struct gw_unit *u, uint16_t regs[REG_MAP_SIZE]);
/* The images as the Modbus server sends them (units.c): big-endian, encoded
 * again only when something they show has changed, so that a request costs
 * a few comparisons.  One set per server. */
struct gw_images;
struct gw_images *gw_images_new(void);
void gw_images_free(struct gw_images *im);
/* u's registers at monotonic time now (gw_mono()), 2 * REG_MAP_SIZE bytes
 * high byte first: what gw_unit_image() gives at that instant.  Valid until
 * the next call with the same im. */
const uint8_t *gw_unit_image_wire(const struct gw *gw, const struct gw_unit *u, double now, struct gw_images *im);

struct gw {
	struct ev_loop *loop;
	struct conf *conf;             /* owned; gw_reload() replaces it */
	int npacks, nbuses;
	struct gw_pack *packs[CONF_MAX_PACKS]; /* packs[i] serves conf->packs[i] */
	struct gw_bus *buses[CONF_MAX_PACKS]; /* one per distinct port */
	struct gw_link_env link_env;   /* what every link shares: loop, resolver, BlueZ client */
	int nout;                      /* the outputs (the daemon's service table), in its order */
	struct gw_output out[GW_MAX_OUTPUTS];
	bool serving;                  /* the daemon serves (gw_serve), not --once */
	int modbus_clients;            /* Modbus TCP clients connected now (the server counts) */
	struct gw_resolver *resolver;  /* host names of links and upstreams */
	double start;                  /* monotonic */
	char machine[9];               /* this machine's tag (core/machine.h), "" = none */
	gw_poll_cb on_poll;            /* optional: called after every finished poll */
	bool stopping;                 /* gw_free() runs: schedule nothing new */
	bool verbose;                  /* -v: debug logging whatever log_level says */
	int fd_limit;                  /* RLIMIT_NOFILE soft limit in force */
	int client_cap;                /* Modbus clients the descriptors allow */
	ev_timer tick;                 /* once a second: watchdog, status, log repeats */
	double watchdog;               /* systemd's WatchdogSec, 0 = none */
	char status[128];              /* last STATUS= sent to systemd */
	struct gw_energy bank_energy;  /* the bank's, from the bank's power */
	struct gw_limits bank_lim;     /* the bank's charge and discharge limits (charge.c) */
	struct gw_lim_bank_state bank_lim_st; /* ... and their memory (they rise slowly too) */
	bool bank_lim_known;           /* computed at least once (for the change log) */
	bool state_dirty;              /* something else of the state file changed (last full charge) */
	bool energy_save_failed;       /* the state file could not be written (logged once) */
	struct gw_afile *state_writer; /* writes the state file off the loop (core/afile.h) */
	bool intent_dirty;             /* a MOSFET intent changed since the state file was written */
	double energy_saved_at;        /* monotonic */
	unsigned long reloads;         /* applied */
	unsigned long reload_failures; /* failed since the last one applied */
	unsigned long reload_failures_total;
};

/* charge.c: the charge and discharge limits ([limits]), kept current: a
 * poll of p finished (its limits and the bank's), a second passed (every
 * pack: holds, ramps, a pack gone stale is fail-safe), the configuration
 * changed (off: every limit 0).  gw_unit_limits(): those a unit serves. */
void gw_charge_polled(struct gw *gw, struct gw_pack *p);
void gw_charge_tick(struct gw *gw, double now);
void gw_charge_reset(struct gw *gw);
const struct gw_limits *gw_unit_limits(const struct gw *gw, const struct gw_unit *u);

/* True if the pack's data is fresh (units.c). */
bool gw_pack_online(const struct gw *gw, const struct gw_pack *p);
/* Stale at monotonic time now: not fresh, and it either had data or has
 * had stale_after since it was configured to get some (not read yet at
 * start is not stale). */
bool gw_pack_stale_at(const struct gw *gw, const struct gw_pack *p, double now);
/* Is p one of the bank's packs? */
bool gw_pack_in_bank(const struct gw *gw, const struct gw_pack *p);
/* The pack called `name`, or NULL. */
struct gw_pack *gw_find_pack(const struct gw *gw, const char *name);
/* Packs online now. */
int gw_packs_online(const struct gw *gw);

#endif
