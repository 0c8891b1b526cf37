/* SPDX-License-Identifier: MIT */
/* gateway/model/statefile.h - the state file: what bmsgw keeps across
 * restarts, a few lines of text written atomically off the loop.
 *
 * Each line is one record: its first word says whose it is, and a record
 * that belongs to a pack names it second:
 *
 *   # bmsgw state: energy counters in kWh (written by bmsgw, atomically)
 *   pack rack1 123.456789 98.765432     energy counters (model/energy.c)
 *   bank 250.000000 199.000000          the bank's (model/energy.c)
 *   intent rack1 1 1                    MOSFET intents (poll/control.c)
 *   bmswrites rack1 1795420800 ...      BMS settings writes of the last day (poll/bmsset.c)
 *   full rack1 1795420800               the last full charge (model/charge.c)
 *   soc rack1 1 saved=... ah=201.5 ...  the counted SOC (model/socunit.c)
 *   hir rack1 p:40:0:2.5,2.6 1:...     resistance windows (model/health_gw.c)
 *   hknee rack1 5 9:3:2:...            knees and leads of each cell (model/health_gw.c)
 *   hday rack1 20418:12:3:2.5 ...      days of spreads and resistance (model/health_gw.c)
 *
 * The file knows no record: each owner defines its kind of line (a const
 * struct gw_state_record: the word, how it writes and reads it) and the
 * daemon's table (daemon/records.c) lists them in the file's order, in the
 * manner of the service table.  Adding a record is that definition in its
 * owner and a line of the table; an owner tells the file that something it
 * holds changed with gw_statefile_changed().  A line
 * nobody knows, of a pack not configured, or that makes no sense to its
 * owner is passed over (the owner starts that value afresh).
 */
#ifndef GATEWAY_MODEL_STATEFILE_H
#define GATEWAY_MODEL_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>

struct gw;
struct gw_pack;

/* The longest rest a record writes (the resistance windows' line,
 * model/health_gw.c, is the longest: 193 windows of 32 samples, the pack's
 * and BMS_MAX_CELLS cells', at most about 73,000 characters); a line read
 * may be the word and a pack's name longer. */
#define GW_STATE_LINE_MAX 81920

/* One kind of line, kept by its owner. */
struct gw_state_record {
	const char *word;               /* its first word: "pack", "intent" ... */
	bool per_pack;                  /* lines "word NAME ...", one per pack; else one "word ..." */
	/* What follows "word NAME " (per pack: of p) or "word ", into
	 * out[0..cap) (GW_STATE_LINE_MAX); false: no line (nothing worth
	 * keeping). */
	bool (*save)(const struct gw *gw, const struct gw_pack *p, char *out, size_t cap);
	/* Take a line of its kind: rest is what follows the word (and the
	 * pack's name: p, a configured pack; NULL for a line of the gateway).
	 * Nonsense is ignored. */
	void (*load)(struct gw *gw, struct gw_pack *p, const char *rest);
};

/* The state file's own state (statefile.c), for the records of the table
 * `records` (NULL-terminated, outliving it); NULL when out of memory. */
struct gw_statefile;
struct gw_statefile *gw_statefile_new(const struct gw_state_record *const *records);
/* Free it (gw_statefile_flush() first); NULL is fine. */
void gw_statefile_free(struct gw_statefile *sf);

/* The state file in use ("" = none): [gateway] state_file, else
 * $STATE_DIRECTORY/state (systemd's StateDirectory=), else
 * /var/lib/bmsgw/state (the directory is made when missing:
 * core/statedir.h); "none" = none. */
void gw_statefile_path(const struct gw *gw, char *out, size_t cap);
/* Read every record of the configured packs and of the gateway (what the
 * file does not hold starts afresh); a missing file is no error. */
void gw_statefile_load(struct gw *gw);
/* The records of one pack only (a pack a reload added). */
void gw_statefile_restore_pack(struct gw *gw, struct gw_pack *p);
/* Something a record holds changed: the next save writes. */
void gw_statefile_changed(struct gw *gw);
/* Write the file (temporary file, fsync, rename) if something changed,
 * the last write failed, or `force`: the content is taken now and written
 * by a thread (never waits for the disk).  A failure is logged once, at
 * the next save, until it works again. */
void gw_statefile_save(struct gw *gw, bool force);
/* The daemon's tick: a save at most once a minute (an SD card's sake). */
void gw_statefile_tick(struct gw *gw, double now);
/* Wait until what was handed over is on disk, and log its outcome (at the
 * end; the tests).  A later save starts a new writer. */
void gw_statefile_flush(struct gw *gw);
/* The last write failed (and nothing has worked since). */
bool gw_statefile_failed(const struct gw *gw);

#endif
