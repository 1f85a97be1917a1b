
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>

#include "ngx_http_agnitel_ledger.h"
#include "ngx_http_agnitel_crypto.h"


/* an entry to append: its id is drawn here, in the worker */

ngx_int_t
ngx_http_agnitel_entry_init(ngx_http_agnitel_entry_t *e, ngx_str_t *ws,
    const char *currency, const char *type, int64_t amount)
{
    ngx_memzero(e, sizeof(ngx_http_agnitel_entry_t));

    e->workspace = *ws;
    ngx_memcpy(e->currency, currency, 3);
    e->type = type;
    e->amount = amount;
    e->created_at = ngx_time();

    return ngx_http_agnitel_make_id(e->id, "le_");
}


/*
 * Appends e and moves the balance by its amount, inside txn (maybe in a
 * commit thread: no pools).  A covered debit larger than the balance
 * appends nothing: NGX_HTTP_AGNITEL_NO_CREDITS.
 */

int
ngx_http_agnitel_ledger_append(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    ngx_http_agnitel_entry_t *e)
{
    int         rc;
    u_char      key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    char       *dump;
    json_t     *entry, *bal;
    int64_t     balance;
    uint64_t    seq;
    MDB_val     k, v;

    rc = ngx_http_agnitel_ledger_balance(txn, store, &e->workspace,
                                         e->currency, &balance, &seq);
    if (rc != 0) {
        return rc;
    }

    if (e->covered && balance + e->amount < 0) {
        return NGX_HTTP_AGNITEL_NO_CREDITS;
    }

    e->balance_after = balance + e->amount;
    e->seq = ++seq;

    entry = json_pack("{s:s%,s:s,s:I,s:I,s:s%,s:I}",
                      "id", e->id, sizeof(e->id),
                      "type", e->type,
                      "amount", (json_int_t) e->amount,
                      "balance_after", (json_int_t) e->balance_after,
                      "currency", e->currency, (size_t) 3,
                      "created_at", (json_int_t) e->created_at);

    if (entry && e->phone_number.len) {
        json_object_set_new(entry, "phone_number",
                            json_stringn((char *) e->phone_number.data,
                                         e->phone_number.len));
    }

    if (entry && e->reference.len) {
        json_object_set_new(entry, "reference",
                            json_stringn((char *) e->reference.data,
                                         e->reference.len));
    }

    dump = entry ? json_dumps(entry, JSON_COMPACT) : NULL;
    json_decref(entry);

    if (dump == NULL) {
        return ENOMEM;
    }

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_ledger_key(key, &e->workspace, e->currency,
                                            seq);
    v.mv_data = dump;
    v.mv_size = ngx_strlen(dump);

    rc = mdb_put(txn, store->dbi[NGX_HTTP_AGNITEL_DB_LEDGER], &k, &v,
                 MDB_NOOVERWRITE);
    free(dump);

    if (rc != 0) {
        return rc;
    }

    bal = json_pack("{s:I,s:I}", "balance", (json_int_t) e->balance_after,
                    "seq", (json_int_t) seq);
    dump = bal ? json_dumps(bal, JSON_COMPACT) : NULL;
    json_decref(bal);

    if (dump == NULL) {
        return ENOMEM;
    }

    k.mv_size = ngx_http_agnitel_ledger_key(key, &e->workspace, e->currency,
                                            0);
    v.mv_data = dump;
    v.mv_size = ngx_strlen(dump);

    rc = mdb_put(txn, store->dbi[NGX_HTTP_AGNITEL_DB_BALANCES], &k, &v, 0);
    free(dump);

    return rc;
}


/* the balance and the last entry's number; 0 and 0 before any entry */

int
ngx_http_agnitel_ledger_balance(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    ngx_str_t *ws, u_char *currency, int64_t *balance, uint64_t *seq)
{
    int       rc;
    u_char    key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    json_t   *bal;
    MDB_val   k, v;

    *balance = 0;
    *seq = 0;

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_ledger_key(key, ws, currency, 0);

    rc = mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_BALANCES], &k, &v);
    if (rc == MDB_NOTFOUND) {
        return 0;
    }

    if (rc != 0) {
        return rc;
    }

    bal = json_loadb(v.mv_data, v.mv_size, 0, NULL);
    if (bal == NULL) {
        return MDB_CORRUPTED;
    }

    *balance = json_integer_value(json_object_get(bal, "balance"));
    *seq = json_integer_value(json_object_get(bal, "seq"));

    json_decref(bal);

    return 0;
}


/* ws "/" CUR, and "/" seq in 8 big-endian bytes unless seq is 0 */

size_t
ngx_http_agnitel_ledger_key(u_char *buf, ngx_str_t *ws, u_char *currency,
    uint64_t seq)
{
    u_char      *p;
    ngx_uint_t   i;

    p = ngx_cpymem(buf, ws->data, ws->len);
    *p++ = '/';
    p = ngx_cpymem(p, currency, 3);

    if (seq) {
        *p++ = '/';

        for (i = 0; i < 8; i++) {
            *p++ = (u_char) (seq >> (56 - 8 * i));
        }
    }

    return p - buf;
}
