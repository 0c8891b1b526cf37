/* gateway/inverter/codec.h - one inverter protocol as the outputs use it:
 * its codec, one `const struct inv_codec inv_codec_<sym>` per protocol in
 * gateway/inverter/<sym>.c, found by the protocol's place in
 * CONF_INV_PROTOCOL_LIST (conf/conf.h, the one list of the protocols'
 * names and kinds; protocols.c).  Adding a CAN dialect is its codec file
 * and its row in that list (README.md "Adding an inverter protocol").
 *
 * A CAN codec is a frame set: each frame built from the struct inv_battery
 * by a pure function (no I/O, no globals), in sending order; the outputs
 * send the set whole every `interval`, or frame by frame gap_ms apart
 * (SMA).  The extras (0x35F, 0x379, 0x372, 0x373-0x377, 0x382) follow any
 * CAN set when the output asks for them.  An RS485 codec answers the
 * requests the Pylontech ASCII framer (pylon_rs485.h) assembled.
 */
#ifndef GATEWAY_INVERTER_CODEC_H
#define GATEWAY_INVERTER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../conf/conf.h"
#include "../wire/canframe.h"
#include "battery.h"
#include "pylon_rs485.h"

/* Frames a CAN set has at most, extras included. */
#define INV_CAN_MAX_FRAMES 16

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
};

/* What the inverter said, kept across frames. */
struct inv_heard {
	uint32_t frames;          /* inverter frames seen (every kind but OTHER) */
	bool victron;             /* a 0x307 "VIC" was seen */
	uint32_t shutdowns;       /* Luxpower "shutdown battery" requests (logged, never obeyed) */
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

/* One frame of a set: its identifier and its builder (false: no data for
 * it now, the frame is left out of this set). */
struct inv_can_frame_fn {
	uint32_t id;
	bool (*fill)(const struct inv_battery *b, struct gw_can_frame *f);
};

struct inv_codec {
	const char *name;                      /* as CONF_INV_PROTOCOL_LIST says it */
	/* CAN */
	const struct inv_can_frame_fn *frames; /* the protocol's own set, in sending order */
	size_t nframes;
	unsigned gap_ms;                       /* least time between two frames (SMA: 200) */
	bool one_by_one;                       /* the set goes frame by frame, gap_ms apart */
	enum inv_rx (*heard)(const struct gw_can_frame *f, struct inv_heard *h);
	/* RS485: is a request for us, and the reply (pylon_rs485.h) */
	bool (*wants)(const struct pylon485_cfg *c, const struct pylon485_req *req);
	int (*reply)(const struct pylon485_cfg *c, const struct pylon485_req *req, const struct inv_battery *b,
		     uint8_t *out, size_t cap);
};

/* Every protocol's codec, inv_codec_<sym> (<sym>.c). */
#define INV_CODEC_DECL_(id, sym, name, kind, extras, allowed) extern const struct inv_codec inv_codec_##sym;
CONF_INV_PROTOCOL_LIST(INV_CODEC_DECL_)
#undef INV_CODEC_DECL_

/* The codec of protocol p (protocols.c); NULL outside the list. */
const struct inv_codec *inv_codec_of(enum conf_inv_protocol p);

/* The whole set of a CAN codec into out[0..cap): its frames with data, then
 * the extras asked for (CONF_EXTRA_* bits) with data, in sending order.
 * Returns the number of frames, or -1 when cap is too small. */
int inv_can_encode(const struct inv_codec *c, const struct inv_battery *b, unsigned extras, struct gw_can_frame *out,
		   size_t cap);
/* One frame of it by identifier (extras included): 0, or -1 when the set
 * has no such frame or no data for it now. */
int inv_can_frame(const struct inv_codec *c, uint32_t id, const struct inv_battery *b, unsigned extras,
		  struct gw_can_frame *f);

#endif
