/* SPDX-License-Identifier: MIT */
/* bms/daly_can.c - a Daly "Smart BMS" on its CAN port (daly-can),
 * EXPERIMENTAL: its requests are known, no answer of a real BMS is
 * published (bms/PROTOCOLS.md §41; a capture is asked for).
 *
 * Daly's CAN protocol is its UART protocol (§2) in CAN frames: the request
 * of command cmd (0x90 ... 0x98) to board n is the 29-bit identifier
 * 0x18 cmd n 0x40 (priority 0x18, the command, the BMS, the host) with the
 * 8 data bytes of the UART request (all 0), and the BMS answers on
 * 0x18 cmd 0x40 n with the 8 data bytes of its UART answer.  So this driver
 * is the legacy driver's poll (bms/daly.c: its steps, its decoding, its
 * checks) on another transport: next_request() takes the UART request of
 * the current step and writes it as one CAN record (bms.h: BMS_CAN_MAGIC0
 * ...), handle() makes the UART answer of a record on the answer's
 * identifier (A5, board, cmd, 08, data, sum) and hands it to the legacy
 * decoder.  The poll is read only: the status commands, never a MOSFET or
 * settings write (no control over CAN), nor the UART's settings reads.  Any other frame of the bus (an
 * inverter's, another board's, a request of another host) is passed over.
 * 250 kbit/s (Daly's CAN default [impl]; `bitrate` otherwise).
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define DC_UART_LEN 13
#define DC_HOST 0x40u
#define DC_PRIO 0x18u

/* The UART protocol's poll (bms/daly.c). */
static const struct bms_driver *const dc_uart = &bms_daly_driver;

static uint32_t dc_request_id(uint8_t cmd, uint8_t board)
{
	return DC_PRIO << 24 | (uint32_t)cmd << 16 | (uint32_t)board << 8 | DC_HOST;
}

static int dc_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	uint8_t uart[DC_UART_LEN];
	/* the status commands only: the UART's settings reads (0x50 ...) are
	 * not confirmed over CAN (no answer of a real BMS is published) */
	poll->settings_due = false;
	int n = dc_uart->next_request(poll, uart, sizeof(uart));
	if (n <= 0)
		return n;
	if (n != DC_UART_LEN)
		return BMS_E_INVALID;
	size_t k = bms_can_record(out, cap, dc_request_id(uart[2], poll->address), true, false, 8, uart + 4);
	return k ? (int)k : BMS_E_NOSPACE;
}

static enum bms_scan dc_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	return bms_can_scan(buf, len, n);
}

static int dc_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_can_msg m;
	int rc = bms_can_parse(frame, len, &m);
	if (rc != BMS_OK)
		return rc;
	uint8_t cmd = (uint8_t)(m.id >> 16);
	if (!m.ext || m.rtr || (m.id >> 24) != DC_PRIO || (m.id & 0xFFFFu) != (DC_HOST << 8 | poll->address) ||
	    cmd < 0x90 || cmd > 0x98)
		return BMS_E_UNEXPECTED; /* not an answer of this board to the host */
	if (m.dlc != 8)
		return BMS_E_SHORT;
	uint8_t uart[DC_UART_LEN];
	unsigned sum = 0;
	uart[0] = 0xA5;
	uart[1] = poll->address;
	uart[2] = cmd;
	uart[3] = 8;
	memcpy(uart + 4, m.data, 8);
	for (int i = 0; i < DC_UART_LEN - 1; i++)
		sum += uart[i];
	uart[12] = (uint8_t)sum;
	return dc_uart->handle(poll, uart, sizeof(uart));
}

static bool dc_timeout(struct bms_poll *poll)
{
	return dc_uart->timeout(poll);
}

static int dc_finish(struct bms_poll *poll)
{
	return dc_uart->finish(poll);
}

static const struct bms_can dc_can = {
	.bitrate = 250000,
	.id = 0,
	.mask = 0x7FF, /* no standard frame (id 0 never comes from a Daly) */
	/* answers to the host: 0x18 cmd 0x40 board */
	.ext_id = 0x18004000,
	.ext_mask = 0x1F00FF00,
};

const struct bms_driver bms_daly_can_driver = {
	.name = "daly-can",
	.description = "Daly Smart BMS on its CAN port (the UART protocol in CAN frames; experimental: no real "
		       "answer published)",
	.vendor = "Daly CAN",
	.protocol_id = 33,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE |
		BMS_HAS_ALARMS,
	/* board 1: other boards' identifiers are not confirmed */
	BMS_CAN_LINK(1, 1),
	.default_timeout = 1.0,
	.listen_only = false,
	.next_request = dc_next_request,
	.scan = dc_scan,
	.handle = dc_handle,
	.timeout = dc_timeout,
	.finish = dc_finish,
	.can = &dc_can,
};
