/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/code.c - the setup code of a new installation.
 *
 * At the first start of the page without a users file, 60 random bits
 * (getrandom) as 12 characters of RFC 4648's base32 alphabet, logged once
 * with the page's address, and written to `setup-code` (0600) beside the
 * state file, where `sudo cat` finds it when the log is gone.  The code
 * creates the first admin (admin.c), and is void after that, after 60
 * minutes or after 5 wrong tries; a new one comes at the next start.  A
 * code given is compared in constant time, case and dashes aside. */
#include <ctype.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/clock.h"
#include "../../core/log.h"
#include "../../model/gw.h"
#include "../../model/statefile.h"
#include "../../core/statedir.h"
#include "setup_int.h"

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

struct code_file {
	struct setup_task t;
	char path[PATH_MAX];
	char code[SETUP_CODE_LEN + 1];
	bool remove;
	int rc;
	char why[300];
};

static void code_work(struct setup_task *t)
{
	struct code_file *f = (struct code_file *)t;
	if (f->remove) {
		struct stat st; /* bmsgw's own file: never one another user put in its place */
		f->rc = lstat(f->path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() && unlink(f->path) == 0
			? 0 : -1;
		return;
	}
	char text[SETUP_CODE_LEN + 2];
	snprintf(text, sizeof(text), "%s\n", f->code);
	f->rc = setup_file_write(f->path, text, strlen(text), 0600, f->why, sizeof(f->why));
	explicit_bzero(text, sizeof(text));
}

static void code_done(struct gw_setup *s, struct setup_task *t)
{
	struct code_file *f = (struct code_file *)t;
	if (!f->remove && f->rc < 0 && !s->stopping)
		gw_warn("setup: the setup code is not in a file (%s): it is in this log only", f->why);
	explicit_bzero(f->code, sizeof(f->code));
	free(f);
}

static void code_file(struct gw_setup *s, bool remove)
{
	struct code_file *f = calloc(1, sizeof(*f));
	if (!f)
		return;
	f->t.work = code_work;
	f->t.done = code_done;
	snprintf(f->path, sizeof(f->path), "%s", s->code_path);
	memcpy(f->code, s->code, sizeof(f->code));
	f->remove = remove;
	setup_worker_post(s, &f->t);
}

/* `setup-code` beside the state file (or in the state directory). */
static void code_place(struct gw_setup *s)
{
	char state[PATH_MAX];
	gw_statefile_path(s->gw, state, sizeof(state));
	if (state[0]) {
		char *dir = dirname(state);
		snprintf(s->code_path, sizeof(s->code_path), "%s/setup-code", dir);
	} else {
		gw_state_path("setup-code", s->code_path, sizeof(s->code_path));
	}
}

/* The page's address for the log: the host's name where it listens on all. */
static void page_address(const struct conf_http *c, char *out, size_t cap)
{
	char host[256] = "";
	const char *h = c->listen_host;
	if (strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0 || !h[0]) {
		if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
			snprintf(host, sizeof(host), "localhost");
		h = host;
	}
	snprintf(out, cap, "%s://%s%s%s:%d/", c->tls_cert[0] ? "https" : "http", strchr(h, ':') ? "[" : "", h,
		 strchr(h, ':') ? "]" : "", c->listen_port);
}

void setup_code_start(struct gw_setup *s)
{
	if (s->code_drawn || !s->http.setup || s->http.users_file[0])
		return;
	uint8_t r[SETUP_CODE_LEN];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		gw_err("setup: no random bytes for a setup code: the page's Setup tab stays read only");
		return;
	}
	for (int i = 0; i < SETUP_CODE_LEN; i++)
		s->code[i] = b32[r[i] & 31]; /* 5 bits each: 60 bits */
	s->code[SETUP_CODE_LEN] = '\0';
	explicit_bzero(r, sizeof(r));
	s->code_drawn = s->code_live = true;
	s->code_tries = 0;
	s->code_until = gw_mono() + SETUP_CODE_LIFE;
	s->code_gen++;
	code_place(s);
	char page[300];
	page_address(&s->http, page, sizeof(page));
	gw_info("setup: no users yet: open %s, Setup tab, and enter the setup code %.4s-%.4s-%.4s (also in %s; "
		"void after 60 minutes, 5 wrong tries or its use; over plain HTTP from this machine or [http] "
		"clients only)", page, s->code, s->code + 4, s->code + 8, s->code_path);
	code_file(s, false);
}

bool setup_code_live(struct gw_setup *s)
{
	if (s->code_live && (gw_mono() > s->code_until || s->http.users_file[0] || !s->http.setup))
		setup_code_void(s, s->http.users_file[0] ? "there are users now" : !s->http.setup ? "setup = false"
				: "60 minutes passed");
	return s->code_live;
}

void setup_code_void(struct gw_setup *s, const char *why)
{
	if (!s->code_live)
		return;
	s->code_live = false;
	s->code_gen++;
	gw_info("setup: the setup code is void (%s)", why);
	code_file(s, true);
	explicit_bzero(s->code, sizeof(s->code));
}

int setup_code_try(struct gw_setup *s, const char *given, const char *addr)
{
	if (!setup_code_live(s))
		return -1;
	char norm[SETUP_CODE_LEN + 1];
	size_t n = 0;
	for (const char *p = given; *p && n <= SETUP_CODE_LEN; p++)
		if (*p != '-' && *p != ' ')
			norm[n < SETUP_CODE_LEN ? n : SETUP_CODE_LEN - 1] = (char)toupper((unsigned char)*p), n++;
	uint8_t diff = n != SETUP_CODE_LEN;
	for (size_t i = 0; i < SETUP_CODE_LEN; i++)
		diff |= (uint8_t)((i < n ? norm[i] : 0) ^ s->code[i]);
	explicit_bzero(norm, sizeof(norm));
	if (!diff)
		return 1;
	s->code_tries++;
	gw_warn("setup: a wrong setup code from %s (%d of %d tries)", addr, s->code_tries, SETUP_CODE_TRIES);
	if (s->code_tries >= SETUP_CODE_TRIES)
		setup_code_void(s, "5 wrong tries: a new one at the next start");
	return 0;
}
