/* SPDX-License-Identifier: MIT */
/* gateway/modbus/request.h - one Modbus request to a unit, as the TCP
 * server (server.c) and the RTU server (rtu.c) both take it: screened
 * first, then answered.  The transports frame (MBAP, or address and CRC)
 * and send; everything about the request itself is decided here, so the
 * two serve the same units, map, function codes, SunSpec block and stale
 * rules (bmsgw-modbus(7)).
 *
 * Screening decides every request before anything is answered: a
 * register read (FC03 or FC04) of the map or of the SunSpec block, a
 * MOSFET write (FC06 / FC16) to hand to poll/control.c, an identification
 * request (FC 0x11, FC 0x2B / MEI 0x0E) - or the exception code.  The
 * answer of a request screened as served is then built in place, in the
 * transport's output buffer. */
#ifndef GATEWAY_MODBUS_REQUEST_H
#define GATEWAY_MODBUS_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/gw.h"
#include "../poll/control.h"
#include "sunspec.h"

/* Function codes served. */
enum {
	GW_FC_READ_HOLDING = 0x03,
	GW_FC_READ_INPUT = 0x04,
	GW_FC_WRITE_SINGLE = 0x06,
	GW_FC_WRITE_MULTIPLE = 0x10,
	GW_FC_REPORT_SERVER_ID = 0x11,
	GW_FC_MEI = 0x2B,
};

/* The longest PDU (MODBUS Application Protocol V1.1b3, section 4.1): the
 * room gw_request_answer() needs. */
#define GW_PDU_MAX 253

/* What a request is, once screened. */
enum gw_req_kind {
	GW_REQ_NONE,     /* refused: see exception */
	GW_REQ_MAP,      /* FC03 / FC04 of the register map */
	GW_REQ_SUNSPEC,  /* FC03 / FC04 of the SunSpec block */
	GW_REQ_IDENT,    /* FC 0x11, FC 0x2B / 0x0E */
	GW_REQ_WRITE,    /* a MOSFET command for poll/control.c */
	GW_REQ_SETTINGS, /* a write of the unit's charge settings (offsets 150-160) */
};

/* Result of screening one request. */
struct gw_screen {
	int exception;   /* 0 = serve (the registers, the identification, or the write), else its code */
	enum gw_req_kind kind;
	struct gw_unit target; /* what the unit id addresses (unless exception 0x0A) */
	int unit;
	int function;
	unsigned addr, count;
	bool write;      /* a MOSFET command (FC06 / FC16 at offsets 17-18) to carry out */
	bool set[2];     /* by enum bms_fet: which FETs it switches ... */
	bool on[2];      /* ... and to what */
	const char *why; /* a write refused here: the reason, for the log */
	bool settings;   /* a write into the charge settings (served or refused): gw_request_control() */
	int set_first, set_n;            /* ... its values: ids (engine/settings.h) ... */
	uint32_t set_v[GW_SET_COUNT];    /* ... and values */
};

/* Who asks, as far as writes go: the transport's own rule comes before
 * the pack's (section 8 of the design: control_clients for TCP, [rtu]
 * control for RTU). */
struct gw_writer {
	bool allowed;
	const char *refused_why;       /* the reason when not allowed */
};

/* Screen the request PDU pdu[0..len) (function code first, len >= 1) to
 * unit, at monotonic time now.  Pure apart from reading the gateway's
 * pack table and configuration. */
void gw_request_screen(struct gw *gw, int unit, const uint8_t *pdu, size_t len, const struct gw_writer *wr,
		       double now, struct gw_screen *out);

/* What one server keeps to answer: the units' cached images (image.c) and
 * a SunSpec block to build into. */
struct gw_answerer;
struct gw_answerer *gw_answerer_new(struct gw *gw);
void gw_answerer_free(struct gw_answerer *a);

/* The answer PDU (function code first) of a request screened as served
 * and not a write, into out[0..GW_PDU_MAX): returns its length, or minus
 * an exception code. */
int gw_request_answer(struct gw_answerer *a, const struct gw_screen *s, const uint8_t *pdu, size_t len,
		      double now, uint8_t *out);

/* The exception PDU: function + 0x80, the code; returns 2. */
int gw_request_exception(int function, int exception, uint8_t *out);

/* What both servers do with a screened request before answering it: a
 * MOSFET write goes to poll/control.c (true: queued, the answer waits for
 * done(ctx, ...); false: refused, s->exception says how), and a write the
 * screening refused is logged and counted there like every refused
 * command (gw_control_refused).  who: "Modbus client 1.2.3.4:5", "Modbus
 * RTU /dev/ttyUSB1". */
bool gw_request_control(struct gw *gw, struct gw_screen *s, const char *who, gw_ctl_done done, void *ctx,
			struct gw_ctl **handle);

#endif
