/* SPDX-License-Identifier: MIT */
/* gateway/history/export.c - bmsgw --history-csv: the whole CSV of a unit
 * from the file, without the daemon: the file opened read-only (store.c's
 * path and setup) and read in query.c's CSV chunks.  Apart from both, so
 * that the worker (store.c), which runs query.c's answers, is not called
 * back by them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "history_int.h"

int gw_history_export(const struct conf_history *c, const char *unit, int64_t from, int64_t to, int64_t step,
		      FILE *out, char *err, size_t errlen)
{
	char path[CONF_PORT_MAX];
	gw_history_path(c, path, sizeof(path));
	if (access(path, R_OK) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = gw_hist_db_setup(db, true, err, errlen);
	else
		snprintf(err, errlen, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	if (rc != SQLITE_OK) {
		sqlite3_close_v2(db);
		return -1;
	}
	sqlite3_stmt *st = NULL;
	int64_t id = -1;
	rc = sqlite3_prepare_v2(db, "SELECT id FROM units WHERE name = ?1", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK && id < 0) {
		snprintf(err, errlen, "no history of unit \"%s\"", unit);
		sqlite3_close_v2(db);
		return -1;
	}
	int64_t after = from - 1;
	while (rc == SQLITE_OK) {
		struct gw_hresult r;
		memset(&r, 0, sizeof(r));
		rc = gw_hist_run_csv(db, id, unit, from, to, step, after, 5000, &r);
		if (rc == SQLITE_OK) {
			fwrite(r.text, 1, r.len, out);
			after = r.next;
		}
		free(r.text);
		if (rc != SQLITE_OK || r.done)
			break;
	}
	if (rc != SQLITE_OK)
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
	sqlite3_close_v2(db);
	return rc == SQLITE_OK ? 0 : -1;
}
