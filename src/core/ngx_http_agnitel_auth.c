
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include "ngx_http_agnitel_auth.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_store.h"


static ngx_int_t ngx_http_agnitel_auth_key(ngx_http_request_t *r,
    ngx_str_t *key);


/*
 * Resolves the API key to its workspace.  There is no cache: a revoked key
 * is gone from the store, so it fails at once in every worker.
 */

ngx_int_t
ngx_http_agnitel_auth(ngx_http_request_t *r, u_char *ws, u_char *key_id)
{
    int                            rc;
    u_char                         hash[NGX_HTTP_AGNITEL_SHA256_LEN];
    MDB_val                        k, v;
    MDB_txn                       *txn;
    ngx_str_t                      key;
    ngx_http_agnitel_key_rec_t     rec;
    ngx_http_agnitel_main_conf_t  *amcf;

    if (ngx_http_agnitel_auth_key(r, &key) != NGX_OK
        || ngx_http_agnitel_api_key_valid(&key) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    ngx_http_agnitel_sha256(hash, key.data, key.len);

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_ERROR;
    }

    k.mv_data = hash;
    k.mv_size = sizeof(hash);

    rc = mdb_get(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_API_KEYS], &k, &v);

    if (rc == 0 && v.mv_size == sizeof(rec)) {
        ngx_memcpy(&rec, v.mv_data, sizeof(rec));
    }

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc == MDB_NOTFOUND) {
        return NGX_DECLINED;
    }

    if (rc != 0 || v.mv_size != sizeof(rec)) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "agnitel_store: api key lookup failed: %s",
                      rc ? mdb_strerror(rc) : "bad record size");
        return NGX_ERROR;
    }

    if (CRYPTO_memcmp(rec.hash, hash, sizeof(hash)) != 0) {
        return NGX_DECLINED;
    }

    ngx_memcpy(ws, rec.workspace, NGX_HTTP_AGNITEL_WS_ID_LEN);
    ngx_memcpy(key_id, rec.id, NGX_HTTP_AGNITEL_KEY_ID_LEN);

    return NGX_OK;
}


/*
 * X-Api-Key: KEY, or Authorization: Bearer KEY.  Two credentials (two
 * X-Api-Key lines, or one and a Bearer token) are ambiguous: neither is
 * picked, the request is unauthorized.
 */

static ngx_int_t
ngx_http_agnitel_auth_key(ngx_http_request_t *r, ngx_str_t *key)
{
    ngx_str_t        *auth;
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    n = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("X-Api-Key") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "X-Api-Key",
                               sizeof("X-Api-Key") - 1) == 0)
        {
            *key = h[i].value;
            n++;
        }
    }

    if (r->headers_in.authorization) {
        auth = &r->headers_in.authorization->value;

        if (auth->len > sizeof("Bearer ") - 1
            && ngx_strncasecmp(auth->data, (u_char *) "Bearer ",
                               sizeof("Bearer ") - 1) == 0)
        {
            key->data = auth->data + sizeof("Bearer ") - 1;
            key->len = auth->len - (sizeof("Bearer ") - 1);
            n++;
        }
    }

    return (n == 1) ? NGX_OK : NGX_DECLINED;
}
