/* SPDX-License-Identifier: MIT */
/* gateway/wire/socketcan.c - the SocketCAN transport of a CAN port (see
 * can.h): a raw CAN socket bound to one interface (can0), non-blocking,
 * read by an ev_io.
 *
 * An interface that is missing or down (ENODEV, ENETDOWN), a kernel
 * without CAN (EAFNOSUPPORT) or a socket error closes the port and opens
 * it again after the shared backoff, the outage logged once.  A full
 * transmit queue (ENOBUFS, EAGAIN: nothing acknowledges the frames, no
 * inverter on the bus) drops the frame; the generic port counts it.
 *
 * The socket asks for the controller's error frames (CAN_RAW_ERR_FILTER):
 * a bus-off makes the port down (its owner shows it, logged once) until the
 * kernel restarts the controller, which it does only with the interface's
 * restart-ms (ip link set can0 type can bitrate 500000 restart-ms 100);
 * without it the interface stays dead until it is set down and up.
 *
 * A listening port (a battery's bus read by a pack) sets a receive filter
 * (CAN_RAW_FILTER): only data frames of the pack's identifiers (standard,
 * and extended where its protocol reads them) reach the socket; it is never written to (can.c refuses first).  Whether
 * the controller acknowledges frames is the interface's setting, not the
 * socket's (ip link set can0 type can ... listen-only on).
 */
#include <errno.h>
#include <linux/can.h>
#include <linux/can/error.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../core/log.h"
#include "../core/retry.h"
#include "../core/util.h"
#include "can.h"

struct gw_can_sock {
	struct gw_link_env *env;
	struct gw_can *up;             /* the generic port it reports to */
	char ifname[IFNAMSIZ];
	int fd;
	bool busoff;                   /* the controller is bus-off: the port is down */
	bool filtered;                 /* receive only what flt passes (gw_can_sock_filter()) */
	struct gw_can_filter flt;
	ev_io io;
	ev_timer retry;
	struct gw_retry rt;
};

static void sock_close(struct gw_can_sock *s, const char *why, int err)
{
	bool was_up = s->fd >= 0;
	ev_io_stop(s->env->loop, &s->io);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	char who[IFNAMSIZ + 16], text[160];
	snprintf(who, sizeof(who), "can %s", s->ifname);
	snprintf(text, sizeof(text), "%s: %s", why, strerror(err));
	ev_timer_stop(s->env->loop, &s->retry);
	ev_timer_set(&s->retry, gw_retry_failed(&s->rt, who, text), 0.);
	ev_timer_start(s->env->loop, &s->retry);
	if (was_up)
		gw_can_down(s->up);
}

/* A frame the kernel gave us, as the port hands it on. */
static void from_kernel(const struct can_frame *k, struct gw_can_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->ext = (k->can_id & CAN_EFF_FLAG) != 0;
	f->rtr = (k->can_id & CAN_RTR_FLAG) != 0;
	f->id = k->can_id & (f->ext ? CAN_EFF_MASK : CAN_SFF_MASK);
	f->dlc = k->can_dlc > 8 ? 8 : k->can_dlc;
	if (!f->rtr)
		memcpy(f->data, k->data, f->dlc);
}

enum gw_can_err gw_can_err_class(uint32_t can_id)
{
	if (!(can_id & CAN_ERR_FLAG))
		return GW_CAN_ERR_OTHER;
	if (can_id & CAN_ERR_BUSOFF)
		return GW_CAN_ERR_BUSOFF;
	if (can_id & CAN_ERR_RESTARTED)
		return GW_CAN_ERR_RESTARTED;
	return GW_CAN_ERR_OTHER;
}

/* An error frame: bus-off takes the port down, a restart brings it back;
 * each said once. */
static void error_frame(struct gw_can_sock *s, const struct can_frame *k)
{
	enum gw_can_err e = gw_can_err_class(k->can_id);
	if (e == GW_CAN_ERR_BUSOFF && !s->busoff) {
		s->busoff = true;
		gw_warn("can %s: bus-off (the controller stopped: nothing acknowledges its frames, or the wiring is "
			"faulty); it comes back only if the interface has restart-ms set", s->ifname);
		gw_can_down(s->up);
	} else if (e == GW_CAN_ERR_RESTARTED && s->busoff) {
		s->busoff = false;
		gw_info("can %s: the controller restarted after bus-off", s->ifname);
		gw_can_up(s->up);
	}
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_can_sock *s = container_of(w, struct gw_can_sock, io);
	for (int i = 0; i < 64; i++) {
		struct can_frame k;
		ssize_t n = read(s->fd, &k, sizeof(k));
		if (n == (ssize_t)sizeof(k)) {
			if (k.can_id & CAN_ERR_FLAG) {
				error_frame(s, &k);
				continue;
			}
			struct gw_can_frame f;
			from_kernel(&k, &f);
			gw_can_frame_in(s->up, &f);
			if (s->fd < 0)
				return;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		sock_close(s, "read", n < 0 ? errno : EIO);
		return;
	}
}

/* Open, find the interface, bind: the fd, or -1 with errno (and what failed). */
static int sock_open(struct gw_can_sock *s, const char **what)
{
	*what = "socket";
	int fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
	if (fd < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", s->ifname);
	*what = "interface";
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		goto fail;
	struct sockaddr_can addr;
	memset(&addr, 0, sizeof(addr));
	addr.can_family = AF_CAN;
	addr.can_ifindex = ifr.ifr_ifindex;
	*what = "bind";
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto fail;
	/* data frames whose id matches: the EFF and RTR flags are in the mask,
	 * RTR clear in the id, EFF set for the extended ones */
	struct can_filter flt[2] = {
		{ s->flt.id & CAN_SFF_MASK, (s->flt.mask & CAN_SFF_MASK) | CAN_EFF_FLAG | CAN_RTR_FLAG },
		{ (s->flt.ext_id & CAN_EFF_MASK) | CAN_EFF_FLAG, (s->flt.ext_mask & CAN_EFF_MASK) | CAN_EFF_FLAG | CAN_RTR_FLAG },
	};
	socklen_t nflt = (socklen_t)(s->flt.ext_mask ? sizeof(flt) : sizeof(flt[0]));
	*what = "receive filter";
	if (s->filtered && setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, flt, nflt) < 0)
		goto fail;
	can_err_mask_t errs = CAN_ERR_BUSOFF | CAN_ERR_RESTARTED;
	*what = "error filter";
	if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &errs, sizeof(errs)) < 0)
		goto fail;
	return fd;
fail: {
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}
}

void gw_can_sock_open(struct gw_can_sock *s)
{
	const char *what;
	int fd = sock_open(s, &what);
	if (fd < 0) {
		s->fd = -1;
		sock_close(s, what, errno);
		return;
	}
	s->fd = fd;
	s->busoff = false;
	ev_io_init(&s->io, io_cb, fd, EV_READ);
	ev_io_start(s->env->loop, &s->io);
	double outage = gw_retry_up(&s->rt);
	if (outage >= 0)
		gw_info("can %s: back after %.0f s", s->ifname, outage);
	else
		gw_info("can %s: open", s->ifname);
	gw_can_up(s->up);
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	gw_can_sock_open(container_of(w, struct gw_can_sock, retry));
}

int gw_can_sock_send(struct gw_can_sock *s, const struct gw_can_frame *f)
{
	if (s->fd < 0 || s->busoff)
		return -1;
	struct can_frame k;
	memset(&k, 0, sizeof(k));
	k.can_id = f->id | (f->ext ? CAN_EFF_FLAG : 0) | (f->rtr ? CAN_RTR_FLAG : 0);
	k.can_dlc = f->dlc > 8 ? 8 : f->dlc;
	memcpy(k.data, f->data, k.can_dlc);
	ssize_t n = write(s->fd, &k, sizeof(k));
	if (n == (ssize_t)sizeof(k))
		return 0;
	if (n < 0 && (errno == EAGAIN || errno == ENOBUFS || errno == EINTR))
		return -1; /* the queue is full: dropped */
	sock_close(s, "write", n < 0 ? errno : EIO);
	return -1;
}

bool gw_can_sock_is_up(const struct gw_can_sock *s)
{
	return s->fd >= 0 && !s->busoff;
}

struct gw_can_sock *gw_can_sock_new(struct gw_link_env *env, const char *ifname, struct gw_can *up)
{
	struct gw_can_sock *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->env = env;
	s->up = up;
	s->fd = -1;
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	gw_retry_init(&s->rt);
	ev_init(&s->retry, retry_cb);
	ev_init(&s->io, io_cb);
	return s;
}

void gw_can_sock_filter(struct gw_can_sock *s, const struct gw_can_filter *flt)
{
	s->filtered = true;
	s->flt = *flt;
}

void gw_can_sock_free(struct gw_can_sock *s)
{
	if (!s)
		return;
	ev_io_stop(s->env->loop, &s->io);
	ev_timer_stop(s->env->loop, &s->retry);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}
