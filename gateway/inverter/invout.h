/* gateway/inverter/invout.h - private to the inverter output: one running
 * [inverter.NAME] and what its files (inverter.c, invsource.c, invcan.c,
 * inv485.c) call of each other. */
#ifndef GATEWAY_INVERTER_INVOUT_H
#define GATEWAY_INVERTER_INVOUT_H

#include <ev.h>
#include <stdbool.h>

#include "../model/gw.h"
#include "../wire/can.h"
#include "../wire/wire.h"
#include "battery.h"
#include "codec.h"
#include "pylon_rs485.h"

/* What the inverter gets now (the README says what each means to it). */
enum inv_state {
	INV_DOWN = 0,      /* the CAN interface, adapter or serial port is not open */
	INV_SENDING,       /* the source is fresh: its limits and state */
	INV_FAILSAFE,      /* the source is stale: zero current limits, charge and discharge disabled */
	INV_SILENT,        /* stale for failsafe_silence: nothing sent, nothing answered */
	INV_WAITING,       /* the source never had data yet: nothing sent, nothing answered */
};
#define INV_STATES 5

#define INV_SEEN_S 10.0    /* "the inverter was seen": a frame or a request within this */
#define INV_SET_GAP 0.05   /* s: two CAN sets are never closer than this */

struct inv_out {
	struct gw *gw;
	struct inv_out *next;
	struct conf_inverter cfg;      /* a copy: the running settings */
	const struct inv_codec *codec; /* its protocol's */
	enum inv_state state;
	double stale_since;            /* monotonic start of the source's staleness, 0 = fresh */
	bool ever_fresh;               /* the source had data since the output started */
	bool waiting_logged;
	struct inv_battery last;       /* what was sent while the source was last fresh */
	double last_seen;              /* monotonic time of the inverter's last frame or request */
	unsigned long sent;            /* CAN frames sent / RS485 answers sent */
	unsigned long sets;            /* CAN frame sets begun */
	unsigned long early;           /* CAN sets sent out of turn: a current limit fell */
	unsigned long received;        /* CAN frames / RS485 requests from the inverter */
	/* CAN */
	struct gw_can *can;
	ev_timer send;                 /* the next frame (one by one) or frame set */
	int next_frame;                /* one by one: the frame of the set to send next */
	double last_frame_at;          /* monotonic time of the last frame sent */
	double last_set_at;            /* ... and of the last set's first frame, at its write */
	double min_set_gap;            /* the least time between two sets' first frames so far (0 = none) */
	struct gw_can_frame set[INV_CAN_MAX_FRAMES];
	int nset;
	struct inv_heard inv;          /* what the inverter said */
	double last_shutdown;          /* monotonic time of its last "shutdown battery", 0 = none */
	/* RS485 */
	struct gw_link *link;
	struct pylon485_framer fr;
	struct pylon485_cfg pc;
	unsigned long unanswered;      /* requests for us not answered (silent) */
};

/* invsource.c: the virtual battery from the output's source at now; true
 * when the source is fresh and gives what an inverter must read (a CVL and
 * a SOC), which is then kept in o->last.  Otherwise o->last with the
 * fail-safe limits (no current, nothing allowed, a communication warning);
 * before the source was ever fresh there is nothing to send.
 * keep = false: look only (o->last untouched). */
bool inv_source(struct inv_out *o, double now, struct inv_battery *b, bool keep);
/* The state the output is in given the source's freshness; a change is
 * logged once. */
void inv_update_state(struct inv_out *o, bool up, bool fresh, double now);
/* May the output send (CAN) or answer (RS485) in its state? */
bool inv_state_speaks(enum inv_state s);
const char *inv_state_name(enum inv_state s);

/* invcan.c: a CAN output (pylon-can, sma-can) */
int inv_can_start(struct inv_out *o, char *err, size_t errlen);
void inv_can_stop(struct inv_out *o);
void inv_can_tick(struct inv_out *o, double now);
void inv_can_polled(struct inv_out *o, double now);
void inv_can_status(const struct inv_out *o, FILE *out);

/* inv485.c: an RS485 output (pylon-rs485) */
int inv_485_start(struct inv_out *o, char *err, size_t errlen);
void inv_485_stop(struct inv_out *o);
void inv_485_tick(struct inv_out *o, double now);
void inv_485_status(const struct inv_out *o, FILE *out);

#endif
