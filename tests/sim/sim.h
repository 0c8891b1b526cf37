/* SPDX-License-Identifier: MIT */
/* tests/sim/sim.h - bmsgw-sim: BMS simulator, shared declarations.
 *
 * The simulator is split in these parts:
 *   sim.c       main, command line, transports (TCP, pty), pacing, control port
 *   sim_pack.c  the pack model: state, slow movement, `set`, JSON of the state
 *   sim_string.c packs in series: a string's members share one current
 *   sim_model.c the battery model a pack may run instead (`model=lfp`), with
 *               its truth; sim_trace.c writes a trace of it (--trace)
 *   sim_<p>.c   one protocol responder per file (sim_daly.c, ...)
 *
 * A protocol responder is one const struct sim_proto.  To add a protocol:
 * write tests/sim/sim_<sym>.c defining `const struct sim_proto sim_proto_<sym>`
 * for the driver X(sym) of bms/drivers.h: the simulator's table is made from
 * that one list.  Responders encode their frames themselves; they must not use
 * bms/'s code (that is the code under test): the list of names is all the
 * simulator takes from the rest of the project.
 */
#ifndef BMSGW_SIM_H
#define BMSGW_SIM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bms/drivers.h" /* BMS_DRIVER_LIST only */
#include "sim_model.h"

#define SIM_MAX_PACKS 32
#define SIM_MAX_CELLS 192 /* a high-voltage pack (bms.h: BMS_MAX_CELLS) */
#define SIM_LV_CELLS 48  /* Daly: 16 frames x 3 cells */
#define SIM_MAX_TEMPS 16
#define SIM_MAX_ALARM 8  /* raw alarm bytes kept per pack */

/* Fault injection, per pack (control command `fault ADDR KIND [COUNT]`). */
enum sim_fault {
	SIM_F_NONE = 0,
	SIM_F_SILENT,   /* no answer */
	SIM_F_BADSUM,   /* every frame of the answer has a wrong checksum */
	SIM_F_TRUNCATE, /* the first frame is cut after 9 bytes, the rest follows */
	SIM_F_GARBAGE,  /* 1..8 random bytes before the answer */
	SIM_F_DROP,     /* TCP: close the client connection instead of answering */
	SIM_F_SLOW,     /* answer paced at 1/10 of the baud */
	SIM_F_ECHO,     /* echo the request back (sleeping Daly), then answer */
	SIM_F_SPLIT,    /* TCP: each frame written in 1..3 byte chunks, small gaps */
	SIM_F_MERGE,    /* TCP: all frames of an answer in one write */
	SIM_F_COUNT
};
const char *sim_fault_name(enum sim_fault f);
int sim_fault_parse(const char *s); /* -1 if unknown */

/* How a pack answers MOSFET writes (control command `control ADDR MODE`). */
enum sim_ctl {
	SIM_CTL_NORMAL = 0, /* switch, acknowledge */
	SIM_CTL_REFUSE,     /* the brand's negative acknowledgement; nothing changes */
	SIM_CTL_NOSWITCH,   /* acknowledge and take the setting, but the MOSFET stays
	                     * as it is (a protection holds it) */
	SIM_CTL_SILENT,     /* no answer to writes; nothing changes */
	SIM_CTL_PROTECT,    /* a protection holds the MOSFETs in `protect` off, with its
	                     * alarm bit in the status; writes are taken and acknowledged */
	SIM_CTL_NOACK,      /* switch as normal, but the acknowledgement is lost */
	SIM_CTL_COUNT
};
/* The MOSFETs, as bits (struct sim_pack.protect, sim_pack_held()). */
#define SIM_FET_CHG 1u
#define SIM_FET_DSG 2u
const char *sim_ctl_name(enum sim_ctl m);
int sim_ctl_parse(const char *s); /* -1 if unknown */

/* One simulated battery pack.  The "true" state; what goes on the wire is the
 * protocol's quantised view of it (struct sim_view). */
struct sim_pack {
	int address;            /* bus address / board number */
	int ncells, ntemps;
	double soc;             /* %, 0..100, continuous */
	double current;         /* A, + = charging */
	double capacity_ah;     /* rated capacity */
	unsigned cycles;
	double soh;             /* %, state of health */
	int mos_temp_c;         /* MOSFET / board temperature */
	double ccl_a, dcl_a;    /* charge / discharge current limit the BMS reports, A
	                         * (`ccl`, `dcl`; a switch setting off reads 0 A) */
	double cvl_v, dvl_v;    /* charge / discharge voltage limit, V (`cvl`, `dvl`) */
	int cell_offset_mv[SIM_MAX_CELLS]; /* per-cell offset from the SOC curve */
	int cell_pin_mv[SIM_MAX_CELLS];    /* >= 0: cell pinned to this value (`set ... cell`) */
	double cell_r_mohm[SIM_MAX_CELLS]; /* each cell's resistance (`r_mohm`, `high_r`): its voltage
	                                    * is its open-circuit one + current x this */
	int temp_c[SIM_MAX_TEMPS];
	int chg_mos, dsg_mos;   /* 1 = on: the actual MOSFET state */
	int chg_set, dsg_set;   /* the switch settings (what the last write asked) */
	enum sim_ctl ctl;       /* how MOSFET writes are answered */
	unsigned protect;       /* SIM_FET_*: held off by a protection (ctl protect) */
	unsigned long writes;   /* MOSFET writes received (any outcome, faults too) */
	unsigned long writes_applied; /* ... that changed a switch setting */
	/* the BMS's own settings a gateway may write (bms_settings): they follow
	 * the control mode as MOSFET writes do (refuse: the brand's refusal,
	 * silent: no answer, noack: applied and the answer lost, noswitch:
	 * acknowledged and not applied) */
	uint16_t eeprom[64];    /* jbd: its EEPROM registers 0x00..0x3F (sim_jbd.c) */
	int eeprom_set;         /* eeprom[] holds its defaults */
	int factory;            /* jbd: in factory mode */
	unsigned long set_writes; /* settings writes received (factory mode and SOC writes too) */
	uint32_t jk_set[64];    /* jk-pb, jk-ble: the settings block's UINT32s a write set, by
	                         * JK02 register (sim_jkrecord.c) ... */
	uint64_t jk_written;    /* ... bit n: register n was written */
	uint16_t d2set[0x50];   /* daly-modbus, dialect=d2: its settings registers 0x80..0xCF
	                         * (sim_daly_modbus.c; d2set[r - 0x80]) */
	int d2set_ready;        /* d2set[] holds its defaults */
	/* a heater the BMS drives (jk-pb, chins-nus): enabled (`heat`, the
	 * setting a gateway may write on jk-pb), its start / stop temperatures
	 * (`heat_start`, `heat_stop`, degC) and the current it draws while on
	 * (`heat_ma`, mA); on while enabled and the lowest sensor is at or
	 * below the start (sim_pack_heater_on()) */
	int heat_en, heat_start_c, heat_stop_c, heat_ma;
	unsigned long set_writes_heat; /* jk-pb: writes of 0x1114 taken */
	uint8_t alarm[SIM_MAX_ALARM]; /* raw brand alarm bytes (Daly 0x98 D0..D7) */
	uint64_t balance;       /* bit n = cell n+1 balancing */
	unsigned life;          /* heartbeat counter, +1 per second while moving */
	/* firmware quirks */
	int full16;             /* Daly: always 16 frames of 0x95 */
	int junk;               /* junk (stale bytes) in unused slots / reserved bytes */
	/* Bluetooth LE variants (pack options) */
	int dialect;            /* daly-modbus: 0 the 0x81 map (wire), 0xD2 the D2 dialect;
	                         * daren: 'K' KS48100 ('>' frames); pylon-can: 0 the V1.2
	                         * set, 13 the V1.3 / Victron-style set; neey (`layout`):
	                         * 0 the v1 frames, 2 SW-2.0.0's v2; abc (`noprot`): 1 =
	                         * C4 is not answered; ant: 'L' the 2019 board, legacy
	                         * frames only; felicity (`bank`): the packs of its
	                         * bank, 0 = 2; tdt: 0x1E = only 0x1E requests
	                         * answered; renogy-pro: 'P' a RNGPRO (current in
	                         * 0.01 A), 0 a RNGRBP / RNGC (0.1 A); ogt (`id`): the
	                         * id of its name SmartBat-A<id>, its key */
	int reply_adr;          /* >= 0: answers carry this address, not the pack's own
	                         * (`reply_adr`, as some Pace packs answer from ADR 0) */
	int refuse;             /* >= 0: a register-table BMS answers reads that start at
	                         * this register with exception 02 (`refuse`: a BMS
	                         * without that block) */
	int nosettings;         /* a register-table BMS ignores reads of its settings
	                         * range (struct sim_mb_slave.settings; `nosettings`:
	                         * firmware that does not know them); ogt refuses its
	                         * design capacity 0x3C (+RD,Err); daly, pylontech,
	                         * ks48, ant and humsienk keep it in `dialect` ('N') */
	int layout24;           /* jk-ble: 1 = JK02_24S (software 10.07), 0 = JK02_32S (11.17) */
	int parallel;           /* ubms-can: strings of modules in parallel (`parallel`; 0 = 1) */
	int parallel_dip;       /* ubms-can: mV the last string's cell 1 reads under the first's (`parallel_dip`) */
	int hv_bad;             /* a high-voltage pack (sim_proto.hv): every frame its family checks
	                         * fails its check (`hvbad`: a CRC, a check byte, a length short) */
	int no_tester;          /* leaf, zoe1, zoe2: no tester asks the LBC (`notester`) */
	uint8_t key[16];        /* victron-ble: the advertisement key (`key=`) */
	/* a PIN its Bluetooth module asks for (`pin=`; jbd, ant, dometic,
	 * smartbms123, saftkiste, lolan): "" = none (the family's default
	 * where it has one) */
	char pin[33];
	int authed;             /* the PIN was taken on this connection (the core clears it) */
	unsigned long pin_tries;    /* PIN exchanges received (any outcome) */
	unsigned long pin_refused;  /* ... of a wrong PIN */
	unsigned long locked_reads; /* reads ignored for want of the PIN */
	/* pylon-can: the slcan adapter on the battery's bus */
	int can_open;           /* its channel: 0 closed, 'O' open, 'L' open listen only */
	int no_listen;          /* it refuses "L" (no listen-only mode: `nolisten`) */
	unsigned long can_heard; /* transmit lines (t T r R) the host wrote to it */
	int can_rate;           /* the digit of its last "Sn" (0: none yet; '5' 250k, '6' 500k) */
	int can_pending;        /* daly-can: the command of a request waiting for its answer (0: none) */
	/* what the pack sends by itself */
	int stream;             /* jk-ble: streams cell records (after 0x96) until the
	                         * connection ends (the core clears it) */
	unsigned counter;       /* record counter / nonce of the last record sent */
	int absent;             /* `pack N absent`: the pack is off the bus, silent */
	/* packs in series (sim_string.c) */
	int string;             /* `string=N`: a member of series string N (1..), 0 = none */
	int apart;              /* `set ADDR apart A`: this member measures a current of
	                         * its own, not its string's (a broken series link) */
	/* fault injection */
	enum sim_fault fault;
	long fault_count;       /* requests left; < 0 = until `fault ADDR none` */
	/* the battery model (model.cfg.on: `model=lfp|nmc`): it moves soc (the
	 * BMS's), current (its sensor's), the cells and temperatures */
	struct sim_model model;
};

/* Optional quantities of struct sim_view (has): what the protocol reports
 * in the answers a gateway polls.  `state` prints null for the others. */
enum {
	SIM_HAS_SOC = 1u << 0,
	SIM_HAS_REMAIN = 1u << 1,
	SIM_HAS_CAPACITY = 1u << 2, /* full / rated capacity */
	SIM_HAS_CYCLES = 1u << 3,
	SIM_HAS_SOH = 1u << 4,
	SIM_HAS_MOS_TEMP = 1u << 5,
	SIM_HAS_MOSFETS = 1u << 6,
	SIM_HAS_CELLS = 1u << 7,
	SIM_HAS_TEMPS = 1u << 8,
	SIM_HAS_ALARMS = 1u << 9,
	SIM_HAS_BALANCE = 1u << 10,
	SIM_HAS_CUR_LIMITS = 1u << 11, /* ccl_a, dcl_a */
	SIM_HAS_VOLT_LIMITS = 1u << 12, /* cvl_v, dvl_v */
	SIM_HAS_BALANCER = 1u << 13, /* an active balancer (neey): no pack current (`state`
	                              * prints it null), bal_current, bal_status and
	                              * cell_res_mohm instead */
	SIM_HAS_BALANCING = 1u << 14, /* balancing, said as a whole */
	SIM_HAS_CELL_EXT = 1u << 15, /* cell_max_mv, cell_min_mv (and their numbers): the
	                              * highest and lowest cell a BMS without a cell list sends */
	SIM_HAS_TEMP_EXT = 1u << 16, /* tmax_c, tmin_c: its highest and lowest temperature */
	SIM_HAS_HEATER = 1u << 17,   /* heater_on, heater_a (NaN: not sent), and the pack's heat_* */
	SIM_HAS_NO_CURRENT = 1u << 18, /* the protocol carries no current (bolt): `state` prints it null */
};

/* The quantised values a protocol puts on the wire for one pack; the control
 * command `state` prints exactly these. */
struct sim_view {
	unsigned has;           /* SIM_HAS_* */
	double soh;             /* % */
	double mos_temp_c;
	int address;
	double voltage;         /* V */
	double current;         /* A, + = charging */
	double soc;             /* % */
	double remaining_ah;
	double capacity_ah;
	unsigned cycles;
	int ncells;
	int cell_mv[SIM_MAX_CELLS];
	int ntemps;
	int temp_c[SIM_MAX_TEMPS];
	int chg_mos, dsg_mos;
	int nalarm;
	uint8_t alarm[SIM_MAX_ALARM];
	uint64_t balance;
	double ccl_a, dcl_a;    /* the current limits as a reader takes them (0 A
	                         * where the protocol says the direction is off) */
	double cvl_v, dvl_v;
	int balancing;          /* SIM_HAS_BALANCING */
	double bal_current;     /* SIM_HAS_BALANCER: A, as the balancer reports it */
	int bal_status;         /* its operation status */
	double cell_res_mohm[SIM_MAX_CELLS];
	int cell_max_mv, cell_min_mv;   /* SIM_HAS_CELL_EXT */
	int cell_max_at, cell_min_at;   /* their numbers, 1-based; 0 = not sent */
	double tmax_c, tmin_c;          /* SIM_HAS_TEMP_EXT */
	int heater_on;                  /* SIM_HAS_HEATER */
	double heater_a;
};

/* Reply being built by a responder: concatenated frames with their bounds. */
#define SIM_REPLY_MAX 8192
#define SIM_REPLY_FRAMES 128 /* an EV pack's broadcast: a Tesla's 36 brick frames and the rest, a FoxESS stack's 36 cell and 18 sensor frames */
struct sim_reply {
	size_t len;
	int nframes;
	size_t frame_end[SIM_REPLY_FRAMES]; /* frame i = [end[i-1], end[i]) */
	uint8_t buf[SIM_REPLY_MAX];
};
/* Append one frame; returns 0, or -1 when the reply is full. */
int sim_reply_add(struct sim_reply *r, const uint8_t *frame, size_t n);

/* Result of sim_proto.scan(). */
enum sim_scan {
	SIM_SCAN_NEED = 0, /* keep reading */
	SIM_SCAN_FRAME,    /* *n = length of a complete, valid request at buf[0] */
	SIM_SCAN_SKIP,     /* *n = stray bytes between requests (not counted) */
	SIM_SCAN_BAD,      /* *n = bytes of a malformed request (counted, no answer) */
};

/* Result of sim_proto.respond(). */
enum sim_resp {
	SIM_RESP_NONE = 0, /* valid request, no answer */
	SIM_RESP_OK,       /* answer in *reply */
	SIM_RESP_BAD,      /* unknown command: counted as a bad request, no answer */
};

struct sim_proto {
	const char *name;        /* --protocol NAME */
	int default_baud;
	int addr_min, addr_max;  /* valid pack addresses */
	int max_cells, max_temps;
	/* Where is the next request in buf[0..len)? */
	enum sim_scan (*scan)(const uint8_t *buf, size_t len, size_t *n);
	/* Which pack address does this complete request go to?  -1 = none. */
	int (*address)(const uint8_t *req, size_t n);
	/* Build the answer of `pack` to the request.  May change the pack
	 * (write commands). */
	enum sim_resp (*respond)(struct sim_pack *pack, const uint8_t *req, size_t n,
	                         struct sim_reply *reply);
	/* The quantised wire view of a pack (for `state`). */
	void (*view)(const struct sim_pack *pack, struct sim_view *v);
	/* Make the checksum of one frame wrong (fault badsum); NULL = flip the
	 * low bit of the last byte. */
	void (*corrupt)(uint8_t *frame, size_t n);
	/* The BMS talks without being asked (VE.Direct text, JK02's stream,
	 * Victron's advertisements): called every emit_ms (0 = once a second)
	 * for every pack to build what it sends by itself, as frames in
	 * *reply; when it sends something, the core applies the pack's fault
	 * to it like to an answer (echo aside).  NULL for protocols that only
	 * answer requests. */
	enum sim_resp (*emit)(struct sim_pack *pack, struct sim_reply *reply);
	int emit_ms;
	/* Is this complete request (addressed to a pack) a MOSFET write, whatever
	 * its value?  The core counts it in the pack's `writes` before any fault
	 * applies, so that a test can tell "nothing was sent".  NULL: the
	 * protocol has no MOSFET write. */
	int (*is_write)(const uint8_t *req, size_t n);
	/* Default BMS response latency, ms from the end of the request on the
	 * wire to the first byte of the answer (uniform in min..max); 0..0 =
	 * no figure published for the brand: SIM_LATENCY_MIN_MS..MAX_MS. */
	int latency_min_ms, latency_max_ms;
	/* The pack option `reply_adr` applies: answers may carry another
	 * address than the one asked (the responder uses sim_pack_reply_adr()). */
	int reply_adr;
	/* A Modbus register-table BMS (sim_mbslave.c): the pack option
	 * `refuse` applies. */
	int mb_slave;
	/* Over Bluetooth LE: the name a device of this BMS advertises (one the
	 * driver's --ble-scan hints know it by), which `state` shows and
	 * test_ble.py's generic case gives its fake device; NULL: the tests
	 * name it themselves. */
	const char *ble_name;
	/* A high-voltage pack read from its own bus (tests/sim/sim_hv.h): the
	 * pack options `hvbad` and `notester` apply; default_cells: its cells
	 * where --pack says none (0: 16). */
	int hv;
	int default_cells;
	/* The host talks to a Lawicel slcan adapter, never to the battery:
	 * no fault applies to what it writes, and `state` shows the adapter
	 * (can_open, can_frames_heard). */
	int slcan;
};
#define SIM_LATENCY_MIN_MS 20
#define SIM_LATENCY_MAX_MS 50

/* One responder per driver of the registry (bms/drivers.h, the one list of
 * protocols): tests/sim/sim_<sym>.c defines sim_proto_<sym>. */
#define SIM_PROTO_DECL_(sym) extern const struct sim_proto sim_proto_##sym;
BMS_DRIVER_LIST(SIM_PROTO_DECL_)
#undef SIM_PROTO_DECL_

/* --replay FILE (sim_replay.c): a responder made from a capture file of
 * `bmsgw --capture` (conf/capfile.h); NULL with why. */
const struct sim_proto *sim_replay_load(const char *path, char *why, size_t cap);
/* The different requests the loaded capture has (0: listen only). */
size_t sim_replay_requests(void);

/* The packs of the simulated bus, in --pack order (a master that answers
 * for all its packs, pace). */
int sim_bus_npacks(void);
struct sim_pack *sim_bus_pack(int i);
/* The address an answer of p carries (its reply_adr if set). */
int sim_pack_reply_adr(const struct sim_pack *p);

/* Deterministic PRNG (xorshift64*), seeded by --seed. */
void sim_seed(uint64_t seed);
uint32_t sim_rand(void);
int sim_rand_range(int lo, int hi); /* lo..hi inclusive */

/* Growable text buffer. */
struct sim_buf {
	char *p;
	size_t len, cap;
};
void sim_buf_printf(struct sim_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_buf_num(struct sim_buf *b, double v, int decimals); /* JSON number, >= 1 decimal */
void sim_buf_free(struct sim_buf *b);

/* --master (sim_master.c): the simulator plays a bus whose master is not
 * bmsgw.  What sim.c gives it: */
int64_t sim_clock_ns(void);  /* CLOCK_MONOTONIC, ns */
int64_t sim_byte_ns(void);   /* one byte on the line: 10 bits at the baud */
/* Put n bytes on the line from now on, after what is already on it, at the
 * baud: the time its last byte is complete. */
int64_t sim_wire_put(const uint8_t *b, size_t n, int64_t now);
/* The answer of pack p (NULL: the pack req is addressed to) to the request
 * req, whose last byte is on the line at `end`: queued the pack's latency
 * after it (own: at `end`, the master's own data), with the pack's fault and,
 * if mangle is not NULL, damaged by it.  The time its last byte is
 * complete, 0 when there is none (no such pack, absent, silent). */
int64_t sim_bus_answer(struct sim_pack *p, const uint8_t *req, size_t n, int64_t end, int own,
                       void (*mangle)(struct sim_reply *r));
/* What sim_master.c gives sim.c. */
/* Set up the master for proto: 0, or -1 with why (a protocol without one). */
int sim_master_setup(const struct sim_proto *proto, char *why, size_t cap);
/* The address the master itself has outside the packs' range (jk-pb: 0,
 * DIP 0), or -1. */
int sim_master_own_address(const struct sim_proto *proto); /* -1 without --master */
void sim_master_run(int64_t now);  /* what is due now */
int64_t sim_master_due(void);      /* when it next has something to do */
/* n bytes from the listener's side: counted; 1 = the master runs and they
 * are a collision (never answered), 0 = the packs may answer them. */
int sim_master_heard(const uint8_t *b, size_t n, int64_t now);
/* Control commands master, garbage, collide: 1 if argv was one. */
int sim_master_ctl(int argc, char **argv, struct sim_buf *out);
/* `stats` members from_listener_bytes, from_listener_hex, collisions,
 * each followed by a comma; and their reset. */
void sim_master_stats_json(struct sim_buf *out);
void sim_master_stats_reset(void);

/* The truth of a pack that runs the battery model, as the members of its
 * `state`: ,"truth":{...} (nothing for another pack). */
void sim_truth_json(struct sim_buf *b, const struct sim_pack *p);

/* Packs in series (sim_string.c): the packs of a string share one current. */
/* After the --pack SPECs: 0, or -1 with why (members given different
 * currents, a string member with the battery model). */
int sim_string_check(struct sim_pack *packs, int n, char *err, size_t errlen);
/* One second passes for every pack of the bus (lone packs: sim_pack_tick). */
void sim_bus_tick(struct sim_pack *packs, int n);
/* Control `set ADDR KEY VALUE` keys of a string member (argv[0] = KEY:
 * `apart A|off`): 1 if it was one (*rc 0, or -1 with err), else 0. */
int sim_string_set(struct sim_pack *packs, int n, struct sim_pack *p, int argc, char **argv, char *err,
                   size_t errlen, int *rc);
/* After a `set` of p's KEY: `current` on a member sets its string's. */
void sim_string_after_set(struct sim_pack *packs, int n, const struct sim_pack *p, const char *key);
/* `state`'s ,"strings":[{"string":N,"members":[ADDR...],"voltage":V,"current":A}...] */
void sim_strings_json(struct sim_buf *b, struct sim_pack *packs, int n, const struct sim_proto *proto);

/* A PIN exchange of pack p with the PIN given (pin[0..n)): counted in
 * pin_tries (and pin_refused); 1 (p->authed set) when it is the pack's
 * (`pin=`, else dflt; NULL dflt: any is taken where the pack has none). */
int sim_pin_try(struct sim_pack *p, const char *pin, size_t n, const char *dflt);
/* May pack p answer a read now: it has no PIN (nor a default one,
 * `dflt`), or took it on this connection?  0 counts a locked read. */
int sim_pin_open(struct sim_pack *p, const char *dflt);

/* d-powercore's pack options (sim_d_powercore.c): unlock=HHHH | none,
 * pages=acked | burst, kept in dialect; 0, or -1 for a bad value. */
int sim_dp_option(struct sim_pack *p, const char *k, const char *v);

/* Pack model (sim_pack.c). */
void sim_pack_init(struct sim_pack *p, int address);
/* Apply a --pack SPEC (key=value,...).  0 or -1 with a message in err. */
int sim_pack_parse(struct sim_pack *p, const char *spec, const struct sim_proto *proto,
                   char *err, size_t errlen);
int sim_pack_cell_mv(const struct sim_pack *p, int i); /* i 0-based, true value */
/* The heater runs: enabled, and the lowest sensor at or below its start. */
int sim_pack_heater_on(const struct sim_pack *p);
void sim_pack_tick(struct sim_pack *p);                /* one second passes */
/* Control `set ADDR KEY VALUE...`: argv[0] = KEY. */
int sim_pack_set(struct sim_pack *p, int argc, char **argv, const struct sim_proto *proto,
                 char *err, size_t errlen);
/* A MOSFET write for pack p: chg / dsg = 0 or 1 to switch, -1 to leave.
 * Applies the pack's control mode; counts it in writes_applied when the
 * settings are taken (the core counts `writes` on receipt). */
enum sim_wr {
	SIM_WR_DONE,     /* acknowledge (the settings changed; the MOSFETs too unless
	                  * noswitch, or held off by protect) */
	SIM_WR_REFUSED,  /* negative acknowledgement, nothing changed */
	SIM_WR_SILENT,   /* no answer (silent: nothing changed; noack: switched) */
};
enum sim_wr sim_pack_write(struct sim_pack *p, int chg, int dsg);
/* A write of one of the BMS's own settings (or of an unlock) for pack p,
 * by its control mode: counted in set_writes; *apply = 1 when the value
 * is to be taken (normal, noack, protect). */
enum sim_wr sim_pack_set_write(struct sim_pack *p, int *apply);
/* Control `control ADDR MODE [chg|dsg|both]` (fets NULL: both for protect). */
int sim_pack_control(struct sim_pack *p, const char *mode, const char *fets, char *err, size_t errlen);
/* SIM_FET_* that a protection holds off now (mode protect), else 0.  The
 * responders report it with the brand's alarm bit. */
unsigned sim_pack_held(const struct sim_pack *p);
const char *sim_fet_name(unsigned fets); /* none chg dsg both */
void sim_view_json(struct sim_buf *b, const struct sim_view *v, const struct sim_pack *p);
/* The adapter's part of a pack's state (an slcan protocol), after its
 * other members: ,"can_open":"closed|normal|listen","can_frames_heard":N */
void sim_can_json(struct sim_buf *b, const struct sim_pack *p);

#endif
