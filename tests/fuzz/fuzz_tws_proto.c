/*
 * fuzz_tws_proto: libFuzzer target for the TWS API decoders (brokers/tws_proto*.c),
 * the parser of bytes from TWS / IB Gateway, and of those from clients in the fake
 * (tests/fake_tws/tws_server.c).
 *
 * The input is read as a stream the way broker_ibkr reads its socket: frames are split
 * off with te_tws_frame_next until it asks for more or refuses one, and each payload is
 * decoded as a server message, as a client request and as the server-version frame;
 * the input is also tried as a client handshake. A decode that succeeds must leave
 * every string NUL-terminated within its field; ASan/UBSan catch any out-of-bounds
 * access on the way. The codec sources are compiled in so libFuzzer sees their
 * coverage. Seeds: tests/fuzz/corpus/tws_proto/ (open_order_full: the 128-field
 * openOrder; open_order_rich: one with every optional group).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../brokers/tws_proto.c"
#include "../../brokers/tws_proto_order.c"
#include "../../brokers/tws_proto_wire.c"
#include "../fake_tws/tws_server.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t n)
{
        if (!memchr(s, '\0', n))
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char err[256];
        size_t off = 0;
        for (;;) {
                const uint8_t *pl;
                size_t plen, used;
                if (te_tws_frame_next(data + off, size - off, TE_TWS_MAX_FRAME, &pl,
                                      &plen, &used, err, sizeof err) != TE_TWS_OK)
                        break;
                off += used;
                te_tws_msg_t m;
                if (te_tws_dec_message(pl, plen, &m, err, sizeof err) == TE_TWS_OK) {
                        if (m.type == TE_TWS_IN_EXEC_DETAILS) {
                                check_str(m.u.exec.exec_id, sizeof m.u.exec.exec_id);
                                check_str(m.u.exec.order_ref, sizeof m.u.exec.order_ref);
                                if (!(m.u.exec.shares > 0))
                                        __builtin_trap();
                        } else if (m.type == TE_TWS_IN_OPEN_ORDER) {
                                const te_tws_open_order_t *oo = &m.u.open_order;
                                check_str(oo->order.order_ref,
                                          sizeof oo->order.order_ref);
                                check_str(oo->order.order_type,
                                          sizeof oo->order.order_type);
                                check_str(oo->status, sizeof oo->status);
                        } else if (m.type == TE_TWS_IN_ERROR) {
                                check_str(m.u.error.text, sizeof m.u.error.text);
                        }
                }
                te_tws_req_t r;
                if (te_tws_dec_request(pl, plen, &r, err, sizeof err) == TE_TWS_OK &&
                    r.id == TE_TWS_OUT_PLACE_ORDER)
                        check_str(r.u.place.order_ref, sizeof r.u.place.order_ref);
                int v;
                char ct[64];
                (void)te_tws_dec_server_version(pl, plen, &v, ct, sizeof ct, err,
                                                sizeof err);
        }
        int a, b;
        size_t used;
        (void)te_tws_dec_handshake(data, size, &a, &b, &used, err, sizeof err);
        return 0;
}
