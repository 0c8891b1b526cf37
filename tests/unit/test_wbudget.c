/* SPDX-License-Identifier: MIT */
/* tests/unit/test_wbudget.c - a pack's budget of BMS settings writes
 * (gateway/engine/wbudget.c) on a fake wall clock: N writes in any 24
 * hours, a rolling window; the wait until the next is the oldest write's
 * leaving the window; the window kept as the state file's line and taken
 * back (what is older than a day, no number or out of order passed over);
 * a clock that goes back blocks no more than a day; an automation that
 * sends every minute gets its N a day and no more.
 */
#include <string.h>

#include "../../gateway/engine/wbudget.h"
#include "check.h"

#define T0 1795420800LL /* 2026-11-24 00:00 UTC */
#define DAY GW_WBUDGET_WINDOW

static void window(void)
{
	static struct gw_wbudget b;
	memset(&b, 0, sizeof(b));
	CHECK_EQ_INT((int)gw_wbudget_wait(&b, 3, T0), 0);
	gw_wbudget_spend(&b, T0);
	gw_wbudget_spend(&b, T0 + 60);
	CHECK_EQ_INT((int)gw_wbudget_wait(&b, 3, T0 + 120), 0);
	gw_wbudget_spend(&b, T0 + 120);
	/* the fourth: when the first leaves the window */
	CHECK_EQ_INT((int)gw_wbudget_wait(&b, 3, T0 + 180), DAY - 180);
	CHECK_EQ_INT((int)gw_wbudget_wait(&b, 3, T0 + DAY - 1), 1);
	CHECK_EQ_INT((int)gw_wbudget_wait(&b, 3, T0 + DAY), 0);
	CHECK_EQ_INT(b.n, 2);
	/* a budget lowered by a reload: the count must fall under it */
	CHECK_EQ_INT((int)gw_wbudget_wait(&b, 1, T0 + DAY), 120);
	CHECK_EQ_INT((int)gw_wbudget_wait(&b, 1, T0 + DAY + 120), 0);
}

static void every_minute(void)
{
	/* an automation that republishes a value every minute for two days,
	 * each one a real change: 10 a day reach the BMS, no more */
	static struct gw_wbudget b;
	memset(&b, 0, sizeof(b));
	int written[2] = { 0, 0 };
	for (int m = 0; m < 2 * 1440; m++) {
		long long now = T0 + 60LL * m;
		if (gw_wbudget_wait(&b, GW_WBUDGET_DEFAULT, now) == 0) {
			gw_wbudget_spend(&b, now);
			written[m / 1440]++;
		}
	}
	CHECK_EQ_INT(written[0], GW_WBUDGET_DEFAULT);
	CHECK_EQ_INT(written[1], GW_WBUDGET_DEFAULT);
	/* the default lasts: 100,000 cycles at 10 a day is 27 years */
	CHECK(100000 / GW_WBUDGET_DEFAULT / 365 >= 27);
}

static void kept(void)
{
	static struct gw_wbudget b, c;
	memset(&b, 0, sizeof(b));
	gw_wbudget_spend(&b, T0);
	gw_wbudget_spend(&b, T0 + 10);
	gw_wbudget_spend(&b, T0 + 20);
	char line[64];
	CHECK_EQ_INT((int)gw_wbudget_format(&b, line, sizeof(line)), 32);
	CHECK_STR(line, "1795420800 1795420810 1795420820");
	/* the state file's line comes back with its newline */
	strcat(line, "\n");
	gw_wbudget_parse(&c, line, T0 + 30);
	CHECK_EQ_INT(c.n, 3);
	CHECK_EQ_INT((int)gw_wbudget_wait(&c, 3, T0 + 30), (int)(DAY - 30));
	/* a day later only what is younger stays */
	gw_wbudget_parse(&c, line, T0 + DAY + 15);
	CHECK_EQ_INT(c.n, 1);
	/* nonsense: passed over from where it starts */
	gw_wbudget_parse(&c, "1795420800 x 1795420810", T0 + 30);
	CHECK_EQ_INT(c.n, 1);
	gw_wbudget_parse(&c, "1795420810 1795420800", T0 + 30); /* out of order */
	CHECK_EQ_INT(c.n, 1);
	gw_wbudget_parse(&c, "-5 0 12abc", T0);
	CHECK_EQ_INT(c.n, 0);
	gw_wbudget_parse(&c, "", T0);
	CHECK_EQ_INT(c.n, 0);
	CHECK_EQ_INT((int)gw_wbudget_format(&c, line, sizeof(line)), 0);
	CHECK_STR(line, "");
	/* a line too short for all: whole numbers only */
	char tiny[15];
	gw_wbudget_format(&b, tiny, sizeof(tiny));
	CHECK_STR(tiny, "1795420800");
	/* a full window keeps the newest */
	static struct gw_wbudget f;
	memset(&f, 0, sizeof(f));
	for (int i = 0; i < GW_WBUDGET_MAX + 5; i++)
		gw_wbudget_spend(&f, T0 + i);
	CHECK_EQ_INT(f.n, GW_WBUDGET_MAX);
	CHECK(f.at[0] == T0 + 5 && f.at[GW_WBUDGET_MAX - 1] == T0 + GW_WBUDGET_MAX + 4);
	static char big[GW_WBUDGET_MAX * 12];
	CHECK(gw_wbudget_format(&f, big, sizeof(big)) > 0);
	gw_wbudget_parse(&c, big, T0 + GW_WBUDGET_MAX + 5);
	CHECK_EQ_INT(c.n, GW_WBUDGET_MAX);
}

static void clock_back(void)
{
	/* the clock went back a year after three writes: they count as now,
	 * so a day later the budget is whole again */
	static struct gw_wbudget b;
	memset(&b, 0, sizeof(b));
	for (int i = 0; i < 3; i++)
		gw_wbudget_spend(&b, T0 + i);
	long long back = T0 - 365LL * DAY;
	CHECK_EQ_INT((int)gw_wbudget_wait(&b, 3, back), DAY);
	CHECK_EQ_INT((int)gw_wbudget_wait(&b, 3, back + DAY), 0);
	CHECK_EQ_INT((int)gw_wbudget_wait(&b, 0, back + DAY), 0); /* (a budget under 1 is 1) */
}

static void said(void)
{
	char s[32];
	gw_wbudget_say(86396, s, sizeof(s));
	CHECK_STR(s, "23 h 59 min");
	gw_wbudget_say(125, s, sizeof(s));
	CHECK_STR(s, "2 min 5 s");
	gw_wbudget_say(40, s, sizeof(s));
	CHECK_STR(s, "40 s");
}

int main(void)
{
	window();
	every_minute();
	kept();
	clock_back();
	said();
	return check_report();
}
