/* SPDX-License-Identifier: MIT */
/* tests/unit/test_link.c - the generic link on a real serial device (a pty):
 * a read of 0 bytes from a raw tty is an empty line, not a hang-up.
 *
 * A raw tty (VMIN = 0, VTIME = 0, how the serial transport sets it) reads
 * 0 bytes whenever it is empty, even non-blocking.  The link took every
 * such read for a hang-up ("device hung up ... retrying"): after a read
 * that filled its 512-byte buffer exactly, and when input that made the
 * descriptor readable was flushed before the read (a change of baud rate
 * in a timer that expired in the same loop iteration: libev runs the
 * expired timers before the descriptors).  `bmsgw --detect` then gave up
 * with exit 2 on a line with noise (test_detect's noise case, once on a
 * loaded machine), and a busy line knocked its pack offline.  A real
 * hang-up (the far end of the pty closed) is still one.  A byte stream's
 * pending input is drained by gw_link_drain() (a transport of whole
 * messages, gw_transport.messages, has none to drain).
 */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../../gateway/core/log.h"
#include "../../gateway/wire/wire.h"
#include "check.h"

struct seen {
	int ups, downs;
	size_t bytes;
};

static void on_up(void *arg) { ((struct seen *)arg)->ups++; }
static void on_down(void *arg) { ((struct seen *)arg)->downs++; }
static void on_bytes(void *arg, const uint8_t *p, size_t n)
{
	(void)p;
	((struct seen *)arg)->bytes += n;
}
static void on_drained(void *arg) { (void)arg; }
static void on_gone(void *arg) { (void)arg; }
static const struct gw_link_owner owner = { on_up, on_down, on_bytes, on_drained, on_gone };

static struct ev_loop *loop;
static struct gw_link *flush_link;

static void give_up_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)revents;
	*(bool *)w->data = true;
}

/* Run the loop until *a >= want_a or *b >= want_b, or 5 s passed: false then. */
static bool run_until(const int *a, int want_a, const size_t *b, size_t want_b)
{
	bool late = false;
	ev_timer give_up;
	ev_timer_init(&give_up, give_up_cb, 5., 0.);
	give_up.data = &late;
	ev_timer_start(loop, &give_up);
	while (!late && !((a && *a >= want_a) || (b && *b >= want_b)))
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &give_up);
	return !late;
}

static void flush_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	CHECK(gw_link_set_baud(flush_link, 19200) == 0); /* drops the input */
}

/* Wait until the pty's slave (by its path) has input. */
static void wait_readable(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	CHECK(fd >= 0);
	fd_set r;
	FD_ZERO(&r);
	FD_SET(fd, &r);
	struct timeval tv = { 5, 0 };
	CHECK(select(fd + 1, &r, NULL, NULL, &tv) == 1);
	close(fd);
}

int main(void)
{
	gw_log_threshold = GW_LOG_WARN;
	loop = ev_default_loop(0);
	int master, slave;
	char path[64];
	CHECK(openpty(&master, &slave, path, NULL, NULL) == 0);
	struct termios t;
	tcgetattr(master, &t);
	cfmakeraw(&t);
	tcsetattr(master, TCSANOW, &t);

	struct gw_link_env env = { .loop = loop };
	struct gw_line line = { 9600, 'N', 1 };
	struct gw_link *l = gw_link_new_port(&env, path, NULL, 0, &line);
	struct seen s = { 0 };
	gw_link_set_owner(l, &owner, &s);
	gw_link_open(l);
	CHECK(run_until(&s.ups, 1, NULL, 0));
	CHECK_EQ_INT(s.ups, 1);

	/* a read that fills the buffer exactly, then an empty tty */
	uint8_t block[512];
	memset(block, 0x55, sizeof(block));
	CHECK(write(master, block, sizeof(block)) == (ssize_t)sizeof(block));
	CHECK(run_until(NULL, 0, &s.bytes, sizeof(block)));
	CHECK_EQ_INT(s.bytes, sizeof(block));
	CHECK_EQ_INT(s.downs, 0);
	CHECK(gw_link_is_up(l));

	/* input flushed between poll() and read(): a timer that expires in the
	 * iteration that saw the descriptor readable changes the baud rate */
	flush_link = l;
	CHECK(write(master, "noise", 5) == 5);
	wait_readable(path);
	ev_timer flush;
	ev_timer_init(&flush, flush_cb, 0., 0.);
	ev_timer_start(loop, &flush);
	ev_run(loop, EVRUN_ONCE);
	ev_run(loop, EVRUN_NOWAIT);
	CHECK_EQ_INT(s.downs, 0);
	CHECK(gw_link_is_up(l));
	CHECK(write(master, "more", 4) == 4);
	CHECK(run_until(NULL, 0, &s.bytes, sizeof(block) + 4));
	CHECK(gw_link_is_up(l));

	/* a byte stream's pending input is drained: read and dropped (counted),
	 * never handed to the owner */
	size_t before = s.bytes, drained = 0;
	CHECK(write(master, "junk", 4) == 4);
	for (int i = 0; i < 50 && drained < 4; i++) {
		wait_readable(path);
		drained += gw_link_drain(l);
	}
	CHECK_EQ_INT(drained, 4);
	CHECK_EQ_INT(s.bytes, before);
	CHECK(gw_link_is_up(l));

	/* a real hang-up: the far end closes */
	close(master);
	CHECK(run_until(&s.downs, 1, NULL, 0));
	CHECK_EQ_INT(s.downs, 1);
	CHECK(!gw_link_is_up(l));

	gw_link_free(l);
	close(slave);
	return check_report();
}
