/* SPDX-License-Identifier: MIT */
/* bms/setwrite.h - writing a BMS's own settings: the keys a configuration
 * may allow (`bms_settings`), how each family puts a key's value on the
 * wire, and one change as the pure steps of its family (unlock, write,
 * the protocol's acknowledgement, a fresh read-back of the same field).
 *
 * A driver that can write settings points its struct bms_driver.writer at
 * its const struct bms_writer; the gateway (gateway/poll/bmsset.c) runs a
 * change through the MOSFET control's queue on the pack's wire: it asks
 * request() for each frame and hands every frame scan() finds to
 * answer(), until request() says the change is over; then the read-back
 * (struct bms_wchange.back_raw) must equal the raw value written.  The
 * facts of each family, with their sources, are in bms/PROTOCOLS.md §1.10
 * and in its file.  Pure: bytes in, struct out, lengths checked.
 */
#ifndef BMS_SETWRITE_H
#define BMS_SETWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "settings.h"

/* The vocabulary of writes: X(ID, name, unit, the read key of bms/settings.h
 * that shows its value, BMS_SET_COUNT: none (soc: the pack's SOC)). */
#define BMS_WKEY_LIST(X)                                                        \
	X(SOC, "soc", "%", BMS_SET_COUNT)                                       \
	X(BALANCER, "balancer", "", BMS_SET_BALANCER)                           \
	X(BALANCE_START_V, "balance_start_v", "V", BMS_SET_BALANCE_START_V)     \
	X(BALANCE_DELTA_V, "balance_delta_v", "V", BMS_SET_BALANCE_DELTA_V)     \
	X(CELL_OVP_V, "cell_ovp_v", "V", BMS_SET_CELL_OVP_V)                    \
	X(CELL_OVP_RELEASE_V, "cell_ovp_release_v", "V", BMS_SET_CELL_OVP_RELEASE_V) \
	X(CELL_UVP_V, "cell_uvp_v", "V", BMS_SET_CELL_UVP_V)                    \
	X(CELL_UVP_RELEASE_V, "cell_uvp_release_v", "V", BMS_SET_CELL_UVP_RELEASE_V) \
	X(CHARGE_OCP_A, "charge_ocp_a", "A", BMS_SET_CHARGE_OCP_A)              \
	X(DISCHARGE_OCP_A, "discharge_ocp_a", "A", BMS_SET_DISCHARGE_OCP_A)     \
	X(CAPACITY_AH, "capacity_ah", "Ah", BMS_SET_CAPACITY_AH)                \
	X(HEATER, "heater", "", BMS_SET_HEATER)

enum bms_wkey {
#define BMS_WKEY_ENUM_(id, name, unit, rd) BMS_W_##id,
	BMS_WKEY_LIST(BMS_WKEY_ENUM_)
#undef BMS_WKEY_ENUM_
	BMS_W_COUNT
};
#define BMS_W_BIT(k) (1u << (k))
#define BMS_W_ALL ((1u << BMS_W_COUNT) - 1u)
/* The cell-voltage keys: each needs the pack's own chemistry (B4 bounds). */
#define BMS_W_CELL_KEYS                                                                                  \
	(BMS_W_BIT(BMS_W_BALANCE_START_V) | BMS_W_BIT(BMS_W_CELL_OVP_V) | BMS_W_BIT(BMS_W_CELL_OVP_RELEASE_V) | \
	 BMS_W_BIT(BMS_W_CELL_UVP_V) | BMS_W_BIT(BMS_W_CELL_UVP_RELEASE_V))

/* Its name ("cell_ovp_v"), unit ("V", "" for the balancer's and the
 * heater's on/off),
 * the read key that shows it (BMS_SET_COUNT for soc); NULL / BMS_SET_COUNT
 * out of range.  bms_wkey_find(): the key of a name, -1 for none. */
const char *bms_wkey_name(enum bms_wkey k);
const char *bms_wkey_unit(enum bms_wkey k);
enum bms_set_key bms_wkey_read(enum bms_wkey k);
int bms_wkey_find(const char *name);

/* A value as it is given (bms/base/setvalue.c: the one parser of the
 * HTTP API's JSON, MQTT's payloads and so Home Assistant's commands), in
 * the key's unit.  A switch (the balancer, the heater) is ON / OFF, true / false or
 * 1 / 0 (any case) and only that; every other key a decimal number and
 * only that: an optional '-', digits, optionally '.' and digits, at most
 * 15 significant digits; no hex ("0x3.8p0", "0X64"), exponent, leading
 * '+', blank, inf or nan.  0 with *v (a switch: 1 / 0), or -1 with why,
 * for people.  _text: len bytes (not NUL-terminated; a NUL in them is no
 * digit); _number: a JSON number; _bool: a JSON boolean. */
bool bms_wkey_switch(enum bms_wkey k);
int bms_wvalue_text(enum bms_wkey k, const char *t, size_t len, double *v, char *why, size_t wl);
int bms_wvalue_number(enum bms_wkey k, double x, double *v, char *why, size_t wl);
int bms_wvalue_bool(enum bms_wkey k, bool b, double *v, char *why, size_t wl);
/* |v| as the shortest decimal that reads back as v: digits x 10^exp10
 * (digits without a trailing zero); -1 for inf or nan.  What decides
 * whether a value is on a protocol's step: the digits written, never a
 * tolerance. */
int bms_wvalue_exact(double v, uint64_t *digits, int *exp10);
/* v as that decimal, without an exponent where it reads well ("3.6",
 * "9999.9996", "0.001"). */
void bms_wvalue_str(double v, char *out, size_t cap);

/* How one key goes on the wire: raw = value x mul + add (mul < 0: the
 * raw is negative, as JBD's discharge current), within lo..hi, and the
 * value must be a whole number of steps (1 / |mul|) on its shortest
 * decimal (bms_wvalue_exact): never rounded.  mul 0: not writable. */
struct bms_wfield {
	uint16_t reg;           /* the register, command id or offset */
	int32_t mul;
	int32_t add;
	int64_t lo, hi;         /* the raw values the protocol takes */
};
/* value into *raw: 0, or -1 with why (out of the protocol's range, not
 * on its step). */
int bms_wfield_raw(const struct bms_wfield *f, double value, int64_t *raw, char *why, size_t wl);
/* A raw value as the key's value. */
double bms_wfield_value(const struct bms_wfield *f, int64_t raw);
/* The values the protocol takes (lo <= hi) and its step. */
void bms_wfield_range(const struct bms_wfield *f, double *lo, double *hi, double *step);

/* One change of one key of one pack, as the family's steps run it. */
struct bms_wchange {
	/* set by the gateway */
	uint8_t key;            /* enum bms_wkey */
	int64_t raw;            /* the value to write (bms_wfield_raw()) */
	uint8_t address;        /* the pack's bus address, as in polls */
	uint8_t link;           /* enum bms_link */
	uint8_t layout;         /* the GATT layout or record layout the polls learned (jk-ble) */
	uint32_t persist;       /* the pack's struct bms_poll.persist (learned host address) */
	uint8_t date[6];        /* local time: year - 2000, month, day, hour, minute, second
	                         * (daly's SOC write also sets the BMS clock) */
	bool quit;              /* the gateway gives up (no answer after the retries, or a
	                         * wrong one): request() gives only the frames that leave an
	                         * unlock, then 0 */
	/* the driver's */
	int step;
	bool refused;           /* the BMS said no (its own refusal) */
	bool unlocked;          /* inside an unlock (jbd's factory mode) */
	bool wrote;             /* the write itself was asked for (the value may be in the BMS):
	                         * what the pack's write budget counts */
	bool have_old, have_back;
	int64_t old_raw;        /* what the field held before (where the steps read it) */
	int64_t back_raw;       /* what the read-back after the write showed */
	uint32_t word;          /* jbd 0x2D: the whole register read (the others' bits kept) */
	uint32_t rmw;           /* jk-pb 0x1114 (the heater): the whole UINT32 read, written
	                         * back with the one bit changed */
};

/* A family's writes.  request(): the next frame of c (> 0 its length), 0
 * when the change is over, or a negative BMS_E_* (for the first frame: the
 * pack cannot take the change, as its polls found it; the gateway asks
 * that of a copy before it queues one, and refuses it with none_*).  answer(): one frame
 * scan() found while a frame of c waits: BMS_OK = this step's answer
 * (c->step moved on; a "received" that proves nothing, as JK02's 0xC8
 * notification or the D2 dialect's echo, is one too: the read-back
 * decides), BMS_E_REFUSED = the BMS said no (c->refused; the steps that
 * leave an unlock follow), BMS_E_UNEXPECTED = not its answer (our echo,
 * a late answer: ignored), another negative = a bad answer. */
struct bms_writer {
	struct bms_wfield field[BMS_W_COUNT];
	uint32_t wire, ble;     /* BMS_W_BIT()s writable on a wire, over Bluetooth LE */
	const char *none_wire;  /* why nothing is writable there, where the mask is 0; where
	                         * it is not, what limits it (--check adds it), and why a
	                         * pack whose first frame request() cannot make takes no
	                         * change (daly-modbus over BLE in the 0x81 dialect) */
	const char *none_ble;
	int (*request)(struct bms_wchange *c, uint8_t *out, size_t cap); /* NULL where both masks are 0 */
	int (*answer)(struct bms_wchange *c, const uint8_t *frame, size_t len);
};
/* The keys writer w writes over link (enum bms_link), those of its mask it
 * has a field for (mul not 0); 0 for NULL. */
uint32_t bms_writer_keys(const struct bms_writer *w, int link);

#endif
