/* gateway/server.h - the Modbus TCP server (slave) of bmsgw. */
#ifndef GATEWAY_SERVER_H
#define GATEWAY_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "gw.h"

struct gw_server;

/* Listen on the configured address; NULL with a logged error on failure. */
struct gw_server *gw_server_new(struct gw *gw);
/* Close every client and the listening socket; NULL is fine. */
void gw_server_free(struct gw_server *srv);

/* Result of screening one complete request ADU (MBAP + PDU). */
struct gw_screen {
	int exception;   /* 0 = serve with modbus_reply(), else the exception code */
	struct gw_unit target; /* what the unit id addresses (unless exception 0x0A) */
	int unit;
	int function;
	unsigned addr, count;
};

/* Length of the first complete ADU in buf: >0 = complete ADU of that length,
 * 0 = need more bytes, -1 = not Modbus TCP (bad protocol id or length):
 * the connection must be closed.  Pure. */
int gw_mbap_frame(const uint8_t *buf, size_t len);

/* Decide how to answer a complete ADU (see design.md §5).  Pure apart from
 * reading the gateway's pack table and the clock. */
void gw_screen_request(struct gw *gw, const uint8_t *adu, size_t len, struct gw_screen *out);

#endif
