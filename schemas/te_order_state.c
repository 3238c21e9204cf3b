/*
 * te_order_state: transition table of the order state machine.
 */
#include "te_order_state.h"

int te_os_is_terminal(te_order_status_t s)
{
        return s == TE_OS_FILLED || s == TE_OS_CANCELED || s == TE_OS_REPLACED ||
               s == TE_OS_REJECTED || s == TE_OS_EXPIRED;
}

/* allowed[from] is a bit set of legal `to` states */
#define B(s) (1u << (s))
static const unsigned allowed[TE_OS__CNT] = {
    [TE_OS_PENDING_NEW] = B(TE_OS_PENDING_NEW) | B(TE_OS_NEW) |
                          B(TE_OS_PARTIALLY_FILLED) | B(TE_OS_FILLED) |
                          B(TE_OS_PENDING_CANCEL) | B(TE_OS_CANCELED) |
                          B(TE_OS_REJECTED) | B(TE_OS_EXPIRED),
    [TE_OS_NEW] = B(TE_OS_NEW) | B(TE_OS_PARTIALLY_FILLED) | B(TE_OS_FILLED) |
                  B(TE_OS_PENDING_CANCEL) | B(TE_OS_CANCELED) | B(TE_OS_PENDING_REPLACE) |
                  B(TE_OS_REPLACED) | B(TE_OS_REJECTED) | B(TE_OS_EXPIRED),
    [TE_OS_PARTIALLY_FILLED] = B(TE_OS_PARTIALLY_FILLED) | B(TE_OS_FILLED) |
                               B(TE_OS_PENDING_CANCEL) | B(TE_OS_CANCELED) |
                               B(TE_OS_PENDING_REPLACE) | B(TE_OS_REPLACED) |
                               B(TE_OS_EXPIRED),
    [TE_OS_PENDING_CANCEL] = B(TE_OS_PENDING_CANCEL) | B(TE_OS_PARTIALLY_FILLED) |
                             B(TE_OS_FILLED) | B(TE_OS_CANCELED) | B(TE_OS_NEW) |
                             B(TE_OS_REJECTED) | B(TE_OS_EXPIRED),
    [TE_OS_PENDING_REPLACE] = B(TE_OS_PENDING_REPLACE) | B(TE_OS_PARTIALLY_FILLED) |
                              B(TE_OS_FILLED) | B(TE_OS_REPLACED) | B(TE_OS_NEW) |
                              B(TE_OS_CANCELED) | B(TE_OS_REJECTED) | B(TE_OS_EXPIRED),
    [TE_OS_FILLED] = 0,
    [TE_OS_CANCELED] = 0,
    [TE_OS_REPLACED] = 0,
    [TE_OS_REJECTED] = 0,
    [TE_OS_EXPIRED] = 0,
};
#undef B

int te_os_transition_ok(te_order_status_t from, te_order_status_t to)
{
        if ((unsigned)from >= TE_OS__CNT || (unsigned)to >= TE_OS__CNT)
                return 0;
        return (allowed[from] >> to) & 1u;
}
