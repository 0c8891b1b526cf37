/* SPDX-License-Identifier: MIT */
/* bms/bms.h - the BMS driver interface shared by every brand.
 *
 * A driver is one const table (struct bms_driver) in one file of bms/.
 * Everything here is pure: bytes in, structs out, no I/O, no globals, no
 * allocation.  The gateway owns the wire: it asks the driver for the next
 * request, writes it, feeds whatever read() returned into a struct bms_rx,
 * and frames it with bms_frames(): the driver's scan() says where the next
 * complete frame is, and each complete frame goes to the driver's handle(),
 * which decodes it into the pack snapshot being built.
 */
#ifndef BMS_BMS_H
#define BMS_BMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "settings.h"
#include "setwrite.h"

/* The cells a snapshot holds: a high-voltage pack's series string (an EV
 * pack's 96-108 cells, a FoxESS stack's 144) with room to spare.  The
 * register map serves the first 32 (registers/regmap.c: REG_MAP_CELLS),
 * every other output all of them; the balancing bits (struct
 * bms_snapshot.balance) cover cells 1-32. */
#define BMS_MAX_CELLS 192
/* The most cells a low-voltage protocol's driver lists: what a snapshot
 * held before the high-voltage packs (a 24 V or 48 V pack of 4-24 cells,
 * a 32S board); each such driver still refuses, or cuts at, this many. */
#define BMS_LV_MAX_CELLS 32
#define BMS_MAX_TEMPS 16 /* registers 67-74 and 139-146 (registers/regmap.c) */
#define BMS_MAX_RAW_ALARMS 4 /* raw brand alarm words (16 bit each) */
#define BMS_MAX_GROUP 15     /* packs in one answer "for all" (struct bms_poll.position) */

/* Bits of struct bms_snapshot.present: which optional fields the BMS gave. */
enum {
	BMS_HAS_VOLTAGE = 1u << 0,
	BMS_HAS_CURRENT = 1u << 1,
	BMS_HAS_SOC = 1u << 2,
	BMS_HAS_SOH = 1u << 3,
	BMS_HAS_REMAIN = 1u << 4,
	BMS_HAS_FULL = 1u << 5,
	BMS_HAS_CYCLES = 1u << 6,
	BMS_HAS_CELLS = 1u << 7,
	BMS_HAS_TEMPS = 1u << 8,
	BMS_HAS_MOS_TEMP = 1u << 9,
	BMS_HAS_MOSFETS = 1u << 10,
	BMS_HAS_BALANCE = 1u << 11,
	BMS_HAS_ALARMS = 1u << 12,
	BMS_HAS_POWER = 1u << 13, /* power reported by the BMS itself */
	BMS_HAS_SETPOINT = 1u << 14, /* the MOSFET switches as set (chg_set, dsg_set) */
	BMS_HAS_CUR_LIMITS = 1u << 15, /* bms_ccl_a, bms_dcl_a: current limits the BMS reports */
	BMS_HAS_VOLT_LIMITS = 1u << 16, /* bms_cvl_v, bms_dvl_v: voltage limits the BMS reports */
	BMS_HAS_BALANCING = 1u << 17, /* balancing: balancing now, said as a whole (no cell bits) */
	BMS_HAS_BALANCER = 1u << 18, /* bal_current, bal_status, bal_temp_c: an active
	                              * balancer's own values (a balancer unit, e.g. neey) */
	BMS_HAS_CELL_RES = 1u << 19, /* cell_res_mohm[]: a resistance per cell */
	BMS_HAS_CELL_EXT = 1u << 20, /* ext_max_mv, ext_min_mv (and their numbers): the highest
	                              * and lowest cell as the BMS reports them */
	BMS_HAS_TEMP_EXT = 1u << 21, /* ext_tmax_c, ext_tmin_c: the highest and lowest
	                              * temperature as the BMS reports them */
	BMS_HAS_HEATER = 1u << 22,   /* heater_on, heater_a: the heater the BMS drives */
	BMS_HAS_HEATER_SET = 1u << 23, /* heater_enabled, heat_start_c, heat_stop_c: its settings */
};

/* Normalised alarm set (struct bms_snapshot.alarms): the one table of
 * the alarm bits, in bit order.  Each brand maps its own bits onto these;
 * the raw words are kept in raw_alarms[].  X(ID, key, meaning): BMS_AL_ID is
 * the mask, "key" the stable lower-case name (JSON, MQTT), "ID" the name in
 * register-map.md, meaning its description there. */
#define BMS_ALARM_LIST(X) \
	X(CELL_OV, "cell_ov", "cell over-voltage (any level)") \
	X(CELL_UV, "cell_uv", "cell under-voltage") \
	X(PACK_OV, "pack_ov", "pack over-voltage") \
	X(PACK_UV, "pack_uv", "pack under-voltage") \
	X(CHG_OT, "chg_ot", "charge over-temperature") \
	X(CHG_UT, "chg_ut", "charge under-temperature") \
	X(DSG_OT, "dsg_ot", "discharge over-temperature") \
	X(DSG_UT, "dsg_ut", "discharge under-temperature") \
	X(CHG_OC, "chg_oc", "charge over-current") \
	X(DSG_OC, "dsg_oc", "discharge over-current") \
	X(SHORT, "short", "short circuit") \
	X(CELL_DIFF, "cell_diff", "cell voltage difference") \
	X(TEMP_DIFF, "temp_diff", "temperature difference") \
	X(MOS_OT, "mos_ot", "MOSFET over-temperature") \
	X(SOC_LOW, "soc_low", "SOC low") \
	X(SOC_HIGH, "soc_high", "SOC high") \
	X(SENSOR, "sensor", "temperature sensor failure") \
	X(MOS_FAULT, "mos_fault", "MOSFET stuck / open / driver fault") \
	X(HW_FAULT, "hw_fault", "hardware fault (AFE, EEPROM, RTC, current module ...)") \
	X(COMM, "comm", "BMS-internal communication failure") \
	X(PROTECTION, "protection", "a level-2 protection is active") \
	X(OTHER, "other", "any other brand alarm bit")

/* Bit numbers: BMS_ALB_CELL_OV = 0 ... and BMS_AL_COUNT. */
enum bms_alarm_bit {
#define BMS_ALARM_BIT_(id, key, text) BMS_ALB_##id,
	BMS_ALARM_LIST(BMS_ALARM_BIT_)
#undef BMS_ALARM_BIT_
	BMS_AL_COUNT
};
/* Masks: BMS_AL_CELL_OV = 1u << 0 ... */
enum {
#define BMS_ALARM_MASK_(id, key, text) BMS_AL_##id = 1u << BMS_ALB_##id,
	BMS_ALARM_LIST(BMS_ALARM_MASK_)
#undef BMS_ALARM_MASK_
};
/* Stable lower-case name of alarm bit n, e.g. "cell_ov"; NULL beyond BMS_AL_COUNT. */
const char *bms_alarm_name(unsigned bit);
/* Upper-case name of bit n as register-map.md lists it, e.g. "CELL_OV"; NULL beyond. */
const char *bms_alarm_label(unsigned bit);
/* What alarm bit n means, e.g. "cell over-voltage (any level)"; NULL beyond. */
const char *bms_alarm_text(unsigned bit);

/* How a pack is reached (struct bms_poll.link, struct bms_control.link), set
 * by the gateway.  A driver looks at it only where its protocol differs on
 * the air (e.g. Daly's host address 0x80 over Bluetooth, Daly's D2 dialect). */
enum bms_link { BMS_LINK_WIRE = 0, BMS_LINK_BLE = 1 };

/* One GATT layout a protocol uses over Bluetooth LE: a primary service, the
 * characteristic the BMS notifies on and the one the gateway writes to, as
 * full 128-bit UUIDs in lower case ("0000ff01-0000-1000-8000-00805f9b34fb").
 * notify and write may name the same UUID (JK: one FFE1 with both flags, or
 * two FFE1 characteristics told apart by their flags).  write_service: the
 * service of the write characteristic where it is another one (Renogy's
 * BT-2: write FFD1 of FFD0, notify FFF1 of FFF0); NULL = service.  write
 * NULL: the BMS is only listened to (a listen_only driver: Topband).
 * notify2: a second characteristic of the service the BMS notifies on
 * (Super-B Epsilon V2 answers on notify and pushes other frames on this
 * one); the transport subscribes to both and hands both characteristics'
 * notifications into the one byte stream of the link, in the order they
 * come (the driver tells the frames apart); NULL = none.
 * more: characteristics of the service beyond notify and write, each a
 * channel of its own (BMS_CHR_*: Dometic's keep-alive pairs); NULL = none. */
struct bms_gatt_chr;
struct bms_gatt {
	const char *service;
	const char *notify;
	const char *write;
	const char *write_service;
	const char *notify2;
	const struct bms_gatt_chr *more;
};
/* One characteristic of struct bms_gatt.more (the list ends with a NULL
 * uuid): notified (subscribed when the link comes up, before notify, in
 * the list's order) or written.  A layout with them is a link of channels:
 * channel 0 is notify / write, channel k >= 1 more[k - 1]; every
 * notification reaches the framer as a record BMS_CHR_MAGIC0
 * BMS_CHR_MAGIC1 k n data[n] (one notification, or a part of 255 bytes of
 * a longer one), those that came while the link was being set up as its
 * first bytes (the first poll of a connection keeps them); a request is
 * one or more such records, each written to its channel's characteristic
 * (Write Command where it allows it), in order (bms/base/gattrec.c). */
struct bms_gatt_chr {
	const char *uuid;
	bool notify;
};
#define BMS_GATT_MORE_MAX 6     /* characteristics a layout's more lists at most */
#define BMS_CHR_MAGIC0 0xAD
#define BMS_CHR_MAGIC1 0x43
#define BMS_CHR_HDR 4
/* The record of data[0..n) (n <= 255) on channel k into out[0..cap): its
 * length, or 0 when it does not fit. */
size_t bms_chr_record(uint8_t *out, size_t cap, uint8_t k, const void *data, size_t n);
/* The record at the start of buf[0..len): true with *k, *data, *n and
 * *used (its length) when a whole one is there; false with *used the bytes
 * before the next record's magic (0: wait for more).  A framer of a link of
 * channels (a scan() that takes records whole). */
bool bms_chr_next(const uint8_t *buf, size_t len, uint8_t *k, const uint8_t **data, size_t *n, size_t *used);
/* The entry that ends a list of layouts (struct bms_ble.gatt). */
#define BMS_GATT_END { .service = NULL }
/* An unlock a BMS wants before it answers anything (struct
 * bms_ble.auth; TDT: ASCII "HiLink" to FFFA, without which it
 * ignores every request and drops the link): len bytes data written with
 * response to the characteristic chr of the layout's service, then chr read
 * back: its first byte must be ok, or the link fails.  Once a connection,
 * before StartNotify.
 * blind: nothing is read back (the BMS gives no sign of it): the write's
 * completion is the unlock, written with response where chr takes it, else
 * as a Write Command; after_notify: written once the notifications are on,
 * before the first request (Dyness Junior: AA 55 01 00 00 56 to FED5 after
 * subscribing, bms/PROTOCOLS.md §82). */
struct bms_ble_auth {
	const char *chr;
	const uint8_t *data;
	uint8_t len, ok;
	bool blind, after_notify;
};
/* A 16-bit UUID ("ffe0") on the Bluetooth base UUID, as struct bms_gatt
 * names it: "0000ffe0-0000-1000-8000-00805f9b34fb" (Bluetooth Core 5.3,
 * Vol 3 Part B 2.5.1). */
#define BMS_UUID_BASE "-0000-1000-8000-00805f9b34fb"
#define BMS_UUID16(x) "0000" x BMS_UUID_BASE
/* A GATT layout of three 16-bit UUIDs: service, notify, write. */
#define BMS_GATT16(svc, ntf, wr) { .service = BMS_UUID16(svc), .notify = BMS_UUID16(ntf), .write = BMS_UUID16(wr) }
/* The Nordic UART service: 6e400001-..., notify 6e400003-..., write 6e400002-... */
#define BMS_NUS_UUID(n) "6e40000" n "-b5a3-f393-e0a9-e50e24dcca9e"
#define BMS_GATT_NUS { .service = BMS_NUS_UUID("1"), .notify = BMS_NUS_UUID("3"), .write = BMS_NUS_UUID("2") }

/* An advertisement as the BLE transport hands it to a listen-only driver
 * (struct bms_ble.company): BMS_ADV_MAGIC0, BMS_ADV_MAGIC1, the
 * company id (little-endian 16 bit), the length n (one byte), then the n
 * bytes of manufacturer data, company id stripped as BlueZ gives them. */
#define BMS_ADV_MAGIC0 0xAD
#define BMS_ADV_MAGIC1 0x5E
#define BMS_ADV_HDR 5

/* A CAN frame as a CAN port hands it to a driver with can->bitrate (the
 * CAN transport, gateway/wire/canlink.c): BMS_CAN_MAGIC0, BMS_CAN_MAGIC1,
 * flags (BMS_CAN_EXT, BMS_CAN_RTR), the identifier (little-endian 32 bit:
 * 11 bits, or 29 with BMS_CAN_EXT), the DLC (0..8), then the DLC's data
 * bytes (none for a remote frame).  bms_can_record() writes one. */
#define BMS_CAN_MAGIC0 0xCA
#define BMS_CAN_MAGIC1 0x4E
#define BMS_CAN_HDR 8
#define BMS_CAN_EXT 0x01u
#define BMS_CAN_RTR 0x02u
#define BMS_CAN_MAX_DLC 8
#define BMS_CAN_REC_MAX (BMS_CAN_HDR + BMS_CAN_MAX_DLC)

/* One pack, normalised.  Units: V, A (+ = charging), W, %, Ah, mV, degC. */
struct bms_snapshot {
	uint32_t present;          /* BMS_HAS_* */
	float voltage;             /* pack voltage, V */
	float current;             /* A, + = charging */
	float power;               /* W, + = charging (voltage*current if not given) */
	float soc;                 /* % 0..100 */
	float soh;                 /* % 0..100 */
	float remain_ah;           /* remaining capacity, Ah */
	float full_ah;             /* full / rated capacity, Ah */
	uint32_t cycles;
	uint8_t ncells;            /* cells valid in cell_mv[] (<= BMS_MAX_CELLS) */
	uint8_t ntemps;            /* sensors valid in temp_c[] */
	uint16_t cell_mv[BMS_MAX_CELLS];
	float temp_c[BMS_MAX_TEMPS];
	float mos_temp_c;
	bool chg_mos, dsg_mos;     /* MOSFET on (the actual state) */
	bool chg_set, dsg_set;     /* MOSFET switch as set, protections aside (BMS_HAS_SETPOINT) */
	uint32_t balance;          /* bit n = cell n+1 balancing (cells 1-32: no protocol
	                            * that lists more says which cells balance) */
	uint32_t alarms;           /* BMS_AL_* */
	uint8_t nraw;              /* raw alarm words valid */
	uint16_t raw_alarms[BMS_MAX_RAW_ALARMS];
	uint8_t state;             /* 0 idle, 1 charging, 2 discharging (if known) */
	/* Limits the BMS itself reports (or the settings it protects with),
	 * where its protocol has them (bms/PROTOCOLS.md says where); the charge
	 * limit engine uses them as a cap.  A BMS that forbids charging
	 * (discharging) reports 0 A. */
	float bms_ccl_a, bms_dcl_a; /* A, >= 0 (BMS_HAS_CUR_LIMITS) */
	float bms_cvl_v, bms_dvl_v; /* V: charge voltage limit, discharge voltage limit (BMS_HAS_VOLT_LIMITS) */
	/* Balancing said as a whole (BMS_HAS_BALANCING), by a BMS or a balancer
	 * that does not say which cells (balance stays 0, BMS_HAS_BALANCE unset). */
	bool balancing;
	/* An active balancer (BMS_HAS_BALANCER): a unit beside the BMS that
	 * measures the cells and moves charge between them; it carries no pack
	 * current, SOC or capacity (those stay absent), and a bank takes its
	 * current, capacity and limits from its BMSs alone. */
	float bal_current;         /* A it moves between the cells now, signed as the balancer
	                            * reports it (bms/PROTOCOLS.md says what is known of the sign) */
	float bal_temp_c;          /* its own board temperature, NaN = not reported */
	uint8_t bal_status;        /* its operation status, brand specific (struct
	                            * bms_driver.balancer_state names it) */
	/* A resistance per cell, mOhm, [0..ncells) (BMS_HAS_CELL_RES): what the
	 * BMS or balancer measures of the cell and its sense wire (its protocol
	 * section says which). */
	float cell_res_mohm[BMS_MAX_CELLS];
	/* The highest and lowest cell as the BMS itself reports them
	 * (BMS_HAS_CELL_EXT, both 500..5000 mV, min <= max; bms_set_cell_ext()),
	 * where its protocol has them: the only cell data of a BMS that sends no
	 * cell list (jk-can's 0x4F4, pylon-can's 0x373, pylon-rt's 0x1018),
	 * and beside a list that is not every cell (ubms-can's modules in
	 * parallel).  A cell list, where the poll has one, gives the cells,
	 * their mean and numbers; these widen its extremes where they lie
	 * beyond them (bms_cell_stats()). */
	uint16_t ext_max_mv, ext_min_mv;
	uint8_t ext_max_cell, ext_min_cell; /* their cell numbers, 1-based; 0 = not said */
	/* The highest and lowest temperature as the BMS reports them
	 * (BMS_HAS_TEMP_EXT; bms_set_temp_ext()): NaN = not said (or outside
	 * -50..150 degC: no reading).  Beside the sensors of temp_c[], which
	 * stay what the protocol lists as sensors. */
	float ext_tmax_c, ext_tmin_c;
	/* Sensors found reading outside the plausible range (never set by a
	 * driver: bms_sensor_faults() does, before the plausibility table): a
	 * BMS's placeholder for a sensor it lacks or lost, e.g. EG4-LL's 0xC8
	 * (-56 degC).  Bit i: temp_c[i], now NaN (absent); BMS_FAULT_MOS: the
	 * MOSFET sensor, BMS_HAS_MOS_TEMP now clear; BMS_FAULT_ALARM: alarms'
	 * BMS_AL_SENSOR is set for them alone (the BMS did not raise it). */
	uint32_t sensor_faults;
	/* The heater the BMS drives (BMS_HAS_HEATER; JK-PB §6.9, Chins §83):
	 * on now, and the current it draws (A, >= 0; NaN = not reported: a
	 * driver that sets the bit sets it).  Its settings, where the
	 * protocol reads them (BMS_HAS_HEATER_SET; JK-PB's settings record,
	 * kept between its reads like the BMS's other settings): heating
	 * enabled, the temperature below which it starts and above which it
	 * stops (degC; NaN where the protocol does not say). */
	bool heater_on;
	float heater_a;
	bool heater_enabled;
	float heat_start_c, heat_stop_c;
};

/* Byte accumulator for one link.  The gateway appends what read() returned;
 * the driver's scan() says where frames start and end.  Room for a PACE
 * answer for 15 packs (§19: up to 2 x 91 characters a pack of 16 cells). */
#define BMS_RX_CAP 4096
struct bms_rx {
	size_t len;
	uint8_t buf[BMS_RX_CAP];
};

/* Append n bytes; if the buffer would overflow the oldest bytes are dropped
 * (they can never start a frame the driver accepts).  Returns bytes dropped. */
size_t bms_rx_feed(struct bms_rx *rx, const uint8_t *p, size_t n);
/* Remove the first n bytes. */
void bms_rx_consume(struct bms_rx *rx, size_t n);
void bms_rx_clear(struct bms_rx *rx);

/* Result of a driver's scan() on the start of the rx buffer. */
enum bms_scan {
	BMS_SCAN_NEED = 0, /* no complete frame yet, keep reading */
	BMS_SCAN_FRAME,    /* *n = length of a complete, checksum-valid frame at buf[0] */
	BMS_SCAN_SKIP,     /* *n = bytes of garbage (or a bad frame) to drop; rescan */
	BMS_SCAN_BADSUM,   /* like SKIP, for a frame that was complete but failed its
	                    * checksum (or end marker): the gateway counts it */
};

/* ---- a framer's start (bms/base/frames.c) ----
 * Most framers resynchronise on a start byte: what precedes it is garbage,
 * skipped whole.  bms_scan_skip() counts the bytes of buf[0..len) (len >= 1)
 * before the next one, after buf[0], that is among starts[0..nstarts): len
 * when none is. */
size_t bms_scan_skip(const uint8_t *buf, size_t len, const uint8_t *starts, size_t nstarts);
/* The opening of such a framer: true when buf[0..len) starts with sof (the
 * framer goes on with its frame); else false with *r the framer's answer,
 * BMS_SCAN_NEED for no bytes, BMS_SCAN_SKIP with *n the bytes before the
 * next sof (all of them when there is none). */
bool bms_scan_start(const uint8_t *buf, size_t len, uint8_t sof, enum bms_scan *r, size_t *n);
/* The tail such a framer ends with once the want bytes of its frame are
 * there: a failed check (sum_ok false: its checksum, or its end bytes) is
 * BMS_SCAN_BADSUM with *n = 1 (the damaged frame is dropped a byte at a
 * time: a good one may start inside it); a good frame that is no answer
 * (answer false: a request, ours echoed or another master's) is skipped
 * whole, BMS_SCAN_SKIP; else BMS_SCAN_FRAME (*n = want both). */
enum bms_scan bms_scan_tail(bool sum_ok, bool answer, size_t want, size_t *n);
/* The shape many framers share: a start byte (one of starts[0..nstarts)),
 * a length byte at offset `at`, len + over bytes in all, the last nend of
 * them the end bytes end[0..nend).  bms_scan_sle() answers for buf[0..len)
 * as a scan() does: SKIP up to the next start byte, NEED, BADSUM (one
 * byte) where the end bytes are not where the length puts them, or FRAME
 * with *n = len + over.  A checksum, where the protocol has one, is the
 * driver's to check after it (over counts its bytes).  nend >= 1 and
 * over >= at + 1 + nend, or the length byte could be an end byte. */
struct bms_sle {
	const uint8_t *starts;
	uint8_t nstarts;
	uint8_t at;     /* the length byte's offset */
	uint8_t over;   /* the frame's bytes beyond the length byte's count */
	const uint8_t *end;
	uint8_t nend;
};
enum bms_scan bms_scan_sle(const struct bms_sle *f, const uint8_t *buf, size_t len, size_t *n);
/* The middle of a framer whose header (hdr bytes, its start already found)
 * holds the data's length as a big-endian word at `at`, the frame being
 * that length + over bytes: true with *want the frame's length once the
 * whole frame is there; else false with *r the framer's answer: NEED, or
 * SKIP of one byte (*n = 1) for a header that cannot be one (head_ok false,
 * or a length above max).  The checksum and the tail are the driver's. */
struct bms_lenword {
	uint8_t hdr;    /* the header's bytes, the length word among them */
	uint8_t at;     /* the length word's offset */
	uint16_t max;   /* the longest data */
	uint8_t over;   /* the frame's bytes beyond the data */
	bool (*head_ok)(const uint8_t *head); /* the header's other fields */
};
bool bms_scan_lenword(const struct bms_lenword *f, const uint8_t *buf, size_t len, size_t *want, enum bms_scan *r,
		      size_t *n);

/* ---- a request's opening (bms/base/frames.c) ----
 * A request of a fixed len bytes, zeroed and opened with the nhead bytes of
 * head: BMS_OK, or BMS_E_NOSPACE (out untouched) when cap cannot hold it. */
int bms_req_open(uint8_t *out, size_t cap, size_t len, const uint8_t *head, size_t nhead);

/* ---- the framing loop (bms/base/frames.c): the one every user of scan() runs
 * (the poller, the probes' judge, the unit tests' and fuzz targets' drivers,
 * the decoder bench).  From the start of the bytes: the driver's scan()
 * (poll read only); SKIP and BADSUM drop their bytes (BADSUM counted); each
 * FRAME goes to take(), which says whether to go on; NEED ends it.  A
 * length of 0 or beyond the bytes, or a result scan() may not give, is a
 * framer bug: counted (bad_scan), and one byte dropped, so that the loop
 * never stalls and a valid frame after it is still found. */
struct bms_driver;
struct bms_poll;
/* What take() tells the loop: scan on, or stop (e.g. the frame moved the
 * poll on: what is left waits for the next step). */
enum bms_frame_next { BMS_FRAME_MORE = 0, BMS_FRAME_STOP };
/* A complete frame, frame[0..len), checksum valid: decode it (handle(),
 * control->ack()).  ctx is bms_frames()'s. */
typedef enum bms_frame_next bms_frame_take(void *ctx, const uint8_t *frame, size_t len);
/* What the loop did: added to the caller's counts (NULL: not counted). */
struct bms_frame_counts {
	unsigned frames;   /* complete frames handed to take() */
	unsigned badsum;   /* BADSUM: complete frames whose checksum (or end marker) failed */
	unsigned bad_scan; /* framer bugs (each dropped one byte) */
	size_t skipped;    /* bytes dropped that were no frame (SKIP, BADSUM, framer bugs) */
};
/* Frame what rx holds; the frames handed on and the bytes dropped are
 * consumed when it returns (take() sees rx as it was, and may empty it with
 * bms_rx_clear() -- the loop then goes on with the empty buffer -- but
 * never feed it).  True when take() said stop, false when scan() needs
 * more bytes. */
bool bms_frames(const struct bms_driver *d, const struct bms_poll *poll, struct bms_rx *rx, bms_frame_take *take,
		void *ctx, struct bms_frame_counts *c);
/* The same on buf[0..len), which stays as it is (the probes' stateless
 * judge: called again with more bytes, it frames them all again). */
bool bms_frames_buf(const struct bms_driver *d, const struct bms_poll *poll, const uint8_t *buf, size_t len,
		    bms_frame_take *take, void *ctx, struct bms_frame_counts *c);

/* Result codes of handle() and next_request(); negatives are errors. */
enum {
	BMS_OK = 0,           /* handle(): frame used; this request is complete */
	BMS_MORE = 1,         /* handle(): frame used; more frames belong to this request */
	BMS_E_CHECKSUM = -1,  /* bad checksum */
	BMS_E_SHORT = -2,     /* truncated / wrong length */
	BMS_E_HEADER = -3,    /* wrong start byte, address or layout (victron-ble: a record
	                       * of another product type) */
	BMS_E_UNEXPECTED = -4,/* valid frame, but not an answer to this request (ignore it) */
	BMS_E_RANGE = -5,     /* a field is out of its possible range */
	BMS_E_INVALID = -6,   /* the sample as a whole is not usable (e.g. 0 V, 0 cells) */
	BMS_E_NOSPACE = -7,   /* caller's buffer too small */
	BMS_E_REFUSED = -8,   /* the BMS answered with an error / exception code */
	BMS_E_KEY = -9,       /* an encrypted frame the pack's key does not open (or no key) */
	BMS_E_NAME = -10,     /* next_request(): the unlock the protocol derives from the device's
	                       * advertised name (bms_poll.peer_name) cannot be: the name is not
	                       * known, or not of the protocol's form (nothing is written) */
	BMS_E_AUTH = -11,     /* handle(): the BMS refused the pack's PIN (struct bms_ble_pin):
	                       * the poll fails at once, never retried at once (the
	                       * gateway waits BMS_AUTH_RETRY_S before it tries again) */
};
const char *bms_strerror(int code);

/* What a BMS says about itself, from the identity commands of its protocol
 * (PACE 0xC1 / 0xC2, 0x51, Daren B0, the Modbus identity blocks): read on
 * the first poll, logged once and served as Modbus device identification.
 * Printable ASCII, trailing blanks and padding removed; "" = not given. */
#define BMS_IDENT_LEN 41
struct bms_ident {
	char vendor[BMS_IDENT_LEN];      /* the maker as the BMS names itself */
	char model[BMS_IDENT_LEN];       /* hardware / model / device name */
	char firmware[BMS_IDENT_LEN];    /* software version */
	char serial[BMS_IDENT_LEN];      /* the BMS's serial number */
	char pack_serial[BMS_IDENT_LEN]; /* the pack's serial number, where it has its own */
};
/* struct bms_kept.ident_state */
enum {
	BMS_IDENT_UNKNOWN = 0, /* not asked yet */
	BMS_IDENT_HAVE,        /* ident holds what the BMS answered */
	BMS_IDENT_NONE,        /* the BMS refused or ignored its identity commands: not asked again */
};
/* n bytes of a BMS's text field into dst[0..cap), NUL-terminated: up to the
 * first NUL, non-printable bytes dropped, leading and trailing blanks
 * removed (0xFF padding is non-printable). */
void bms_ident_text(char *dst, size_t cap, const uint8_t *p, size_t n);
/* Anything in it? */
bool bms_ident_any(const struct bms_ident *id);

/* Slow-changing values (cell and sensor count, cycles, rated capacity) that
 * a driver reads only every few polls: a poll stores what it read here, and
 * a poll that does not read them again copies them into its snapshot.
 * bms_poll_begin() keeps them; bms_slow_due() says when to read them. */
struct bms_kept {
	uint32_t have;          /* BMS_HAS_CELLS (ncells), BMS_HAS_TEMPS (ntemps),
	                         * BMS_HAS_CYCLES, BMS_HAS_FULL, BMS_HAS_CUR_LIMITS
	                         * (ccl_a, dcl_a): which are kept */
	uint8_t ncells, ntemps;
	uint32_t cycles;
	float full_ah;
	float ccl_a, dcl_a;     /* current limits a settings read gave (jk-pb, jk-ble) */
	uint8_t ident_state;    /* BMS_IDENT_*: the identity commands (not cleared by a
	                         * poll; a driver asks them while BMS_IDENT_UNKNOWN) */
	struct bms_ident ident;
	struct bms_settings settings; /* the BMS's own settings its last settings read gave
	                               * (have = 0: never read; bms/settings.h) */
};

/* Bytes of struct bms_poll.peer_name, its NUL included. */
#define BMS_PEER_NAME_LEN 32

/* The longest `pin` (characters; struct bms_poll.pin holds it and its NUL). */
#define BMS_PIN_MAX 32
/* struct bms_poll.auth: the PIN exchange of a poll. */
enum {
	BMS_AUTH_NONE = 0, /* none this poll (no PIN, or the connection has it already) */
	BMS_AUTH_SENT,     /* the PIN is written, not acknowledged yet */
	BMS_AUTH_OK,       /* the BMS took it (or answered after it) */
	BMS_AUTH_REFUSED,  /* a try after it went unanswered where the protocol has no refusal
	                    * frame (the driver's judgement): the poll failing so is auth failed */
};
/* The least time between two tries of a PIN the BMS refused (s): a human's
 * pace, never an attack's (bmsgw.ini(5) `pin`). */
#define BMS_AUTH_RETRY_S 60.0

struct bms_jsonmap; /* bms/jsonmap.h */

/* Bytes of struct bms_poll.priv, the driver's own state of a poll. */
#define BMS_PRIV_SIZE 64

/* State of one poll of one pack (a sequence of request/response steps).
 * Created by bms_poll_begin() for every poll; `snap` is the snapshot being
 * built, copied out by the gateway only when next_request() says the poll is
 * complete and finish() accepted it. */
struct bms_poll {
	/* configuration, set by bms_poll_begin() */
	uint8_t address;        /* bus address / board number (protocol specific) */
	uint8_t cells_forced;   /* 0 = from the BMS */
	bool invert_current;
	bool address_any;       /* an answer from another address is this pack's (`address_any`,
	                         * set by the gateway after bms_poll_begin(), for a driver
	                         * with any_address) */
	/* A pack read through the answer its master gives for all its packs
	 * (`position`, for a driver whose struct bms_driver.group is not 0;
	 * set by the gateway after bms_poll_begin()):
	 * position = its record (1-based) in the answer of the pack at
	 * `address`, 0 = it answers for itself.  The records of the other packs
	 * of that answer go into group[k] (record k + 1, k < group_cap) with
	 * bit k of group_have set, each one a whole snapshot; finish() checks
	 * them as it checks snap (a bad one loses its bit). */
	uint8_t position;
	uint8_t group_cap;
	uint32_t group_have;
	struct bms_snapshot *group;
	/* progress, private to the driver */
	int step;
	int sub;                /* e.g. frames received for a multi-frame reply */
	uint32_t seen;          /* e.g. bit mask of multi-frame numbers received */
	int attempt;            /* 0 for the first try of this step, +1 per retry (set by the gateway) */
	uint32_t persist;       /* kept across polls of the same pack (e.g. learned host address) */
	bool setpoints;         /* read the MOSFET switch settings too (set by the gateway for
	                         * packs with control, after bms_poll_begin()) */
	bool refresh;           /* read the slow-changing values again this poll (set by the
	                         * gateway after bms_poll_begin(); see struct bms_kept) */
	bool settings_due;      /* ask the BMS for its own settings this poll, where the
	                         * protocol needs a request of its own for them (set by
	                         * the gateway after bms_poll_begin(): the first poll,
	                         * after the link reopened (a minute after the last
	                         * ask at the earliest), else every 10 minutes;
	                         * bms/PROTOCOLS.md §1.8) */
	bool wsettings;         /* the pack has `bms_settings` (set by the gateway after
	                         * bms_poll_begin()): a protocol that reads its settings
	                         * only behind an unlock (jbd's factory mode) reads them
	                         * when settings_due */
	struct bms_kept kept;   /* kept across polls of the same pack, like persist */
	struct bms_settings set_read; /* the BMS settings a frame of this poll gave, held
	                         * by a driver whose answer is complete only later
	                         * (jk-pb: until its acknowledgement) before they go
	                         * into kept.settings */
	uint32_t refusals;      /* error answers (RTN != 0, Modbus exceptions) handle() took
	                         * without failing the step (an identity command the BMS does
	                         * not know): the gateway counts them with the ones that made
	                         * handle() return BMS_E_REFUSED, and clears this */
	/* transport, set by the gateway after bms_poll_begin() */
	uint8_t link;           /* enum bms_link */
	bool link_fresh;        /* first poll since the link was (re)opened (a BLE
	                         * connection: a BMS that streams must be asked again) */
	uint8_t ble_layout;     /* over Bluetooth LE: the index in struct
	                         * bms_ble.gatt of the GATT layout the link
	                         * found on the device (0 elsewhere); a driver looks
	                         * at it only where its layouts speak differently
	                         * (superb: v1 pushes, v2 is asked) */
	bool have_key;          /* key[] holds the pack's `key =` (victron-ble) */
	uint8_t key[16];
	const struct bms_jsonmap *jsonmap; /* mqtt-json: the pack's `fields =` map (bms/jsonmap.h),
	                         * set by the gateway after bms_poll_begin(); NULL elsewhere */
	char peer_name[BMS_PEER_NAME_LEN]; /* the name the Bluetooth LE device advertises
	                         * ("" on a wire, or not known; set for every poll by both
	                         * Bluetooth transports: BlueZ's Device1 Name, the ESPHome
	                         * proxy's advertised local name): a driver looks at it only
	                         * where its protocol differs by name family (renogy-pro) or
	                         * derives a key or an unlock from it (ogt, d-powercore:
	                         * BMS_E_NAME from next_request() while it gives none) */
	/* The pack's `pin` (set by the gateway after bms_poll_begin(); "" =
	 * none), for a protocol with ble->pin: the secret its BMS asks for,
	 * sent as its exchange says (bms/PROTOCOLS.md names each), never
	 * logged.  next_request() sets secret_req when the request it gives
	 * holds it (the link then logs its length, never its bytes; the
	 * gateway clears it before each call).  auth (BMS_AUTH_*) is where the
	 * exchange of this poll is, the driver's to write: the gateway reads it
	 * when a poll fails (a BMS whose refusal is its silence, ble->pin's
	 * silent) and when it succeeds (accepted). */
	char pin[BMS_PIN_MAX + 1];
	bool secret_req;
	uint8_t auth;
	/* the driver's own state of this poll, private to it: a struct of its
	 * own (defined in its file, or in bms/<driver>.h where its unit test
	 * reads it) reached with BMS_PRIV(), never its bytes; zeroed by
	 * bms_poll_begin() like the progress above (what lasts from poll to
	 * poll goes into persist or kept) */
	union {
		max_align_t align_;
		unsigned char bytes[BMS_PRIV_SIZE];
	} priv;
	struct bms_snapshot snap;
};

/* The driver's state in poll->priv as its own type T, e.g.
 * `struct pc_state *st = BMS_PRIV(poll, struct pc_state);` (a const T * for a
 * const poll, as scan() has).  It fails to compile when T is larger than
 * the area (BMS_PRIV_SIZE) or aligned beyond max_align_t. */
#define BMS_PRIV(poll, T) \
	((void)sizeof(struct { \
		_Static_assert(sizeof(T) <= BMS_PRIV_SIZE, "the driver's state is larger than bms_poll.priv"); \
		_Static_assert(_Alignof(T) <= _Alignof(max_align_t), "the driver's state is aligned beyond priv"); \
		char ok_; \
	}), \
	 _Generic((poll), \
		const struct bms_poll *: (const T *)(const void *)(poll)->priv.bytes, \
		default: (T *)(void *)(poll)->priv.bytes))

/* MOSFET control: one command switches one or both FETs of one pack. */
enum bms_fet { BMS_FET_CHARGE = 0, BMS_FET_DISCHARGE = 1 };
struct bms_control {
	/* set by the gateway */
	uint8_t address;        /* bus address, as in polls */
	bool set[2];            /* the FETs (enum bms_fet) this command switches */
	bool on[2];             /* their wanted state */
	bool intent[2];         /* the gateway's intended state of both FETs once this
	                         * command is applied (a protocol that writes both at
	                         * once builds its frame from this, never from a read) */
	uint32_t persist;       /* the pack's bms_poll.persist (learned host address) */
	uint8_t link;           /* enum bms_link, as in polls */
	/* progress, private to the driver */
	int step;               /* frames acknowledged so far */
};

/* One thing a BMS's advertisement is recognised by (--ble-scan), as the
 * open-source BLE readers match them: a company id in its manufacturer
 * data, a name (a case-insensitive prefix, or a test of the whole name) or
 * an advertised 16-bit service.  The hints of every driver are tried in
 * rank order, lowest first (a more specific name before a general one,
 * names before services); the first that matches names the protocol.
 * BMS_BLE_COMPANY_SERVICE: a company id only beside an advertised 16-bit
 * service (Topband: 0x0000 / 0xFFFF with FFE0), value = company | service << 16,
 * and where prefix is set a name that starts with it (PowerBoozt).
 * BMS_BLE_ADDRESS_SERVICE: a device address that starts with prefix (its
 * maker's OUI, "C4:A9:B8") beside the advertised 16-bit service value
 * (Greenway, whose names are serials).
 * BMS_BLE_SERVICE_DATA: service data (AD types 0x16 / 0x21) under
 * the 16-bit UUID value & 0xFFFF, beside the advertised 16-bit service
 * value >> 16 where that is not 0 (Epoch: 3333 with FFE0), and where prefix
 * is set a name that starts with it (Dörr: BT-Battery with FFE1).
 * BMS_BLE_SERVICE128: an advertised 128-bit service, prefix, in lower case
 * (Votronic's monitoring service). */
enum bms_ble_hint_kind { BMS_BLE_COMPANY, BMS_BLE_NAME, BMS_BLE_SERVICE, BMS_BLE_COMPANY_SERVICE,
			 BMS_BLE_ADDRESS_SERVICE, BMS_BLE_SERVICE_DATA, BMS_BLE_SERVICE128 };
struct bms_ble_hint {
	uint8_t rank;
	enum bms_ble_hint_kind kind;
	const char *prefix;                /* BMS_BLE_NAME, _COMPANY_SERVICE, _SERVICE_DATA: the
	                                    * name starts with it; BMS_BLE_ADDRESS_SERVICE: the
	                                    * address's start; BMS_BLE_SERVICE128: the service */
	bool (*name_ok)(const char *name); /* BMS_BLE_NAME: the name passes this test */
	uint32_t value;                    /* the company id or the service (or both, above) */
	bool pairing;                      /* the BMS may ask for a passkey */
	const char *why;                   /* what --ble-scan says; NULL ends a list */
};

/* ---- identification: `bmsgw --detect` (gateway/detect/) -------------------
 * A wired driver carries a probe: the cheapest read-only request of its
 * protocol that proves a BMS speaks it, and the judge of what came back.
 * Pure like the rest: the gateway sends the request and feeds the bytes
 * back.  A probe never writes (no Modbus FC 05/06/0F/10, no Daly D9/DA, no
 * JBD 0x5A or factory mode, no JK-PB trigger) and never enters an EEPROM
 * mode.  A driver without a probe (NULL) is not tried. */

/* What a probe makes of the bytes that came back after its request. */
enum bms_probe_verdict {
	BMS_PROBE_NONE = 0,     /* no complete answer of this protocol (yet) */
	BMS_PROBE_MATCH,        /* a valid answer (checksum, framing) with plausible content */
	BMS_PROBE_REFUSED,      /* a valid answer that is an error code (Modbus exception,
	                         * paceic RTN != 0): a device of the family, another map */
	BMS_PROBE_IMPLAUSIBLE,  /* a valid frame whose content is no battery's */
};

#define BMS_PROBE_TEXT 96
struct bms_probe_result {
	enum bms_probe_verdict verdict;
	size_t start, used;     /* the judged frame is buf[start..used) */
	unsigned frames;        /* complete, checksum-valid frames the driver's framer found */
	unsigned bad;           /* frames whose checksum (or end marker) failed */
	char what[BMS_PROBE_TEXT]; /* MATCH: what the answer says ("16 cells, 52.6 V,
	                         * SOC 60 %" or its identity); otherwise why it is not one */
	bool has_from;          /* the judge read the address the answer came from: */
	uint8_t from;           /* it (another than asked only where the probe's prepare()
	                         * set poll->address_any: a request for all packs) */
	/* MATCH by the frames' judge (bms_probe_judge_frames): the cells and
	 * SOC the answer gave, for the chemistry --detect proposes */
	bool has_cells;         /* cell_min_v / cell_max_v hold its lowest and highest cell, V */
	float cell_min_v, cell_max_v;
	bool has_soc;
	float soc;              /* % */
};

#define BMS_PROBE_BAUDS 3       /* baud rates a probe lists at most */
#define BMS_PROBE_ADDRS 4       /* addresses tried without a sweep at most */
#define BMS_PROBE_MIN_GAP 0.05  /* s of silence before any probe */
#define BMS_PROBE_SWEEP_MAX 16  /* a sweep tries 0..16 (within the driver's range) */

struct bms_probe {
	/* The baud rates a BMS of the protocol is known to run at, the usual
	 * first; 0 ends the list (tcp:// ports and --baud try every probe
	 * once, at the one rate). */
	int bauds[BMS_PROBE_BAUDS];
	/* The addresses tried without a sweep (0 entries: the driver's default
	 * address), e.g. Renogy's 0x30 and 0xF7. */
	uint8_t addrs[BMS_PROBE_ADDRS];
	uint8_t naddrs;
	/* The special ids a sweep (--scan-addresses) adds to 0..16. */
	const uint8_t *sweep;
	uint8_t nsweep;
	/* Order among the probes of one baud rate: the most used first. */
	uint8_t rank;
	/* Tries of one address (0 = 1); poll->attempt counts them, as a
	 * driver's retries do (Daly's host 0x40 then 0x80). */
	uint8_t tries;
	/* Silence before the request (s; at least BMS_PROBE_MIN_GAP and the
	 * driver's gap_floor), and the wait for the first byte of the answer
	 * once the request is on the wire (s). */
	double gap, timeout;
	/* Optional: set up the fresh poll of a try (after bms_poll_begin() at
	 * the address, poll->attempt set), e.g. the start character of a try,
	 * or poll->address_any where the request asks for all packs and the
	 * answer may come from another address (the judge says which:
	 * bms_probe_result.from). */
	void (*prepare)(struct bms_poll *poll);
	/* Optional: the request (NULL: the driver's next_request() of the
	 * prepared poll, its first poll step, which must be a read).  A
	 * listen-only driver has none: it is recognised while listening. */
	int (*request)(struct bms_poll *poll, uint8_t *out, size_t cap);
	/* Optional: judge buf[0..len) (NULL: the driver's scan() and handle()
	 * of the prepared poll until a step completes, then `check`). */
	void (*judge)(const struct bms_poll *poll, const uint8_t *buf, size_t len, struct bms_probe_result *r);
	/* Optional: is what handle() decoded a battery's (NULL:
	 * bms_probe_plausible() of the snapshot, or the identity text)?  what:
	 * a summary, or why not. */
	bool (*check)(const struct bms_poll *poll, char *what, size_t cap);
	/* A talker's stream (listen only): a frame that does not decode, or
	 * carries no voltage, is passed over until one does (VE.Direct's
	 * blocks, some of which hold only counters); that one is judged,
	 * whether or not it completes the step. */
	bool patient;
};

/* ---- what belongs to one wire, or to one optional job, behind one
 * pointer of struct bms_driver each (NULL where the protocol has none): a
 * driver of a serial protocol without MOSFET control or settings writes
 * reads none of them (settings writes: struct bms_writer, bms/setwrite.h). */

/* Bluetooth LE (ble:// ports and ESPHome proxies; struct bms_driver.ble):
 * NULL where the protocol is not used over BLE (a ble:// port is then a
 * configuration error).  Either gatt or company is set. */
/* The secret a protocol's BMS asks for (struct bms_ble.pin; the pack's
 * `pin =`): its form, checked by the configuration (the value never
 * repeated in a message), and what is sent without one. */
struct bms_ble_pin {
	const char *name;   /* what the family's app calls it: "PIN", "password" */
	uint8_t min_len, max_len; /* its characters (max_len <= BMS_PIN_MAX) */
	bool digits;        /* decimal digits only */
	uint32_t max_value; /* digits: its value at most this (0: any of max_len digits) */
	const char *dflt;   /* sent where the pack has no pin (the maker's default;
	                     * NULL: no exchange without one) */
	bool silent;        /* the BMS never acknowledges it: a poll whose every try after
	                     * it went unanswered on a connection that carries nothing is
	                     * its refusal (ANT) */
};
/* Does pin (NUL-terminated) have the form p says?  false with why (never
 * the value) where it does not (bms/base/pin.c). */
bool bms_pin_ok(const struct bms_ble_pin *p, const char *pin, char *why, size_t cap);
/* The PIN a poll sends: the pack's, else the protocol's default (NULL:
 * none to send). */
const char *bms_pin_of(const struct bms_poll *poll, const struct bms_ble_pin *p);

struct bms_ble {
	/* The GATT layouts of a connected BMS, tried in order (an entry with a
	 * NULL service ends the list); the transport writes each request to
	 * `write` (Write Command when the characteristic allows it) and hands
	 * every notification of `notify` (and of `notify2`) to the framer as
	 * bytes; the poll learns which layout (poll->ble_layout). */
	const struct bms_gatt *gatt;
	/* The BMS is not connected to at all: its advertisements'
	 * manufacturer data of this company id are handed to the framer as
	 * records (BMS_ADV_MAGIC0 ...), for a listen_only driver. */
	uint16_t company;
	/* The protocol exists only over BLE (a serial or tcp:// port is a
	 * configuration error; BMS_BLE_ONLY gives the link members it takes). */
	bool only;
	/* What `bmsgw --ble-scan` recognises a device of this protocol by
	 * (struct bms_ble_hint, the list ended by a NULL why); NULL = nothing.
	 * The scan tries every driver's hints in rank order. */
	const struct bms_ble_hint *hints;
	/* The unlock of a connected BMS (struct bms_ble_auth); NULL: none. */
	const struct bms_ble_auth *auth;
	/* Requests are written with response (WriteValue type "request") even
	 * where the write characteristic takes a Write Command too. */
	bool write_request;
	/* The largest write the BMS takes (bytes); a longer request goes out
	 * in pieces of this size, in order, each written only once the write
	 * before it completed (BlueZ answered its WriteValue, the ESPHome
	 * proxy its write), and a piece that fails drops the rest of the
	 * request (the poll's timeout retries).  0 = each request in one write
	 * (of the ATT MTU less 3 for a Write Command).  Creabest VB: 20. */
	uint16_t write_piece;
	/* The secret its BMS asks for (struct bms_ble_pin: the pack's `pin =`,
	 * taken over Bluetooth LE only); NULL: it takes none (a pin is a
	 * configuration error). */
	const struct bms_ble_pin *pin;
};

/* CAN (a `port` that is a CAN interface or an slcan adapter; struct
 * bms_driver.can): NULL where the protocol is not spoken on a CAN bus.  A
 * CAN protocol reads nothing but the frames the CAN port hands it as
 * records (BMS_CAN_MAGIC0 ...), and only a CAN port may carry it.  It is
 * listen_only unless its protocol needs a request: then next_request()
 * writes records too, each one frame to send. */
struct bms_can {
	uint32_t bitrate; /* the bus's bit rate */
	/* id / mask: the standard identifiers it reads, as a SocketCAN filter
	 * (a frame's identifier f passes when f & mask == id & mask); ext_id / ext_mask
	 * likewise the extended (29-bit) ones, where ext_mask is not 0 (0: it
	 * reads no extended frame); other frames are not read. */
	uint16_t id, mask;
	uint32_t ext_id, ext_mask;
};

/* MOSFET control (struct bms_driver.control): NULL where the protocol has
 * none that is documented well enough (`control = true` is then a
 * configuration error).  Pure, like the decoders. */
struct bms_control_ops {
	/* The next frame of command c into out (> 0 = its length), 0 when
	 * every frame was acknowledged, or a negative BMS_E_*. */
	int (*request)(struct bms_control *c, uint8_t *out, size_t cap);
	/* Judge one frame scan() found while a control frame is outstanding:
	 * BMS_OK = acknowledged (c->step moves on), BMS_E_REFUSED = the BMS
	 * said no, BMS_E_UNEXPECTED = not the answer (ignored), another
	 * negative = a bad answer. */
	int (*ack)(struct bms_control *c, const uint8_t *frame, size_t len);
	/* No acknowledgement is known for this protocol (jk): the gateway sends
	 * the frames one after the other and judges by the read-back alone. */
	bool unacked;
	/* The least silence before a control frame where it is longer than
	 * the driver's gap_floor (0 = gap_floor). */
	double gap_floor;
};

struct bms_listen; /* bms/bus.h */
struct bms_mb_proto; /* bms/mbmaster.h */
struct bms_driver {
	const char *name;        /* protocol key in the configuration, e.g. "daly" */
	const char *description; /* one line for --help / --check */
	const char *vendor;      /* maker of the BMSs that speak it (MQTT discovery) */
	uint16_t protocol_id;    /* value of the protocol-id register */
	uint32_t provides;       /* BMS_HAS_* bits a poll of this protocol can give
	                          * (power: derived from V x I where the BMS has none);
	                          * what MQTT discovery announces */
	/* The most cells a poll lists (and `cells = N` may force): 0 =
	 * BMS_LV_MAX_CELLS, a low-voltage protocol's; a high-voltage pack's
	 * protocol up to BMS_MAX_CELLS (bms_max_cells()). */
	uint8_t max_cells;
	uint64_t settings;       /* bit k: the BMS setting k (enum bms_set_key,
	                          * bms/settings.h) its settings read can give: the
	                          * diagnostic entities MQTT discovery announces */
	int default_baud;
	/* Silence before a request.  The gateway waits 3.5 character times at
	 * the pack's baud rate (10 bits a character, Modbus RTU's inter-frame
	 * rule), or gap_floor when that is longer: the least silence a BMS or
	 * its adapters are documented to need before a request (0 = none known;
	 * the driver cites its source); before a MOSFET control frame,
	 * control->gap_floor where it is longer.  The `gap` key of the
	 * configuration replaces the derived value (a write keeps its floor). */
	double gap_floor;
	double interbyte;        /* seconds of silence that abandon a partial frame */
	uint8_t min_address;     /* lowest valid `address`, also its default (0 or 1) */
	uint8_t max_address;     /* highest valid `address` (0 = the protocol has none) */
	/* The default `address` where it is not min_address (0 = min_address),
	 * e.g. Renogy's 48 (0x30). */
	uint8_t default_address;
	/* Answers may come from another address than the one asked, and the
	 * configuration may say `address_any` (struct bms_poll.address_any). */
	bool any_address;
	/* Packs one master answers for (struct bms_poll.position): at most
	 * this many (0 = the protocol has no such answers). */
	uint8_t group;
	/* Optional: false for an address inside min..max that the protocol cannot
	 * use (e.g. Pylontech's module numbers have gaps); checked by conf/. */
	bool (*address_ok)(uint8_t address);
	double default_timeout;  /* default `timeout` in seconds (0 = 1.0) */
	/* The BMS talks without being asked (e.g. VE.Direct text): the poller
	 * sends nothing and does not drain; a poll waits for frames until
	 * handle() returns BMS_OK, then calls finish().  next_request may be
	 * NULL. */
	bool listen_only;
	/* Each frame is one whole message a node published (mqtt-json): a
	 * frame handle() rejects is counted as a bad message (the bus's
	 * bad_messages) and logged once, then once more when one is good again. */
	bool messages;

	/* Write the request of the current step into out (cap bytes).
	 * Returns its length (> 0), 0 when the poll is complete, or a negative
	 * BMS_E_* code.  May be called more than once per step (the gateway
	 * asks right after an answer whether the poll is complete): the same
	 * step gives the same result. */
	int (*next_request)(struct bms_poll *poll, uint8_t *out, size_t cap);
	/* Look at the start of buf: a complete valid frame, garbage to skip, or
	 * need more bytes.  Sets *n for FRAME and SKIP.  `poll` is read only
	 * (it tells e.g. which request is outstanding). */
	enum bms_scan (*scan)(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n);
	/* Decode one complete frame into poll->snap.  BMS_OK advances to the
	 * next step, BMS_MORE waits for further frames of the same request,
	 * BMS_E_UNEXPECTED means ignore this frame and keep waiting, any other
	 * negative value fails this try. */
	int (*handle)(struct bms_poll *poll, const uint8_t *frame, size_t len);
	/* A step timed out.  Return true if the step is complete anyway (e.g. a
	 * multi-frame reply that sends fewer frames than announced but all the
	 * ones needed arrived), false to retry/fail.  May be NULL. */
	bool (*timeout)(struct bms_poll *poll);
	/* Called once after the last step: validate the whole sample, fill
	 * derived fields.  0 or BMS_E_INVALID.  May be NULL. */
	int (*finish)(struct bms_poll *poll);

	/* MOSFET control (struct bms_control_ops); NULL: none. */
	const struct bms_control_ops *control;
	/* Writes of the BMS's own settings (`bms_settings`, bms/setwrite.h):
	 * the family's fields, the keys it may write per link and its pure
	 * steps; NULL where it writes none. */
	const struct bms_writer *writer;

	/* Optional: called once the request of the current step is written,
	 * before anything answers it.  True: that write completes the step,
	 * nothing answers it (an acknowledgement the BMS takes in silence:
	 * d-powercore's of an answer's last page, or its unlock; the driver
	 * has moved poll->step on), and the gateway goes on to the next step at
	 * once; false: the answer is waited for as usual.  NULL: every request
	 * is answered. */
	bool (*sent)(struct bms_poll *poll);
	/* What arrived before a request is kept for it, never drained as stale
	 * (nor dropped between steps): the protocol acknowledges an answer
	 * piece by piece, and the next piece may be there before the
	 * acknowledgement of the last one is written (d-powercore); it is
	 * framed at once after the request.  The driver tells a stale piece
	 * from its answer's. */
	bool keep_rx;
	/* Optional: true when the current step of the poll sends nothing and
	 * waits for frames the BMS sends by itself (JK02 streams its cell
	 * records once asked); the gateway then waits `timeout` for them as
	 * for a listen_only driver, and a timeout counts as a failed try of the
	 * step (poll->attempt > 0 on the retry, so the driver may ask again).
	 * next_request() is not called for a step that listens; handle()
	 * returning BMS_OK ends the step as usual. */
	bool (*listens)(const struct bms_poll *poll);
	/* Listen mode (`listen = true`: another master polls the bus and the
	 * gateway only hears it; bms/bus.h); NULL where the protocol's
	 * answers cannot be paired with requests heard on a bus. */
	const struct bms_listen *listen;
	/* Identification (`bmsgw --detect`): its read-only probe; NULL = not
	 * tried (a Bluetooth-only or CAN protocol). */
	const struct bms_probe *probe;
	/* The link-specific parts, each NULL where the protocol does not use
	 * that link: Bluetooth LE (struct bms_ble), a CAN bus (struct bms_can),
	 * and a Modbus RTU register-table protocol's table (bms/mbmaster.h:
	 * the reads a poll makes and nothing else; `bmsgw --list-protocols
	 * --json` lists them, the fuzz harness holds every request to them). */
	const struct bms_ble *ble;
	const struct bms_can *can;
	const struct bms_mb_proto *mb;
	/* Optional, for a driver with BMS_HAS_BALANCER: the stable lower-case
	 * name of its operation status code (struct bms_snapshot.bal_status),
	 * e.g. "balancing"; NULL for a code it does not know. */
	const char *(*balancer_state)(uint8_t status);
};

/* The most cells a poll of d lists (struct bms_driver.max_cells). */
static inline unsigned bms_max_cells(const struct bms_driver *d)
{
	return d->max_cells ? d->max_cells : BMS_LV_MAX_CELLS;
}

/* Is the protocol spoken over Bluetooth LE alone (ble->only)? */
static inline bool bms_ble_only(const struct bms_driver *d)
{
	return d->ble && d->ble->only;
}

/* The link members every Bluetooth-only driver shares (its ble->only): no bus
 * address, no baud rate and no gap before a request over BLE (the
 * simulator's TCP bridge paces at default_baud). */
#define BMS_BLE_ONLY .default_baud = 115200, .gap_floor = 0, .min_address = 0, .max_address = 0
/* ... with the timing most Bluetooth BMSs have: the notifications of one
 * answer come within milliseconds (0.3 s between bytes ends it), the BMS
 * answers within two seconds. */
#define BMS_BLE_LINK BMS_BLE_ONLY, .interbyte = 0.3, .default_timeout = 2.0
/* The link members of a CAN driver (a bus at its can->bitrate, read through
 * SocketCAN or an slcan adapter): default_baud is the serial line of an
 * slcan adapter (a USB CDC one ignores it); no gap, no bytes between
 * which a frame could be cut; the addresses lo .. hi. */
#define BMS_CAN_LINK(lo, hi) \
	.default_baud = 115200, .gap_floor = 0, .interbyte = 0, .min_address = (lo), .max_address = (hi)

/* All drivers, NULL-terminated. */
extern const struct bms_driver *const bms_drivers[];
const struct bms_driver *bms_find(const char *name);

/* Start a new poll: zero the progress, the driver's state (priv) and the
 * snapshot, keep poll->persist and poll->kept. */
void bms_poll_begin(struct bms_poll *poll, uint8_t address, uint8_t cells_forced, bool invert_current);

/* Must this poll read the slow values `want` (BMS_HAS_* bits of struct
 * bms_kept)?  When the gateway asks (refresh) or some are not kept yet. */
bool bms_slow_due(const struct bms_poll *poll, uint32_t want);

/* Are the identity commands due in this poll?  While the identity is not
 * known, and on the first poll of a (re)opened link (another BMS may be
 * there now). */
bool bms_ident_due(const struct bms_poll *poll);
/* An identity command was refused (an error answer: counted in
 * poll->refusals) or not answered: the poll goes on without it; what the
 * identity commands before it gave is the identity (BMS_IDENT_HAVE), and
 * if they gave nothing it is not asked again (BMS_IDENT_NONE).  The first
 * identity answer of a poll clears struct bms_kept.ident. */
void bms_ident_missing(struct bms_poll *poll, bool refused);

/* The highest current limit a BMS may report (A): the gateway serves them
 * in 0.1 A as s16.  A driver takes a higher one as no limit at all. */
#define BMS_MAX_LIMIT_A 3276.7f

/* Current limits the BMS reports (A, >= 0) into the poll's snapshot
 * (BMS_HAS_CUR_LIMITS); with keep, also into poll->kept for the polls that
 * do not read them. */
void bms_set_cur_limits(struct bms_poll *poll, float ccl_a, float dcl_a, bool keep);
/* A poll that did not read the current limits: the kept ones, if any, into
 * its snapshot. */
void bms_use_kept_limits(struct bms_poll *poll);

/* The sample check every pack with cells shares (finish()): voltage and at
 * least one cell present, and a voltage above 0 unless allow_zero_volts
 * (all-zero answers are not data); balance bits beyond the cell count are
 * cleared.  BMS_OK or BMS_E_INVALID. */
int bms_check_pack(struct bms_snapshot *s, bool allow_zero_volts);
/* The finish() of a driver whose sample is whole with a voltage above 0 and
 * its cells (bms_check_pack(&poll->snap, false)): `.finish =
 * bms_finish_pack` in its table, where each wrote that wrapper again. */
int bms_finish_pack(struct bms_poll *poll);
/* next_request() of a request that is ready bytes: req[0..n) into
 * out[0..cap); n, or BMS_E_NOSPACE. */
int bms_request_copy(uint8_t *out, size_t cap, const void *req, size_t n);
/* finish() of a poll whose steps end at `done`: BMS_E_INVALID when the poll
 * did not get there, else bms_check_pack(&poll->snap, false). */
int bms_finish_at(struct bms_poll *poll, int done);

/* Fill derived fields common to every brand: power = V*I when the BMS did
 * not give it.  Called by the gateway after finish(). */
void bms_snapshot_derive(struct bms_snapshot *s);
/* The state (charging / discharging / idle) from the sign of the current
 * where it is at least current_threshold A; a BMS's own state is kept while
 * the current is under it.  So the state is never "idle" while a current
 * flows, nor "charging" while the pack discharges, whatever the BMS says
 * (most BMSs say nothing: state 0).  Called by the gateway after
 * bms_snapshot_derive(). */
void bms_snapshot_state(struct bms_snapshot *s, float current_threshold);
/* The threshold the gateway uses where nothing else is configured (A). */
#define BMS_STATE_THRESHOLD_A 0.1f

/* ---- plausibility (bms/base/plausible.c) ----
 * The one table every snapshot passes before it may replace a pack's
 * cache: cells 0.5..5.0 V (0 = absent), sensors -50..+150 degC, SOC and SOH
 * 0..100 %, currents within +-3000 A, the BMS's limits 0..3000 A and
 * 0..1000 V, capacities 0..10,000 Ah, the pack 0..1000 V and within 10 %
 * of its cells' sum where they are all given, cycles 0..100,000; the
 * BMS's own highest and lowest cell as a cell (the lowest not above the
 * highest), its highest and lowest temperature as a sensor. */
#define BMS_PLAUSIBLE_MIN_CELL_MV 500
#define BMS_PLAUSIBLE_MAX_CELL_MV 5000
#define BMS_PLAUSIBLE_MIN_C (-50.0)
#define BMS_PLAUSIBLE_MAX_C 150.0
#define BMS_PLAUSIBLE_MAX_A 3000.0
#define BMS_PLAUSIBLE_MAX_V 1000.0
#define BMS_PLAUSIBLE_MAX_AH 10000.0
/* The first value out of its row: which, what it was, its bounds. */
struct bms_implausible {
	char field[40];          /* "cell 3", "temperature 2", "voltage" ... */
	char unit[8];
	double value, lo, hi;
};
/* True if every value s gives is within its row; else false with *why
 * (may be NULL) naming the first that is not.  A sensor that reads NaN is
 * absent, not implausible (a slot bms_sensor_faults() emptied). */
bool bms_plausible(const struct bms_snapshot *s, struct bms_implausible *why);

/* ---- sensor faults (bms/base/plausible.c) ----
 * A temperature outside -50..+150 degC is no reading but a sensor that is
 * not there: a BMS fills the slot of a sensor it lacks, or lost, with a
 * placeholder (EG4-LL 0xC8 = -56 degC, 0x7FFF, a 0 K reading).  It costs
 * the poll nothing: the slot is made absent and the pack flagged with a
 * sensor fault, while a cell, the pack voltage or the current out of its
 * row still rejects the poll whole. */
#define BMS_FAULT_MOS (1u << 16)   /* the MOSFET sensor (bits 0-15: temp_c[0..15]) */
#define BMS_FAULT_ALARM (1u << 31) /* BMS_AL_SENSOR set by bms_sensor_faults() alone */
/* Each pack sensor of s (temp_c[0..ntemps), NaN = absent already) and the
 * MOSFET sensor that reads outside BMS_PLAUSIBLE_MIN_C..MAX_C is made
 * absent (temp_c[i] = NaN; BMS_HAS_MOS_TEMP cleared), and s flagged: its
 * bits in s->sensor_faults, BMS_AL_SENSOR in s->alarms (BMS_HAS_ALARMS set;
 * BMS_FAULT_ALARM when the BMS had not raised it).  A MOSFET sensor that
 * reads NaN is absent, not flagged.  was[] (BMS_MAX_TEMPS + 1 entries, may
 * be NULL) gets what each flagged sensor read, was[BMS_MAX_TEMPS] the
 * MOSFET's.  Returns the bits flagged (0: none; BMS_FAULT_ALARM aside). */
unsigned bms_sensor_faults(struct bms_snapshot *s, float *was);
/* The alarm bits the BMS itself raised: s->alarms without the
 * BMS_AL_SENSOR of BMS_FAULT_ALARM (the gateway's own flag, which stops
 * no current: a pack's limits follow the sensors that read). */
static inline uint32_t bms_own_alarms(const struct bms_snapshot *s)
{
	return (s->sensor_faults & BMS_FAULT_ALARM) ? s->alarms & ~(uint32_t)BMS_AL_SENSOR : s->alarms;
}
/* "cell 3 = 65.535 V (plausible: 0.5..5)" */
void bms_implausible_text(const struct bms_implausible *why, char *buf, size_t cap);
/* ---- the cells the pack voltage makes (bms/base/plausible.c) ----
 * A cell answer may have more slots than the pack has cells and fill a
 * slot after the last cell with a value (CBT Power's 4S pack sends a fifth
 * slot of 2317 mV beside its 13.4 V).  Of the list mv[0..n), the count k
 * whose first k cells sum nearest to the BMS's own pack voltage among the
 * counts within the plausibility table's 10 % of it (ties: the more
 * cells).  A list that no count fits, one with an empty slot (0) or a
 * voltage that is not above 0 keeps n: the table then judges the list
 * whole (and refuses a list that is not the pack's). */
unsigned bms_cells_for_voltage(const uint16_t *mv, unsigned n, float volts);

/* Cell statistics of a snapshot: over its cell list s->cell_mv[0..ncells)
 * where it has one (from BMS_CELLS_LIST; the BMS's own highest and lowest
 * cell beside it, where it gives them, widen the extremes: a list may be
 * one string of several in parallel, and a low cell is never hidden; the
 * index is then 0, avg_mv stays the list's), else the BMS's own highest and
 * lowest cell (BMS_HAS_CELL_EXT: from BMS_CELLS_EXT, avg_mv 0: not known,
 * delta_mv their difference, an index 0 where the BMS gave no number),
 * else all 0 (from BMS_CELLS_NONE). */
enum { BMS_CELLS_NONE = 0, BMS_CELLS_LIST, BMS_CELLS_EXT };
struct bms_cell_stats {
	uint16_t min_mv, max_mv, avg_mv, delta_mv;
	uint8_t min_idx, max_idx; /* 1-based; 0 = not known */
	uint8_t from;             /* BMS_CELLS_* */
};
void bms_cell_stats(const struct bms_snapshot *s, struct bms_cell_stats *out);
/* The BMS's highest and lowest cell (mV, their 1-based numbers or 0) into
 * s (BMS_HAS_CELL_EXT), where both are given (not 0); the plausibility
 * table judges them.  bms_set_temp_ext(): its highest and lowest
 * temperature, each taken where it is a reading (-50..150 degC; else NaN),
 * BMS_HAS_TEMP_EXT where one is. */
void bms_set_cell_ext(struct bms_snapshot *s, unsigned max_mv, unsigned max_cell, unsigned min_mv, unsigned min_cell);
void bms_set_temp_ext(struct bms_snapshot *s, float tmax_c, float tmin_c);

/* CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF) of p[0..n). */
uint16_t bms_crc16_modbus(const uint8_t *p, size_t n);
/* The last two bytes of frame[0..n) (n >= 2) are the CRC-16/MODBUS of the
 * rest, low byte first. */
bool bms_crc16_modbus_ok(const uint8_t *frame, size_t n);

/* One alarm bit of a brand: bit `bit` (0 = LSB) of raw word `word` raises `al`. */
struct bms_alarm_rule {
	uint8_t word, bit;
	uint32_t al;
};
/* The alarms the set bits of words[0..nwords) raise, by the table map[0..n). */
uint32_t bms_alarm_map(const uint16_t *words, size_t nwords, const struct bms_alarm_rule *map, size_t n);

/* One CAN frame as a record (BMS_CAN_MAGIC0 ...) into out[0..cap): its
 * length, or 0 when the frame cannot be one (dlc > 8, an id out of its
 * range) or cap is too small. */
size_t bms_can_record(uint8_t *out, size_t cap, uint32_t id, bool ext, bool rtr, uint8_t dlc,
		      const uint8_t *data);
/* ---- CAN records (bms/base/canrec.c), for the CAN drivers ---- */
/* One record's fields; data zero beyond dlc (and all zero for a remote frame). */
struct bms_can_msg {
	uint32_t id;
	bool ext, rtr;
	uint8_t dlc;
	uint8_t data[BMS_CAN_MAX_DLC];
};
/* A CAN driver's scan(): a whole record at buf[0], bytes to skip up to the
 * next magic, or need more. */
enum bms_scan bms_can_scan(const uint8_t *buf, size_t len, size_t *n);
/* One record frame[0..len) (what bms_can_scan() found) into *m: BMS_OK, or
 * BMS_E_SHORT for a header the transport never writes or a length that is
 * not the DLC's. */
int bms_can_parse(const uint8_t *frame, size_t len, struct bms_can_msg *m);
/* A listen-only CAN driver's poll (jk-can, pylon-hv-can ...): bit k of
 * poll->seen = a frame of its slot k (k < 30) was taken, BMS_CAN_REFUSED =
 * one of its frames was refused (the poll is not used); poll->persist =
 * BMS_CAN_LEARNED | the slots the BMS was heard sending, which only grows
 * (a frame missed once would end every later poll before it).
 * bms_can_took(): handle()'s result for slot k's frame, decoded with rc:
 * rc if it is an error (the poll marked refused), BMS_OK once `need` and
 * every slot learned arrived, else BMS_MORE.  bms_can_usable(): the poll's
 * frames may be used (`need` arrived, none refused: timeout()'s answer).
 * bms_can_learn(): finish()'s start: BMS_E_INVALID for a poll that is not
 * usable, else the slots `all` of it are learned and BMS_OK. */
#define BMS_CAN_LEARNED 0x80000000u
#define BMS_CAN_REFUSED 0x40000000u
int bms_can_took(struct bms_poll *poll, int slot, int rc, uint32_t need);
/* bms_can_took() of a frame m of slot k: BMS_E_SHORT when its DLC is under
 * min_dlc, else decode()'s result on its 8 data bytes (0 beyond the DLC). */
int bms_can_take(struct bms_poll *poll, int slot, const struct bms_can_msg *m, uint8_t min_dlc,
		 int (*decode)(struct bms_poll *poll, int slot, const uint8_t *data), uint32_t need);
bool bms_can_usable(const struct bms_poll *poll, uint32_t need);
int bms_can_learn(struct bms_poll *poll, uint32_t need, uint32_t all);
/* ---- probes (bms/base/probe.c) ---- */
/* The address a probe tries first: the probe's first, else the driver's default. */
uint8_t bms_probe_address(const struct bms_driver *d);
/* A fresh poll for try `attempt` of d's probe at `address`. */
void bms_probe_begin(const struct bms_driver *d, struct bms_poll *poll, uint8_t address, int attempt);
/* The probe's request for a poll from bms_probe_begin(): its length (> 0)
 * or a BMS_E_* code. */
int bms_probe_request(const struct bms_driver *d, struct bms_poll *poll, uint8_t *out, size_t cap);
/* Judge the bytes that came back (echoes of the request already removed
 * by the caller, or skipped by the driver's framer).  Stateless: call it
 * again with more bytes. */
void bms_probe_judge(const struct bms_driver *d, const struct bms_poll *poll, const uint8_t *buf, size_t len,
		     struct bms_probe_result *r);
/* The default judge (a probe's own judge may start with it): the driver's
 * scan() and handle() on a copy of the poll until a frame completes the
 * step, then the probe's check (or the default: the measurements, else the
 * identity). */
void bms_probe_judge_frames(const struct bms_driver *d, const struct bms_poll *poll, const uint8_t *buf,
			    size_t len, struct bms_probe_result *r);
/* Is p[0..n) a text field: printable ASCII up to the first NUL (or 0xFF),
 * then nothing but padding (NUL, 0xFF, blanks), at least 3 characters with
 * letters or digits among them? */
bool bms_probe_raw_text_ok(const uint8_t *p, size_t n);
/* Is the snapshot a battery's?  Cells 1..32 at 1.0..4.7 V each, at most
 * 1.5 V apart; a pack voltage of 2..160 V that agrees with the cells (or
 * with the cell count); a current under 3000 A.  A voltage or cells must
 * be there.  what: "16 cells, 52.6 V, SOC 60 %", or why not. */
bool bms_probe_plausible(const struct bms_snapshot *s, char *what, size_t cap);
/* The same for a high-voltage pack (a CAN family with more than 32 cells,
 * struct bms_driver.max_cells): 1..192 cells, a pack voltage of 50..1000
 * V. */
bool bms_probe_plausible_hv(const struct bms_snapshot *s, char *what, size_t cap);
/* A matching answer's cells and SOC into r (has_cells, cell_min_v /
 * cell_max_v from the cell list or the BMS's own highest and lowest;
 * has_soc, soc), for the chemistry --detect proposes. */
void bms_probe_cells_read(const struct bms_snapshot *s, struct bms_probe_result *r);
/* Is text (NUL-terminated) an identity: at least 3 characters, letters or
 * digits among them, nothing but printable ASCII? */
bool bms_probe_text_ok(const char *text);

/* Helpers for drivers: numbers on the wire, big- and little-endian. */
static inline uint16_t bms_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t bms_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint16_t bms_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t bms_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
/* The same two bytes as a signed (two's complement) number. */
static inline int16_t bms_s16(uint16_t v) { return (int16_t)(v >= 0x8000u ? (int32_t)v - 0x10000 : (int32_t)v); }
static inline int16_t bms_les16(const uint8_t *p) { return bms_s16(bms_le16(p)); }
static inline int16_t bms_bes16(const uint8_t *p) { return bms_s16(bms_be16(p)); }
/* ---- ASCII hex digits (bms/base/hex.c): the ASCII protocols', the CAN
 * adapters' lines, the configuration's addresses and capture files. */
/* The value of a hex digit (either case), -1 if c is none. */
int bms_hexval(unsigned char c);
/* The n hex digits at p (n <= 8) into *v; false (and *v untouched) when
 * one is not a hex digit. */
bool bms_hexn(const uint8_t *p, size_t n, uint32_t *v);
/* v as n upper-case hex digits at p (the lowest n * 4 bits, no NUL). */
void bms_put_hex(uint8_t *p, uint32_t v, size_t n);
/* The sum of the bytes p[0..n): a checksum is its low 8 or 16 bits, or a
 * complement of them. */
uint32_t bms_sum(const uint8_t *p, size_t n);

#endif
