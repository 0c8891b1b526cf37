/* SPDX-License-Identifier: MIT */
/* bms/hvcan.h - what the high-voltage packs read listen only from their
 * own CAN bus share (leaf, tesla-model3, zoe1, zoe2, mg-zs, byd-atto3, bolt,
 * mach-e, volvo-spa, foxess-in, byd-hvs-in, solax-in, relion-lv,
 * growatt-ark-in, samsung-sdi-lv; bms/PROTOCOLS.md §85 on): a poll made of
 * the frames the pack broadcasts while something keeps it awake, never a
 * frame sent (bms/base/hvcan.c).
 *
 * A family is a struct hv_family:
 *   check()   each frame's own check, stateless: its length against the
 *             layout, its CRC, check byte or counter.  scan() runs it: a
 *             frame that fails is dropped whole and counted with the
 *             wire's checksum errors (BMS_SCAN_BADSUM), never half-read;
 *   frame()   the decoder of one intact frame into the poll's snapshot,
 *             which says what the frame was: a slot (a status frame), a
 *             group of set A (a frame of cells, or a tester's whole
 *             answer) or of set B (a frame of sensors), taken without a
 *             slot, or not the family's (BMS_E_UNEXPECTED: passed over);
 *             an impossible value refuses the poll (a negative BMS_E_*);
 *   finish()  what the family derives once the poll is whole (NULL: none).
 * A poll is whole once every slot of `need` and every slot and group the
 * pack was heard sending arrived.  What it sends is learned over the first
 * poll, which waits the pack's `timeout` and is used with what it heard,
 * its cells only where every group it heard came twice at least (it heard
 * whole cycles: none of a cycle's last frames missed); a group heard later
 * beyond those learned is learned too; a poll that ends
 * without a slot or a group learned fails, and the next one learns again
 * (a pack that changed what it sends costs two polls).  The cells are
 * whole or absent, never part of a list: a tester's answers (`answers`:
 * the Leaf's and the Zoe's, which another tester asks for) are waited
 * for, and a poll whose wait ends without them, or that heard one
 * dropped, is used without cells (no tester asks, none asked within the
 * wait, its answer broken); a list whose sum is not the pack's voltage
 * within 10 % is a part (a stack's module heard alone): none; a poll with
 * every cell drops the BMS's own highest and lowest.  The snapshot's current is the
 * family's, + = charging (`invert_current` turns it); a poll without a
 * pack voltage above 0 is no sample.
 */
#ifndef BMS_HVCAN_H
#define BMS_HVCAN_H

#include "bms.h"

/* What frame() says of a frame it read. */
#define HV_SLOTS 16               /* slots 0..15 */
#define HV_A(g) (0x100 + (g))     /* group g (< 128) of set A: cells */
#define HV_B(g) (0x200 + (g))     /* group g (< 30) of set B: sensors */
#define HV_TAKEN 0x400            /* read, of no slot (a piece of an answer) */
#define HV_GROUPS_A 128
#define HV_GROUPS_B 30

/* A tester's answer a listener reads (ISO 15765-2 on one identifier: a
 * first frame 1L LL, consecutive frames 2N in order): one of the family's,
 * known by its first two bytes, its cells big-endian mV words after them. */
struct hv_answer {
	uint8_t sid, group;       /* e.g. 0x61 0x02: the answer to 0x21 0x02 */
	uint8_t first;            /* its first cell (0-based) */
	uint8_t count;            /* its cells */
};

struct hv_family {
	bool (*check)(const struct bms_can_msg *m);
	int (*frame)(struct bms_poll *poll, const struct bms_can_msg *m);
	int (*finish)(struct bms_poll *poll);
	uint16_t need;            /* slots every poll needs */
	/* the tester's answers on `answer_id` (NULL: none; set A is then the
	 * broadcast's cell frames) */
	const struct hv_answer *answers;
	uint8_t nanswers;
	uint32_t answer_id;
};

/* The family's own state of a poll beside the base's: HV_FAM(poll, T). */
#define HV_FAM_SIZE 12
struct hv_tp {                    /* an answer being read */
	uint16_t len, got;        /* its length, its bytes so far */
	uint8_t sn;               /* the next consecutive frame's number */
	uint8_t ans;              /* the family's answer it is (0xFF: one not read) */
	uint8_t carry;            /* the high byte of a word cut between two frames */
	bool on;
};
struct hv_state {
	uint64_t a[2];            /* groups of set A heard this poll (bit g % 64 of a[g / 64]) */
	uint64_t a2[2];           /* ... heard twice or more (a learning poll's cycles) */
	uint32_t b;               /* ... of set B */
	uint16_t slots;           /* slots heard */
	uint8_t ncells;           /* the highest cell written, + 1 */
	bool refused;             /* a frame's values were refused: the poll is not used */
	struct hv_tp tp;
	bool dropped;             /* an answer the family reads was dropped (broken, a cell out of range) */
	_Alignas(4) unsigned char fam[HV_FAM_SIZE];
};
#define HV_FAM(poll, T) \
	((void)sizeof(struct { \
		_Static_assert(sizeof(T) <= HV_FAM_SIZE, "the family's state is larger than hv_state.fam"); \
		char ok_; \
	}), \
	 (T *)(void *)BMS_PRIV(poll, struct hv_state)->fam)

/* The driver's members, given its family: scan(), handle(), timeout() and
 * finish() of the table. */
enum bms_scan hv_scan(const struct hv_family *f, const uint8_t *buf, size_t len, size_t *n);
int hv_handle(const struct hv_family *f, struct bms_poll *poll, const uint8_t *frame, size_t len);
bool hv_timeout(const struct hv_family *f, struct bms_poll *poll);
int hv_finish(const struct hv_family *f, struct bms_poll *poll);
/* The four wrappers of a driver whose family is `fam`: pfx_scan ... */
#define HV_DRIVER_FUNCS(pfx, fam) \
	static enum bms_scan pfx##_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n) \
	{ \
		(void)poll; \
		return hv_scan(&(fam), buf, len, n); \
	} \
	static int pfx##_handle(struct bms_poll *poll, const uint8_t *frame, size_t len) \
	{ \
		return hv_handle(&(fam), poll, frame, len); \
	} \
	static bool pfx##_timeout(struct bms_poll *poll) { return hv_timeout(&(fam), poll); } \
	static int pfx##_finish(struct bms_poll *poll) { return hv_finish(&(fam), poll); }
/* ... and their table members, with the link's (one pack a bus: no address). */
#define HV_DRIVER_MEMBERS(pfx) \
	BMS_CAN_LINK(0, 0), .max_cells = BMS_MAX_CELLS, .listen_only = true, .scan = pfx##_scan, \
		.handle = pfx##_handle, .timeout = pfx##_timeout, .finish = pfx##_finish

/* Cell i (0-based) at mv: written, the list's length grown to it. */
void hv_cell(struct bms_poll *poll, unsigned i, unsigned mv);
/* A tester's answer frame m (its identifier the family's answer_id):
 * HV_A(k) once answer k is whole (every cell of it in the snapshot, each
 * 500..5000 mV), HV_TAKEN for a piece taken (of an answer the family
 * reads, or not), BMS_E_UNEXPECTED for a frame of no answer (a single
 * frame, a consecutive frame out of turn: the answer it broke is dropped). */
int hv_tp_frame(const struct hv_family *f, struct bms_poll *poll, const struct bms_can_msg *m);
/* An answer frame's own check: a first frame of 8 bytes, a consecutive
 * one of 2 at least. */
bool hv_tp_check(const struct bms_can_msg *m);

/* CRC-8 of p[0..n), MSB first, initial 0 (the Leaf's poly 0x85). */
uint8_t hv_crc8(uint8_t poly, const uint8_t *p, size_t n);
/* Little-endian bits [start, start + len) of d (len <= 32), as a DBC's
 * @1 signals count them. */
uint32_t hv_bits_le(const uint8_t *d, unsigned start, unsigned len);
/* The temperatures t[0..n) (degC, NaN: none) as the snapshot's sensors
 * (the first BMS_MAX_TEMPS) and its highest and lowest. */
void hv_temps(struct bms_snapshot *s, const float *t, unsigned n);
/* The BMS's own limits of an inverter-bus frame (V, A): a charge voltage
 * not above the discharge one, or above vmax, is no battery's
 * (BMS_E_RANGE, nothing taken); a discharge voltage of 0 is none, a current
 * limit beyond BMS_MAX_LIMIT_A none.  0 once taken. */
int hv_limits(struct bms_poll *poll, float cvl, float dvl, float ccl, float dcl, float vmax);

#endif
