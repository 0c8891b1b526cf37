/* SPDX-License-Identifier: MIT */
/* bms/ejframe.h - E&J Technology's ASCII frames, shared by the drivers of
 * the family: chins (bms/PROTOCOLS.md §37), chins-nus (§83), pwrboozt (§78)
 * and doerr (§79).
 *
 *	':' addr (2 hex) cmd (2; | 0x80 in an answer) version (2) length (4:
 *	the characters of the whole frame, ':' and '~' included) data ...
 *	check (2) '~'
 *
 * The check is the low byte of a sum XOR 0xFF: of the characters between
 * ':' and it (chins, chins-nus; every request), or of the decoded bytes
 * but the first (the address) and the check itself (PowerBoozt and Dörr's
 * answers, BMS_EJ_SUM_BYTES).  The BLE modules put "AT\r\n" between and
 * inside the frames' notifications (skipped wherever it comes: a 'T' is
 * never a hex digit, so an 'A' followed by "T\r\n" is the module's), and
 * PowerBoozt's pads its notifications with NUL bytes (BMS_EJ_NUL: skipped
 * wherever they come).
 *
 * Pure like every decoder: bytes in, bytes out.
 */
#ifndef BMS_EJFRAME_H
#define BMS_EJFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bms.h"

#define BMS_EJ_SOF ':'
#define BMS_EJ_EOF '~'
#define BMS_EJ_MIN_LEN 14       /* ':' + the header's 10 digits + the check + '~' */
#define BMS_EJ_MAX_LEN 256      /* the longest frame framed (236 is the longest known) */
#define BMS_EJ_MAX_MSG ((BMS_EJ_MAX_LEN - 2) / 2)
#define BMS_EJ_ANSWER 0x80      /* cmd's bit 7: an answer */

/* The rules of a dialect (bms_ej_walk()'s flags). */
#define BMS_EJ_SUM_BYTES 0x1u   /* the check of a frame with data sums the decoded bytes 1 .. n-2, not
                                 * the characters (a frame without data, a request, sums them) */
#define BMS_EJ_NUL 0x2u         /* NUL bytes inside a frame are the module's padding */
#define BMS_EJ_CMD_PLAIN 0x4u   /* the answer's command has no bit 7 (0x51 -> 0x54): a frame without
                                 * data (14 characters, a request's shape) is the request */

/* The frame at buf[0] (':'): its extent and (msg not NULL, room for
 * BMS_EJ_MAX_MSG bytes) its hex digits decoded into msg[0..*nmsg), the
 * check byte last.  BMS_SCAN_FRAME (*n: up to '~', the module's bytes
 * inside included), NEED, SKIP (*n: the bytes up to what cannot be in a
 * frame, e.g. the next ':'; 1 for an impossible length field), BADSUM
 * (complete, but longer or shorter than its length field, or the check is
 * wrong). */
enum bms_scan bms_ej_walk(const uint8_t *buf, size_t len, unsigned flags, size_t *n, uint8_t *msg, size_t *nmsg);

/* A framer's answer for buf[0..len): a frame whose command has bit 7 (an
 * answer) is a frame; a request (ours, echoed) is skipped whole; anything
 * before a ':' (the module's "AT\r\n" and NULs too) is skipped. */
enum bms_scan bms_ej_scan(const uint8_t *buf, size_t len, unsigned flags, size_t *n);

/* A frame scan() gave, decoded into msg[0..*nmsg) (room for
 * BMS_EJ_MAX_MSG): BMS_OK, BMS_E_HEADER (no ':' frame), BMS_E_CHECKSUM
 * (its extent or check wrong), BMS_E_UNEXPECTED (a request). */
int bms_ej_decode(const uint8_t *frame, size_t len, unsigned flags, uint8_t *msg, size_t *nmsg);

/* RT, the real-time read (:000250000E03~), and its answer's offsets of
 * the hex-decoded frame (the header included), big-endian (§37.3). */
#define BMS_EJ_CMD_RT 0x02
enum {
	BMS_EJ_O_CELLS = 12,    /* u16[16] mV, 0 = none */
	BMS_EJ_O_CHG = 44,      /* u16 charge current, 0.01 A */
	BMS_EJ_O_DSG = 46,      /* u16 discharge current, 0.01 A */
	BMS_EJ_O_TEMP = 48,     /* temperature 1 + 40 degC */
	BMS_EJ_O_STATE = 52,    /* u16 working state */
	BMS_EJ_O_HEATER = 54,   /* the heater (aiobmsble) */
	BMS_EJ_O_BALANCE = 55,  /* u16 balancing, cells 1-16 */
	BMS_EJ_O_CYCLES = 57,   /* u16 */
	BMS_EJ_O_SOC = 61,      /* % */
	BMS_EJ_O_REMAIN = 62,   /* the 140-character answer: u16 remaining, 0.1 Ah */
	BMS_EJ_O_FULL = 64,     /* ... full, 0.1 Ah */
	BMS_EJ_O_DESIGN = 66,   /* ... design capacity, 0.1 Ah */
};

/* The RT answer m (hex-decoded, at least 63 bytes; 69 with single, the
 * 140-character one) into poll->snap, replacing it: the cells and their
 * sum as the voltage, the current (charge - discharge), temperature 1,
 * the working state (MOSFETs, state, alarms, raw_alarms[0]), balancing,
 * cycles, SOC, and with single the remaining and full capacity.
 * BMS_E_RANGE for a SOC above 100. */
int bms_ej_rt(struct bms_poll *poll, const uint8_t *m, bool single);

/* The 16 big-endian cell slots (mV, 0 = none) at m + off into s: the cells
 * up to the last slot that is not 0, or the first cells_forced; s->ncells
 * and BMS_HAS_CELLS set; their sum (mV) returned. */
unsigned bms_ej_cells(struct bms_snapshot *s, const uint8_t *m, size_t off, uint8_t cells_forced);

/* The "BT-Battery" answer of PowerBoozt and Dörr (§78.3): the read
 * :015150000EFE~ (command 0x51) answered by command 0x54, the bytes
 * decoded m[0..nm) (at least BMS_EJ_BT_MIN), big-endian: 12 u16[16] cells
 * mV (0 = none), 48 u8[4] temperatures degC + 40, 54 u32 current (the
 * brand's rule: ma, its value in mA, + = charging), 62 u16 voltage mV, 67
 * u16 cycles, 69 SOC %, 70 u32 design capacity mAh (served as the full
 * one).  Into poll->snap, replacing it; BMS_E_SHORT, BMS_E_RANGE (a SOC
 * above 100, no voltage, a current beyond 2000 A). */
#define BMS_EJ_CMD_BT_READ 0x51
#define BMS_EJ_CMD_BT 0x54
#define BMS_EJ_BT_MIN 75
#define BMS_EJ_O_BT_CURRENT 54
int bms_ej_bt_status(struct bms_poll *poll, const uint8_t *m, size_t nm, int32_t ma);

/* Chins' advertised name "G-<volts>V<Ah>A[hH]-<serial digits>"
 * (G-12V300Ah-0345; aiobmsble's ej_bms and nordicnus_bms). */
bool bms_ej_chins_name(const char *n);

#endif
