
/*
 * Copyright (C) agnitel
 *
 * One number of a workspace, as the handlers of numbers.c and purchase.c
 * share it: its path argument, its insertion, its release here, its view.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_number.h"
#include "ngx_http_agnitel_e164.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_record.h"
#include "ngx_http_agnitel_store.h"


/* a new number of the workspace, claimed across the store, and the 201 */

ngx_int_t
ngx_http_agnitel_number_insert(ngx_http_request_t *r, ngx_str_t *number,
    MDB_val *val, const char *message)
{
    int                            rc;
    MDB_txn                       *txn;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    txn = ngx_http_agnitel_store_write(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_agnitel_record_insert(txn, amcf->store, &ctx->workspace,
                                        number, val);
    rc = ngx_http_agnitel_store_finish(txn, rc);

    if (rc == MDB_KEYEXIST) {
        return ngx_http_agnitel_number_taken(r);
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    return ngx_http_agnitel_send(r, NGX_HTTP_CREATED,
                                 ngx_http_agnitel_reply_view(r, message, val));
}

/*
 * Frees the number for any workspace and moves its record to the history,
 * where "status=released" lists it.
 */

ngx_int_t
ngx_http_agnitel_number_release_local(ngx_http_request_t *r)
{
    int                            rc;
    u_char                         key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    u_char                         hkey[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    size_t                         key_len;
    json_t                        *rec;
    time_t                         now;
    MDB_val                        k, v, hk;
    MDB_txn                       *txn;
    ngx_str_t                      number, id;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_json_t       *j;
    ngx_http_agnitel_store_t      *store;
    ngx_http_agnitel_main_conf_t  *amcf;

    if (ngx_http_agnitel_path_number(r, key, &key_len) != NGX_OK) {
        return ngx_http_agnitel_bad_path_number(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);
    store = amcf->store;
    number = ctx->params[0];
    now = ngx_time();

    txn = ngx_http_agnitel_store_write(store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    k.mv_data = key;
    k.mv_size = key_len;

    rc = ngx_http_agnitel_record_load(r->pool, txn, store, &k, &rec);

    if (rc != 0) {
        mdb_txn_abort(txn);

        return (rc == MDB_NOTFOUND) ? ngx_http_agnitel_number_not_found(r)
                                    : ngx_http_agnitel_store_error(r, rc);
    }

    if (json_object_set_new(rec, "status", json_string("released")) != 0
        || json_object_set_new(rec, "released_at", json_integer(now)) != 0
        || ngx_http_agnitel_record_encode(r->pool, rec, &v) != NGX_OK)
    {
        mdb_txn_abort(txn);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    id.data = (u_char *) json_string_value(json_object_get(rec, "id"));
    id.len = id.data ? ngx_strlen(id.data) : 0;

    hk.mv_data = hkey;
    hk.mv_size = ngx_http_agnitel_store_key(hkey, &ctx->workspace, &id);

    rc = mdb_put(txn, store->dbi[NGX_HTTP_AGNITEL_DB_NUMBER_HISTORY], &hk, &v,
                 0);

    if (rc == 0) {
        rc = ngx_http_agnitel_record_remove(txn, store, &ctx->workspace,
                                            &number);
    }

    rc = ngx_http_agnitel_store_finish(txn, rc);

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    j = ngx_http_agnitel_reply(r, 128, "Phone number released");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "phone_number");
    ngx_http_agnitel_json_str(j, number.data, number.len);
    ngx_http_agnitel_json_key(j, "status");
    ngx_http_agnitel_json_lit(j, "\"released\"");
    ngx_http_agnitel_json_key(j, "released_at");
    ngx_http_agnitel_json_time(j, now);
    ngx_http_agnitel_json_lit(j, "}");

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, j);
}

ngx_int_t
ngx_http_agnitel_sip_uri_valid(ngx_str_t *uri)
{
    ngx_uint_t  i, skip;

    if (uri->len > 4 && ngx_strncasecmp(uri->data, (u_char *) "sip:", 4) == 0)
    {
        skip = 4;

    } else if (uri->len > 5
               && ngx_strncasecmp(uri->data, (u_char *) "sips:", 5) == 0)
    {
        skip = 5;

    } else {
        return NGX_DECLINED;
    }

    for (i = skip; i < uri->len; i++) {
        if (uri->data[i] <= 0x20 || uri->data[i] >= 0x7f) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}

/*
 * The store key of the number in the path: workspace "/" E.164;
 * NGX_DECLINED when the path does not hold an E.164 number.
 */

ngx_int_t
ngx_http_agnitel_path_number(ngx_http_request_t *r, u_char *key,
    size_t *key_len)
{
    ngx_str_t               *number;
    ngx_http_agnitel_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    number = &ctx->params[0];

    if (ngx_http_agnitel_e164_valid(number->data, number->len) != NGX_OK) {
        return NGX_DECLINED;
    }

    *key_len = ngx_http_agnitel_store_key(key, &ctx->workspace, number);

    return NGX_OK;
}

/* the envelope around a stored view; NULL makes the send answer 500 */

ngx_http_agnitel_json_t *
ngx_http_agnitel_reply_view(ngx_http_request_t *r, const char *message,
    MDB_val *val)
{
    ngx_str_t                       view;
    ngx_http_agnitel_json_t        *j;
    ngx_http_agnitel_record_hdr_t   hdr;

    if (ngx_http_agnitel_record_header(val, &hdr, &view) != NGX_OK) {
        return NULL;
    }

    j = ngx_http_agnitel_reply(r, view.len, message);

    if (j) {
        ngx_http_agnitel_json_raw(j, view.data, view.len);
    }

    return j;
}

ngx_int_t
ngx_http_agnitel_number_not_found(ngx_http_request_t *r)
{
    return ngx_http_agnitel_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "phone_number",
                                  "no such phone number in this workspace");
}

ngx_int_t
ngx_http_agnitel_bad_path_number(ngx_http_request_t *r)
{
    return ngx_http_agnitel_invalid(r, "phone_number",
                                    "the phone number in the path must be "
                                    "E.164, such as +14155550100");
}

ngx_int_t
ngx_http_agnitel_number_taken(ngx_http_request_t *r)
{
    return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT,
                                  "number_already_exists", "phone_number",
                                  "this phone number is already in use");
}
