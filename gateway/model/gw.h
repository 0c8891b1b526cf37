/* gateway/model/gw.h - the daemon's state: packs, links (wires) and the loop.
 *
 * One gw_link per distinct `port` string (a serial device, a TCP serial
 * server or a Bluetooth LE device); the packs on it are polled one after the other.  A pack's last
 * complete snapshot and its encoded register block are replaced only by a
 * complete, validated poll.  Packs and links are allocated one by one, so a
 * reload (gw_reload) can carry the unchanged ones over to the new
 * configuration as they are, wire open and poll in progress included.
 */
#ifndef GATEWAY_GW_H
#define GATEWAY_GW_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../../bms/bms.h"
#include "../../conf/conf.h"
#include "../../registers/regmap.h"
#include "../poll/control.h"
#include "energy.h"
#include "../mqtt/mqtt.h"

struct gw;
struct gw_link;
struct gw_server;
struct gw_upstream;
struct gw_resolver;
struct gw_tunnel;
struct gw_http;
struct gw_history;
struct gw_ble;

struct gw_pack {
	const struct conf_pack *cfg;
	const struct bms_driver *drv;
	struct gw_link *link;
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
	struct gw_pack_mqtt mq;        /* what the MQTT client published of it */
	struct gw_pack_ctl ctl;        /* MOSFET control */
};

typedef void (*gw_poll_cb)(struct gw *gw, struct gw_pack *p, bool ok);

/* Error counters of one wire, as libmodbus and mbusd keep them. */
struct gw_wire_stats {
	uint32_t checksum_errors;      /* complete frames whose checksum (or end marker) failed */
	uint32_t short_frames;         /* frames cut short: truncated, or abandoned half-way */
	uint32_t timeouts;             /* tries with no complete answer within `timeout` */
};
/* The counters of the wire pack p is on. */
const struct gw_wire_stats *gw_pack_wire_stats(const struct gw_pack *p);

/* The bank unit, as computed now from the fresh packs (bank.c). */
struct gw_bank_state {
	struct bms_snapshot snap;      /* aggregated; no cells of its own */
	struct reg_bank rb;            /* cross-pack cell statistics, deviation */
	uint16_t online, configured;
	uint32_t online_mask;          /* bit n = bank pack n+1 fresh */
	uint32_t alarms;
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
	int npacks, nlinks;
	struct gw_pack *packs[CONF_MAX_PACKS]; /* packs[i] serves conf->packs[i] */
	struct gw_link *links[CONF_MAX_PACKS];
	struct gw_server *server;      /* NULL in --once */
	struct gw_upstream *upstreams; /* list, NULL if none */
	struct gw_mqtt *mqtt;          /* NULL without [mqtt] */
	struct gw_tunnel *tunnels;     /* list, NULL if none */
	struct gw_http *http;          /* NULL without [http] */
	struct gw_history *history;    /* NULL without history */
	struct gw_resolver *resolver;  /* host names of links and upstreams */
	struct gw_ble *ble;            /* BlueZ client of the ble:// links (ble.c), NULL until one opens */
	double start;                  /* monotonic */
	gw_poll_cb on_poll;            /* optional: called after every finished poll */
	bool stopping;                 /* gw_stop() runs: schedule nothing new */
	bool verbose;                  /* -v: debug logging whatever log_level says */
	int fd_limit;                  /* RLIMIT_NOFILE soft limit in force */
	int client_cap;                /* Modbus clients the descriptors allow */
	ev_timer tick;                 /* once a second: watchdog, status, log repeats */
	double watchdog;               /* systemd's WatchdogSec, 0 = none */
	char status[128];              /* last STATUS= sent to systemd */
	struct gw_energy bank_energy;  /* the bank's, from the bank's power */
	bool energy_save_failed;       /* the state file could not be written (logged once) */
	bool intent_dirty;             /* a MOSFET intent changed since the state file was written */
	double energy_saved_at;        /* monotonic */
	unsigned long reloads;         /* applied */
	unsigned long reload_failures; /* failed since the last one applied */
	unsigned long reload_failures_total;
};

/* Monotonic seconds. */
double gw_mono(void);
/* Local time now in *tm; returns a key that changes at local midnight. */
int gw_local_now(struct tm *tm);

/* Build packs and links from a validated configuration, which gw owns from
 * now on (gw_free() frees it).  0, or -1 with a logged error. */
int gw_init(struct gw *gw, struct ev_loop *loop, struct conf *conf);
/* The daemon's side: raise the descriptor limit, open the Modbus TCP
 * server, start the upstream pushers and the once-a-second tick (systemd
 * watchdog and status).  0, or -1 with a logged error (cannot listen). */
int gw_serve(struct gw *gw);
/* Open every link and start polling (non-blocking; failures retry on their own). */
void gw_start(struct gw *gw);
/* Apply a new, validated configuration with the least disruption (see
 * daemon.c).  On success gw owns nc and returns 0; on failure (the new
 * listen address cannot be opened) nothing changed, err says why, the
 * caller still owns nc, and -1 is returned. */
int gw_reload(struct gw *gw, struct conf *nc, char *err, size_t errlen);
/* A poll of p finished (ok: a new snapshot was committed): energy counters,
 * publishing, then gw->on_poll.  Called by the poller. */
void gw_polled(struct gw *gw, struct gw_pack *p, bool ok);
/* SIGHUP: read the configuration file again and apply it (gw_reload), or
 * log why not and keep running as before; tells systemd RELOADING/READY. */
void gw_reload_file(struct gw *gw);
/* Stop every watcher, close every link, client and socket, free everything
 * (the configuration too).  The loop itself stays. */
void gw_free(struct gw *gw);

/* True if the pack's data is fresh (units.c). */
bool gw_pack_online(const struct gw *gw, const struct gw_pack *p);
/* The pack called `name`, or NULL. */
struct gw_pack *gw_find_pack(const struct gw *gw, const char *name);
/* Packs online now. */
int gw_packs_online(const struct gw *gw);

#endif
