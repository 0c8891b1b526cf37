/* SPDX-License-Identifier: MIT */
/* gateway/core/acceptor.c - a listening TCP socket on the loop (see
 * acceptor.h). */
#include "acceptor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define PAUSE_MIN 0.1
#define PAUSE_MAX 2.0

void gw_peer_host(const struct sockaddr *sa, char *out, size_t len)
{
	const void *a = NULL;
	if (sa && sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa && sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (!a || len < 2 || !inet_ntop(sa->sa_family, a, out, (socklen_t)len))
		snprintf(out, len, "?");
}

bool gw_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return false;
}

void gw_peer_name(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	gw_peer_host((const struct sockaddr *)ss, host, sizeof(host));
	if (ss->ss_family == AF_INET)
		snprintf(out, len, "%s:%d", host, ntohs(((const struct sockaddr_in *)ss)->sin_port));
	else if (ss->ss_family == AF_INET6)
		snprintf(out, len, "[%s]:%d", host, ntohs(((const struct sockaddr_in6 *)ss)->sin6_port));
	else
		snprintf(out, len, "?");
}

static void pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct gw_acceptor *a = container_of(w, struct gw_acceptor, pause);
	if (!a->held)
		ev_io_start(loop, &a->io);
}

/* Stop watching the socket for `for_s` seconds. */
static void pause_for(struct gw_acceptor *a, double for_s)
{
	ev_io_stop(a->loop, &a->io);
	ev_timer_stop(a->loop, &a->pause);
	ev_timer_set(&a->pause, for_s, 0.);
	ev_timer_start(a->loop, &a->pause);
}

static void starved_begin(struct gw_acceptor *a, int err)
{
	if (a->starved)
		return;
	a->starved = true;
	a->starved_closed = 0;
	struct rlimit rl;
	long limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : -1;
	gw_warn("%s: accept: %s (open-file limit %ld): new connections are closed at once until descriptors are "
		"free", a->what, strerror(err), limit);
}

static void starved_end(struct gw_acceptor *a)
{
	a->pause_for = PAUSE_MIN;
	if (!a->starved)
		return;
	gw_info("%s: file descriptors available again (%lu connection(s) closed at once while there were none)",
		a->what, a->starved_closed);
	a->starved = false;
}

/* accept() found no free descriptor.  false: stop accepting for now. */
static bool starved(struct gw_acceptor *a, int err)
{
	starved_begin(a, err);
	if (a->spare >= 0) {
		close(a->spare);
		a->spare = -1;
		int fd = accept4(a->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			a->starved_closed++;
			a->closed_total++;
		}
		a->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && a->spare >= 0)
			return true;
	}
	pause_for(a, a->pause_for);
	a->pause_for = a->pause_for * 2 > PAUSE_MAX ? PAUSE_MAX : a->pause_for * 2;
	if (a->spare < 0)
		a->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return false;
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_acceptor *a = container_of(w, struct gw_acceptor, io);
	for (int i = 0; i < a->batch && !a->held; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(a->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				if (starved(a, errno))
					continue;
				return;
			}
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				/* anything else: say so (folded if it repeats) and look
				 * again a little later instead of spinning */
				gw_warn("%s: accept: %s", a->what, strerror(errno));
				pause_for(a, PAUSE_MIN);
			}
			return;
		}
		starved_end(a);
		a->fn(a->arg, fd, &ss);
	}
}

void gw_acceptor_start(struct gw_acceptor *a, struct ev_loop *loop, int listen_fd, int batch, const char *what,
		       gw_accept_fn fn, void *arg)
{
	memset(a, 0, sizeof(*a));
	a->loop = loop;
	a->fd = listen_fd;
	a->batch = batch > 0 ? batch : 1;
	a->pause_for = PAUSE_MIN;
	a->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	snprintf(a->what, sizeof(a->what), "%s", what);
	a->fn = fn;
	a->arg = arg;
	ev_init(&a->pause, pause_cb);
	ev_io_init(&a->io, accept_cb, listen_fd, EV_READ);
	ev_io_start(loop, &a->io);
}

void gw_acceptor_hold(struct gw_acceptor *a, bool hold)
{
	if (!a->loop || a->held == hold)
		return;
	a->held = hold;
	if (hold)
		ev_io_stop(a->loop, &a->io);
	else if (!ev_is_active(&a->pause))
		ev_io_start(a->loop, &a->io);
}

int gw_acceptor_release(struct gw_acceptor *a)
{
	if (!a->loop)
		return -1;
	int fd = a->fd;
	ev_io_stop(a->loop, &a->io);
	ev_timer_stop(a->loop, &a->pause);
	if (a->spare >= 0)
		close(a->spare);
	a->fd = a->spare = -1;
	a->loop = NULL;
	return fd;
}

void gw_acceptor_stop(struct gw_acceptor *a)
{
	int fd = gw_acceptor_release(a);
	if (fd >= 0)
		close(fd);
}
