/* SPDX-License-Identifier: MIT */
/* gateway/inverter/invout.h - private to the inverter output: one running
 * [inverter.NAME] and what its files (inverter.c, invsource.c, invcan.c,
 * inv485.c) call of each other.  An output is of its protocol row's kind
 * (inv_dialect_kind: CAN or RS485), which picks its struct inv_kind and the
 * member of the union it uses. */
#ifndef GATEWAY_INVERTER_INVOUT_H
#define GATEWAY_INVERTER_INVOUT_H

#include <ev.h>
#include <stdbool.h>

#include "../model/gw.h"
#include "../wire/can.h"
#include "../wire/wire.h"
#include "battery.h"
#include "codec.h"
#include "inv485rx.h"
#include "j1939.h"

/* What the inverter gets now (bmsgw-inverters(7) says what each means to it). */
enum inv_state {
	INV_DOWN = 0,      /* the CAN interface, adapter or serial port is not open */
	INV_SENDING,       /* the source is fresh: its limits and state */
	INV_FAILSAFE,      /* the source is stale: zero current limits, charge and discharge disabled */
	INV_SILENT,        /* stale for failsafe_silence: nothing sent, nothing answered */
	INV_WAITING,       /* the source never had data yet: nothing sent, nothing answered */
	INV_OUT_OF_RANGE,  /* a high-voltage protocol's source measures outside the protocol's voltage
	                    * range (inv_dialect_volt_range()), or no voltage: nothing sent, nothing answered */
};
#define INV_STATES 6

#define INV_SEEN_S 10      /* s: "the inverter was seen": a frame or a request within this */
#define INV_SET_GAP 0.05   /* s: two CAN sets are never closer than this */

/* A CAN output that is a J1939 node (codec.h `claims`: rvc), invnode.c's. */
struct inv_node {
	struct j1939_node j;           /* its address (j1939.h) */
	ev_timer later;                /* a cannot-claim frame's pseudo-random delay */
	unsigned long claims_sent;     /* claim frames sent (cannot-claim ones too) */
	/* another node speaking for the same DC instance with a higher device
	 * priority (or the same, at a higher address): bmsgw defers to it */
	uint8_t rival_sa;
	double rival_until;            /* monotonic time its last DC_SOURCE_STATUS_1 holds until */
	bool deferring;                /* said in the log */
};

/* A CAN output's own. */
struct inv_can_out {
	struct gw_can *port;
	ev_timer send;                 /* the next frame (one by one) or frame set */
	int next_frame;                /* one by one: the frame of the set to send next */
	double last_frame_at;          /* monotonic time of the last frame sent */
	double last_set_at;            /* ... and of the last set's first frame, at its write */
	double min_set_gap;            /* the least time between two sets' first frames so far, a
					* frame-by-frame codec's between two frames (0 = none) */
	struct gw_can_frame set[INV_CAN_MAX_FRAMES];
	int nset;
	struct inv_encoded set_limits; /* the limits the set carries */
	unsigned long sets;            /* frame sets begun */
	unsigned long early;           /* sets sent out of turn: a current limit fell */
	struct inv_heard inv;          /* what the inverter said */
	double last_shutdown;          /* monotonic time of its last "shutdown battery", 0 = none */
	/* a scheduled codec's (codec.h `periods`): the send timer fires at the
	 * earliest due frame */
	bool sched_on;                 /* the schedule runs: it may start (codec.h `start`), the output speaks */
	bool paired;                   /* the inverter asked for the identification once (INV_START_ASKED) */
	bool ident_asked;              /* the identification is to go with the next step */
	bool urgent;                   /* the at_once frames are to go with the next step */
	struct inv_can_sched sched;    /* when each frame is next due, the frames waiting (cansched.c) */
	unsigned long idents;          /* identification sets sent */
	struct inv_node node;          /* a J1939 node's (codec.h `claims`) */
	unsigned long replies;         /* requests replied to (codec.h `reply`) */
};

/* An RS485 output's own. */
struct inv_485_out {
	struct gw_link *link;
	struct inv_485_rx rx;          /* the requests being assembled, the framer's counters */
	unsigned long unanswered;      /* requests for us not answered (silent) */
	struct inv_485_kept kept;      /* what the inverter wrote that its dialect keeps (codec.h) */
};

struct inv_out;

/* What an output of a kind does (invcan.c, inv485.c). */
struct inv_kind {
	int (*start)(struct inv_out *o, char *err, size_t errlen);
	void (*stop)(struct inv_out *o);          /* also of one whose start failed */
	void (*tick)(struct inv_out *o, double now);
	void (*polled)(struct inv_out *o, double now); /* NULL: a poll changes nothing at once */
	void (*status)(const struct inv_out *o, FILE *out);
};
extern const struct inv_kind inv_kind_can, inv_kind_rs485;

struct inv_out {
	struct gw *gw;
	struct inv_out *next;
	struct conf_inverter cfg;      /* a copy: the running settings */
	const struct inv_codec *codec; /* its protocol's */
	const struct inv_kind *kind;   /* its protocol's kind's */
	bool running;                  /* started (a kept one is) */
	enum inv_state state;
	double stale_since;            /* monotonic start of the source's staleness, 0 = fresh */
	bool ever_fresh;               /* the source had data since the output started */
	bool waiting_logged;
	bool out_of_range;             /* the source's voltage is outside the protocol's range (said once) */
	struct inv_battery last;       /* what was sent while the source was last fresh */
	struct inv_encoded told;       /* the limits last sent (told.limits false: none yet) */
	double last_seen;              /* monotonic time of the inverter's last frame or request */
	unsigned long sent;            /* CAN frames sent / RS485 answers sent */
	unsigned long received;        /* CAN frames / RS485 requests from the inverter */
	union {                        /* by kind */
		struct inv_can_out can;
		struct inv_485_out rs485;
	};
};

/* invnode.c: a CAN output that is a J1939 node (codec.h `claims`).  Up:
 * its claim goes out, whatever the source; down: forgotten.  A frame heard:
 * the claims and requests (answered, a lost address logged once), another
 * node's DC_SOURCE_STATUS_1 for the same instance.  Ready: may its other
 * frames go at now (the address held, no node it defers to); *at when they
 * may (0: not by waiting).  The address its frames carry. */
void inv_node_up(struct inv_out *o);
void inv_node_down(struct inv_out *o);
void inv_node_frame(struct inv_out *o, const struct gw_can_frame *f, double now);
bool inv_node_ready(struct inv_out *o, double now, double *at);
uint8_t inv_node_address(const struct inv_out *o);
void inv_node_status(const struct inv_out *o, FILE *out);

/* invsource.c: the virtual battery from the output's source at now; true
 * when the source is fresh and gives what an inverter must read (a CVL and
 * a SOC), which is then kept in o->last.  Otherwise o->last with the
 * fail-safe limits (no current, nothing allowed, a communication warning);
 * before the source was ever fresh there is nothing to send.
 * keep = false: look only (o->last untouched). */
bool inv_source(struct inv_out *o, double now, struct inv_battery *b, bool keep);
/* A high-voltage protocol's output (inv_dialect_volt_range()): is b, the
 * battery it would send, inside the protocol's voltage range?  Kept in
 * o->out_of_range (the state INV_OUT_OF_RANGE), a change logged once; no
 * range: nothing done.  inv_source() calls it with every battery it keeps. */
void inv_check_range(struct inv_out *o, const struct inv_battery *b);
/* The state the output is in given the source's freshness; a change is
 * logged once. */
void inv_update_state(struct inv_out *o, bool up, bool fresh, double now);
/* May the output send (CAN) or answer (RS485) in its state? */
bool inv_state_speaks(enum inv_state s);
const char *inv_state_name(enum inv_state s);

#endif
