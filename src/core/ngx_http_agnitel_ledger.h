
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_LEDGER_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_LEDGER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <lmdb.h>

#include "ngx_http_agnitel_store.h"


/*
 * Prepaid credits: an append-only ledger per workspace and currency, in
 * integer micro-units.  The balance kept beside it is the sum of the
 * entries' amounts, written in the same transaction as each entry.
 */

#define NGX_HTTP_AGNITEL_LE_ID_LEN   (sizeof("le_") - 1 + 16)

/* what ngx_http_agnitel_ledger_append() returns when the credits are short */
#define NGX_HTTP_AGNITEL_NO_CREDITS  (MDB_KEYEXIST + 1001)


typedef struct {
    ngx_str_t                   workspace;
    u_char                      currency[3];
    const char                 *type;
    int64_t                     amount;       /* credits > 0, debits < 0 */
    ngx_str_t                   phone_number; /* empty: none */
    ngx_str_t                   reference;    /* empty: none */
    time_t                      created_at;

    /* made by the caller, in the worker: commit threads draw no random */
    u_char                      id[NGX_HTTP_AGNITEL_LE_ID_LEN];

    /* a debit the balance must cover */
    unsigned                    covered:1;

    /* out: the balance after it, and its number in the ledger */
    int64_t                     balance_after;
    uint64_t                    seq;
} ngx_http_agnitel_entry_t;


ngx_int_t ngx_http_agnitel_entry_init(ngx_http_agnitel_entry_t *e,
    ngx_str_t *ws, const char *currency, const char *type, int64_t amount);
int ngx_http_agnitel_ledger_append(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_http_agnitel_entry_t *e);
int ngx_http_agnitel_ledger_balance(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws, u_char *currency,
    int64_t *balance, uint64_t *seq);
size_t ngx_http_agnitel_ledger_key(u_char *buf, ngx_str_t *ws,
    u_char *currency, uint64_t seq);


#endif /* _NGX_HTTP_AGNITEL_LEDGER_H_INCLUDED_ */
