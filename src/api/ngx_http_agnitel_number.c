
/*
 * Copyright (C) agnitel
 *
 * One number of a workspace, as the handlers of numbers.c and purchase.c
 * share it: its path argument, its insertion, its rename, its release here,
 * its view.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_number.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_dispatch.h"
#include "ngx_http_agnitel_e164.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_record.h"
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_twilio.h"


/* a number being written */
typedef struct {
    ngx_http_request_t             *request;
    ngx_http_agnitel_store_t       *store;
    ngx_str_t                       workspace;
    ngx_str_t                       number;
    u_char                          key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val                         k;
    MDB_val                         v;
    ngx_str_t                       name;
    ngx_int_t                       auto_renew;   /* -1: unchanged */
    const char                     *message;
    time_t                          now;
} ngx_http_agnitel_number_write_t;


static ngx_http_agnitel_number_write_t *ngx_http_agnitel_number_write(
    ngx_http_request_t *r, ngx_str_t *number);
static int ngx_http_agnitel_insert_run(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, u_char *data, size_t len);
static ngx_int_t ngx_http_agnitel_insert_written(ngx_http_request_t *r,
    void *data, int rc);
static int ngx_http_agnitel_rename_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_rename_written(ngx_http_request_t *r,
    void *data, int rc);
static int ngx_http_agnitel_release_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_release_written(ngx_http_request_t *r,
    void *data, int rc);


/* a new number of the workspace, claimed across the store, and the 201 */

ngx_int_t
ngx_http_agnitel_number_insert(ngx_http_request_t *r, ngx_str_t *number,
    MDB_val *val, const char *message)
{
    u_char                           *p;
    ngx_str_t                         blob;
    ngx_http_agnitel_number_write_t  *nw;

    nw = ngx_http_agnitel_number_write(r, number);
    if (nw == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    nw->v = *val;
    nw->message = message;

    /* workspace and number, each after its length, then the record */

    blob.len = 2 + nw->workspace.len + nw->number.len + val->mv_size;
    blob.data = ngx_pnalloc(r->pool, blob.len);
    if (blob.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = blob.data;
    *p++ = (u_char) nw->workspace.len;
    p = ngx_cpymem(p, nw->workspace.data, nw->workspace.len);
    *p++ = (u_char) nw->number.len;
    p = ngx_cpymem(p, nw->number.data, nw->number.len);
    ngx_memcpy(p, val->mv_data, val->mv_size);

    return ngx_http_agnitel_write_shared(r, ngx_http_agnitel_insert_run,
                                         &blob,
                                         ngx_http_agnitel_insert_written, nw);
}


/* may run in another worker: all it needs is in the bytes */

static int
ngx_http_agnitel_insert_run(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    u_char *data, size_t len)
{
    u_char     *end;
    MDB_val     v;
    ngx_str_t   ws, number;

    end = data + len;

    ws.len = *data++;
    ws.data = data;
    data += ws.len;

    number.len = *data++;
    number.data = data;
    data += number.len;

    v.mv_data = data;
    v.mv_size = end - data;

    return ngx_http_agnitel_record_insert(txn, store, &ws, &number, &v);
}


static ngx_int_t
ngx_http_agnitel_insert_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_number_write_t  *nw = data;

    if (rc == MDB_KEYEXIST) {
        return ngx_http_agnitel_number_taken(r);
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    return ngx_http_agnitel_send(r, NGX_HTTP_CREATED,
                                 ngx_http_agnitel_reply_view(r, nw->message,
                                                             &nw->v));
}


/* a new friendly name for the number at key, the path's, checked */

ngx_int_t
ngx_http_agnitel_number_rename(ngx_http_request_t *r, u_char *key,
    size_t key_len, ngx_str_t *name, ngx_int_t auto_renew)
{
    ngx_http_agnitel_ctx_t           *ctx;
    ngx_http_agnitel_number_write_t  *nw;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    nw = ngx_http_agnitel_number_write(r, &ctx->params[0]);
    if (nw == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(nw->key, key, key_len);
    nw->k.mv_size = key_len;
    nw->name = *name;
    nw->auto_renew = auto_renew;

    return ngx_http_agnitel_write(r, ngx_http_agnitel_rename_apply,
                                  ngx_http_agnitel_rename_written, nw);
}


static int
ngx_http_agnitel_rename_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_number_write_t  *nw = data;

    int      rc;
    json_t  *rec;

    rc = ngx_http_agnitel_record_load(nw->request->pool, txn, nw->store,
                                      &nw->k, &rec);
    if (rc != 0) {
        return rc;
    }

    /* only a managed number renews, or not, by itself */

    if (nw->auto_renew != -1 && json_object_get(rec, "auto_renew") == NULL) {
        return NGX_HTTP_AGNITEL_NOT_MANAGED;
    }

    if ((nw->name.len
         && json_object_set_new(rec, "friendly_name",
                                json_stringn((char *) nw->name.data,
                                             nw->name.len))
            != 0)
        || (nw->auto_renew != -1
            && json_object_set_new(rec, "auto_renew",
                                   json_boolean(nw->auto_renew)) != 0)
        || ngx_http_agnitel_record_encode(nw->request->pool, rec, &nw->v)
           != NGX_OK)
    {
        return ENOMEM;
    }

    return ngx_http_agnitel_record_put(txn, nw->store, &nw->k, &nw->v, 0);
}


static ngx_int_t
ngx_http_agnitel_rename_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_number_write_t  *nw = data;

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_number_not_found(r);
    }

    if (rc == NGX_HTTP_AGNITEL_NOT_MANAGED) {
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "invalid_state",
                                      "auto_renew", "only numbers of a "
                                      "managed Twilio account renew");
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    return ngx_http_agnitel_send(r, NGX_HTTP_OK,
                                 ngx_http_agnitel_reply_view(r,
                                     "Phone number updated", &nw->v));
}


/*
 * Frees the number in the path for any workspace and moves its record to
 * the history, where "status=released" lists it.
 */

ngx_int_t
ngx_http_agnitel_number_release_local(ngx_http_request_t *r)
{
    ngx_http_agnitel_ctx_t           *ctx;
    ngx_http_agnitel_number_write_t  *nw;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    nw = ngx_http_agnitel_number_write(r, &ctx->params[0]);
    if (nw == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_agnitel_path_number(r, nw->key, &nw->k.mv_size) != NGX_OK) {
        return ngx_http_agnitel_bad_path_number(r);
    }

    nw->now = ngx_time();

    return ngx_http_agnitel_write(r, ngx_http_agnitel_release_apply,
                                  ngx_http_agnitel_release_written, nw);
}


static int
ngx_http_agnitel_release_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_number_write_t  *nw = data;

    int      rc;
    json_t  *rec;

    rc = ngx_http_agnitel_record_load(nw->request->pool, txn, nw->store,
                                      &nw->k, &rec);
    if (rc != 0) {
        return rc;
    }

    return ngx_http_agnitel_number_retire(nw->request->pool, txn, nw->store,
                                          &nw->workspace, &nw->number, rec,
                                          nw->now, NULL, &nw->v);
}


/*
 * Releases number of workspace ws, whose record rec is, at "now": it moves
 * to the history ("status=released" lists it), with its reason if any, encoded
 * into v, and the number is free for any workspace.  No request here: the
 * renew job releases numbers whose grace ended.
 */

int
ngx_http_agnitel_number_retire(ngx_pool_t *pool, MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws, ngx_str_t *number,
    json_t *rec, time_t now, const char *reason, MDB_val *v)
{
    int        rc;
    u_char     hkey[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val    hk;
    ngx_str_t  id;

    (void) json_object_del(rec, "agent_id");

    if (json_object_set_new(rec, "status", json_string("released")) != 0
        || json_object_set_new(rec, "released_at", json_integer(now)) != 0
        || (reason && json_object_set_new(rec, "release_reason",
                                          json_string(reason)) != 0)
        || ngx_http_agnitel_record_encode(pool, rec, v) != NGX_OK)
    {
        return ENOMEM;
    }

    id.data = (u_char *) json_string_value(json_object_get(rec, "id"));
    id.len = id.data ? ngx_strlen(id.data) : 0;

    hk.mv_data = hkey;
    hk.mv_size = ngx_http_agnitel_store_key(hkey, ws, &id);

    rc = mdb_put(txn, store->dbi[NGX_HTTP_AGNITEL_DB_NUMBER_HISTORY], &hk, v,
                 0);
    if (rc != 0) {
        return rc;
    }

    /* its dispatch rule goes with it */

    rc = ngx_http_agnitel_rule_drop(txn, store, number);
    if (rc != 0) {
        return rc;
    }

    return ngx_http_agnitel_record_remove(txn, store, ws, number);
}


static ngx_int_t
ngx_http_agnitel_release_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_number_write_t  *nw = data;

    ngx_http_agnitel_json_t  *j;

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_number_not_found(r);
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    j = ngx_http_agnitel_reply(r, 128, "Phone number released");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "phone_number");
    ngx_http_agnitel_json_str(j, nw->number.data, nw->number.len);
    ngx_http_agnitel_json_key(j, "status");
    ngx_http_agnitel_json_lit(j, "\"released\"");
    ngx_http_agnitel_json_key(j, "released_at");
    ngx_http_agnitel_json_time(j, nw->now);
    ngx_http_agnitel_json_lit(j, "}");

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, j);
}


static ngx_http_agnitel_number_write_t *
ngx_http_agnitel_number_write(ngx_http_request_t *r, ngx_str_t *number)
{
    ngx_http_agnitel_ctx_t           *ctx;
    ngx_http_agnitel_main_conf_t     *amcf;
    ngx_http_agnitel_number_write_t  *nw;

    nw = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_number_write_t));
    if (nw == NULL) {
        return NULL;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    nw->request = r;
    nw->store = amcf->store;
    nw->workspace = ctx->workspace;
    nw->number = *number;
    nw->k.mv_data = nw->key;

    return nw;
}


/*
 * What follows the "sip:" or "sips:" of a URI (any case): the host the
 * TwiML of calls dials.  NGX_DECLINED for anything else.
 */

ngx_int_t
ngx_http_agnitel_sip_host(ngx_str_t *uri, ngx_str_t *host)
{
    size_t  skip;

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

    host->data = uri->data + skip;
    host->len = uri->len - skip;

    return NGX_OK;
}


ngx_int_t
ngx_http_agnitel_sip_uri_valid(ngx_str_t *uri)
{
    ngx_str_t   rest;
    ngx_uint_t  i;

    if (ngx_http_agnitel_sip_host(uri, &rest) != NGX_OK) {
        return NGX_DECLINED;
    }

    for (i = 0; i < rest.len; i++) {
        if (rest.data[i] <= 0x20 || rest.data[i] >= 0x7f) {
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
    return ngx_http_agnitel_view_envelope(r->pool, message, val);
}


ngx_http_agnitel_json_t *
ngx_http_agnitel_view_envelope(ngx_pool_t *pool, const char *message,
    MDB_val *val)
{
    ngx_str_t                       view;
    ngx_http_agnitel_json_t        *j;
    ngx_http_agnitel_record_hdr_t   hdr;

    if (ngx_http_agnitel_record_header(val, &hdr, &view) != NGX_OK) {
        return NULL;
    }

    j = ngx_http_agnitel_envelope(pool, view.len, message);

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


/*
 * A pending number the carrier has bought becomes active with its SID, at
 * the end of a purchase or when reconciliation finds it; encoded into val.
 * One paid from credits renews a renewal period later.
 * No request here: reconciliation calls it from a commit thread.
 */

ngx_int_t
ngx_http_agnitel_number_activate(ngx_pool_t *pool, json_t *rec,
    const char *sid, json_t *caps, ngx_http_agnitel_main_conf_t *amcf,
    MDB_val *val)
{
    /* a number paid from credits is paid for a renewal period from now */

    if (json_object_get(rec, "auto_renew")
        && json_object_set_new(rec, "renews_at",
               json_integer(ngx_time()
                            + ngx_http_agnitel_number_renewal(amcf, rec)))
           != 0)
    {
        return NGX_ERROR;
    }

    if (json_object_set_new(rec, "status", json_string("active")) != 0
        || json_object_set_new(rec, "telephony_id", json_string(sid)) != 0
        || json_object_set_new(rec, "purchased_at", json_integer(ngx_time()))
           != 0
        || json_object_set_new(rec, "capabilities",
               json_pack("{s:b,s:b}",
                   "voice",
                   (int) ngx_http_agnitel_twilio_capability(caps, "voice"),
                   "sms",
                   (int) ngx_http_agnitel_twilio_capability(caps, "sms")))
           != 0
        || ngx_http_agnitel_record_encode(pool, rec, val) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * How long a number paid from credits runs between renewals: an Indian
 * number by agnitel_india_account's renewal=, a managed Twilio one by
 * agnitel_billing's.
 */

time_t
ngx_http_agnitel_number_renewal(ngx_http_agnitel_main_conf_t *amcf,
    json_t *rec)
{
    return ngx_http_agnitel_number_india(rec) ? amcf->india_renewal
                                              : amcf->billing_renewal;
}


/* whether the number is an Indian one, of the Indian carrier */

ngx_uint_t
ngx_http_agnitel_number_india(json_t *rec)
{
    const char  *provider;

    provider = json_string_value(json_object_get(rec, "provider"));

    return provider && ngx_strcmp(provider, "india") == 0;
}
