/*
 * rdprobe_net: the native piece of rdprobe's path-MTU measurement (plain N-API, C11, no dependencies).
 *
 * It exposes only what Node itself cannot do:
 *   setsockopt / getsockopt (integer options) on a descriptor
 *   tcpSocket(family, mss)          a TCP socket with TCP_MAXSEG set BEFORE connect, to hand to net.Socket({ fd })
 *   openProbe(kind, family, addr)   a connected ICMP echo socket (unprivileged "ping" socket, SOCK_DGRAM/IPPROTO_ICMP,
 *                                   or a raw socket when privileged) or a UDP socket, with DF forced
 *                                   (IP_PMTUDISC_PROBE: DF set, cached PMTU ignored) and IP_RECVERR on
 *   probe(fd, request)              one DF probe of an exact IP packet size: send, then wait for the echo reply / UDP
 *                                   answer or an error-queue entry (ICMP frag-needed with next-hop MTU and reporting
 *                                   router, port unreachable, local EMSGSIZE). Returns a Promise.
 *   routeInfo(family, addr, port)   local address, interface, interface MTU and route MTU towards addr (no packet sent)
 *   close(fd)
 *   reachOpen / reachConnect / reachCancel / reachRef / reachClose
 *                                   a batch TCP connect engine on its own thread for reach scans (Linux), see below
 *
 * Event loop: probe() runs send + poll() in N-API async work (libuv thread pool), never on the JS thread. Each call is
 * bounded by its own deadline (timeoutMs, capped at 10 s here), so a probe can never hang; the caller issues one probe
 * at a time per socket and must not close a socket while a probe on it is pending.
 *
 * Linux first (ip(7), IP_MTU_DISCOVER(2const), IP_RECVERR(2const), icmp(7)). Elsewhere the probe functions throw
 * 'unsupported on this platform' (code ENOTSUP); setsockopt/getsockopt/tcpSocket/close/routeInfo stay available.
 */
#define _GNU_SOURCE
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#define RDPROBE_HAVE_PROBES 1
/* uapi linux/icmp.h (not included: it drags in linux/if.h, which clashes with net/if.h) */
#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif
struct rdprobe_icmp_filter {
  uint32_t data;
};
#else
#define RDPROBE_HAVE_PROBES 0
#endif

#define RDPROBE_ABI 1
#define MAX_TIMEOUT_MS 10000
#define MAX_IP_PACKET 65575 /* IPv6: 40-byte header + 65535 payload; IPv4 tops out at 65535 */

/* ------------------------------------------------------------------------------------------------------------- */
/* N-API helpers                                                                                                 */

#define CHECK(call)                                                                                                \
  do {                                                                                                             \
    if ((call) != napi_ok) {                                                                                       \
      napi_throw_error(env, "RDPROBE_NAPI", "N-API call failed: " #call);                                          \
      return NULL;                                                                                                 \
    }                                                                                                              \
  } while (0)

static const char *errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOTSOCK: return "ENOTSOCK";
    case EMSGSIZE: return "EMSGSIZE";
    case EPROTOTYPE: return "EPROTOTYPE";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENETDOWN: return "ENETDOWN";
    case ENETUNREACH: return "ENETUNREACH";
    case ECONNABORTED: return "ECONNABORTED";
    case ECONNRESET: return "ECONNRESET";
    case ENOBUFS: return "ENOBUFS";
    case ENOTCONN: return "ENOTCONN";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EHOSTDOWN: return "EHOSTDOWN";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EPROTO: return "EPROTO";
    default: return "EUNKNOWN";
  }
}

/* Throw an Error carrying code (errno name), errno (positive number) and syscall, like Node's own errors. */
static void throw_errno(napi_env env, const char *syscall, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s (%s)", syscall, strerror(err), errno_name(err));
  napi_value m, code, e, num, sc;
  if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m) != napi_ok) return;
  if (napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code) != napi_ok) return;
  if (napi_create_error(env, code, m, &e) != napi_ok) return;
  napi_create_int32(env, err, &num);
  napi_set_named_property(env, e, "errno", num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, e, "syscall", sc);
  napi_throw(env, e);
}

static void throw_code(napi_env env, const char *code, const char *msg) { napi_throw_error(env, code, msg); }

static int arg_int(napi_env env, napi_value v, const char *what, int32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a number", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return 0;
  }
  double d;
  napi_get_value_double(env, v, &d);
  if (d != (double)(int32_t)d) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a 32-bit integer", what);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return 0;
  }
  *out = (int32_t)d;
  return 1;
}

static int arg_fd(napi_env env, napi_value v, int *fd) {
  int32_t x;
  if (!arg_int(env, v, "fd", &x)) return 0;
  if (x < 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "fd must be >= 0");
    return 0;
  }
  *fd = x;
  return 1;
}

static int arg_string(napi_env env, napi_value v, const char *what, char *buf, size_t cap) {
  napi_valuetype t;
  size_t len = 0;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a string", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return 0;
  }
  if (napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok || len >= cap - 1) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s is too long", what);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return 0;
  }
  return 1;
}

static int prop_int(napi_env env, napi_value obj, const char *name, int32_t *out, int required, int32_t dflt) {
  bool has = false;
  napi_value v;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok) return 0;
  if (!has) {
    if (required) {
      char msg[128];
      snprintf(msg, sizeof msg, "request.%s is required", name);
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
      return 0;
    }
    *out = dflt;
    return 1;
  }
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return 0;
  char what[64];
  snprintf(what, sizeof what, "request.%s", name);
  return arg_int(env, v, what, out);
}

static void set_int(napi_env env, napi_value obj, const char *name, int64_t v) {
  napi_value x;
  napi_create_int64(env, v, &x);
  napi_set_named_property(env, obj, name, x);
}
static void set_double(napi_env env, napi_value obj, const char *name, double v) {
  napi_value x;
  napi_create_double(env, v, &x);
  napi_set_named_property(env, obj, name, x);
}
static void set_str(napi_env env, napi_value obj, const char *name, const char *s) {
  napi_value x;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &x);
  napi_set_named_property(env, obj, name, x);
}

/* Parse "family" (4|6) + textual address (+ port) into a sockaddr. */
static int make_sockaddr(napi_env env, int32_t family, const char *addr, int32_t port, struct sockaddr_storage *ss,
                         socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (port < 0 || port > 65535) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "port must be 0..65535");
    return 0;
  }
  if (family == 4) {
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1) {
      throw_code(env, "ERR_INVALID_IP_ADDRESS", "not an IPv4 address literal");
      return 0;
    }
    *len = sizeof *s4;
    return 1;
  }
  if (family == 6) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1) {
      throw_code(env, "ERR_INVALID_IP_ADDRESS", "not an IPv6 address literal (no scope ids)");
      return 0;
    }
    *len = sizeof *s6;
    return 1;
  }
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "family must be 4 or 6");
  return 0;
}

static void sockaddr_text(const struct sockaddr *sa, char *out, size_t cap) {
  out[0] = 0;
  if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, cap);
  else if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, cap);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------------------------------------------------- */
/* setsockopt / getsockopt / close / tcpSocket                                                                    */

static napi_value js_setsockopt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  int32_t level, name, value;
  if (argc < 4) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "setsockopt(fd, level, name, value)");
    return NULL;
  }
  if (!arg_fd(env, argv[0], &fd) || !arg_int(env, argv[1], "level", &level) || !arg_int(env, argv[2], "name", &name) ||
      !arg_int(env, argv[3], "value", &value))
    return NULL;
  int v = value;
  if (setsockopt(fd, level, name, &v, sizeof v) != 0) throw_errno(env, "setsockopt", errno);
  return NULL;
}

static napi_value js_getsockopt(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  int32_t level, name;
  if (argc < 3) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "getsockopt(fd, level, name)");
    return NULL;
  }
  if (!arg_fd(env, argv[0], &fd) || !arg_int(env, argv[1], "level", &level) || !arg_int(env, argv[2], "name", &name))
    return NULL;
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) != 0) {
    throw_errno(env, "getsockopt", errno);
    return NULL;
  }
  CHECK(napi_create_int32(env, v, &out));
  return out;
}

/* getsockoptBytes(fd, level, name, maxLen) -> Buffer: for structured options such as TCP_INFO, whose layout
 * (linux/tcp.h struct tcp_info) only ever grows at the end, so the caller parses the bytes it got. */
static napi_value js_getsockopt_bytes(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  int32_t level, name, max_len;
  if (argc < 4) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "getsockoptBytes(fd, level, name, maxLen)");
    return NULL;
  }
  if (!arg_fd(env, argv[0], &fd) || !arg_int(env, argv[1], "level", &level) || !arg_int(env, argv[2], "name", &name) ||
      !arg_int(env, argv[3], "maxLen", &max_len))
    return NULL;
  if (max_len < 1 || max_len > 4096) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "maxLen must be 1..4096");
    return NULL;
  }
  uint8_t buf[4096];
  socklen_t len = (socklen_t)max_len;
  memset(buf, 0, (size_t)max_len);
  if (getsockopt(fd, level, name, buf, &len) != 0) {
    throw_errno(env, "getsockopt", errno);
    return NULL;
  }
  void *data;
  CHECK(napi_create_buffer_copy(env, len, buf, &data, &out));
  return out;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  if (argc < 1 || !arg_fd(env, argv[0], &fd)) return NULL;
  if (close(fd) != 0 && errno != EINTR) throw_errno(env, "close", errno);
  return NULL;
}

static int set_cloexec(int fd) {
  int flags = fcntl(fd, F_GETFD);
  return flags < 0 ? -1 : fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

/* tcpSocket(family, mss): an unconnected TCP socket whose SYN will advertise (and whose segments respect) mss.
 * TCP_MAXSEG must be set before connect() for the SYN's MSS option to carry it (tcp(7)). */
static napi_value js_tcp_socket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family, mss;
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "tcpSocket(family, mss)");
    return NULL;
  }
  if (!arg_int(env, argv[0], "family", &family) || !arg_int(env, argv[1], "mss", &mss)) return NULL;
  if (family != 4 && family != 6) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "family must be 4 or 6");
    return NULL;
  }
  if (mss < 88 || mss > 32767) { /* Linux accepts TCP_MIN_MSS (88) .. MAX_TCP_WINDOW (32767) */
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "mss must be 88..32767");
    return NULL;
  }
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM, IPPROTO_TCP);
  if (fd < 0) {
    throw_errno(env, "socket", errno);
    return NULL;
  }
  set_cloexec(fd);
  int v = mss;
  if (setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof v) != 0) {
    int e = errno;
    close(fd);
    throw_errno(env, "setsockopt(TCP_MAXSEG)", e);
    return NULL;
  }
  CHECK(napi_create_int32(env, fd, &out));
  return out;
}

/* ------------------------------------------------------------------------------------------------------------- */
/* routeInfo: which local address / interface / MTU a packet to addr would use. connect() on a UDP socket only     */
/* selects the route; nothing is sent.                                                                            */

static napi_value js_route_info(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family, port = 9;
  char addr[INET6_ADDRSTRLEN + 1];
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "routeInfo(family, address[, port])");
    return NULL;
  }
  if (!arg_int(env, argv[0], "family", &family) || !arg_string(env, argv[1], "address", addr, sizeof addr)) return NULL;
  if (argc >= 3 && !arg_int(env, argv[2], "port", &port)) return NULL;
  if (port == 0) port = 9;
  struct sockaddr_storage ss;
  socklen_t sl;
  if (!make_sockaddr(env, family, addr, port, &ss, &sl)) return NULL;
  int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
  if (fd < 0) {
    throw_errno(env, "socket", errno);
    return NULL;
  }
  set_cloexec(fd);
  if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
    int e = errno;
    close(fd);
    throw_errno(env, "connect", e);
    return NULL;
  }
  struct sockaddr_storage local;
  socklen_t ll = sizeof local;
  char ltext[INET6_ADDRSTRLEN] = "";
  if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0) sockaddr_text((struct sockaddr *)&local, ltext, sizeof ltext);
  CHECK(napi_create_object(env, &out));
  if (ltext[0]) set_str(env, out, "localAddress", ltext);
#ifdef __linux__
  {
    int mtu = 0;
    socklen_t ml = sizeof mtu;
    int r = family == 4 ? getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &ml) : getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &ml);
    if (r == 0 && mtu > 0) set_int(env, out, "routeMtu", mtu);
  }
#endif
  struct ifaddrs *ifs = NULL;
  if (ltext[0] && getifaddrs(&ifs) == 0) {
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != local.ss_family) continue;
      int same = local.ss_family == AF_INET
                     ? memcmp(&((struct sockaddr_in *)i->ifa_addr)->sin_addr, &((struct sockaddr_in *)&local)->sin_addr,
                              sizeof(struct in_addr)) == 0
                     : memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
                              &((struct sockaddr_in6 *)&local)->sin6_addr, sizeof(struct in6_addr)) == 0;
      if (!same) continue;
      set_str(env, out, "interface", i->ifa_name);
      struct ifreq ifr;
      memset(&ifr, 0, sizeof ifr);
      strncpy(ifr.ifr_name, i->ifa_name, IFNAMSIZ - 1);
      if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0) set_int(env, out, "interfaceMtu", ifr.ifr_mtu);
      break;
    }
    freeifaddrs(ifs);
  }
  close(fd);
  return out;
}

/* ------------------------------------------------------------------------------------------------------------- */
/* DF probes (Linux)                                                                                              */

enum probe_kind { K_PING = 0, K_RAW = 1, K_UDP = 2 };
static const char *kind_names[] = {"ping", "raw", "udp"};

static int kind_from_string(const char *s) {
  for (int i = 0; i < 3; i++)
    if (strcmp(s, kind_names[i]) == 0) return i;
  return -1;
}

#if RDPROBE_HAVE_PROBES

/* openProbe(kind, family, address, port) → { fd, ident }
 * ping: SOCK_DGRAM/IPPROTO_ICMP(V6), allowed when the caller's gid is inside net.ipv4.ping_group_range (icmp(7));
 *       the kernel owns the echo identifier (the socket's "port"), we read it back with getsockname().
 * raw:  SOCK_RAW/IPPROTO_ICMP(V6), needs CAP_NET_RAW; ICMP_FILTER lets only echo replies through to recv().
 * udp:  SOCK_DGRAM to address:port, no privilege needed.
 * All: connected (so the kernel filters other peers), IP_MTU_DISCOVER = IP_PMTUDISC_PROBE (DF set, cached PMTU
 * ignored, so sizes above a cached value still leave), IP_RECVERR = 1 (ICMP errors queued with details). */
static napi_value js_open_probe(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char kind_s[16], addr[INET6_ADDRSTRLEN + 1];
  int32_t family, port = 0;
  if (argc < 3) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "openProbe(kind, family, address[, port])");
    return NULL;
  }
  if (!arg_string(env, argv[0], "kind", kind_s, sizeof kind_s) || !arg_int(env, argv[1], "family", &family) ||
      !arg_string(env, argv[2], "address", addr, sizeof addr))
    return NULL;
  if (argc >= 4 && !arg_int(env, argv[3], "port", &port)) return NULL;
  int kind = kind_from_string(kind_s);
  if (kind < 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "kind must be 'ping', 'raw' or 'udp'");
    return NULL;
  }
  if (kind != K_UDP) port = 0;
  else if (port <= 0 || port > 65535) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "udp probes need a port 1..65535");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t sl;
  if (!make_sockaddr(env, family, addr, port, &ss, &sl)) return NULL;
  int af = family == 4 ? AF_INET : AF_INET6;
  int type = kind == K_RAW ? SOCK_RAW : SOCK_DGRAM;
  int proto = kind == K_UDP ? IPPROTO_UDP : (family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
  int fd = socket(af, type | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
  if (fd < 0) {
    throw_errno(env, kind == K_PING ? "socket(ping)" : kind == K_RAW ? "socket(raw)" : "socket(udp)", errno);
    return NULL;
  }
  int one = 1, e = 0;
  const char *what = NULL;
  if (family == 4) {
    int pmtu = IP_PMTUDISC_PROBE;
    if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu) != 0) what = "setsockopt(IP_MTU_DISCOVER)";
    else if (setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one) != 0) what = "setsockopt(IP_RECVERR)";
    else if (kind == K_RAW) {
      struct rdprobe_icmp_filter f = {~(1u << 0)}; /* pass only type 0, echo reply (RFC 792) */
      if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof f) != 0) what = "setsockopt(ICMP_FILTER)";
    }
  } else {
    int pmtu = IPV6_PMTUDISC_PROBE;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu) != 0) what = "setsockopt(IPV6_MTU_DISCOVER)";
    else if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one) != 0) what = "setsockopt(IPV6_RECVERR)";
    else if (kind == K_RAW) {
      struct icmp6_filter f;
      ICMP6_FILTER_SETBLOCKALL(&f);
      ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f); /* RFC 4443 type 129 */
      if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f) != 0) what = "setsockopt(ICMP6_FILTER)";
    }
  }
  if (!what && connect(fd, (struct sockaddr *)&ss, sl) != 0) what = "connect";
  if (what) {
    e = errno;
    close(fd);
    throw_errno(env, what, e);
    return NULL;
  }
  int ident = 0;
  if (kind == K_PING) {
    struct sockaddr_storage local;
    socklen_t ll = sizeof local;
    if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0)
      ident = ntohs(local.ss_family == AF_INET ? ((struct sockaddr_in *)&local)->sin_port
                                               : ((struct sockaddr_in6 *)&local)->sin6_port);
  }
  CHECK(napi_create_object(env, &out));
  set_int(env, out, "fd", fd);
  set_int(env, out, "ident", ident);
  return out;
}

enum { R_REPLY = 0, R_FRAG, R_EMSGSIZE, R_LOST, R_ICMP_ERROR, R_ERROR };
static const char *result_names[] = {"reply", "frag-needed", "emsgsize", "lost", "icmp-error", "error"};

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  /* request */
  int fd, kind, family, size, timeout_ms;
  uint16_t seq, seq_from, ident;
  uint32_t tag;
  /* result */
  int result, err, has_mtu, has_icmp;
  uint32_t mtu;
  uint8_t icmp_type, icmp_code;
  char from[INET6_ADDRSTRLEN];
  double rtt_ms;
  int reply_bytes, ignored, late;
  const char *syscall;
} probe_t;

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static uint32_t get32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }

/* RFC 1071 Internet checksum (only raw IPv4 ICMP needs it; ping sockets and ICMPv6 have the kernel fill it in). */
static uint16_t inet_csum(const uint8_t *p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)((p[i] << 8) | p[i + 1]);
  if (n & 1) sum += (uint32_t)(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/* Transport payload bytes that make an IP packet of exactly `size` bytes. */
static int payload_len(const probe_t *p) {
  int ip = p->family == 4 ? 20 : 40;
  return p->kind == K_UDP ? p->size - ip - 8 : p->size - ip;
}

/* Sequence numbers seq_from..seq (mod 2^16) belong to this probe: earlier attempts at the same size, so a late
 * answer to a retried probe still counts. */
static int seq_ok(const probe_t *p, uint16_t got) {
  return (uint16_t)(got - p->seq_from) <= (uint16_t)(p->seq - p->seq_from);
}

/* Does a quoted / echoed transport header belong to this probe? (n < header: cannot tell, accept.) */
static int quote_is_mine(const probe_t *p, const uint8_t *q, ssize_t n) {
  if (p->kind == K_UDP) {
    if (n < 6) return 1;
    return get32(q) == p->tag && seq_ok(p, get16(q + 4));
  }
  if (n < 8) return 1;
  uint8_t echo = p->family == 4 ? 8 : 128; /* ICMP echo request (RFC 792) / ICMPv6 (RFC 4443) */
  if (q[0] != echo || !seq_ok(p, get16(q + 6))) return 0;
  return p->kind == K_PING || get16(q + 4) == p->ident;
}

/* Drain the error queue. Returns 1 when an entry for this probe decided the result, 0 when drained, -1 on error. */
static int read_errqueue(probe_t *p, int deciding) {
  for (;;) {
    uint8_t data[256];
    char ctrl[512];
    struct sockaddr_storage name;
    struct iovec iov = {data, sizeof data};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_name = &name;
    msg.msg_namelen = sizeof name;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctrl;
    msg.msg_controllen = sizeof ctrl;
    ssize_t n = recvmsg(p->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      p->err = errno;
      p->syscall = "recvmsg(MSG_ERRQUEUE)";
      return -1;
    }
    struct sock_extended_err *ee = NULL;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
          (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR))
        ee = (struct sock_extended_err *)CMSG_DATA(c);
    }
    if (!ee) continue;
    if (!deciding || !quote_is_mine(p, data, n)) {
      p->ignored++;
      continue;
    }
    const struct sockaddr *off = SO_EE_OFFENDER(ee);
    if (off->sa_family == AF_INET || off->sa_family == AF_INET6) sockaddr_text(off, p->from, sizeof p->from);
    if (ee->ee_origin == SO_EE_ORIGIN_LOCAL) {
      /* Our own stack refused: EMSGSIZE carries the MTU that the packet exceeded (interface or, with DO, route). */
      if (ee->ee_errno == EMSGSIZE) {
        p->result = R_EMSGSIZE;
        p->mtu = ee->ee_info;
        p->has_mtu = ee->ee_info > 0;
      } else {
        p->result = R_ERROR;
        p->err = (int)ee->ee_errno;
        p->syscall = "local error";
      }
      return 1;
    }
    if (ee->ee_origin == SO_EE_ORIGIN_ICMP || ee->ee_origin == SO_EE_ORIGIN_ICMP6) {
      p->has_icmp = 1;
      p->icmp_type = ee->ee_type;
      p->icmp_code = ee->ee_code;
      int frag = ee->ee_origin == SO_EE_ORIGIN_ICMP ? (ee->ee_type == 3 && ee->ee_code == 4) /* RFC 1191 frag-needed */
                                                    : (ee->ee_type == 2);                    /* RFC 4443 packet too big */
      if (frag) {
        p->result = R_FRAG;
        p->mtu = ee->ee_info; /* next-hop MTU from the ICMP message (0 from pre-RFC 1191 routers) */
        p->has_mtu = ee->ee_info > 0;
      } else {
        p->result = R_ICMP_ERROR; /* port/host/net unreachable, admin prohibited, time exceeded … */
        p->err = (int)ee->ee_errno;
      }
      return 1;
    }
    p->ignored++;
  }
}

/* Drain received datagrams. Returns 1 when the expected answer arrived, 0 when drained, -1 on error. */
static int read_replies(probe_t *p, uint8_t *buf, size_t cap, int deciding) {
  for (;;) {
    ssize_t n = recv(p->fd, buf, cap, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      /* A pending socket error (ECONNREFUSED …) is reported here once; the error queue holds the details. */
      if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH || errno == EMSGSIZE ||
          errno == EPROTO || errno == EHOSTDOWN)
        continue;
      p->err = errno;
      p->syscall = "recv";
      return -1;
    }
    if (!deciding) {
      p->ignored++;
      continue;
    }
    if (p->kind == K_UDP) { /* anything from the connected peer proves the datagram arrived */
      p->result = R_REPLY;
      p->reply_bytes = (int)n;
      return 1;
    }
    const uint8_t *icmp = buf;
    ssize_t len = n;
    if (p->kind == K_RAW && p->family == 4) { /* IPv4 raw sockets deliver the IP header too */
      if (n < 20) {
        p->ignored++;
        continue;
      }
      size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
      if (ihl < 20 || (ssize_t)ihl + 8 > n) {
        p->ignored++;
        continue;
      }
      icmp = buf + ihl;
      len = n - (ssize_t)ihl;
    }
    if (len < 8) {
      p->ignored++;
      continue;
    }
    uint8_t reply = p->family == 4 ? 0 : 129; /* echo reply */
    int mine = icmp[0] == reply && icmp[1] == 0 && seq_ok(p, get16(icmp + 6)) &&
               (p->kind == K_PING || get16(icmp + 4) == p->ident);
    if (!mine) {
      p->ignored++;
      continue;
    }
    p->result = R_REPLY;
    p->reply_bytes = (int)len;
    return 1;
  }
}

/* Before sending: an answer to an earlier attempt at this size (seq_from..seq-1) that arrived after that attempt's
 * deadline still decides the probe (returns 1); anything else queued is stale and dropped. */
static int take_pending(probe_t *p, uint8_t *buf, size_t cap) {
  int e, d;
  socklen_t el = sizeof e;
  int deciding = p->seq != p->seq_from;
  d = read_errqueue(p, deciding);
  if (d == 0) d = read_replies(p, buf, cap, deciding);
  getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &el);
  p->ignored = 0;
  return d == 1;
}

static void probe_execute(napi_env env, void *data) {
  probe_t *p = (probe_t *)data;
  int plen = payload_len(p);
  size_t cap = 70000;
  uint8_t *out = calloc(1, (size_t)(plen > 0 ? plen : 1));
  uint8_t *in = malloc(cap);
  p->result = R_ERROR;
  if (!out || !in) {
    p->err = ENOMEM;
    p->syscall = "malloc";
    goto done;
  }
  if (take_pending(p, in, cap)) {
    p->late = 1;
    goto done;
  }
  p->result = R_ERROR;
  if (p->kind == K_UDP) {
    /* 'rdpb' tag + seq lets us match quoted payloads in ICMP errors; bytes 6..7 stay zero so an RDP-UDP listener
     * reads uFlags = 0 (MS-RDPEUDP 2.2.2.1) and ignores the datagram. */
    put32(out, p->tag);
    put16(out + 4, p->seq);
  } else {
    out[0] = p->family == 4 ? 8 : 128; /* echo request */
    out[1] = 0;
    put16(out + 4, p->ident);
    put16(out + 6, p->seq);
    if (plen >= 12) put32(out + 8, p->tag);
    for (int i = 12; i < plen; i++) out[i] = (uint8_t)i;
    if (p->kind == K_RAW && p->family == 4) put16(out + 2, inet_csum(out, (size_t)plen));
  }
  double t0 = now_ms();
  ssize_t s;
  int tries = 0;
  for (;;) {
    s = send(p->fd, out, (size_t)plen, 0);
    if (s >= 0 || errno != EINTR) break;
  }
  while (s < 0 && (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH) && tries++ < 2) {
    /* a stale socket error from an earlier probe surfaced on send(); it has been consumed, send again */
    s = send(p->fd, out, (size_t)plen, 0);
  }
  if (s < 0) {
    int e = errno;
    if (e == EMSGSIZE) {
      /* Larger than the interface MTU (PROBE ignores cached PMTUs). The local error-queue entry carries the MTU. */
      p->result = R_EMSGSIZE;
      if (read_errqueue(p, 1) != 1 || p->result != R_EMSGSIZE) {
        int mtu = 0;
        socklen_t ml = sizeof mtu;
        p->result = R_EMSGSIZE;
        if ((p->family == 4 ? getsockopt(p->fd, IPPROTO_IP, IP_MTU, &mtu, &ml)
                            : getsockopt(p->fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &ml)) == 0 && mtu > 0) {
          p->mtu = (uint32_t)mtu;
          p->has_mtu = 1;
        }
      }
    } else {
      p->result = R_ERROR;
      p->err = e;
      p->syscall = "send";
    }
    p->rtt_ms = now_ms() - t0;
    goto done;
  }
  double deadline = t0 + p->timeout_ms;
  for (;;) {
    double left = deadline - now_ms();
    if (left <= 0) {
      p->result = R_LOST;
      break;
    }
    struct pollfd pfd = {p->fd, POLLIN, 0};
    int r = poll(&pfd, 1, (int)(left + 0.999));
    if (r < 0) {
      if (errno == EINTR) continue;
      p->result = R_ERROR;
      p->err = errno;
      p->syscall = "poll";
      break;
    }
    if (r == 0) continue;
    if (pfd.revents & POLLERR) {
      int d = read_errqueue(p, 1);
      if (d != 0) {
        if (d < 0) p->result = R_ERROR;
        break;
      }
    }
    if (pfd.revents & (POLLIN | POLLERR)) {
      int d = read_replies(p, in, cap, 1);
      if (d != 0) {
        if (d < 0) p->result = R_ERROR;
        break;
      }
    }
    if (pfd.revents & POLLERR) { /* an error without a queue entry: clear it so poll() does not spin */
      int e;
      socklen_t el = sizeof e;
      getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &el);
    }
    if (pfd.revents & POLLNVAL) {
      p->result = R_ERROR;
      p->err = EBADF;
      p->syscall = "poll";
      break;
    }
  }
  p->rtt_ms = now_ms() - t0;
done:
  free(out);
  free(in);
}

static void probe_complete(napi_env env, napi_status status, void *data) {
  probe_t *p = (probe_t *)data;
  napi_value obj;
  if (status != napi_ok || napi_create_object(env, &obj) != napi_ok) {
    napi_value msg, err;
    napi_create_string_utf8(env, "probe was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, p->deferred, err);
  } else {
    set_str(env, obj, "result", result_names[p->result]);
    set_double(env, obj, "ms", p->rtt_ms);
    set_int(env, obj, "size", p->size);
    if (p->has_mtu) set_int(env, obj, "mtu", p->mtu);
    if (p->from[0]) set_str(env, obj, "from", p->from);
    if (p->has_icmp) {
      set_int(env, obj, "icmpType", p->icmp_type);
      set_int(env, obj, "icmpCode", p->icmp_code);
    }
    if (p->err) {
      set_int(env, obj, "errno", p->err);
      set_str(env, obj, "code", errno_name(p->err));
      set_str(env, obj, "message", strerror(p->err));
    }
    if (p->syscall) set_str(env, obj, "syscall", p->syscall);
    if (p->reply_bytes) set_int(env, obj, "replyBytes", p->reply_bytes);
    if (p->ignored) set_int(env, obj, "ignored", p->ignored);
    if (p->late) {
      napi_value t;
      napi_get_boolean(env, true, &t);
      napi_set_named_property(env, obj, "late", t);
    }
    napi_resolve_deferred(env, p->deferred, obj);
  }
  napi_delete_async_work(env, p->work);
  free(p);
}

/* probe(fd, { kind, family, size, seq, seqFrom?, ident?, tag?, timeoutMs }) → Promise<result>
 * seqFrom (default seq): answers carrying any sequence number from seqFrom to seq count (retries of one size). */
static napi_value js_probe(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], promise, name, kv;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "probe(fd, request)");
    return NULL;
  }
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  napi_valuetype t;
  if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_object) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "request must be an object");
    return NULL;
  }
  char kind_s[16];
  CHECK(napi_get_named_property(env, argv[1], "kind", &kv));
  if (!arg_string(env, kv, "request.kind", kind_s, sizeof kind_s)) return NULL;
  int kind = kind_from_string(kind_s);
  if (kind < 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "request.kind must be 'ping', 'raw' or 'udp'");
    return NULL;
  }
  int32_t family, size, seq, seq_from, ident, tag, timeout;
  if (!prop_int(env, argv[1], "family", &family, 1, 0) || !prop_int(env, argv[1], "size", &size, 1, 0) ||
      !prop_int(env, argv[1], "seq", &seq, 1, 0) || !prop_int(env, argv[1], "seqFrom", &seq_from, 0, seq) ||
      !prop_int(env, argv[1], "ident", &ident, 0, 0) ||
      !prop_int(env, argv[1], "tag", &tag, 0, 0x72647062) || !prop_int(env, argv[1], "timeoutMs", &timeout, 1, 0))
    return NULL;
  if (family != 4 && family != 6) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "request.family must be 4 or 6");
    return NULL;
  }
  int min = (family == 4 ? 20 : 40) + 8 + (kind == K_UDP ? 8 : 0);
  int max = family == 4 ? 65535 : MAX_IP_PACKET;
  if (size < min || size > max) {
    char msg[96];
    snprintf(msg, sizeof msg, "request.size must be %d..%d for this kind and family", min, max);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return NULL;
  }
  if (timeout < 1 || timeout > MAX_TIMEOUT_MS) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "request.timeoutMs must be 1..10000");
    return NULL;
  }
  probe_t *p = calloc(1, sizeof *p);
  if (!p) {
    throw_errno(env, "calloc", ENOMEM);
    return NULL;
  }
  p->fd = fd;
  p->kind = kind;
  p->family = family;
  p->size = size;
  p->seq = (uint16_t)seq;
  p->seq_from = (uint16_t)seq_from;
  p->ident = (uint16_t)ident;
  p->tag = (uint32_t)tag;
  p->timeout_ms = timeout;
  if (napi_create_promise(env, &p->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "rdprobe:probe", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, probe_execute, probe_complete, p, &p->work) != napi_ok ||
      napi_queue_async_work(env, p->work) != napi_ok) {
    free(p);
    napi_throw_error(env, "RDPROBE_NAPI", "could not queue the probe");
    return NULL;
  }
  return promise;
}

#else /* !RDPROBE_HAVE_PROBES */

static napi_value unsupported(napi_env env, napi_callback_info info) {
  throw_code(env, "ENOTSUP", "DF probes with the error queue are unsupported on this platform (Linux only)");
  return NULL;
}
#define js_open_probe unsupported
#define js_probe unsupported

#endif

/* ------------------------------------------------------------------------------------------------------------- */
/* Batch TCP connect engine for reach scans (Linux: epoll + eventfd)                                              */
/*                                                                                                               */
/* One background thread per engine does non-blocking connect() to many addresses at once and reports, per       */
/* request id, 0 (the handshake completed), a positive errno (ECONNREFUSED, EHOSTUNREACH, EMFILE …) or ETIMEDOUT  */
/* (its own deadline passed), with the milliseconds it took. A connection that completes is closed at once with    */
/* SO_LINGER {1, 0} (socket(7)): close() then sends RST instead of FIN, as nmap -sT does, so neither side keeps a  */
/* TIME_WAIT entry (hundreds of thousands of those slow connect() down for the rest of a large scan).             */
/*                                                                                                               */
/* JS thread → engine: reachConnect() / reachCancel() append to queues under a mutex and wake the thread through  */
/* an eventfd. Engine → JS thread: results accumulate in a buffer; one napi_threadsafe_function call is scheduled */
/* when the buffer goes from empty to non-empty, so while the JS thread is busy results collect into one batch.   */
/* Deadlines sit in one binary min-heap (no timer per connection); socket events of a turn are handled before its */
/* deadlines, so an answer that lands together with the deadline wins over it (as transport/tcp.ts does).         */

#if defined(__linux__)
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#define RDPROBE_HAVE_REACH 1

typedef struct {
  int32_t id;
  int32_t timeout_ms;
  struct sockaddr_storage ss;
  socklen_t sl;
} reach_req;

typedef struct {
  int32_t id;
  int32_t err; /* 0 = open, > 0 = errno */
  double ms;
} reach_res;

typedef struct {
  int fd;
  int32_t id;
  uint32_t gen;
  int live;
  double start;
} reach_slot;

typedef struct {
  double deadline;
  uint32_t slot;
  uint32_t gen;
} reach_heap_ent;

typedef struct {
  void *p;
  size_t n, cap, size;
} vec_t;

static int vec_push(vec_t *v, const void *item) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 64;
    void *np = realloc(v->p, cap * v->size);
    if (!np) return 0;
    v->p = np;
    v->cap = cap;
  }
  memcpy((char *)v->p + v->n * v->size, item, v->size);
  v->n++;
  return 1;
}

typedef struct reach_engine {
  pthread_t thread;
  int thread_started;
  int epfd, evfd;
  pthread_mutex_t mu;
  /* shared, under mu */
  vec_t sub;     /* reach_req */
  vec_t cancel;  /* int32_t ids */
  vec_t res;     /* reach_res */
  int scheduled; /* a threadsafe call is queued and has not taken res yet */
  int stopping;
  /* JS thread only */
  int stopped;
  int refs; /* external wrapper + threadsafe function: freed when both are finalized */
  napi_env env;
  napi_threadsafe_function tsfn;
  /* engine thread only */
  vec_t slots; /* reach_slot */
  vec_t freel; /* uint32_t free slot indexes */
  vec_t heap;  /* reach_heap_ent */
  vec_t local; /* reach_res produced in this turn */
} reach_engine;

#define REACH_WAKE_TAG UINT64_MAX

static void heap_push(vec_t *h, reach_heap_ent e) {
  if (!vec_push(h, &e)) return;
  reach_heap_ent *a = h->p;
  size_t i = h->n - 1;
  while (i > 0) {
    size_t up = (i - 1) / 2;
    if (a[up].deadline <= a[i].deadline) break;
    reach_heap_ent t = a[up];
    a[up] = a[i];
    a[i] = t;
    i = up;
  }
}

static void heap_pop(vec_t *h) {
  reach_heap_ent *a = h->p;
  if (!h->n) return;
  a[0] = a[--h->n];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->n && a[l].deadline < a[m].deadline) m = l;
    if (r < h->n && a[r].deadline < a[m].deadline) m = r;
    if (m == i) break;
    reach_heap_ent t = a[m];
    a[m] = a[i];
    a[i] = t;
    i = m;
  }
}

static void reach_result(reach_engine *e, int32_t id, int32_t err, double ms) {
  reach_res r = {id, err, ms};
  vec_push(&e->local, &r);
}

static void reach_release_slot(reach_engine *e, uint32_t idx) {
  reach_slot *s = (reach_slot *)e->slots.p + idx;
  s->live = 0;
  s->fd = -1;
  s->gen++;
  vec_push(&e->freel, &idx);
}

/* Close an established connection with RST (SO_LINGER on, linger time 0: socket(7)). */
static void reach_close_rst(int fd) {
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(fd);
}

static void reach_start(reach_engine *e, const reach_req *q) {
  double start = now_ms();
  int fd = socket(q->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) { /* EMFILE / ENFILE / ENOBUFS: reported as such, the scan's descriptor governor backs off */
    reach_result(e, q->id, errno, now_ms() - start);
    return;
  }
  int r;
  do r = connect(fd, (const struct sockaddr *)&q->ss, q->sl);
  while (r != 0 && errno == EINTR);
  if (r == 0) {
    reach_close_rst(fd);
    reach_result(e, q->id, 0, now_ms() - start);
    return;
  }
  if (errno != EINPROGRESS) {
    int err = errno;
    close(fd);
    reach_result(e, q->id, err, now_ms() - start);
    return;
  }
  uint32_t idx;
  if (e->freel.n) {
    idx = ((uint32_t *)e->freel.p)[--e->freel.n];
  } else {
    reach_slot blank = {-1, 0, 0, 0, 0};
    if (!vec_push(&e->slots, &blank)) {
      close(fd);
      reach_result(e, q->id, ENOMEM, now_ms() - start);
      return;
    }
    idx = (uint32_t)(e->slots.n - 1);
  }
  reach_slot *s = (reach_slot *)e->slots.p + idx;
  s->fd = fd;
  s->id = q->id;
  s->live = 1;
  s->start = start;
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLOUT;
  ev.data.u64 = ((uint64_t)s->gen << 32) | idx;
  if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int err = errno;
    close(fd);
    reach_release_slot(e, idx);
    reach_result(e, q->id, err, now_ms() - start);
    return;
  }
  reach_heap_ent he = {start + q->timeout_ms, idx, s->gen};
  heap_push(&e->heap, he);
}

static void reach_complete(reach_engine *e, uint64_t tag, uint32_t events) {
  uint32_t idx = (uint32_t)(tag & 0xffffffffu), gen = (uint32_t)(tag >> 32);
  if (idx >= e->slots.n) return;
  reach_slot *s = (reach_slot *)e->slots.p + idx;
  if (!s->live || s->gen != gen) return;
  int err = 0;
  socklen_t el = sizeof err;
  if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) err = errno;
  if (err == 0 && (events & (EPOLLERR | EPOLLHUP))) err = ECONNRESET;
  if (err == 0) reach_close_rst(s->fd);
  else close(s->fd); /* epoll forgets a descriptor when it is closed */
  reach_result(e, s->id, err, now_ms() - s->start);
  reach_release_slot(e, idx);
}

static void reach_expire(reach_engine *e) {
  double now = now_ms();
  while (e->heap.n) {
    reach_heap_ent top = ((reach_heap_ent *)e->heap.p)[0];
    reach_slot *s = (reach_slot *)e->slots.p + top.slot;
    if (!s->live || s->gen != top.gen) {
      heap_pop(&e->heap);
      continue;
    }
    if (top.deadline > now) break;
    heap_pop(&e->heap);
    close(s->fd); /* still SYN-SENT: nothing to reset */
    reach_result(e, s->id, ETIMEDOUT, now - s->start);
    reach_release_slot(e, top.slot);
  }
}

static int reach_next_timeout(reach_engine *e) {
  while (e->heap.n) {
    reach_heap_ent top = ((reach_heap_ent *)e->heap.p)[0];
    reach_slot *s = (reach_slot *)e->slots.p + top.slot;
    if (s->live && s->gen == top.gen) {
      double left = top.deadline - now_ms();
      return left <= 0 ? 0 : (int)(left + 0.999);
    }
    heap_pop(&e->heap);
  }
  return -1;
}

static void *reach_thread(void *arg) {
  reach_engine *e = arg;
  struct epoll_event evs[256];
  vec_t sub = {NULL, 0, 0, sizeof(reach_req)}, cancel = {NULL, 0, 0, sizeof(int32_t)};
  for (;;) {
    int n = epoll_wait(e->epfd, evs, 256, reach_next_timeout(e));
    if (n < 0 && errno != EINTR) break;
    int woken = 0;
    for (int i = 0; i < n; i++) {
      if (evs[i].data.u64 == REACH_WAKE_TAG) woken = 1;
      else reach_complete(e, evs[i].data.u64, evs[i].events);
    }
    reach_expire(e);
    if (woken) {
      uint64_t v;
      if (read(e->evfd, &v, sizeof v) < 0) { /* EAGAIN: already drained */
      }
      pthread_mutex_lock(&e->mu);
      int stopping = e->stopping;
      vec_t ts = e->sub, tc = e->cancel;
      e->sub = sub;
      e->cancel = cancel;
      sub = ts;
      cancel = tc;
      pthread_mutex_unlock(&e->mu);
      if (stopping) break;
      for (size_t i = 0; i < sub.n; i++) reach_start(e, (reach_req *)sub.p + i);
      for (size_t i = 0; i < cancel.n; i++) {
        int32_t id = ((int32_t *)cancel.p)[i];
        for (uint32_t j = 0; j < e->slots.n; j++) {
          reach_slot *s = (reach_slot *)e->slots.p + j;
          if (s->live && s->id == id) {
            close(s->fd);
            reach_release_slot(e, j);
            break;
          }
        }
      }
      sub.n = 0;
      cancel.n = 0;
    }
    if (e->local.n) {
      pthread_mutex_lock(&e->mu);
      reach_res *r = e->local.p;
      for (size_t i = 0; i < e->local.n; i++) vec_push(&e->res, r + i);
      e->local.n = 0;
      int call = !e->scheduled;
      e->scheduled = 1;
      pthread_mutex_unlock(&e->mu);
      if (call && napi_call_threadsafe_function(e->tsfn, NULL, napi_tsfn_nonblocking) != napi_ok) {
        pthread_mutex_lock(&e->mu);
        e->scheduled = 0; /* closing (or the queue is full, which one pending call cannot make it) */
        pthread_mutex_unlock(&e->mu);
      }
    }
  }
  for (uint32_t j = 0; j < e->slots.n; j++) {
    reach_slot *s = (reach_slot *)e->slots.p + j;
    if (s->live) close(s->fd), s->live = 0;
  }
  free(sub.p);
  free(cancel.p);
  return NULL;
}

static void reach_free(reach_engine *e) {
  if (--e->refs > 0) return;
  pthread_mutex_destroy(&e->mu);
  free(e->sub.p);
  free(e->cancel.p);
  free(e->res.p);
  free(e->slots.p);
  free(e->freel.p);
  free(e->heap.p);
  free(e->local.p);
  free(e);
}

/* Stop the thread and forget everything in flight (JS thread). Idempotent. */
static void reach_stop(reach_engine *e) {
  if (e->stopped) return;
  e->stopped = 1;
  if (e->thread_started) {
    pthread_mutex_lock(&e->mu);
    e->stopping = 1;
    pthread_mutex_unlock(&e->mu);
    uint64_t one = 1;
    if (write(e->evfd, &one, sizeof one) < 0) { /* the counter cannot overflow here */
    }
    pthread_join(e->thread, NULL);
  }
  close(e->epfd);
  close(e->evfd);
  napi_release_threadsafe_function(e->tsfn, napi_tsfn_abort);
}

static void reach_env_cleanup(void *arg) { reach_stop(arg); }

static void reach_tsfn_finalize(napi_env env, void *data, void *hint) { reach_free(data); }

static void reach_external_finalize(napi_env env, void *data, void *hint) {
  reach_engine *e = data;
  if (!e->stopped) {
    napi_remove_env_cleanup_hook(env, reach_env_cleanup, e);
    reach_stop(e);
  }
  reach_free(e);
}

/* Runs on the JS thread: hand the collected results to the callback as (ids Int32Array, errs Int32Array, ms
 * Float64Array). */
static void reach_call_js(napi_env env, napi_value cb, void *context, void *data) {
  reach_engine *e = context;
  if (!env || !cb) return;
  pthread_mutex_lock(&e->mu);
  vec_t res = e->res;
  e->res.p = NULL;
  e->res.n = e->res.cap = 0;
  e->scheduled = 0;
  pthread_mutex_unlock(&e->mu);
  if (!res.n) {
    free(res.p);
    return;
  }
  napi_value ab_i, ab_e, ab_m, ids, errs, ms, argv[3], undef;
  void *pi, *pe, *pm;
  if (napi_create_arraybuffer(env, res.n * 4, &pi, &ab_i) != napi_ok ||
      napi_create_arraybuffer(env, res.n * 4, &pe, &ab_e) != napi_ok ||
      napi_create_arraybuffer(env, res.n * 8, &pm, &ab_m) != napi_ok) {
    free(res.p);
    return;
  }
  reach_res *r = res.p;
  for (size_t i = 0; i < res.n; i++) {
    ((int32_t *)pi)[i] = r[i].id;
    ((int32_t *)pe)[i] = r[i].err;
    ((double *)pm)[i] = r[i].ms;
  }
  free(res.p);
  napi_create_typedarray(env, napi_int32_array, res.n, ab_i, 0, &ids);
  napi_create_typedarray(env, napi_int32_array, res.n, ab_e, 0, &errs);
  napi_create_typedarray(env, napi_float64_array, res.n, ab_m, 0, &ms);
  argv[0] = ids;
  argv[1] = errs;
  argv[2] = ms;
  napi_get_undefined(env, &undef);
  napi_call_function(env, undef, cb, 3, argv, NULL);
}

static int reach_unwrap(napi_env env, napi_value v, reach_engine **out) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "engine must be a value returned by reachOpen()");
    return 0;
  }
  *out = p;
  if ((*out)->stopped) {
    throw_code(env, "ERR_REACH_CLOSED", "reach engine is closed");
    return 0;
  }
  return 1;
}

/* reachOpen(onResults) → engine. The engine does not keep the event loop alive until reachRef(engine, true). */
static napi_value js_reach_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], name, out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "reachOpen(onResults) needs a function");
    return NULL;
  }
  reach_engine *e = calloc(1, sizeof *e);
  if (!e) {
    throw_errno(env, "calloc", ENOMEM);
    return NULL;
  }
  e->sub.size = sizeof(reach_req);
  e->cancel.size = sizeof(int32_t);
  e->res.size = e->local.size = sizeof(reach_res);
  e->slots.size = sizeof(reach_slot);
  e->freel.size = sizeof(uint32_t);
  e->heap.size = sizeof(reach_heap_ent);
  e->env = env;
  pthread_mutex_init(&e->mu, NULL);
  e->epfd = epoll_create1(EPOLL_CLOEXEC);
  e->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (e->epfd < 0 || e->evfd < 0) {
    int err = errno;
    if (e->epfd >= 0) close(e->epfd);
    if (e->evfd >= 0) close(e->evfd);
    pthread_mutex_destroy(&e->mu);
    free(e);
    throw_errno(env, "epoll_create1/eventfd", err);
    return NULL;
  }
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.u64 = REACH_WAKE_TAG;
  epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->evfd, &ev);
  napi_create_string_utf8(env, "rdprobe:reach", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[0], NULL, name, 0, 1, e, reach_tsfn_finalize, e, reach_call_js, &e->tsfn) != napi_ok) {
    close(e->epfd);
    close(e->evfd);
    pthread_mutex_destroy(&e->mu);
    free(e);
    napi_throw_error(env, "RDPROBE_NAPI", "could not create the reach callback");
    return NULL;
  }
  e->refs = 2;
  napi_unref_threadsafe_function(env, e->tsfn);
  if (pthread_create(&e->thread, NULL, reach_thread, e) != 0) {
    int err = errno;
    e->stopped = 1;
    close(e->epfd);
    close(e->evfd);
    napi_release_threadsafe_function(e->tsfn, napi_tsfn_abort); /* finalizer drops one ref */
    reach_free(e);
    throw_errno(env, "pthread_create", err ? err : EAGAIN);
    return NULL;
  }
  e->thread_started = 1;
  napi_add_env_cleanup_hook(env, reach_env_cleanup, e);
  if (napi_create_external(env, e, reach_external_finalize, NULL, &out) != napi_ok) {
    napi_remove_env_cleanup_hook(env, reach_env_cleanup, e);
    reach_stop(e);
    reach_free(e);
    napi_throw_error(env, "RDPROBE_NAPI", "could not wrap the reach engine");
    return NULL;
  }
  return out;
}

/* reachConnect(engine, id, family, address, port, timeoutMs): queue one connect; the result arrives by id. */
static napi_value js_reach_connect(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "reachConnect(engine, id, family, address, port, timeoutMs)");
    return NULL;
  }
  reach_engine *e;
  int32_t id, family, port, timeout;
  char addr[INET6_ADDRSTRLEN + 1];
  if (!reach_unwrap(env, argv[0], &e) || !arg_int(env, argv[1], "id", &id) || !arg_int(env, argv[2], "family", &family) ||
      !arg_string(env, argv[3], "address", addr, sizeof addr) || !arg_int(env, argv[4], "port", &port) ||
      !arg_int(env, argv[5], "timeoutMs", &timeout))
    return NULL;
  if (timeout < 1) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "timeoutMs must be >= 1");
    return NULL;
  }
  reach_req q;
  q.id = id;
  q.timeout_ms = timeout;
  if (!make_sockaddr(env, family, addr, port, &q.ss, &q.sl)) return NULL;
  pthread_mutex_lock(&e->mu);
  int wake = e->sub.n == 0 && e->cancel.n == 0;
  int ok = vec_push(&e->sub, &q);
  pthread_mutex_unlock(&e->mu);
  if (!ok) {
    throw_errno(env, "realloc", ENOMEM);
    return NULL;
  }
  if (wake) {
    uint64_t one = 1;
    if (write(e->evfd, &one, sizeof one) < 0) { /* EAGAIN only when the counter is full: the thread is awake */
    }
  }
  return NULL;
}

/* reachCancel(engine, id): close that connection without a result (the caller has settled it already). */
static napi_value js_reach_cancel(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reach_engine *e;
  int32_t id;
  if (argc < 2 || !reach_unwrap(env, argv[0], &e) || !arg_int(env, argv[1], "id", &id)) return NULL;
  pthread_mutex_lock(&e->mu);
  int wake = e->sub.n == 0 && e->cancel.n == 0;
  vec_push(&e->cancel, &id);
  pthread_mutex_unlock(&e->mu);
  if (wake) {
    uint64_t one = 1;
    if (write(e->evfd, &one, sizeof one) < 0) {
    }
  }
  return NULL;
}

/* reachRef(engine, keepAlive): whether pending results keep the event loop alive. */
static napi_value js_reach_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reach_engine *e;
  bool on = false;
  if (argc < 2 || !reach_unwrap(env, argv[0], &e)) return NULL;
  napi_get_value_bool(env, argv[1], &on);
  if (on) napi_ref_threadsafe_function(env, e->tsfn);
  else napi_unref_threadsafe_function(env, e->tsfn);
  return NULL;
}

/* reachClose(engine): stop the thread; connections in flight are closed and never reported. Idempotent. */
static napi_value js_reach_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *p = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || !p) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "engine must be a value returned by reachOpen()");
    return NULL;
  }
  reach_engine *e = p;
  if (!e->stopped) {
    napi_remove_env_cleanup_hook(env, reach_env_cleanup, e);
    reach_stop(e);
  }
  return NULL;
}

#else
#define RDPROBE_HAVE_REACH 0
static napi_value reach_unsupported(napi_env env, napi_callback_info info) {
  throw_code(env, "ENOTSUP", "the batch connect engine is unsupported on this platform (Linux only)");
  return NULL;
}
#define js_reach_open reach_unsupported
#define js_reach_connect reach_unsupported
#define js_reach_cancel reach_unsupported
#define js_reach_ref reach_unsupported
#define js_reach_close reach_unsupported
#endif

/* ------------------------------------------------------------------------------------------------------------- */

static void add_const(napi_env env, napi_value obj, const char *name, int v) { set_int(env, obj, name, v); }

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
      {"setsockopt", NULL, js_setsockopt, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getsockopt", NULL, js_getsockopt, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getsockoptBytes", NULL, js_getsockopt_bytes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tcpSocket", NULL, js_tcp_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"routeInfo", NULL, js_route_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openProbe", NULL, js_open_probe, NULL, NULL, NULL, napi_enumerable, NULL},
      {"probe", NULL, js_probe, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reachOpen", NULL, js_reach_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reachConnect", NULL, js_reach_connect, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reachCancel", NULL, js_reach_cancel, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reachRef", NULL, js_reach_ref, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reachClose", NULL, js_reach_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns));
  set_int(env, exports, "abi", RDPROBE_ABI);
#if defined(__linux__)
  set_str(env, exports, "platform", "linux");
#elif defined(__APPLE__)
  set_str(env, exports, "platform", "darwin");
#else
  set_str(env, exports, "platform", "other");
#endif
  napi_value b;
  napi_get_boolean(env, RDPROBE_HAVE_PROBES, &b);
  napi_set_named_property(env, exports, "probes", b);
  napi_get_boolean(env, RDPROBE_HAVE_REACH, &b);
  napi_set_named_property(env, exports, "reach", b);
  napi_value c;
  CHECK(napi_create_object(env, &c));
  add_const(env, c, "SOL_SOCKET", SOL_SOCKET);
  add_const(env, c, "IPPROTO_IP", IPPROTO_IP);
  add_const(env, c, "IPPROTO_IPV6", IPPROTO_IPV6);
  add_const(env, c, "IPPROTO_TCP", IPPROTO_TCP);
  add_const(env, c, "TCP_MAXSEG", TCP_MAXSEG);
#ifdef TCP_INFO
  add_const(env, c, "TCP_INFO", TCP_INFO);
#endif
#ifdef __linux__
  add_const(env, c, "IP_MTU_DISCOVER", IP_MTU_DISCOVER);
  add_const(env, c, "IP_PMTUDISC_DONT", IP_PMTUDISC_DONT);
  add_const(env, c, "IP_PMTUDISC_WANT", IP_PMTUDISC_WANT);
  add_const(env, c, "IP_PMTUDISC_DO", IP_PMTUDISC_DO);
  add_const(env, c, "IP_PMTUDISC_PROBE", IP_PMTUDISC_PROBE);
  add_const(env, c, "IP_MTU", IP_MTU);
  add_const(env, c, "IP_RECVERR", IP_RECVERR);
  add_const(env, c, "IPV6_MTU_DISCOVER", IPV6_MTU_DISCOVER);
  add_const(env, c, "IPV6_PMTUDISC_PROBE", IPV6_PMTUDISC_PROBE);
  add_const(env, c, "IPV6_MTU", IPV6_MTU);
  add_const(env, c, "IPV6_RECVERR", IPV6_RECVERR);
#endif
  napi_set_named_property(env, exports, "constants", c);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
