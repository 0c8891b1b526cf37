/* SPDX-License-Identifier: MIT */
/* tests/unit/test_backfill.c - [mqtt] backfill's bookkeeping on a fake
 * clock (gateway/mqtt/bfcore.c): the pacing (at most the rate, a burst of
 * one turn), the window of messages in flight (a cursor moves on the
 * acknowledgements only, in the order sent), a unit's cursor through an
 * outage, a second outage during the backfill and a reconnection that
 * widens the range; and the history's answer (gateway/history/query.c,
 * on SQLite in memory) that the backfill reads: the samples of a range,
 * oldest first, their count, folded rows left out. */
#include <stdlib.h>
#include <string.h>

#include "../../gateway/history/history_int.h"
#include "../../gateway/mqtt/backfill.h"
#include "check.h"

/* the pacing: a fake clock stepped by the timer's period */
static void pace_tests(void)
{
	static const int rates[] = { 1, 2, 50, 1000 };
	for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		struct bf_pace p;
		double t = 100.0;
		bf_pace_init(&p, rates[r], t);
		CHECK_EQ_INT(bf_pace_take(&p, t, 1000), 0); /* nothing at once */
		int sent = 0;
		for (int i = 0; i < 200; i++) { /* 10 s in turns of BF_PERIOD */
			t += BF_PERIOD;
			sent += bf_pace_take(&p, t, 1000);
		}
		if (!(sent <= rates[r] * 10 && sent >= rates[r] * 10 - 1))
			fprintf(stderr, "  rate %d: %d in 10 s\n", rates[r], sent);
		CHECK(sent <= rates[r] * 10 && sent >= rates[r] * 10 - 1);
	}
	/* a long pause is no licence for a burst: one turn's worth and one at most */
	struct bf_pace p;
	bf_pace_init(&p, 50, 0);
	CHECK_EQ_INT(bf_pace_take(&p, 3600, 1000), (int)(50 * BF_PERIOD + 1));
	/* below one a turn: the burst is one message */
	bf_pace_init(&p, 1, 0);
	CHECK_EQ_INT(bf_pace_take(&p, 60, 1000), 1);
	CHECK_EQ_INT(bf_pace_take(&p, 60.5, 1000), 0);
	CHECK_EQ_INT(bf_pace_take(&p, 61, 1000), 1);
	/* what is not wanted stays, up to the burst */
	bf_pace_init(&p, 100, 0);
	CHECK_EQ_INT(bf_pace_take(&p, 0.05, 2), 2);
	CHECK_EQ_INT(bf_pace_take(&p, 0.05, 10), 3);
	/* a clock that steps back takes nothing and gives nothing */
	CHECK_EQ_INT(bf_pace_take(&p, 0.01, 10), 0);
}

static void window_tests(void)
{
	struct bf_unit u[2];
	memset(u, 0, sizeof(u));
	bf_unit_start(&u[0], "a", 1000);
	bf_unit_start(&u[1], "b", 1000);
	struct bf_window w = { 0 };
	for (int i = 0; i < BF_WINDOW; i++)
		CHECK(bf_window_add(&w, 10 + i, i % 2, 1001 + i / 2));
	CHECK(!bf_window_add(&w, 99, 0, 2000)); /* full */
	CHECK_EQ_INT(bf_window_of(&w, 0), BF_WINDOW / 2);
	/* an acknowledgement out of order moves nothing yet */
	CHECK(bf_window_ack(&w, 11, u, 2));
	CHECK_EQ_INT(u[1].acked, 1000);
	CHECK_EQ_INT(w.n, BF_WINDOW);
	CHECK(!bf_window_ack(&w, 11, u, 2)); /* twice: not ours any more */
	CHECK(!bf_window_ack(&w, 500, u, 2)); /* another message's */
	/* the front: both leave, each unit's cursor at its time */
	CHECK(bf_window_ack(&w, 10, u, 2));
	CHECK_EQ_INT(u[0].acked, 1001);
	CHECK_EQ_INT(u[1].acked, 1001);
	CHECK_EQ_INT(w.n, BF_WINDOW - 2);
	for (int i = 2; i < BF_WINDOW; i++)
		CHECK(bf_window_ack(&w, 10 + i, u, 2));
	CHECK_EQ_INT(w.n, 0);
	CHECK_EQ_INT(u[0].acked, 1000 + BF_WINDOW / 2);
	/* a unit removed meanwhile: its acknowledgement touches nothing */
	CHECK(bf_window_add(&w, 7, 1, 5000));
	u[1].name[0] = '\0';
	CHECK(bf_window_ack(&w, 7, u, 2));
	CHECK_EQ_INT(u[1].acked, 1000 + BF_WINDOW / 2);
	bf_unit_free(&u[0]);
	bf_unit_free(&u[1]);
}

/* An answer of the history as model/histsrc.h has it. */
static char *answer(int64_t count, int64_t from, int n)
{
	char *t = malloc(64 + (size_t)n * 64);
	size_t len = (size_t)sprintf(t, "%lld\n", (long long)count);
	for (int i = 0; i < n; i++)
		len += (size_t)sprintf(t + len, "%lld {\"time\":%lld,\"soc\":50.0}\n", (long long)(from + i),
				       (long long)(from + i));
	return t;
}

/* A unit through an outage: connected (covered), lost, back; the samples
 * of (acked, upto] sent in two answers, then idle again. */
static void cursor_tests(void)
{
	struct bf_unit u;
	memset(&u, 0, sizeof(u));
	bf_unit_start(&u, "house", 1000);
	CHECK(bf_unit_idle(&u, 0));
	CHECK(!bf_unit_wants(&u));
	bf_unit_covered(&u, 0, 1010); /* connected: the live states cover it */
	CHECK_EQ_INT(u.acked, 1010);
	/* disconnected: the outage going on is owed, estimated */
	CHECK_EQ_INT(bf_unit_backlog(&u, 0, 1.0, 1040), 30);
	CHECK_EQ_INT(bf_unit_backlog(&u, 0, 10.0, 1040), 3);
	CHECK_EQ_INT(bf_unit_backlog(&u, 0, 1.0, 0), 0);
	/* the outage: no ticks; back at 1100 */
	bf_unit_reconnected(&u, 1100);
	CHECK(!bf_unit_idle(&u, 0));
	CHECK(bf_unit_wants(&u));
	CHECK_EQ_INT(bf_unit_backlog(&u, 0, 1.0, 0), 90); /* estimated from the interval */
	CHECK_EQ_INT(bf_unit_backlog(&u, 0, 10.0, 0), 9);
	bf_unit_covered(&u, 0, 1101); /* owed: the cursor stays */
	CHECK_EQ_INT(u.acked, 1010);
	/* the first answer: 64 of 90 */
	char *a = answer(90, 1011, 64);
	bf_unit_answer(&u, a, strlen(a));
	CHECK(!bf_unit_wants(&u));
	CHECK_EQ_INT(u.nbuf, 64);
	CHECK_EQ_INT(bf_unit_backlog(&u, 0, 1.0, 0), 90);
	int64_t ts;
	const char *json;
	CHECK(bf_unit_peek(&u, &ts, &json));
	CHECK_EQ_INT(ts, 1011);
	CHECK_STR(json, "{\"time\":1011,\"soc\":50.0}");
	struct bf_window w = { 0 };
	for (int i = 0; i < 64; i++) {
		CHECK(bf_unit_peek(&u, &ts, &json));
		CHECK_EQ_INT(ts, 1011 + i);
		bf_unit_pop(&u);
		bf_window_add(&w, i + 1, 0, ts);
		if (w.n == BF_WINDOW)
			for (int k = w.f[0].mid; w.n; k++)
				bf_window_ack(&w, k, &u, 1);
	}
	CHECK_EQ_INT(u.sent, 1074);
	CHECK_EQ_INT(u.acked, 1074);
	CHECK(bf_unit_wants(&u)); /* 26 more: asked from `sent` */
	CHECK_EQ_INT(bf_unit_backlog(&u, 0, 1.0, 0), 26);
	a = answer(26, 1075, 26);
	bf_unit_answer(&u, a, strlen(a));
	for (int i = 0; i < 20; i++)
		bf_unit_pop(&u);
	/* a second outage here: 4 in flight never acknowledged before it */
	for (int i = 0; i < 4; i++) {
		CHECK(bf_unit_peek(&u, &ts, &json));
		bf_window_add(&w, 200 + i, 0, ts);
		bf_unit_pop(&u);
	}
	CHECK_EQ_INT(u.acked, 1074);
	CHECK_EQ_INT(u.sent, 1098);
	CHECK_EQ_INT(bf_unit_backlog(&u, bf_window_of(&w, 0), 1.0, 0), 2 + 4);
	/* back at 1200: the range widens; the buffer and the window stay
	 * (libmosquitto sends those 4 again) */
	bf_unit_reconnected(&u, 1200);
	CHECK_EQ_INT(u.upto, 1200);
	CHECK_EQ_INT(u.nbuf, 2);
	for (int i = 0; i < 4; i++)
		CHECK(bf_window_ack(&w, 200 + i, &u, 1));
	CHECK_EQ_INT(u.acked, 1098);
	bf_unit_pop(&u);
	bf_unit_pop(&u);
	CHECK_EQ_INT(u.sent, 1100);
	CHECK(bf_unit_wants(&u)); /* the second outage's: (1100, 1200] */
	a = answer(3, 1150, 3); /* a hole in the history: only 3 */
	bf_unit_answer(&u, a, strlen(a));
	for (int i = 0; i < 3; i++)
		bf_unit_pop(&u);
	CHECK(!bf_unit_wants(&u)); /* the history counted no more */
	CHECK(!bf_unit_idle(&u, 0));
	bf_unit_covered(&u, 0, 1201);
	CHECK(bf_unit_idle(&u, 0));
	CHECK_EQ_INT(u.acked, 1201);
	CHECK_EQ_INT(bf_unit_backlog(&u, 0, 1.0, 0), 0);
	/* an empty answer: nothing in the range */
	bf_unit_reconnected(&u, 1300);
	a = answer(0, 0, 0);
	bf_unit_answer(&u, a, strlen(a));
	CHECK(!bf_unit_wants(&u));
	bf_unit_covered(&u, 0, 1301);
	CHECK_EQ_INT(u.acked, 1301);
	/* a broken answer is asked again */
	bf_unit_reconnected(&u, 1400);
	a = strdup("12");
	bf_unit_answer(&u, a, strlen(a));
	CHECK(bf_unit_wants(&u));
	CHECK_EQ_INT(u.nbuf, 0);
	bf_unit_free(&u);
}

/* the history's answer on SQLite in memory */
static void put(sqlite3 *db, int64_t unit, int64_t ts, int span, bool online, double soc)
{
	struct gw_hsample s;
	memset(&s, 0, sizeof(s));
	s.ts = ts;
	s.online = online;
	s.have = online ? GW_HS_SOC | GW_HS_VOLTAGE | GW_HS_ALARMS : 0;
	s.soc = (float)soc;
	s.voltage = 53.25f;
	s.alarms = 0;
	sqlite3_stmt *st = NULL;
	CHECK_EQ_INT(sqlite3_prepare_v2(db, GW_HIST_INSERT, -1, &st, NULL), SQLITE_OK);
	gw_hist_bind(st, unit, &s);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	if (span) {
		char q[128];
		snprintf(q, sizeof(q), "UPDATE samples SET span = %d WHERE ts = %lld AND unit = %lld", span, (long long)ts,
			 (long long)unit);
		CHECK_EQ_INT(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	}
}

static void query_tests(void)
{
	sqlite3 *db = NULL;
	char err[200] = "";
	CHECK_EQ_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
	CHECK_EQ_INT(gw_hist_db_setup(db, false, err, sizeof(err)), SQLITE_OK);
	for (int i = 0; i < 10; i++)
		put(db, 1, 1000 + i, 0, i != 4, 50 + i);
	put(db, 2, 1003, 0, true, 10); /* another unit */
	put(db, 1, 900, 900, true, 40); /* a folded row: never sent */
	struct gw_hresult r;
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_samples(db, 1, 1002, 1008, 3, &r), SQLITE_OK);
	CHECK_EQ_INT(r.status, 200);
	CHECK_STR(r.text, "6\n"
		  "1003 {\"time\":1003,\"online\":true,\"soc\":53.0,\"voltage\":53.25,\"alarms\":0}\n"
		  "1004 {\"time\":1004,\"online\":false}\n"
		  "1005 {\"time\":1005,\"online\":true,\"soc\":55.0,\"voltage\":53.25,\"alarms\":0}\n");
	/* as the backfill reads it */
	struct bf_unit u;
	memset(&u, 0, sizeof(u));
	bf_unit_start(&u, "a", 1002);
	bf_unit_reconnected(&u, 1008);
	bf_unit_answer(&u, r.text, r.len);
	CHECK_EQ_INT(u.nbuf, 3);
	CHECK_EQ_INT(u.left, 3);
	bf_unit_free(&u);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_samples(db, 1, 1009, 2000, 64, &r), SQLITE_OK);
	CHECK_STR(r.text, "0\n");
	free(r.text);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_samples(db, -1, 0, 2000, 64, &r), SQLITE_OK); /* a unit without rows */
	CHECK_STR(r.text, "0\n");
	free(r.text);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_samples(db, 1, 0, 1000, 64, &r), SQLITE_OK); /* upto is inclusive */
	CHECK_STR(r.text, "1\n1000 {\"time\":1000,\"online\":true,\"soc\":50.0,\"voltage\":53.25,\"alarms\":0}\n");
	free(r.text);
	sqlite3_close(db);
}

int main(void)
{
	pace_tests();
	window_tests();
	cursor_tests();
	query_tests();
	return check_report();
}
