/* SPDX-License-Identifier: MIT */
/* gateway/inverter/codec.h - one inverter protocol as the outputs use it:
 * its codec, one `const struct inv_codec inv_codec_<sym>` per protocol in
 * gateway/inverter/<sym>.c, found by the protocol's place in
 * CONF_INV_PROTOCOL_LIST (dialects.h, the one list of the protocols'
 * names and kinds; codecs.c).  Adding a protocol of either kind is its
 * codec file and its row in that list (gateway/README.md "Adding an inverter
 * protocol"); the outputs (invcan.c, inv485.c) know no protocol.
 *
 * A codec fills the part of its row's kind.  A CAN codec is a frame set:
 * each frame built from the struct inv_battery by a pure function (no I/O,
 * no globals), in sending order; the outputs send the set whole every
 * `interval`, or frame by frame gap_ms apart (SMA).  The extras (0x35F,
 * 0x379, 0x372, 0x373-0x377, 0x382) follow any CAN set when the output asks
 * for them.  An RS485 codec is a slave polled by the inverter: its framer
 * finds the requests in the bytes the inverter sends (inv485rx.h assembles
 * them from whatever read() returned), and it answers those that are its
 * own.  Every codec reports the current limits it encoded (struct
 * inv_encoded), so that no output reads its own frames back.
 */
#ifndef GATEWAY_INVERTER_CODEC_H
#define GATEWAY_INVERTER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inverter_conf.h"
#include "../wire/canframe.h"
#include "battery.h"

/* Frames a CAN set or answer has at most, extras included: room for a
 * codec's own frames and every extra (inv_can_encode() refuses a smaller
 * array, and an output whose set does not fit would send nothing; deye-can
 * has 9 of its own, growatt-can 11; sungrow-can's schedule 98 in its two
 * modes), and for the longest answer (foxess-can: 8 + 8 packs + 27 serials +
 * 36 cell and 8 temperature frames when all are asked at once).  tests/unit/test_inv_deye_can.c checks that every CAN
 * protocol's set fits. */
#define INV_CAN_MAX_FRAMES 128

/* What a frame from the inverter was. */
enum inv_rx {
	INV_RX_OTHER = 0,   /* not from the inverter (or a remote frame) */
	INV_RX_ALIVE,       /* 0x305 (any payload; 29 bits from a Schneider XW Pro) */
	INV_RX_306,         /* 0x306 of a Pylon-speaking inverter */
	INV_RX_VICTRON,     /* 0x307 "VIC": a Victron GX */
	INV_RX_SMA_MEAS,    /* SMA 0x305: the Sunny Island's battery V, I, T, SOC */
	INV_RX_SMA_STATE,   /* SMA 0x306: SOH, charging procedure, state, error, setpoint */
	INV_RX_SHUTDOWN,    /* Luxpower 0x300 byte 0 bit 0: "shutdown battery" */
	INV_RX_BAD,         /* an inverter identifier with a payload too short to use */
	INV_RX_REQUEST,     /* Growatt 0x301, Pylon HV 0x4200, SolaX / FoxESS 0x1871, Afore 0x305: the request a
	                     * codec that `answers` answers with its set; Sofar 0x605 / 0x705, Sungrow's Modbus on
	                     * 0x1E0: the request a codec that `reply`s replies to */
	INV_RX_IDENTIFY,    /* BYD 0x151 byte 0 bit 0, Growatt WIT 0x1ABE, SMA's pairing 0x5E7 / 0x660: the
	                     * request a scheduled codec answers with its `ident` */
};

/* What the inverter said, kept across frames. */
struct inv_heard {
	uint32_t frames;          /* inverter frames seen (every kind but OTHER) */
	bool victron;             /* a 0x307 "VIC" was seen */
	uint32_t shutdowns;       /* Luxpower "shutdown battery" requests (logged, never obeyed) */
	uint32_t asked;           /* the kinds of request heard and not answered yet, bit k a kind k
	                           * of the codec's (pylon-hv-can: 0x4200 byte 0); its `answer` reads them,
	                           * the output clears them once answered */
	uint8_t mode;             /* a dialect's own handshake state, 0 its start (solax-can: announce,
	                           * waiting, closed); its `heard` and `answer` move it, the output puts it
	                           * back to 0 while it does not speak and after `forget_s` without a frame */
	uint32_t turn;            /* a dialect's own rotation (foxess-can: whose 0x1877 goes next) */
	/* SMA 0x305 (have_meas) */
	bool have_meas;
	float voltage;            /* V, measured by the Sunny Island */
	float current;            /* A, + = charging (SMA sends - = charging) */
	float temp_c;             /* degC */
	float soc;                /* %, as the Sunny Island took it from us */
	/* SMA 0x306 (have_state) */
	bool have_state;
	uint16_t soh;             /* % */
	uint8_t charging_procedure; /* 10 with an external BMS */
	uint8_t operating_state;  /* 0 ---, 1 operating, 3 warning, 4 failure */
	uint16_t error;           /* number of the active error message */
	float charge_setpoint_v;  /* V, the charge voltage it uses */
};

/* The current limits as an encoding carried them: what the inverter reads
 * after the field's rounding and the codec's clamps (0 when not allowed). */
struct inv_encoded {
	bool limits;                           /* the encoding carried current limits */
	bool ccl_only;                         /* ... the charge limit only: the dialect has no discharge
	                                        * limit (rvc), dcl_a is 0 and not shown */
	float ccl_a, dcl_a;                    /* A */
};

/* One frame of a set: its identifier and its builder (false: no data for
 * it now, the frame is left out of this set). */
struct inv_can_frame_fn {
	uint32_t id;
	bool (*fill)(const struct inv_battery *b, struct gw_can_frame *f);
};

/* A frame's own period in a scheduled codec (byd-hvs-can). */
struct inv_can_period {
	double s;                              /* seconds between two of it */
	bool at_once;                          /* also out of turn: a limit fell, the source went stale */
	uint8_t modes;                         /* bit m: it goes while the dialect's struct inv_heard `mode`
	                                        * is m (sungrow-can: its init and run sets); 0: always */
};

/* When a scheduled codec's schedule starts (the output speaking). */
enum inv_sched_start {
	INV_START_HEARD = 0,   /* the inverter's first frame (byd-hvs-can, growatt-wit-can, sma-hv-can byd-h, sbs) */
	INV_START_ASKED,       /* its first INV_RX_IDENTIFY (sma-hv-can byd-hvs: the pairing request) */
	INV_START_DATA,        /* the source's data alone: the battery speaks first (sungrow-can, schneider-can) */
};

/* A CAN codec. */
struct inv_can_codec {
	const struct inv_can_frame_fn *frames; /* the protocol's own set, in sending order */
	size_t nframes;
	unsigned gap_ms;                       /* least time between two frames (SMA: 200) */
	bool one_by_one;                       /* the set goes frame by frame, gap_ms apart */
	bool answers;                          /* the set goes only as the answer to an INV_RX_REQUEST
	                                        * (growatt-can: 0x301), never unasked, never periodic */
	enum inv_rx (*heard)(const struct gw_can_frame *f, struct inv_heard *h);
	/* NULL: a request is answered with the whole set.  Else the set
	 * set[0..n), encoded from b, made the answer to the requests h->asked
	 * (and the dialect's state in h) under the output's settings, in
	 * set[0..cap): the frames that answer them kept, in order, the
	 * identifiers given the output's address, frames of its own built from
	 * b added (solax-can's announce, foxess-can's packs and cells); returns
	 * how many, and clears e->limits when none of them carries the limits
	 * (pylon-hv-can: 0x4210-0x4290 for 0x4200 byte 0 = 00, 0x7310-0x7340
	 * for 02).  It may move h->mode and h->turn on; pure otherwise. */
	int (*answer)(const struct conf_inverter *c, struct inv_heard *h, const struct inv_battery *b,
		      struct gw_can_frame *set, int n, int cap, struct inv_encoded *e);
	/* An answering dialect with a handshake: s without a frame of the
	 * inverter after which h->mode starts again (solax-can: 2 s, as a real
	 * SolaX battery); 0: never.  mode_names[h->mode] names it in the status. */
	double forget_s;
	const char *const *mode_names;
	unsigned nmodes;
	/* the limits as its frames carry them (the builders use the same) */
	void (*limits)(const struct inv_battery *b, struct inv_encoded *e);
	/* A scheduled codec (byd-hvs-can): frame i of `frames` every periods[i].s
	 * (frames[limits_frame] the one that carries the current limits),
	 * nothing before the schedule's `start` (the inverter's first frame,
	 * its first INV_RX_IDENTIFY, or the source's data); when the schedule
	 * starts (and the output speaks) the `ident` set (unless
	 * ident_when_asked), then every frame; `ident` again as the answer to
	 * each INV_RX_IDENTIFY; the frames at_once out of turn when a limit
	 * falls or the source goes stale.  With gap_ms the frames queue and go
	 * one at a time, gap_ms apart, the at_once ones at the queue's head
	 * (sma-hv-can byd-hvs: 250 ms).  NULL: the set whole every interval (or
	 * as the others say). */
	const struct inv_can_period *periods;
	const struct inv_can_frame_fn *ident;
	size_t nident;
	/* A J1939 node (rvc): the output claims a source address when its port
	 * comes up, before the source has data (invnode.c, j1939.h), and
	 * answers requests for the claim; the frames' identifiers carry that
	 * address in their low byte (their ids here carry 0); with `periods`,
	 * the schedule starts once the address is held and the output speaks,
	 * without waiting for a frame of the inverter. */
	bool claims;
	/* A scheduled codec: the index in `frames` of the one that carries the
	 * limits (what the inverter was told is what it last carried; 0 unless
	 * set); when its schedule starts (a battery that speaks first,
	 * sungrow-can, schneider-can: INV_START_DATA; its frames by the
	 * dialect's `mode`, the period's `modes`); the identification only when
	 * asked. */
	size_t limits_frame;
	enum inv_sched_start start;
	bool ident_when_asked;
	/* A codec that speaks on its own and also replies to some requests of
	 * the inverter (sofar-can's inquiries 0x605 / 0x705, sungrow-can's
	 * Modbus RTU on 0x1E0): the frames that reply to req (an INV_RX_REQUEST
	 * of `heard`), built from b (its `address` too), into out[0..cap); how
	 * many, 0 when req is not for it.  Pure.  The output sends them at once
	 * while it speaks, never before the first data nor while silent.  NULL:
	 * it replies to nothing. */
	int (*reply)(const struct gw_can_frame *req, const struct inv_battery *b, struct gw_can_frame *out, int cap);
};
#define INV_CAN_REPLY_MAX 8 /* frames a reply has at most (sungrow-can's Modbus: 3) */

/* What the framer of an RS485 codec finds at the start of the bytes. */
enum inv_scan {
	INV_SCAN_MORE = 0,      /* the start of a frame: more bytes are needed (n = 0) */
	INV_SCAN_REQUEST,       /* buf[0..n) is a whole request, checked */
	INV_SCAN_OTHER,         /* ... a whole valid frame that is no request (another device's answer) */
	INV_SCAN_NOISE,         /* ... bytes outside any frame */
	INV_SCAN_BAD_FORMAT,    /* ... a frame cut short, too short, or with a character out of its format */
	INV_SCAN_BAD_LENGTH,    /* ... a frame whose length field is wrong */
	INV_SCAN_BAD_CHECKSUM,  /* ... a frame whose checksum is wrong */
	INV_SCAN_OVERLONG,      /* ... the start of a frame longer than any request */
	INV_SCAN_VERDICTS
};

/* Bytes a request may take before its framer decides (inv485rx.h's
 * buffer), and room an answer has. */
#define INV_485_RX_MAX 256
#define INV_485_ANSWER_MAX 2304

/* What an RS485 inverter wrote that its dialect keeps across requests
 * (byd-hvm-modbus: the control blocks a Fronius writes, read back as
 * written, as a BYD battery and Battery-Emulator keep them): the output's,
 * all 0 at its start; only the codec's `answer` writes and reads it, and
 * nothing else reads it (it never reaches the source, a BMS or the limits). */
#define INV_485_KEPT_MAX 32
struct inv_485_kept {
	uint16_t reg[INV_485_KEPT_MAX];
};

/* An RS485 codec. */
struct inv_485_codec {
	/* The framer: what buf[0..len) begins with, and in *n how many bytes
	 * of it that is (1..len; 0 with MORE).  Pure, and the same verdict
	 * whatever follows: it answers MORE only while a frame could still
	 * end, and never for len >= INV_485_RX_MAX. */
	enum inv_scan (*scan)(const uint8_t *buf, size_t len, size_t *n);
	/* Is the request req[0..n) (a REQUEST of scan) for us under the
	 * output's settings (its address, its device type)? */
	bool (*ours)(const struct conf_inverter *c, const uint8_t *req, size_t n);
	/* The answer to req[0..n) from b into out[0..cap): its length, 0 when
	 * it gets none (not ours), -1 when cap is too small; *e the limits it
	 * carried (e->limits false for an answer without them).  A write it
	 * answers may be kept in *kept (the output's, read by later answers);
	 * nothing is kept by a request that gets no answer or -1.  Pure
	 * otherwise (a dialect that keeps nothing ignores kept, may be NULL). */
	int (*answer)(const struct conf_inverter *c, struct inv_485_kept *kept, const struct inv_battery *b,
		      const uint8_t *req, size_t n, uint8_t *out, size_t cap, struct inv_encoded *e);
};

struct inv_codec {
	const char *name;                      /* as CONF_INV_PROTOCOL_LIST says it (the first row of its
	                                        * sym: ferroamp-can's is pylon-hv-can's) */
	struct inv_can_codec can;              /* a CAN row's */
	struct inv_485_codec rs485;            /* an RS485 row's */
	/* A protocol of several variants (`variant =`, sma-hv-can): the codec of
	 * each, by the key's word (conf.h CONF_VARIANT_*); this one is the
	 * default's. */
	const struct inv_codec *const *variants;
	unsigned nvariants;
};

/* Every protocol's codec, inv_codec_<sym> (<sym>.c). */
#define INV_CODEC_DECL_(id, sym, name, kind, extras, allowed, bitrate) extern const struct inv_codec inv_codec_##sym;
CONF_INV_PROTOCOL_LIST(INV_CODEC_DECL_)
#undef INV_CODEC_DECL_

/* The codec of protocol p (codecs.c); NULL outside the list. */
const struct inv_codec *inv_codec_of(enum conf_inv_protocol p);
/* The codec an [inverter.NAME] runs: its protocol's, in its `variant`. */
const struct inv_codec *inv_codec_for(const struct conf_inverter *c);

/* The whole set of a CAN codec into out[0..cap): its frames with data, then
 * the extras asked for (CONF_EXTRA_* bits) with data, in sending order;
 * *e (unless NULL) the limits the set carries.  Returns the number of
 * frames, or -1 when cap is too small. */
int inv_can_encode(const struct inv_codec *c, const struct inv_battery *b, unsigned extras, struct gw_can_frame *out,
		   size_t cap, struct inv_encoded *e);
/* A scheduled codec's step at monotonic time now in the dialect's mode:
 * the indices (into frames) of those that go, in order, into
 * pick[0..INV_CAN_MAX_FRAMES) — every frame of the mode due (due[i] <= now),
 * and with urgent the at_once frames of the mode out of turn (their
 * schedule unchanged); every frame due, of the mode or not, moves on by its
 * period (from now when it fell a period behind: no burst), so that a
 * frame of another mode keeps its beat and joins the others in time when
 * the mode changes; *next the earliest due time after of a frame of the
 * mode.  Returns the number picked.  Pure: the output's timer and the
 * tests' fake clock drive it alike. */
size_t inv_can_sched(const struct inv_can_codec *c, double *due, bool urgent, double now, uint8_t mode, uint8_t *pick,
		     double *next);

/* A scheduled codec's state (cansched.c): when each frame is next due, and
 * the frames waiting to go (a codec with gap_ms; one without sends them
 * all at each step), each to be built when it goes. */
struct inv_can_sched {
	double due[INV_CAN_MAX_FRAMES];
	const struct inv_can_frame_fn *queue[INV_CAN_MAX_FRAMES];
	size_t nqueue;
};
/* Start the schedule at now: every frame due. */
void inv_can_sched_start(const struct inv_can_codec *c, struct inv_can_sched *s, double now);
/* One step at monotonic time now in the dialect's mode, the last frame
 * sent at last (0: none): the identification (ident) and the frames of the
 * mode due (with urgent the at_once ones too, at the queue's head) queued,
 * each once (inv_can_sched); the frames that go now taken from the queue
 * into go[0..INV_CAN_MAX_FRAMES), in order — all of them, or with gap_ms
 * one, once gap_ms has passed since last; *next the time of the next step
 * (the earliest frame of the mode due, or the gap's end while frames wait).
 * Returns how many go.  Pure: the output's timer and the tests' fake clock
 * drive it alike. */
size_t inv_can_sched_step(const struct inv_can_codec *c, struct inv_can_sched *s, bool ident, bool urgent, double now,
			  uint8_t mode, double last, const struct inv_can_frame_fn **go, double *next);
/* One frame of it by identifier (extras and the identification included): 0, or -1 when the set
 * has no such frame or no data for it now. */
int inv_can_frame(const struct inv_codec *c, uint32_t id, const struct inv_battery *b, unsigned extras,
		  struct gw_can_frame *f);

#endif
