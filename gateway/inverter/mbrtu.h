/* SPDX-License-Identifier: MIT */
/* gateway/inverter/mbrtu.h - private to gateway/inverter/: what the RS485
 * dialects that are Modbus RTU slaves share (growatt-rs485, byd-hvm-modbus):
 * the framer that finds Modbus RTU frames in a byte stream without timing
 * (a TCP serial server keeps no gaps), a register of a request, the answer's
 * CRC and the exception answer.  Pure: no I/O, no globals.  Source: "MODBUS
 * Application Protocol Specification V1.1b3" (the functions' layouts and
 * limits, the exception codes) and "MODBUS over Serial Line V1.02" §2.5.1.2
 * (CRC-16, low byte first): gateway/inverter/PROTOCOLS.md §6a, §23. */
#ifndef GATEWAY_INVERTER_MBRTU_H
#define GATEWAY_INVERTER_MBRTU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

#define INV_MB_REQ_LEN 8          /* FC 01..06 requests: address, function, 2 x u16, CRC */
#define INV_MB_EXC_LEN 5          /* an exception answer */
#define INV_MB_READ_MAX 125       /* registers one read may ask */
#define INV_MB_WRITE_MAX 123      /* registers FC 16 may write */
#define INV_MB_RW_WRITE_MAX 121   /* registers FC 23 may write */
#define INV_MB_EX_FUNCTION 0x01   /* illegal function */
#define INV_MB_EX_ADDRESS 0x02    /* illegal data address */
#define INV_MB_EX_VALUE 0x03      /* illegal data value */

/* The framer (codec.h `scan`): at each byte the frames its function code
 * allows (a request, an answer, an exception; FC 01..06, 15, 16, 23),
 * shortest first (a request before an answer of its length), and the first
 * whose CRC-16/MODBUS holds; none: one byte, a bad checksum (a known
 * function) or noise.  A frame that would overlap a whole request with a
 * good CRC after its first byte is none (one byte, a bad format): after a
 * damaged byte the next request is found as soon as it is whole. */
enum inv_scan inv_mb_scan(const uint8_t *buf, size_t len, size_t *n);
/* Is the request req[0..n) (a REQUEST of the framer) for the output's
 * address (never the broadcast 0)? */
bool inv_mb_ours(const struct conf_inverter *c, const uint8_t *req, size_t n);
/* The big-endian u16 at p. */
unsigned inv_mb_u16(const uint8_t *p);
/* The CRC after out[0..k) (room for two more bytes): the frame's length. */
int inv_mb_crc_end(uint8_t *out, size_t k);
/* The answer to a read (FC 03, 04, 23) req of qty registers r[0..qty) into
 * out[0..cap): address, function, byte count, the registers big endian,
 * CRC; its length, -1 when cap is too small. */
int inv_mb_registers(const uint8_t *req, const uint16_t *r, unsigned qty, uint8_t *out, size_t cap);
/* The exception answer code to req into out[0..cap): its length, -1 when
 * cap is too small. */
int inv_mb_exception(const uint8_t *req, uint8_t code, uint8_t *out, size_t cap);

#endif
