/* gateway/inverter/pylon_can.h - the battery's side of the Pylontech LV CAN
 * protocol V1.2 ("pylon-can") and of SMA Sunny Island's variant
 * ("sma-can"): the frame set encoded from a struct inv_battery, and a
 * parser of what the inverter sends back.  Layouts, scalings, sources and
 * every disputed point: gateway/inverter/PROTOCOLS.md §1-§3.
 *
 * Pure: struct in, frames out (and frame in, struct out); no I/O, no
 * globals, no allocation.  Timing (1 s cycle, SMA's 200 ms between frames)
 * is the output's job; pylon_can_gap_ms() says what the dialect needs. */
#ifndef GATEWAY_INVERTER_PYLON_CAN_H
#define GATEWAY_INVERTER_PYLON_CAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../wire/canframe.h"
#include "battery.h"

enum pylon_can_dialect {
	PYLON_CAN_PYLON = 0, /* pylon-can: Pylontech LV CAN V1.2 */
	PYLON_CAN_SMA = 1,   /* sma-can: SMA Sunny Island external BMS */
};

/* Frames a dialect's set has at most (the size for pylon_can_encode()). */
#define PYLON_CAN_MAX_FRAMES 6

/* "pylon-can" / "sma-can" to the dialect; -1 for another name. */
int pylon_can_dialect_from_name(const char *name);
const char *pylon_can_dialect_name(enum pylon_can_dialect d);

/* The whole frame set of dialect d, in sending order, into out[0..cap):
 *	pylon: 0x351 0x355 0x356 0x359 0x35C 0x35E
 *	sma:   0x351 0x355 0x356 0x35A 0x35E 0x35F
 * Returns the number of frames, or -1 when cap is too small. */
int pylon_can_encode(enum pylon_can_dialect d, const struct inv_battery *b,
		     struct gw_can_frame *out, size_t cap);

/* One frame of the set by its identifier: 0, or -1 when the dialect has
 * no such frame. */
int pylon_can_frame(enum pylon_can_dialect d, uint32_t id, const struct inv_battery *b,
		    struct gw_can_frame *f);

/* Least time between two frames the inverter accepts, ms (SMA: 200). */
unsigned pylon_can_gap_ms(enum pylon_can_dialect d);

/* What a received frame was. */
enum pylon_can_rx {
	PYLON_CAN_RX_OTHER = 0,   /* not from the inverter (or a remote frame) */
	PYLON_CAN_RX_ALIVE,       /* 0x305 of a Pylon-speaking inverter (any payload) */
	PYLON_CAN_RX_306,         /* 0x306 of a Pylon-speaking inverter */
	PYLON_CAN_RX_VICTRON,     /* 0x307 "VIC": a Victron GX */
	PYLON_CAN_RX_SMA_MEAS,    /* SMA 0x305: the Sunny Island's battery V, I, T, SOC */
	PYLON_CAN_RX_SMA_STATE,   /* SMA 0x306: SOH, charging procedure, state, error, setpoint */
	PYLON_CAN_RX_BAD,         /* an inverter identifier with a payload too short to use */
};

/* What the inverter said, kept across frames; pylon_can_seen() updates it. */
struct pylon_can_inverter {
	uint32_t frames;          /* inverter frames seen (every kind but OTHER) */
	bool victron;             /* a 0x307 "VIC" was seen */
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

/* Classify frame f received on a bus where dialect d is spoken and update
 * *inv with what it carries. */
enum pylon_can_rx pylon_can_seen(enum pylon_can_dialect d, const struct gw_can_frame *f,
				 struct pylon_can_inverter *inv);

#endif
