/*
 * proto.h - the control protocol between dpctl and dpnetd.
 *
 * A Unix stream socket carrying one JSON object per line ('\n'-terminated) in
 * each direction: one request, one response. Versioned from the first day: a
 * client opens with {"cmd":"hello","v":1}; the daemon answers with its protocol
 * version and refuses requests whose "v" it does not speak.
 *
 *   request:  {"v":1, "cmd":"port.add", "args":{...}}
 *   success:  {"ok":true, "result":<any JSON>}
 *   failure:  {"ok":false, "errno":<positive errno>, "error":"<what is wrong and how to fix it>"}
 *
 * A request longer than PROTO_MAX_REQUEST bytes, or that is not a JSON object,
 * or nested deeper than PROTO_MAX_DEPTH, gets a failure response and the
 * connection is closed; the daemon stays up.
 */
#ifndef DPNET_PROTO_H
#define DPNET_PROTO_H

#define PROTO_VERSION 1
#define PROTO_MAX_REQUEST (64 * 1024)
#define PROTO_MAX_DEPTH 16
#define PROTO_DEFAULT_SOCKET "/run/dpnet/dpnet.sock"
#define PROTO_SOCKET_ENV "DPNET_SOCKET"

#endif /* DPNET_PROTO_H */
