
/*
 * Copyright (C) agnitel
 *
 * Idempotency-Key on purchases: the first answer is kept a day and
 * replayed to the same request, so a retried buy never buys twice.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_idempotency.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_http.h"


#define NGX_HTTP_AGNITEL_IDEM_TTL       86400
#define NGX_HTTP_AGNITEL_IDEM_KEY_MAX   128


/*
 * Idempotency-Key: the store key (workspace "/" key) and the hash of the
 * body it must come with.  NGX_OK with an empty key when there is none,
 * NGX_DECLINED when it is not 1 to 128 characters.
 */

ngx_int_t
ngx_http_agnitel_idem_init(ngx_http_request_t *r, json_t *body,
    ngx_http_agnitel_idem_t *idem)
{
    char                    *dump;
    u_char                   hash[NGX_HTTP_AGNITEL_SHA256_LEN];
    ngx_str_t                key, *value;
    ngx_http_agnitel_ctx_t  *ctx;

    value = ngx_http_agnitel_header(r, "Idempotency-Key");

    if (value == NULL) {
        return NGX_OK;
    }

    key = *value;


    if (key.len == 0 || key.len > NGX_HTTP_AGNITEL_IDEM_KEY_MAX) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    idem->key.data = ngx_pnalloc(r->pool, ctx->workspace.len + 1 + key.len);
    if (idem->key.data == NULL) {
        goto failed;
    }

    idem->key.len = ngx_http_agnitel_store_key(idem->key.data, &ctx->workspace,
                                             &key);

    /* the same body, whatever the order of its members */

    dump = json_dumps(body, JSON_COMPACT|JSON_SORT_KEYS);
    if (dump == NULL) {
        goto failed;
    }

    ngx_http_agnitel_sha256(hash, (u_char *) dump, ngx_strlen(dump));
    free(dump);

    ngx_hex_dump(idem->hash, hash, sizeof(hash));

    return NGX_OK;

failed:

    return NGX_ERROR;
}


/*
 * Inside the purchase's write transaction: a new key is claimed (marked
 * under way); a known one replays its answer, or is busy, or came with
 * another body.  Keys older than 24 hours count as new.
 */

int
ngx_http_agnitel_idem_claim(ngx_http_request_t *r, MDB_txn *txn,
    ngx_http_agnitel_idem_t *idem, ngx_uint_t *state, ngx_uint_t *status,
    ngx_str_t *text)
{
    int                            rc;
    char                          *dump;
    json_t                        *rec;
    MDB_val                        k, v;
    const char                    *hash;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    k.mv_data = idem->key.data;
    k.mv_size = idem->key.len;

    rc = mdb_get(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_IDEMPOTENCY], &k,
                 &v);

    if (rc == 0) {
        rec = json_loadb(v.mv_data, v.mv_size, 0, NULL);

        if (ngx_http_agnitel_json_own(r->pool, rec) != NGX_OK) {
            return MDB_CORRUPTED;
        }

        if (json_integer_value(json_object_get(rec, "created_at"))
            + NGX_HTTP_AGNITEL_IDEM_TTL > ngx_time())
        {
            hash = json_string_value(json_object_get(rec, "hash"));

            if (hash == NULL
                || ngx_strncmp(hash, idem->hash, sizeof(idem->hash)) != 0)
            {
                *state = NGX_HTTP_AGNITEL_IDEM_MISMATCH;
                return 0;
            }

            text->data = (u_char *) json_string_value(json_object_get(rec,
                                                                 "answer"));
            if (text->data == NULL) {
                *state = NGX_HTTP_AGNITEL_IDEM_BUSY;
                return 0;
            }

            text->len = ngx_strlen(text->data);
            *status = json_integer_value(json_object_get(rec, "status"));
            *state = NGX_HTTP_AGNITEL_IDEM_REPLAY;

            return 0;
        }

    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }

    *state = NGX_HTTP_AGNITEL_IDEM_NEW;

    rec = json_pack("{s:s%,s:I}", "hash", idem->hash, sizeof(idem->hash),
                     "created_at", (json_int_t) ngx_time());

    if (ngx_http_agnitel_json_own(r->pool, rec) != NGX_OK) {
        return ENOMEM;
    }

    dump = json_dumps(rec, JSON_COMPACT);
    if (dump == NULL) {
        return ENOMEM;
    }

    v.mv_data = dump;
    v.mv_size = ngx_strlen(dump);

    rc = mdb_put(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_IDEMPOTENCY], &k,
                 &v, 0);

    free(dump);

    return rc;
}


/* the final answer for the key, replayed to the same request for a day */

int
ngx_http_agnitel_idem_keep(ngx_http_request_t *r, MDB_txn *txn,
    ngx_http_agnitel_idem_t *idem, ngx_uint_t status, ngx_str_t *text)
{
    int                            rc;
    char                          *dump;
    json_t                        *rec;
    MDB_val                        k, v;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    rec = json_pack("{s:s%,s:I,s:i,s:s%}",
                     "hash", idem->hash, sizeof(idem->hash),
                     "created_at", (json_int_t) ngx_time(),
                     "status", (int) status,
                     "answer", text->data, text->len);

    if (ngx_http_agnitel_json_own(r->pool, rec) != NGX_OK) {
        return ENOMEM;
    }

    dump = json_dumps(rec, JSON_COMPACT);
    if (dump == NULL) {
        return ENOMEM;
    }

    k.mv_data = idem->key.data;
    k.mv_size = idem->key.len;
    v.mv_data = dump;
    v.mv_size = ngx_strlen(dump);

    rc = mdb_put(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_IDEMPOTENCY], &k,
                 &v, 0);

    free(dump);

    return rc;
}


/*
 * The pending record of a purchase names its key (hex: a key may be any
 * bytes), so that reconciliation can settle the key along with the number.
 */

ngx_int_t
ngx_http_agnitel_idem_note(ngx_pool_t *pool, ngx_http_agnitel_idem_t *idem,
    json_t *rec)
{
    u_char  *hex;

    if (idem->key.len == 0) {
        return NGX_OK;
    }

    hex = ngx_pnalloc(pool, 2 * idem->key.len);
    if (hex == NULL) {
        return NGX_ERROR;
    }

    ngx_hex_dump(hex, idem->key.data, idem->key.len);

    if (json_object_set_new(rec, "idempotency_key",
                            json_stringn((char *) hex, 2 * idem->key.len))
        != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Reconciliation settled the purchase of rec: its key, if it had one, now
 * replays "answer" with "status"; status 0 forgets the key, so that the
 * same request buys anew.  Inside a write transaction, maybe in a commit
 * thread: no pools.
 */

int
ngx_http_agnitel_idem_settle(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    json_t *rec, ngx_uint_t status, ngx_str_t *answer)
{
    int          rc;
    u_char       key[NGX_HTTP_AGNITEL_WS_ID_LEN + 1
                     + NGX_HTTP_AGNITEL_IDEM_KEY_MAX];
    char        *dump;
    size_t       i, len;
    json_t      *idem, *hash, *created;
    MDB_val      k, v;
    ngx_int_t    hi, lo;
    const char  *hex;

    hex = json_string_value(json_object_get(rec, "idempotency_key"));

    if (hex == NULL) {
        return 0;
    }

    len = ngx_strlen(hex);

    if (len == 0 || len % 2 || len / 2 > sizeof(key)) {
        return 0;
    }

    for (i = 0; i < len / 2; i++) {
        hi = ngx_hextoi((u_char *) &hex[2 * i], 1);
        lo = ngx_hextoi((u_char *) &hex[2 * i + 1], 1);

        if (hi == NGX_ERROR || lo == NGX_ERROR) {
            return 0;
        }

        key[i] = (u_char) (hi * 16 + lo);
    }

    k.mv_data = key;
    k.mv_size = len / 2;

    if (status == 0) {
        rc = mdb_del(txn, store->dbi[NGX_HTTP_AGNITEL_DB_IDEMPOTENCY], &k,
                     NULL);
        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    rc = mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_IDEMPOTENCY], &k, &v);
    if (rc != 0) {
        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    idem = json_loadb(v.mv_data, v.mv_size, 0, NULL);
    hash = json_object_get(idem, "hash");
    created = json_object_get(idem, "created_at");

    dump = NULL;

    if (hash && created
        && json_object_set_new(idem, "status", json_integer(status)) == 0
        && json_object_set_new(idem, "answer",
                               json_stringn((char *) answer->data,
                                            answer->len)) == 0)
    {
        dump = json_dumps(idem, JSON_COMPACT);
    }

    json_decref(idem);

    if (dump == NULL) {
        return 0;
    }

    v.mv_data = dump;
    v.mv_size = ngx_strlen(dump);

    rc = mdb_put(txn, store->dbi[NGX_HTTP_AGNITEL_DB_IDEMPOTENCY], &k, &v, 0);

    free(dump);

    return rc;
}


/*
 * The purge job: keys over a day old count as new already (see
 * ngx_http_agnitel_idem_claim()); here they go, at most "max" of them per
 * transaction so that the writer lock is held briefly.
 */

int
ngx_http_agnitel_idem_purge(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    time_t now, ngx_uint_t max, ngx_uint_t *purged)
{
    int          rc;
    json_t      *idem;
    MDB_val      k, v;
    json_int_t   created;
    MDB_cursor  *cur;

    *purged = 0;

    rc = mdb_cursor_open(txn, store->dbi[NGX_HTTP_AGNITEL_DB_IDEMPOTENCY],
                         &cur);
    if (rc != 0) {
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0 && *purged < max;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        idem = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        created = json_integer_value(json_object_get(idem, "created_at"));
        json_decref(idem);

        if (created + NGX_HTTP_AGNITEL_IDEM_TTL > now) {
            continue;
        }

        rc = mdb_cursor_del(cur, 0);
        if (rc != 0) {
            break;
        }

        (*purged)++;
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND || rc == 0) ? 0 : rc;
}
