
/*
 * Copyright (C) agnitel
 *
 * The sandbox's subaccounts, as managed Twilio uses them:
 *
 *   POST /2010-04-01/Accounts.json          (as the sandbox account only)
 *   POST /2010-04-01/Accounts/{Sid}.json    (as the sandbox account only)
 *
 * The first creates one, with a sid and an auth token of its own, kept in
 * the store's "sandbox" database under its sid; its credentials are then
 * good for its own resources, as Twilio's are, while it is "active".  The
 * second sets its Status: "closed" (for good, at Twilio), "suspended" or
 * "active".
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <lmdb.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "ngx_http_agnitel_sandbox.h"
#include "ngx_http_agnitel_sandbox_request.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_twilio.h"


static void ngx_http_agnitel_sandbox_update_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_sandbox_update(ngx_http_request_t *r);
static int ngx_http_agnitel_sandbox_update_store(
    ngx_http_agnitel_store_t *store, MDB_txn *txn, ngx_str_t *sid,
    const char *status, json_t **acct);


/* the Status values of an account, as Twilio spells them */
static const char  *ngx_http_agnitel_sandbox_statuses[] = {
    "closed", "suspended", "active", NULL
};


/* whether user and pass are a subaccount's sid and auth token */

ngx_int_t
ngx_http_agnitel_sandbox_subaccount(ngx_http_request_t *r, ngx_str_t *user,
    ngx_str_t *pass)
{
    ngx_int_t  rc;
    ngx_str_t  token;

    rc = ngx_http_agnitel_sandbox_subaccount_token(r, user, &token);

    if (rc != NGX_OK) {
        return rc;
    }

    rc = (token.len == pass->len
          && CRYPTO_memcmp(token.data, pass->data, pass->len) == 0)
         ? NGX_OK : NGX_DECLINED;

    ngx_explicit_memzero(token.data, token.len);

    return rc;
}


/*
 * A subaccount's auth token, copied into the request's pool (the caller
 * wipes it); NGX_DECLINED when there is no such subaccount.
 */

ngx_int_t
ngx_http_agnitel_sandbox_subaccount_token(ngx_http_request_t *r,
    ngx_str_t *sid, ngx_str_t *token)
{
    int                        rc;
    json_t                    *acct;
    MDB_val                    k, v;
    MDB_txn                   *txn;
    const char                *s, *status;
    ngx_http_agnitel_store_t  *store;

    if (ngx_http_agnitel_twilio_sid_valid(sid, "AC") != NGX_OK) {
        return NGX_DECLINED;
    }

    store = ngx_http_agnitel_sandbox_store(r);
    if (store == NULL) {
        return NGX_ERROR;
    }

    txn = ngx_http_agnitel_store_read(store, r->connection->log);
    if (txn == NULL) {
        return NGX_ERROR;
    }

    k.mv_data = sid->data;
    k.mv_size = sid->len;

    rc = mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX], &k, &v);

    acct = (rc == 0) ? json_loadb(v.mv_data, v.mv_size, 0, NULL) : NULL;

    ngx_http_agnitel_store_read_done(store);

    s = json_string_value(json_object_get(acct, "auth_token"));
    status = json_string_value(json_object_get(acct, "status"));

    if (status == NULL || ngx_strcmp(status, "active") != 0) {
        s = NULL;       /* closed or suspended: its credentials are refused */
    }

    if (s == NULL) {
        json_decref(acct);
        return (rc == 0 || rc == MDB_NOTFOUND) ? NGX_DECLINED : NGX_ERROR;
    }

    token->len = ngx_strlen(s);
    token->data = ngx_pnalloc(r->pool, token->len);

    if (token->data) {
        ngx_memcpy(token->data, s, token->len);
    }

    json_decref(acct);

    return token->data ? NGX_OK : NGX_ERROR;
}


/* POST /2010-04-01/Accounts.json: 201 and the new subaccount */

ngx_int_t
ngx_http_agnitel_sandbox_subaccount_create(ngx_http_request_t *r,
    ngx_str_t *owner)
{
    int                        rc;
    u_char                     raw[32];
    u_char                     sid[34], token[32];
    char                      *text;
    json_t                    *acct;
    MDB_val                    k, v;
    MDB_txn                   *txn;
    ngx_http_agnitel_store_t  *store;

    if (ngx_http_discard_request_body(r) != NGX_OK
        || ngx_http_agnitel_random(raw, sizeof(raw)) != NGX_OK)
    {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    sid[0] = 'A';
    sid[1] = 'C';
    ngx_hex_dump(sid + 2, raw, 16);
    ngx_hex_dump(token, raw + 16, 16);

    acct = json_pack("{s:s%,s:s%,s:s,s:s%,s:s,s:s}",
                     "sid", sid, sizeof(sid),
                     "auth_token", token, sizeof(token),
                     "friendly_name", "agnitel sandbox subaccount",
                     "owner_account_sid", owner->data, owner->len,
                     "status", "active",
                     "type", "Full");

    txn = ngx_http_agnitel_sandbox_write(r, acct, &text, &store);

    if (txn == NULL) {
        json_decref(acct);
        return ngx_http_agnitel_sandbox_internal(r);
    }

    k.mv_data = sid;
    k.mv_size = sizeof(sid);
    v.mv_data = text;
    v.mv_size = ngx_strlen(text);

    rc = mdb_put(txn, store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX], &k, &v,
                 MDB_NOOVERWRITE);
    free(text);

    rc = ngx_http_agnitel_store_finish(txn, rc);

    if (rc != 0) {
        json_decref(acct);
        return ngx_http_agnitel_sandbox_internal(r);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel sandbox: created subaccount %*s",
                  sizeof(sid), sid);

    return ngx_http_agnitel_sandbox_send_json(r, NGX_HTTP_CREATED, acct);
}


/* POST /2010-04-01/Accounts/{Sid}.json: the body, then the update */

ngx_int_t
ngx_http_agnitel_sandbox_subaccount_update(ngx_http_request_t *r,
    ngx_str_t *sid)
{
    ngx_int_t   rc;
    ngx_str_t  *copy;

    copy = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (copy == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    *copy = *sid;
    ngx_http_set_ctx(r, copy, ngx_http_agnitel_sandbox_module);

    rc = ngx_http_read_client_request_body(r,
                                         ngx_http_agnitel_sandbox_update_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_agnitel_sandbox_update_body(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_agnitel_sandbox_update(r));
}


static ngx_int_t
ngx_http_agnitel_sandbox_update(ngx_http_request_t *r)
{
    int                        rc;
    json_t                    *acct;
    MDB_txn                   *txn;
    ngx_str_t                 *sid, status;
    const char               **st;
    ngx_http_agnitel_store_t  *store;

    ngx_http_agnitel_sandbox_err_t    err;
    ngx_http_agnitel_sandbox_field_t  fields[] = {
        { "Status", &status },
        { NULL, NULL }
    };

    sid = ngx_http_get_module_ctx(r, ngx_http_agnitel_sandbox_module);

    rc = ngx_http_agnitel_sandbox_form(r, fields);

    if (rc == NGX_DECLINED) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    if (rc != NGX_OK) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    for (st = ngx_http_agnitel_sandbox_statuses; *st; st++) {
        if (ngx_http_agnitel_sandbox_caseeq(&status, *st)) {
            break;
        }
    }

    if (*st == NULL) {
        err.code = 21218;
        err.message = "Status must be closed, suspended or active";
        return ngx_http_agnitel_sandbox_bad_request(r, &err);
    }

    store = ngx_http_agnitel_sandbox_store(r);
    if (store == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    txn = ngx_http_agnitel_store_write(store, r->connection->log);
    if (txn == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    acct = NULL;
    rc = ngx_http_agnitel_sandbox_update_store(store, txn, sid, *st, &acct);
    rc = ngx_http_agnitel_store_finish(txn, rc);

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_sandbox_not_found(r);
    }

    if (rc != 0) {
        json_decref(acct);
        return ngx_http_agnitel_sandbox_store_failed(r, rc);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel sandbox: subaccount %V %s", sid, *st);

    /* the answer is the account, its auth token left out */

    (void) json_object_del(acct, "auth_token");

    return ngx_http_agnitel_sandbox_send_json(r, NGX_HTTP_OK, acct);
}


/* the subaccount's new status, in txn; *acct the account as written */

static int
ngx_http_agnitel_sandbox_update_store(ngx_http_agnitel_store_t *store,
    MDB_txn *txn, ngx_str_t *sid, const char *status, json_t **acct)
{
    int       rc;
    char     *text;
    MDB_val   k, v;

    k.mv_data = sid->data;
    k.mv_size = sid->len;

    rc = mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX], &k, &v);
    if (rc != 0) {
        return rc;
    }

    *acct = json_loadb(v.mv_data, v.mv_size, 0, NULL);

    /* only the sandbox's own subaccounts are kept under an "AC" sid */

    if (json_object_get(*acct, "owner_account_sid") == NULL) {
        json_decref(*acct);
        *acct = NULL;
        return MDB_NOTFOUND;
    }

    if (json_object_set_new(*acct, "status", json_string(status)) != 0) {
        return ENOMEM;
    }

    text = json_dumps(*acct, JSON_COMPACT);
    if (text == NULL) {
        return ENOMEM;
    }

    v.mv_data = text;
    v.mv_size = ngx_strlen(text);

    rc = mdb_put(txn, store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX], &k, &v, 0);

    free(text);

    return rc;
}
