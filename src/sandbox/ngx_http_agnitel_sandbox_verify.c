
/*
 * Copyright (C) agnitel
 *
 * Twilio Verify v2, emulated for the sandbox account:
 *
 *   POST /v2/Services/{VA}/Verifications       To, Channel
 *   POST /v2/Services/{VA}/VerificationCheck   To, Code
 *
 * No SMS leaves: the code is always 123456.  As Verify does, a mobile
 * gets at most 5 codes in 10 minutes (60203), a code at most 5 checks
 * (60202), an approved or unknown verification is 404 (20404), and a
 * wrong code is a 200 that stays "pending".  Verifications live in the
 * store's "sandbox" database under "VE:{To}".
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <lmdb.h>
#include <jansson.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_e164.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_sandbox.h"
#include "ngx_http_agnitel_sandbox_request.h"
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_twilio.h"


#define NGX_HTTP_AGNITEL_VERIFY_PREFIX   "/v2/Services/"
#define NGX_HTTP_AGNITEL_VERIFY_CODE     "123456"
#define NGX_HTTP_AGNITEL_VERIFY_SENDS    5
#define NGX_HTTP_AGNITEL_VERIFY_CHECKS   5
#define NGX_HTTP_AGNITEL_VERIFY_WINDOW   600

#define NGX_HTTP_AGNITEL_VERIFY_KEY_MAX                                      \
    (sizeof("VE:") - 1 + NGX_HTTP_AGNITEL_SANDBOX_E164_MAX)


typedef struct {
    ngx_str_t                       service;
    ngx_str_t                       account;
    ngx_str_t                       to;
    ngx_str_t                       code;
    ngx_uint_t                      check;
} ngx_http_agnitel_verify_req_t;


static void ngx_http_agnitel_sandbox_verify_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_sandbox_verify_run(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_sandbox_verify_read(ngx_http_request_t *r,
    ngx_http_agnitel_verify_req_t *vr, ngx_int_t *answer);
static ngx_int_t ngx_http_agnitel_sandbox_verify_code(json_t *ve);
static ngx_int_t ngx_http_agnitel_sandbox_verify_check(
    ngx_http_agnitel_verify_req_t *vr, json_t *ve);
static ngx_int_t ngx_http_agnitel_sandbox_verify_refuse(
    ngx_http_request_t *r, ngx_http_agnitel_verify_req_t *vr,
    ngx_int_t status);
static json_t *ngx_http_agnitel_sandbox_verify_load(MDB_txn *txn,
    MDB_dbi dbi, MDB_val *k, time_t now);
static int ngx_http_agnitel_sandbox_verify_save(MDB_txn *txn, MDB_dbi dbi,
    MDB_val *k, json_t *ve);
static ngx_int_t ngx_http_agnitel_sandbox_verify_send(ngx_http_request_t *r,
    ngx_http_agnitel_verify_req_t *vr, json_t *ve, ngx_uint_t status);


/*
 * Routed here for /v2/Services/..., after authentication as the account:
 * NGX_DECLINED for a path that is no Verify resource.
 */

ngx_int_t
ngx_http_agnitel_sandbox_verify(ngx_http_request_t *r, ngx_str_t *account)
{
    u_char                         *p, *end, *slash;
    ngx_int_t                       rc;
    ngx_str_t                       resource;
    ngx_http_agnitel_verify_req_t  *vr;

    if (r->uri.len <= sizeof(NGX_HTTP_AGNITEL_VERIFY_PREFIX) - 1
        || ngx_strncmp(r->uri.data, NGX_HTTP_AGNITEL_VERIFY_PREFIX,
                       sizeof(NGX_HTTP_AGNITEL_VERIFY_PREFIX) - 1) != 0)
    {
        return NGX_DECLINED;
    }

    vr = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_verify_req_t));
    if (vr == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    p = r->uri.data + sizeof(NGX_HTTP_AGNITEL_VERIFY_PREFIX) - 1;
    end = r->uri.data + r->uri.len;

    slash = ngx_strlchr(p, end, '/');
    if (slash == NULL) {
        return NGX_DECLINED;
    }

    vr->service.data = p;
    vr->service.len = slash - p;
    vr->account = *account;

    resource.data = slash + 1;
    resource.len = end - slash - 1;

    if (ngx_http_agnitel_twilio_sid_valid(&vr->service, "VA") != NGX_OK) {
        return NGX_DECLINED;
    }

    if (ngx_http_agnitel_sandbox_eq(&resource, "VerificationCheck")) {
        vr->check = 1;

    } else if (!ngx_http_agnitel_sandbox_eq(&resource, "Verifications")) {
        return NGX_DECLINED;
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_agnitel_sandbox_not_allowed(r, "POST");
    }

    ngx_http_set_ctx(r, vr, ngx_http_agnitel_sandbox_module);

    rc = ngx_http_read_client_request_body(r,
                                        ngx_http_agnitel_sandbox_verify_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_agnitel_sandbox_verify_body(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_agnitel_sandbox_verify_run(r));
}


static ngx_int_t
ngx_http_agnitel_sandbox_verify_run(ngx_http_request_t *r)
{
    int                             rc;
    u_char                          key[NGX_HTTP_AGNITEL_VERIFY_KEY_MAX];
    json_t                         *ve;
    MDB_val                         k;
    MDB_txn                        *txn;
    ngx_int_t                       status;
    ngx_http_agnitel_store_t       *store;
    ngx_http_agnitel_verify_req_t  *vr;

    vr = ngx_http_get_module_ctx(r, ngx_http_agnitel_sandbox_module);

    if (ngx_http_agnitel_sandbox_verify_read(r, vr, &status) != NGX_OK) {
        return status;
    }

    store = ngx_http_agnitel_sandbox_store(r);
    txn = store ? ngx_http_agnitel_store_write(store, r->connection->log)
                : NULL;

    if (txn == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    k.mv_data = key;
    k.mv_size = ngx_sprintf(key, "VE:%V", &vr->to) - key;

    ve = ngx_http_agnitel_sandbox_verify_load(txn,
                                   store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX],
                                   &k, ngx_time());
    if (ve == NULL) {
        mdb_txn_abort(txn);
        return ngx_http_agnitel_sandbox_internal(r);
    }

    status = vr->check ? ngx_http_agnitel_sandbox_verify_check(vr, ve)
                       : ngx_http_agnitel_sandbox_verify_code(ve);

    if (status != NGX_HTTP_OK && status != NGX_HTTP_CREATED) {
        mdb_txn_abort(txn);
        json_decref(ve);
        return ngx_http_agnitel_sandbox_verify_refuse(r, vr, status);
    }

    rc = ngx_http_agnitel_sandbox_verify_save(txn,
                                   store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX],
                                   &k, ve);

    rc = ngx_http_agnitel_store_finish(txn, rc);

    if (rc != 0) {
        json_decref(ve);
        return ngx_http_agnitel_sandbox_internal(r);
    }

    return ngx_http_agnitel_sandbox_verify_send(r, vr, ve, status);
}


/*
 * To, and Code for a check, from the form: NGX_OK, or NGX_DECLINED with
 * *answer the answer already made.
 */

static ngx_int_t
ngx_http_agnitel_sandbox_verify_read(ngx_http_request_t *r,
    ngx_http_agnitel_verify_req_t *vr, ngx_int_t *answer)
{
    ngx_int_t                         rc;
    ngx_http_agnitel_sandbox_field_t  fields[3];

    fields[0].name = "To";
    fields[0].value = &vr->to;
    fields[1].name = "Code";
    fields[1].value = &vr->code;
    fields[2].name = NULL;

    rc = ngx_http_agnitel_sandbox_form(r, fields);

    if (rc == NGX_DECLINED) {
        *answer = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;

    } else if (rc != NGX_OK) {
        *answer = ngx_http_agnitel_sandbox_internal(r);

    } else if (vr->to.data == NULL
               || ngx_http_agnitel_e164_valid(vr->to.data, vr->to.len)
                  != NGX_OK)
    {
        *answer = ngx_http_agnitel_sandbox_error(r, NGX_HTTP_BAD_REQUEST,
                                                 60200,
                                                 "Invalid parameter `To`");

    } else if (vr->check && vr->code.data == NULL) {
        *answer = ngx_http_agnitel_sandbox_error(r, NGX_HTTP_BAD_REQUEST,
                                                 60200,
                                                 "Invalid parameter `Code`");

    } else {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* a new code sent: 201, or why not (429, 500) */

static ngx_int_t
ngx_http_agnitel_sandbox_verify_code(json_t *ve)
{
    u_char   raw[16], sid[34];
    json_t  *sends;

    sends = json_object_get(ve, "sends");

    if (json_array_size(sends) >= NGX_HTTP_AGNITEL_VERIFY_SENDS) {
        return NGX_HTTP_TOO_MANY_REQUESTS;
    }

    if (ngx_http_agnitel_random(raw, sizeof(raw)) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sid[0] = 'V';
    sid[1] = 'E';
    ngx_hex_dump(sid + 2, raw, sizeof(raw));

    if (json_array_append_new(sends, json_integer(ngx_time())) != 0
        || json_object_set_new(ve, "sid",
                               json_stringn((char *) sid, sizeof(sid))) != 0
        || json_object_set_new(ve, "status", json_string("pending")) != 0
        || json_object_set_new(ve, "checks", json_integer(0)) != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_HTTP_CREATED;
}


/*
 * A code checked: 200 approved, or 200 still pending for a wrong code;
 * or why not (404, 429, 500).
 */

static ngx_int_t
ngx_http_agnitel_sandbox_verify_check(ngx_http_agnitel_verify_req_t *vr,
    json_t *ve)
{
    json_int_t  checks;

    checks = json_integer_value(json_object_get(ve, "checks"));

    if (!json_is_string(json_object_get(ve, "sid"))) {
        return NGX_HTTP_NOT_FOUND;
    }

    if (checks >= NGX_HTTP_AGNITEL_VERIFY_CHECKS) {
        return NGX_HTTP_TOO_MANY_REQUESTS;
    }

    if (ngx_http_agnitel_sandbox_eq(&vr->code, NGX_HTTP_AGNITEL_VERIFY_CODE)) {

        /* approved: the verification is over, a check again finds none */

        if (json_object_set_new(ve, "status", json_string("approved")) != 0) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_OK;
    }

    if (json_object_set_new(ve, "checks", json_integer(checks + 1)) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_HTTP_OK;
}


static ngx_int_t
ngx_http_agnitel_sandbox_verify_refuse(ngx_http_request_t *r,
    ngx_http_agnitel_verify_req_t *vr, ngx_int_t status)
{
    switch (status) {

    case NGX_HTTP_NOT_FOUND:
        return ngx_http_agnitel_sandbox_error(r, status, 20404,
                                              "The requested resource was "
                                              "not found");

    case NGX_HTTP_TOO_MANY_REQUESTS:
        return ngx_http_agnitel_sandbox_error(r, status,
                                              vr->check ? 60202 : 60203,
                                              vr->check
                                              ? "Max check attempts reached"
                                              : "Max send attempts reached");

    default:
        return ngx_http_agnitel_sandbox_internal(r);
    }
}


/*
 * The verification of a mobile, {sid?, status?, checks, sends: [times in
 * the window]}; a new one when there is none.  NULL when memory fails.
 */

static json_t *
ngx_http_agnitel_sandbox_verify_load(MDB_txn *txn, MDB_dbi dbi, MDB_val *k,
    time_t now)
{
    json_t   *ve, *kept, *t;
    size_t    i;
    MDB_val   v;

    ve = NULL;

    if (mdb_get(txn, dbi, k, &v) == 0) {
        ve = json_loadb(v.mv_data, v.mv_size, 0, NULL);
    }

    if (!json_is_object(ve)) {
        json_decref(ve);
        ve = json_pack("{s:[],s:i}", "sends", "checks", 0);
        if (ve == NULL) {
            return NULL;
        }
    }

    kept = json_array();
    if (kept == NULL) {
        json_decref(ve);
        return NULL;
    }

    json_array_foreach(json_object_get(ve, "sends"), i, t) {
        if (json_integer_value(t) + NGX_HTTP_AGNITEL_VERIFY_WINDOW > now) {
            json_array_append(kept, t);
        }
    }

    if (json_object_set_new(ve, "sends", kept) != 0) {
        json_decref(ve);
        return NULL;
    }

    return ve;
}


/* an approved verification is gone: only its sends are kept */

static int
ngx_http_agnitel_sandbox_verify_save(MDB_txn *txn, MDB_dbi dbi, MDB_val *k,
    json_t *ve)
{
    int          rc;
    json_t      *saved;
    const char  *status;

    status = json_string_value(json_object_get(ve, "status"));

    if (status && ngx_strcmp(status, "approved") == 0) {
        saved = json_pack("{s:O,s:i}", "sends", json_object_get(ve, "sends"),
                          "checks", 0);
    } else {
        saved = json_incref(ve);
    }

    rc = saved ? ngx_http_agnitel_store_put_json(txn, dbi, k, saved)
               : MDB_PANIC;
    json_decref(saved);

    return rc;
}


/* Verify's verification resource, as much of it as the module reads */

static ngx_int_t
ngx_http_agnitel_sandbox_verify_send(ngx_http_request_t *r,
    ngx_http_agnitel_verify_req_t *vr, json_t *ve, ngx_uint_t status)
{
    json_t      *json;
    const char  *state;

    state = json_string_value(json_object_get(ve, "status"));

    json = json_pack("{s:O,s:s%,s:s%,s:s%,s:s,s:s,s:b}",
                     "sid", json_object_get(ve, "sid"),
                     "service_sid", vr->service.data, vr->service.len,
                     "account_sid", vr->account.data, vr->account.len,
                     "to", vr->to.data, vr->to.len,
                     "channel", "sms",
                     "status", state,
                     "valid", ngx_strcmp(state, "approved") == 0);

    json_decref(ve);

    return ngx_http_agnitel_sandbox_send_json(r, status, json);
}
