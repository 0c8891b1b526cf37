/* SPDX-License-Identifier: MIT */
/* tests/unit/test_backfill.c - [mqtt] backfill's bookkeeping on a fake
 * clock (gateway/mqtt/bfcore.c): the pacing (at most the rate, a burst of
 * one turn), the window of messages in flight (a cursor moves on the
 * acknowledgements only, in the order sent), a unit's cursor through an
 * outage, a second outage during the backfill and a reconnection that
 * widens the range; the whole stream (each sample once as the history
 * takes it, an outage, a silent drop); and the history's answer (gateway/history/query.c,
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

/* A unit through an outage: connected (following the history), lost,
 * back; the samples of (sent, upto] sent in two answers, then idle again. */
static void cursor_tests(void)
{
	struct bf_unit u;
	memset(&u, 0, sizeof(u));
	bf_unit_start(&u, "house", 1000);
	CHECK(bf_unit_idle(&u, 0));
	CHECK(!bf_unit_wants(&u));
	bf_unit_follow(&u, 1000, 1.0); /* the same second: nothing new */
	CHECK(bf_unit_idle(&u, 0));
	bf_unit_follow(&u, 1010, 10.0); /* connected: the range follows the clock */
	CHECK_EQ_INT(u.upto, 1010);
	CHECK(bf_unit_wants(&u));
	bf_unit_follow(&u, 1019, 10.0); /* not before the next interval */
	CHECK_EQ_INT(u.upto, 1010);
	char *a = answer(0, 0, 0); /* no sample of (1000, 1010] */
	bf_unit_answer(&u, a, strlen(a));
	CHECK(bf_unit_idle(&u, 0));
	CHECK_EQ_INT(u.acked, 1000); /* a PUBACK only moves it */
	u.sent = u.acked = 1010; /* as if (1000, 1010] had been sent and acknowledged */
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
	bf_unit_follow(&u, 1100, 1.0); /* owed: the cursor stays */
	CHECK_EQ_INT(u.acked, 1010);
	/* the first answer: 64 of 90 */
	a = answer(90, 1011, 64);
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
	CHECK(!bf_unit_idle(&u, 3)); /* 3 in flight */
	CHECK_EQ_INT(bf_unit_backlog(&u, 3, 1.0, 0), 3);
	CHECK(bf_unit_idle(&u, 0));
	CHECK_EQ_INT(u.sent, 1152);
	CHECK_EQ_INT(bf_unit_backlog(&u, 0, 1.0, 0), 0);
	bf_unit_follow(&u, 1201, 1.0); /* the next question from 1152 on */
	CHECK(bf_unit_wants(&u));
	/* an empty answer: nothing in the range */
	bf_unit_reconnected(&u, 1300);
	a = answer(0, 0, 0);
	bf_unit_answer(&u, a, strlen(a));
	CHECK(!bf_unit_wants(&u));
	CHECK(bf_unit_idle(&u, 0));
	CHECK_EQ_INT(u.sent, 1152);
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

/* The whole stream on a fake clock: a history with a sample a second (a
 * hole of 5), a broker that takes and acknowledges each message as it
 * comes; connected, an outage (no ticks, nothing sent), a silent drop
 * (sent into a dead connection: nothing arrives, nothing acknowledged,
 * then libmosquitto sends the window again after the reconnection).  The
 * broker must get every sample once, oldest first. */
#define SIM_T0 1000
#define SIM_T1 1300
static bool sim_has(int64_t t)
{
	return t > SIM_T0 && t < SIM_T1 && !(t >= 1050 && t < 1055);
}

static char *sim_answer(int64_t after, int64_t upto)
{
	int64_t count = 0, from = 0;
	int n = 0;
	for (int64_t t = after + 1; t <= upto; t++)
		if (sim_has(t)) {
			if (!count)
				from = t;
			count++;
		}
	char *a = malloc(64 + (size_t)BF_FETCH * 64);
	size_t len = (size_t)sprintf(a, "%lld\n", (long long)count);
	for (int64_t t = from; count && t <= upto && n < BF_FETCH; t++)
		if (sim_has(t)) {
			len += (size_t)sprintf(a + len, "%lld {\"time\":%lld}\n", (long long)t, (long long)t);
			n++;
		}
	return a;
}

struct sim {
	struct bf_unit u;
	struct bf_window w;
	struct bf_pace pace;
	int64_t got[SIM_T1 - SIM_T0 + 64];
	int ngot, mid, max_steady;
};

/* What the timer does in a second: ask, send what the rate and the
 * window allow; delivered: the broker takes (and acknowledges) them. */
static void sim_second(struct sim *x, int64_t t, bool delivered, bool steady)
{
	for (int turn = 0; turn < 20; turn++) {
		double now = (double)t + turn * BF_PERIOD;
		if (bf_unit_wants(&x->u)) {
			char *a = sim_answer(x->u.sent, x->u.upto);
			bf_unit_answer(&x->u, a, strlen(a));
		}
		int n = bf_pace_take(&x->pace, now, BF_WINDOW - x->w.n < x->u.nbuf ? BF_WINDOW - x->w.n : x->u.nbuf);
		for (int k = 0; k < n; k++) {
			int64_t ts;
			const char *json;
			if (!bf_unit_peek(&x->u, &ts, &json))
				break;
			bf_unit_pop(&x->u);
			bf_window_add(&x->w, ++x->mid, 0, ts);
			if (delivered) {
				x->got[x->ngot++] = ts;
				bf_window_ack(&x->w, x->mid, &x->u, 1);
			}
		}
	}
	int64_t b = bf_unit_backlog(&x->u, bf_window_of(&x->w, 0), 1.0, 0);
	if (steady && b > x->max_steady)
		x->max_steady = (int)b;
}

static void stream_tests(void)
{
	static struct sim x;
	memset(&x, 0, sizeof(x));
	bf_unit_start(&x.u, "house", SIM_T0);
	bf_pace_init(&x.pace, 10, SIM_T0);
	for (int64_t t = SIM_T0 + 1; t < 1100; t++) { /* connected */
		bf_unit_follow(&x.u, t, 1.0);
		sim_second(&x, t, true, true);
		CHECK_EQ_INT(x.u.acked, t == 1050 ? 1049 : t > 1050 && t < 1055 ? 1049 : t);
	}
	CHECK_EQ_INT(x.ngot, 1099 - SIM_T0 - 5); /* each sample of its second, once */
	CHECK_EQ_INT(x.max_steady, 0);
	/* the broker is away 1100..1159: nothing happens; back at 1160 */
	bf_unit_reconnected(&x.u, 1160);
	bf_pace_init(&x.pace, 10, 1160);
	CHECK_EQ_INT(bf_unit_backlog(&x.u, 0, 1.0, 0), 61);
	for (int64_t t = 1160; t < 1200; t++) {
		bf_unit_follow(&x.u, t, 1.0);
		sim_second(&x, t, true, t > 1180);
	}
	CHECK_EQ_INT(x.u.acked, 1199);
	CHECK_EQ_INT(x.max_steady, 0);
	/* a silent drop 1200..1229: sent into it, the window fills, nothing
	 * comes back; found dead, connected again at 1240 */
	for (int64_t t = 1200; t < 1230; t++) {
		bf_unit_follow(&x.u, t, 1.0);
		sim_second(&x, t, false, false);
	}
	CHECK_EQ_INT(x.w.n, BF_WINDOW);
	CHECK_EQ_INT(x.u.acked, 1199);
	CHECK_EQ_INT(x.u.sent, 1199 + BF_WINDOW);
	CHECK_EQ_INT(bf_unit_backlog(&x.u, BF_WINDOW, 1.0, 1240), 41); /* (1199, 1240] */
	bf_unit_reconnected(&x.u, 1240);
	bf_pace_init(&x.pace, 10, 1240);
	while (x.w.n) { /* libmosquitto sends its window again */
		x.got[x.ngot++] = x.w.f[0].ts;
		CHECK(bf_window_ack(&x.w, x.w.f[0].mid, &x.u, 1));
	}
	for (int64_t t = 1240; t < SIM_T1 + 10; t++) {
		bf_unit_follow(&x.u, t, 1.0);
		sim_second(&x, t, true, t > 1270);
	}
	CHECK_EQ_INT(x.max_steady, 0);
	CHECK(bf_unit_idle(&x.u, 0));
	CHECK_EQ_INT(x.u.acked, SIM_T1 - 1);
	/* every sample of the history once, in order */
	int n = 0;
	bool in_order = true;
	for (int64_t t = SIM_T0 + 1; t < SIM_T1; t++)
		if (sim_has(t))
			in_order &= n < x.ngot && x.got[n++] == t;
	CHECK(in_order);
	CHECK_EQ_INT(x.ngot, n);
	bf_unit_free(&x.u);
}

int main(void)
{
	pace_tests();
	window_tests();
	cursor_tests();
	stream_tests();
	query_tests();
	return check_report();
}
