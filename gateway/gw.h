/* gateway/gw.h - the daemon's state: packs, links (wires) and the loop.
 *
 * One gw_link per distinct `port` string (a serial device or a TCP serial
 * server); the packs on it are polled one after the other.  A pack's last
 * complete snapshot and its encoded register block are replaced only by a
 * complete, validated poll.
 */
#ifndef GATEWAY_GW_H
#define GATEWAY_GW_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../bms/bms.h"
#include "../conf/conf.h"
#include "../registers/regmap.h"

struct gw;
struct gw_link;
struct gw_server;

struct gw_pack {
	const struct conf_pack *cfg;
	const struct bms_driver *drv;
	struct gw_link *link;
	struct gw_pack *next_on_link;

	struct bms_poll poll;          /* the poll in progress */
	double poll_started;           /* monotonic */
	double next_due;               /* monotonic time of the next poll */

	bool have_data;                /* snap/data_regs hold a good poll */
	double last_good;              /* monotonic time of that poll */
	struct bms_snapshot snap;      /* last complete, validated snapshot */
	uint16_t data_regs[REG_MAP_SIZE];
	uint32_t good_polls, failed_polls;
	unsigned fail_streak;          /* failed polls since the last good one */
	char last_error[96];

	int soc_day;                   /* local day of soc_max (tm_yday + 1000*year) */
	uint16_t soc_max, soc_max_hour, soc_max_minute;

	bool attempted;                /* at least one poll finished (for --once) */
};

enum gw_link_state { GW_LINK_DOWN, GW_LINK_CONNECTING, GW_LINK_UP };
enum gw_poll_state { GW_POLL_IDLE, GW_POLL_GAP, GW_POLL_WAIT };

struct gw_link {
	struct gw *gw;
	const struct conf_pack *cfg;   /* the first pack's settings for this wire */
	const char *port;              /* conf string */
	int fd;
	struct sp_port *sp;            /* libserialport handle (NULL for TCP / termios) */
	enum gw_link_state state;
	ev_io io;
	ev_timer conn_timer;           /* reconnect backoff / connect timeout */
	double backoff;
	bool outage_logged;
	double down_since;
	unsigned silent_polls;         /* consecutive polls of any pack without a byte received */
	bool got_bytes;                /* bytes arrived during the current poll */

	struct gw_pack *packs;         /* list via next_on_link */
	struct gw_pack *cur;           /* pack being polled */
	enum gw_poll_state ps;
	ev_timer poll_timer;           /* gap, response timeout, next due */
	double gap_started;            /* monotonic start of the current gap */
	struct bms_rx rx;
	double last_rx;
	uint8_t tx[64];
	size_t txlen, txoff;
};

typedef void (*gw_poll_cb)(struct gw *gw, struct gw_pack *p, bool ok);

/* The bank unit, as computed now from the fresh packs (bank.c). */
struct gw_bank_state {
	struct bms_snapshot snap;      /* aggregated; no cells of its own */
	struct reg_bank rb;            /* cross-pack cell statistics, deviation */
	uint16_t online, configured;
	uint32_t online_mask;          /* bit n = bank pack n+1 fresh */
	uint32_t alarms;
};
void gw_bank_compute(const struct gw *gw, struct gw_bank_state *out);

/* What a Modbus unit id addresses: a pack, the bank, or nothing. */
struct gw_unit {
	struct gw_pack *pack;          /* NULL for the bank */
	bool bank;
};
/* Resolve a unit id (design.md §5; 0/255 = the bank if any, else the only pack). */
bool gw_unit_lookup(struct gw *gw, int unit, struct gw_unit *u);
/* Fresh data: a pack within stale_after, the bank with at least one fresh pack. */
bool gw_unit_online(const struct gw *gw, const struct gw_unit *u);
/* The full register image of a unit as served now. */
void gw_unit_image(const struct gw *gw, const struct gw_unit *u, uint16_t regs[REG_MAP_SIZE]);

struct gw {
	struct ev_loop *loop;
	const struct conf *conf;
	int npacks, nlinks;
	struct gw_pack packs[CONF_MAX_PACKS];
	struct gw_link links[CONF_MAX_PACKS];
	struct gw_server *server;
	double start;                  /* monotonic */
	gw_poll_cb on_poll;            /* optional: called after every finished poll */
	bool stopping;                 /* gw_stop() runs: schedule nothing new */
};

/* Monotonic seconds. */
double gw_mono(void);
/* Local time now in *tm; returns a key that changes at local midnight. */
int gw_local_now(struct tm *tm);

/* Build packs and links from a validated configuration. */
void gw_init(struct gw *gw, struct ev_loop *loop, const struct conf *conf);
/* Open every link and start polling (non-blocking; failures retry on their own). */
void gw_start(struct gw *gw);
/* Stop every watcher and close every link. */
void gw_stop(struct gw *gw);

/* True if the pack's data is fresh (units.c). */
bool gw_pack_online(const struct gw *gw, const struct gw_pack *p);

/* link.c: set up a closed link for the wire of `cfg`. */
void gw_link_init(struct gw_link *l, struct gw *gw, const struct conf_pack *cfg);
/* link.c: open/close the wire; called by the poller. */
void gw_link_open(struct gw_link *l);
void gw_link_close(struct gw_link *l, const char *why);
/* Read everything pending and throw it away (before each request). */
void gw_link_drain(struct gw_link *l);
/* Queue bytes for writing; returns 0 or -1 (link not up / too long). */
int gw_link_send(struct gw_link *l, const uint8_t *p, size_t n);

/* poller.c: hooks called by link.c */
void gw_poll_link_up(struct gw_link *l);
void gw_poll_link_down(struct gw_link *l);
void gw_poll_bytes(struct gw_link *l, const uint8_t *p, size_t n);

#endif
