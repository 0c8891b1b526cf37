/* SPDX-License-Identifier: MIT */
/* gateway/detect/detect_int.h - the detector's state, shared by its files:
 * detect.c (the port, the loop, the link's owner), listen_first.c (listening
 * before sending), master.c (a bus with another master: who polls whom),
 * probing.c (the probes), late.c (an answer after its wait), report.c (what
 * it says). */
#ifndef GATEWAY_DETECT_INT_H
#define GATEWAY_DETECT_INT_H

#include "../../bms/bms.h"
#include "../../conf/conf.h"
#include "../wire/wire.h"
#include "canmatch.h"
#include "detect.h"
#include "hints.h"
#include "probe_order.h"
#include "sniff.h"

#define GW_FOUND_MAX 32
/* how many of the requests sent are remembered, and how late their echo
 * may come and still be taken for ours */
#define GW_DET_SENT 8
#define GW_DET_ECHO_LATE 3.0
/* bytes kept of one rate's listening (115200 baud: 7.1 s, the longest a
 * master's bus is listened to, GW_MASTER_MAX, and more) */
#define GW_HEARD_MAX 81920
/* A bus with another master (master.c): listened to on, GW_MASTER_STEP at a
 * time, until every address heard came round again (two rounds of the
 * master), at most GW_MASTER_MAX s at that rate in all. */
#define GW_MASTER_MAX 6.0
#define GW_MASTER_STEP 0.5
#define GW_BUS_PACKS 32         /* addresses with answers kept of one bus */
#define GW_QUIET_MAX 1.0        /* s a probe waits for its quiet gap before it gives up */
#define GW_ANSWER_MAX 2.0       /* s an answer may go on once it started */
#define GW_LATE_MAX 3           /* probes asked again after a late answer, a run (late.c) */
#define GW_LATE_KEEP 8          /* unanswered probes whose answer may still come */

/* What answered, confirmed. */
struct gw_found {
	const struct bms_driver *drv;
	int baud;                   /* 0: a TCP serial server's own */
	uint8_t address;
	bool any;                   /* it answered a request for all at `address` from `from`:
	                             * its section says address_any */
	uint8_t from;
	char what[BMS_PROBE_TEXT];
	double at;                  /* s since the start */
	bool listen;                /* heard on a bus another master polls: listen = true */
	struct bms_probe_result read; /* its cells and SOC, where the answer gave them (has_cells,
	                             * has_soc): the chemistry its section proposes */
};

/* One address of a bus heard with a master (master.c). */
struct gw_bus_pack {
	uint8_t addr;
	unsigned answers;           /* answers of it the driver decoded */
	unsigned unasked;           /* ... with no request before them (a master's own) */
	char what[BMS_PROBE_TEXT];  /* what the last of them said (bms_probe_plausible()), or "" */
};

/* What one listening driver made of a bus (master.c). */
struct gw_bus_tally {
	const struct bms_driver *drv;
	unsigned frames;            /* frames its bus framer cut */
	unsigned requests;          /* ... of them requests */
	unsigned decoded;           /* answers its hear() decoded */
	unsigned refused;           /* answers its hear() found bad */
	unsigned triggers;          /* requests that are JK-PB triggers (FC 16 to 0x16xx) */
	unsigned asked[256];        /* requests per address */
	uint8_t visits[256];        /* times each address came up, something else between */
	int npacks;
	struct gw_bus_pack packs[GW_BUS_PACKS];
};

/* A probe that ended unanswered (late.c): where it stands in the plan, and
 * what it got and what came after it so far. */
struct gw_late {
	bool on;
	size_t pi;
	int attempt;
	bool confirming;
	int baud;
	ev_tstamp sent_at;
	uint8_t rx[BMS_RX_CAP];
	size_t rxlen;
};

enum det_phase { DET_OPEN, DET_LISTEN, DET_GAP, DET_SEND, DET_WAIT, DET_CAN, DET_DONE };

/* A CAN bus (canport.c): listened to GW_CAN_LISTEN s at each rate, the
 * port given GW_CAN_OPEN_MAX s to come up. */
#define GW_CAN_LISTEN 4.0
#define GW_CAN_OPEN_MAX 3.0
struct gw_can;

struct det {
	struct ev_loop *loop;
	const struct gw_detect_opts *o; /* &opts */
	struct gw_detect_opts opts;     /* a copy, its port in port_name */
	char port_name[CONF_PORT_MAX];
	gw_detect_done_cb *done;        /* the end (detect.h) */
	void *done_arg;
	bool borrowed;                  /* the link is lent by a bus of the daemon's */
	FILE *out, *err;
	struct gw_plan_opts po;
	struct conf_pack port;          /* the port, parsed as the `port` key */
	struct gw_link_env env;
	struct gw_resolver *own_resolver; /* a TCP port's, when env had none */
	struct gw_link *link;
	ev_timer timer;                 /* the listening window, the gap, the wait */
	ev_timer budget;
	ev_idle settle;                 /* a wait that ran out: bytes pending first */
	unsigned long rx_seq, settle_seq; /* chunks received; at the wait's end */
	ev_signal sigint, sigterm;
	ev_tstamp t0;
	enum det_phase phase;
	int rc;
	/* listening */
	int lbauds[GW_PLAN_LISTEN], nlisten, li;
	bool extended;                  /* this window was listened to twice */
	bool noisy;                     /* a byte was heard at some rate */
	bool relistening;               /* a master heard while probing: never probe again */
	bool short_window;              /* this window is GW_PLAN_QUIET (all silence so far) */
	ev_tstamp listen_from;          /* this window's start */
	struct gw_plan_heard hints;     /* the families' signatures heard at each rate */
	double listened;                /* s listened to at this rate */
	bool mastered;                  /* a master heard at this rate: listened on */
	int foreign_baud;               /* frames of another master heard at this rate, none of its
	                                 * packs' answers decoded (0: none such): never probed */
	struct gw_bus_tally tally, best, asker; /* master.c: a driver's, the best, the most requests */
	uint8_t heard[GW_HEARD_MAX];
	size_t nheard, lost;
	/* probing */
	struct gw_detect_try *plan;
	size_t nplan, pi;
	int attempt;
	bool confirming;
	int baud;                       /* the port's rate now */
	ev_tstamp quiet_from;           /* the line's last byte (heard, or ours on the wire), or the last
	                                 * change of rate: silence since then counts as a probe's gap */
	ev_tstamp gap_from, hard_end;
	struct bms_poll poll;
	uint8_t req[256];
	size_t reqlen;
	/* the last probes that ended unanswered: their answers may still come,
	 * late (late.c) */
	struct gw_late late[GW_LATE_KEEP], back_to;
	unsigned late_next;
	unsigned late_tries;            /* probes asked again after a late answer */
	double stretch;                 /* s: the wait of a probe asked again (0: its own) */
	/* the requests sent lately (this one among them): their echo may come
	 * late, in a later probe's gap or wait, on a slow adapter or a loaded
	 * machine (GW_DET_ECHO_LATE) */
	struct {
		uint8_t req[256];
		size_t len;
		double at;
	} sent_ring[GW_DET_SENT];
	unsigned sent_next;
	uint8_t rx[BMS_RX_CAP];
	size_t rxlen;
	bool echo;                      /* the request came back (a 2-wire adapter) */
	size_t stray;                   /* bytes that broke a gap */
	/* a CAN bus (canport.c): its port, its rates (0: a SocketCAN
	 * interface's own), the frames heard at this one (as records in heard) */
	struct gw_can *can;
	uint32_t can_rates[GW_CAN_RATES];
	int ncan_rates, can_ri;
	unsigned long can_frames;
	float can_at[GW_HEARD_MAX / BMS_CAN_HDR]; /* when each record of heard came, s into the window */
	size_t ncan_at;
	ev_tstamp can_from;             /* the window's start */
	/* results */
	struct gw_found found[GW_FOUND_MAX];
	int nfound;
	unsigned sent;
	/* The phases' starts (detect.c sets them): a phase that ends starts
	 * the next through these, so that listen_first.c and probing.c never call
	 * each other. */
	void (*start_listening)(struct det *d);
	void (*start_probing)(struct det *d);
};

/* The detector's clock: seconds since it started. */
static inline double gw_det_now(const struct det *d)
{
	return ev_now(d->loop) - d->t0;
}

/* run.c */
void gw_det_timer(struct det *d, double after);
void gw_det_finish(struct det *d, int rc);
int gw_det_set_baud(struct det *d, int baud);
/* listen_first.c */
void gw_det_listen_start(struct det *d);
void gw_det_listen_bytes(struct det *d, const uint8_t *p, size_t n);
void gw_det_listen_end(struct det *d);
/* master.c: frames of another master were heard at baud.  0: listening
 * on (the timer set); 1: done, the detector finished (the master and its
 * packs named, or why not). */
int gw_det_master(struct det *d, int baud);
/* The verdict: 0 packs named (listen sections), 2 a master without answers,
 * -1 no master of a listening protocol (say what was heard instead). */
int gw_det_master_end(struct det *d, int baud);
/* late.c: gw_det_late_keep() keeps the probe that ended unanswered,
 * gw_det_late_forget() drops every kept one (a new run, a verdict);
 * gw_det_late_answer() judges bytes that came after the kept ones (added to
 * what each kept when keep): true when they complete a valid answer to one,
 * said, d->back_to that probe and d->stretch set; the caller then goes back
 * to it. */
void gw_det_late_keep(struct det *d);
void gw_det_late_forget(struct det *d);
bool gw_det_late_answer(struct det *d, const uint8_t *p, size_t n, bool keep);
/* probing.c */
void gw_det_probe_start(struct det *d);
void gw_det_probe_bytes(struct det *d, const uint8_t *p, size_t n);
void gw_det_probe_timer(struct det *d);
void gw_det_probe_drained(struct det *d);
void gw_det_probe_settled(struct det *d);
/* canport.c: --detect on a CAN bus (d->port.is_can): listen only.
 * gw_det_can_open() opens the port (0, or -1 with the reason said);
 * gw_det_can_timer() is the detector's timer while it runs. */
int gw_det_can_open(struct det *d);
void gw_det_can_timer(struct det *d);
/* report.c */
void gw_det_say(struct det *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gw_det_hex(struct det *d, const char *dir, const uint8_t *p, size_t n);
const char *gw_det_where(const struct det *d, const struct bms_driver *drv, int baud, uint8_t address, bool addr,
			 char *buf, size_t cap);
struct gw_found *gw_det_add_found(struct det *d, const struct bms_driver *drv, int baud, uint8_t address, const char *what);
/* Is a try of drv at baud and address a pack found already (at that
 * address, or answering from it)? */
bool gw_det_found_at(const struct det *d, const struct bms_driver *drv, int baud, uint8_t address);
void gw_det_sections(struct det *d);
/* Pack i found, as gw_detect_found() tells it. */
bool gw_det_found_info(const struct det *d, int i, struct gw_detect_found *out);

#endif
