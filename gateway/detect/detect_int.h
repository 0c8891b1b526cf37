/* SPDX-License-Identifier: MIT */
/* gateway/detect/detect_int.h - the detector's state, shared by its files:
 * detect.c (the port, the loop, the link's owner), listen.c (listening
 * before sending), probe.c (the probes), report.c (what it says). */
#ifndef GATEWAY_DETECT_INT_H
#define GATEWAY_DETECT_INT_H

#include "../../bms/bms.h"
#include "../../conf/conf.h"
#include "../wire/wire.h"
#include "detect.h"
#include "plan.h"
#include "sniff.h"

#define GW_FOUND_MAX 32
#define GW_HEARD_MAX 16384      /* bytes kept of one listening window (115200 baud: 1.4 s) */
#define GW_QUIET_MAX 1.0        /* s a probe waits for its quiet gap before it gives up */
#define GW_ANSWER_MAX 2.0       /* s an answer may go on once it started */

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
};

enum det_phase { DET_OPEN, DET_LISTEN, DET_GAP, DET_SEND, DET_WAIT, DET_DONE };

struct det {
	struct ev_loop *loop;
	const struct gw_detect_opts *o;
	FILE *out, *err;
	struct gw_plan_opts po;
	struct conf_pack port;          /* the port, parsed as the `port` key */
	struct gw_link_env env;
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
	uint8_t heard[GW_HEARD_MAX];
	size_t nheard, lost;
	/* probing */
	struct gw_detect_try *plan;
	size_t nplan, pi;
	int attempt;
	bool confirming;
	int baud;                       /* the port's rate now */
	ev_tstamp gap_from, hard_end;
	struct bms_poll poll;
	uint8_t req[256];
	size_t reqlen;
	uint8_t rx[BMS_RX_CAP];
	size_t rxlen;
	bool echo;                      /* the request came back (a 2-wire adapter) */
	size_t stray;                   /* bytes that broke a gap */
	/* results */
	struct gw_found found[GW_FOUND_MAX];
	int nfound;
	unsigned sent;
};

/* detect.c */
double gw_det_now(const struct det *d);
void gw_det_timer(struct det *d, double after);
void gw_det_finish(struct det *d, int rc);
int gw_det_set_baud(struct det *d, int baud);
/* listen.c */
void gw_det_listen_start(struct det *d);
void gw_det_listen_bytes(struct det *d, const uint8_t *p, size_t n);
void gw_det_listen_end(struct det *d);
/* probe.c */
void gw_det_probe_start(struct det *d);
void gw_det_probe_bytes(struct det *d, const uint8_t *p, size_t n);
void gw_det_probe_timer(struct det *d);
void gw_det_probe_drained(struct det *d);
void gw_det_probe_settled(struct det *d);
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

#endif
