
/*
 * Copyright (C) agnitel
 *
 * Indian telephony: the provider, its mobile OTP, and what its steps
 * share (the provider in the state a step needs; the gate Indian numbers
 * pass).  KYC is in ngx_http_agnitel_kyc.c and ..._kyc_review.c.
 *
 *   POST /api/v1/telephony/providers/india    {friendly_name}
 *   POST /api/v1/telephony/india/otp          {mobile}
 *   POST /api/v1/telephony/india/otp/check    {mobile, code}
 *
 * The provider's state runs otp_required -> kyc_required -> kyc_submitted
 * -> approved | rejected; a step out of order is 409 invalid_state, naming
 * the step that comes next.  Codes are sent and checked by the platform's
 * Twilio Verify service (agnitel_verify) through the agnitel_verify_api
 * location.  On top of Verify's own limits, a mobile gets at most 5 codes
 * an hour and a code at most 5 checks, counted in the store's "meta"
 * database under "otp:{mobile}" so that every worker sees them; a check is
 * counted before Verify is asked, so racing requests cannot exceed it.
 * The code is never stored and never logged.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_india.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_providers.h"
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_twilio.h"
#include "ngx_http_agnitel_verify.h"


#define NGX_HTTP_AGNITEL_OTP_SENDS       5
#define NGX_HTTP_AGNITEL_OTP_CHECKS      5
#define NGX_HTTP_AGNITEL_OTP_WINDOW      3600

/* "+91" and 10 digits */
#define NGX_HTTP_AGNITEL_MOBILE_LEN      13

/* what an apply returns: none is an LMDB code */
#define NGX_HTTP_AGNITEL_OTP_LIMITED     (MDB_KEYEXIST + 1101)
#define NGX_HTTP_AGNITEL_OTP_STATE       NGX_HTTP_AGNITEL_INDIA_STATE


/* a provider being created, or an OTP being sent or checked */
typedef struct {
    ngx_http_request_t             *request;
    ngx_http_agnitel_store_t       *store;
    ngx_http_agnitel_call_t         call;

    ngx_str_t                       workspace;
    ngx_str_t                       mobile;
    ngx_str_t                       code;

    /* the provider: its key, and its record as read or to be written */
    u_char                          key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val                         k;
    MDB_val                         v;
    json_t                         *prv;

    /* "otp:{mobile}" in the meta database */
    u_char                          otp_key[sizeof("otp:") - 1
                                        + NGX_HTTP_AGNITEL_MOBILE_LEN];
    MDB_val                         ok;

    time_t                          now;
    time_t                          retry_after;
} ngx_http_agnitel_otp_t;


/* what comes after each state, for the client to be told */
typedef struct {
    const char                     *state;
    const char                     *next;
} ngx_http_agnitel_step_t;


static ngx_http_agnitel_step_t  ngx_http_agnitel_india_steps[] = {
    { "otp_required",
      "verify the mobile: POST /api/v1/telephony/india/otp, then "
      "/api/v1/telephony/india/otp/check" },
    { "kyc_required",
      "submit KYC: POST /api/v1/telephony/india/kyc" },
    { "kyc_submitted",
      "wait for the operator's review of the KYC" },
    { "approved",
      "buy +91 numbers" },
    { "rejected",
      "correct and resubmit KYC: POST /api/v1/telephony/india/kyc" },
    { NULL, NULL }
};


static int ngx_http_agnitel_india_create_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_india_created(ngx_http_request_t *r,
    void *data, int rc);
static ngx_int_t ngx_http_agnitel_otp_init(ngx_http_request_t *r,
    json_t *body, ngx_http_agnitel_otp_t **otp);
static int ngx_http_agnitel_otp_send_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_otp_reserved(ngx_http_request_t *r,
    void *data, int rc);
static ngx_int_t ngx_http_agnitel_otp_sent(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call);
static int ngx_http_agnitel_otp_check_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_otp_counted(ngx_http_request_t *r,
    void *data, int rc);
static ngx_int_t ngx_http_agnitel_otp_checked(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call);
static ngx_int_t ngx_http_agnitel_otp_call(ngx_http_request_t *r,
    ngx_http_agnitel_otp_t *otp, ngx_http_agnitel_resume_pt resume);
static int ngx_http_agnitel_otp_verified_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_otp_verified(ngx_http_request_t *r,
    void *data, int rc);
static json_t *ngx_http_agnitel_otp_counts(MDB_txn *txn,
    ngx_http_agnitel_otp_t *otp, json_t **sends);
static int ngx_http_agnitel_otp_put(MDB_txn *txn,
    ngx_http_agnitel_otp_t *otp, json_t *counts);
static ngx_int_t ngx_http_agnitel_otp_limited(ngx_http_request_t *r,
    ngx_http_agnitel_otp_t *otp, const char *message);
static ngx_int_t ngx_http_agnitel_digits(u_char *p, size_t len);


static const char  *ngx_http_agnitel_otp_states[] = { "otp_required", NULL };


/* POST /api/v1/telephony/providers/india {friendly_name}: 201 */

ngx_int_t
ngx_http_agnitel_india_create(ngx_http_request_t *r, json_t *body)
{
    u_char                         id[NGX_HTTP_AGNITEL_ID_LEN + 5];
    ngx_str_t                      name, pid;
    const char                    *msg;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_otp_t        *otp;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    msg = ngx_http_agnitel_text(r->pool, body, "friendly_name", 64, 1, &name);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "friendly_name", msg);
    }

    otp = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_otp_t));
    if (otp == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    otp->request = r;
    otp->store = amcf->store;
    otp->workspace = ctx->workspace;

    if (ngx_http_agnitel_make_id(id, "prv_") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pid.data = id;
    pid.len = sizeof("prv_") - 1 + NGX_HTTP_AGNITEL_ID_LEN;

    otp->k.mv_data = otp->key;
    otp->k.mv_size = ngx_http_agnitel_store_key(otp->key, &ctx->workspace,
                                                &pid);

    otp->prv = json_pack("{s:s%,s:s,s:s%,s:s,s:s,s:I}",
                         "id", pid.data, pid.len,
                         "type", "india",
                         "friendly_name", name.data, name.len,
                         "status", "active",
                         "state", "otp_required",
                         "created_at", (json_int_t) ngx_time());

    if (ngx_http_agnitel_json_own(r->pool, otp->prv) != NGX_OK
        || ngx_http_agnitel_json_dump(r->pool, otp->prv, &otp->v) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_write(r, ngx_http_agnitel_india_create_apply,
                                  ngx_http_agnitel_india_created, otp);
}


static int
ngx_http_agnitel_india_create_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_otp_t  *otp = data;

    return ngx_http_agnitel_provider_add(otp->request, txn, otp->store,
                                         &otp->workspace, "india", &otp->k,
                                         &otp->v);
}


static ngx_int_t
ngx_http_agnitel_india_created(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_otp_t  *otp = data;

    if (rc == MDB_KEYEXIST) {
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "provider_exists",
                                      NULL, "the workspace has an Indian "
                                      "provider already");
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel: workspace %V created its Indian provider",
                  &otp->workspace);

    return ngx_http_agnitel_india_answer(r, NGX_HTTP_CREATED,
                                         "Indian provider created",
                                         otp->prv);
}


/*
 * Searches and purchases of Indian numbers need an approved KYC: NGX_OK
 * and the provider's id, or NGX_DECLINED and err, 403 kyc_required naming
 * the next step.
 */

ngx_int_t
ngx_http_agnitel_india_gate(ngx_http_request_t *r, ngx_str_t *id,
    ngx_http_agnitel_carrier_err_t *err)
{
    int                            rc;
    json_t                        *prv;
    MDB_txn                       *txn;
    const char                    *state;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_step_t       *step;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    ngx_memzero(err, sizeof(ngx_http_agnitel_carrier_err_t));

    err->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    err->code = "internal_error";
    err->message = "internal error; nothing was saved";

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_DECLINED;
    }

    prv = NULL;
    rc = ngx_http_agnitel_provider_find(r, txn, &ctx->workspace, "india",
                                         &prv);

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return NGX_DECLINED;
    }

    state = (rc == 0) ? json_string_value(json_object_get(prv, "state"))
                      : NULL;

    err->status = NGX_HTTP_FORBIDDEN;
    err->code = "kyc_required";
    err->message = "Indian numbers need an approved KYC: create the Indian "
                   "provider (POST /api/v1/telephony/providers/india)";

    if (state && ngx_strcmp(state, "approved") == 0) {
        id->data = (u_char *) json_string_value(json_object_get(prv, "id"));
        id->len = id->data ? ngx_strlen(id->data) : 0;

        return id->len ? NGX_OK : NGX_DECLINED;
    }

    for (step = ngx_http_agnitel_india_steps; state && step->state; step++) {
        if (ngx_strcmp(step->state, state) == 0) {
            err->message = step->next;
            break;
        }
    }

    return NGX_DECLINED;
}


/* POST /api/v1/telephony/india/otp {mobile}: 202, a code is on its way */

ngx_int_t
ngx_http_agnitel_india_otp(ngx_http_request_t *r, json_t *body)
{
    ngx_int_t                rc;
    ngx_http_agnitel_otp_t  *otp;

    otp = NULL;

    rc = ngx_http_agnitel_otp_init(r, body, &otp);
    if (otp == NULL) {
        return rc;          /* answered */
    }

    return ngx_http_agnitel_write(r, ngx_http_agnitel_otp_send_apply,
                                  ngx_http_agnitel_otp_reserved, otp);
}


/*
 * What sending and checking share: Verify configured, the mobile an
 * Indian one, the workspace's provider waiting for its OTP.  *otp is set
 * only when all hold; otherwise the answer is made, and its rc returned.
 */

static ngx_int_t
ngx_http_agnitel_otp_init(ngx_http_request_t *r, json_t *body,
    ngx_http_agnitel_otp_t **otp)
{
    u_char                        *d;
    json_t                        *prv;
    ngx_int_t                      rc;
    ngx_str_t                      mobile;
    const char                    *msg;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_otp_t        *o;
    ngx_http_agnitel_loc_conf_t   *alcf;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);
    alcf = ngx_http_get_module_loc_conf(r, ngx_http_agnitel_module);

    if (amcf->verify_service.len == 0 || alcf->verify_api.len == 0) {
        return ngx_http_agnitel_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "otp_unavailable", NULL,
                                      "mobile verification is not "
                                      "configured here (agnitel_verify, "
                                      "agnitel_verify_api)");
    }

    msg = ngx_http_agnitel_text(r->pool, body, "mobile", 16, 1, &mobile);
    d = mobile.data;

    if (msg || mobile.len != NGX_HTTP_AGNITEL_MOBILE_LEN
        || ngx_strncmp(d, "+91", 3) != 0 || d[3] < '6' || d[3] > '9'
        || ngx_http_agnitel_digits(d + 4, 9) != NGX_OK)
    {
        return ngx_http_agnitel_invalid(r, "mobile",
                                        "mobile must be an Indian mobile "
                                        "number: +91 and 10 digits, the "
                                        "first 6 to 9");
    }

    o = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_otp_t));
    if (o == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    o->request = r;
    o->store = amcf->store;
    o->workspace = ctx->workspace;
    o->mobile = mobile;

    o->ok.mv_data = o->otp_key;
    o->ok.mv_size = ngx_sprintf(o->otp_key, "otp:%V", &mobile) - o->otp_key;

    prv = NULL;

    rc = ngx_http_agnitel_india_find(r, ngx_http_agnitel_otp_states, &prv,
                                     o->key, &o->k);
    if (prv == NULL) {
        return rc;
    }

    *otp = o;

    return NGX_OK;
}


/*
 * A send is counted, and the mobile noted as the one the next check is
 * for, before Verify is asked: NGX_HTTP_AGNITEL_OTP_LIMITED past 5 an hour.
 */

static int
ngx_http_agnitel_otp_send_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_otp_t  *otp = data;

    int      rc;
    json_t  *counts, *sends, *prv;

    counts = ngx_http_agnitel_otp_counts(txn, otp, &sends);
    if (counts == NULL) {
        return MDB_PANIC;
    }

    if (json_array_size(sends) >= NGX_HTTP_AGNITEL_OTP_SENDS) {
        otp->retry_after = json_integer_value(json_array_get(sends, 0))
                           + NGX_HTTP_AGNITEL_OTP_WINDOW - otp->now;
        json_decref(counts);
        return NGX_HTTP_AGNITEL_OTP_LIMITED;
    }

    if (json_array_append_new(sends, json_integer(otp->now)) != 0
        || json_object_set_new(counts, "checks", json_integer(0)) != 0)
    {
        json_decref(counts);
        return MDB_PANIC;
    }

    rc = ngx_http_agnitel_otp_put(txn, otp, counts);
    json_decref(counts);

    if (rc != 0) {
        return rc;
    }

    rc = ngx_http_agnitel_india_get(txn, otp->store, &otp->k,
                                    ngx_http_agnitel_otp_states, &prv);
    if (rc != 0) {
        return rc;
    }

    rc = json_object_set_new(prv, "otp_mobile",
                             json_stringn((char *) otp->mobile.data,
                                          otp->mobile.len))
         ? MDB_PANIC
         : ngx_http_agnitel_india_put(txn, otp->store, &otp->k, prv);

    json_decref(prv);

    return rc;
}


static ngx_int_t
ngx_http_agnitel_otp_reserved(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_otp_t  *otp = data;

    if (rc == NGX_HTTP_AGNITEL_OTP_LIMITED) {
        return ngx_http_agnitel_otp_limited(r, otp, "5 codes an hour at "
                                            "most for a mobile: wait");
    }

    if (rc == NGX_HTTP_AGNITEL_OTP_STATE) {
        return ngx_http_agnitel_india_changed(r);
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    return ngx_http_agnitel_otp_call(r, otp, ngx_http_agnitel_otp_sent);
}


static ngx_int_t
ngx_http_agnitel_otp_sent(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call)
{
    ngx_http_agnitel_otp_t  *otp = call->data;

    json_t                          *json;
    ngx_http_agnitel_json_t         *j;
    ngx_http_agnitel_carrier_err_t   err;

    if (ngx_http_agnitel_verify_outcome(r->pool, call, &json, &err)
        != NGX_OK)
    {
        return ngx_http_agnitel_error(r, err.status, err.code, err.field,
                                      err.message);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel: workspace %V: a code was sent to %V",
                  &otp->workspace, &otp->mobile);

    j = ngx_http_agnitel_reply(r, 128, "Code sent");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "mobile");
    ngx_http_agnitel_json_str(j, otp->mobile.data, otp->mobile.len);
    ngx_http_agnitel_json_key(j, "channel");
    ngx_http_agnitel_json_lit(j, "\"sms\"");
    ngx_http_agnitel_json_key(j, "status");
    ngx_http_agnitel_json_lit(j, "\"pending\"");
    ngx_http_agnitel_json_lit(j, "}");

    return ngx_http_agnitel_send(r, NGX_HTTP_ACCEPTED, j);
}


/* POST /api/v1/telephony/india/otp/check {mobile, code} */

ngx_int_t
ngx_http_agnitel_india_otp_check(ngx_http_request_t *r, json_t *body)
{
    ngx_int_t                rc;
    const char              *msg;
    ngx_http_agnitel_otp_t  *otp;

    otp = NULL;

    rc = ngx_http_agnitel_otp_init(r, body, &otp);
    if (otp == NULL) {
        return rc;          /* answered */
    }

    msg = ngx_http_agnitel_text(r->pool, body, "code", 10, 1, &otp->code);

    if (msg || otp->code.len < 4
        || ngx_http_agnitel_digits(otp->code.data, otp->code.len) != NGX_OK)
    {
        return ngx_http_agnitel_invalid(r, "code", "code must be the 4 to "
                                        "10 digits sent to the mobile");
    }

    return ngx_http_agnitel_write(r, ngx_http_agnitel_otp_check_apply,
                                  ngx_http_agnitel_otp_counted, otp);
}


/*
 * A check is counted before Verify is asked: NGX_HTTP_AGNITEL_OTP_LIMITED
 * past 5 for the code; NGX_HTTP_AGNITEL_OTP_STATE when no code was sent
 * to this mobile for this workspace.
 */

static int
ngx_http_agnitel_otp_check_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_otp_t  *otp = data;

    int          rc;
    json_t      *counts, *sends, *prv;
    json_int_t   checks;
    const char  *sent_to;

    rc = ngx_http_agnitel_india_get(txn, otp->store, &otp->k,
                                    ngx_http_agnitel_otp_states, &prv);
    if (rc != 0) {
        return rc;
    }

    sent_to = json_string_value(json_object_get(prv, "otp_mobile"));

    rc = (sent_to && ngx_strlen(sent_to) == otp->mobile.len
          && ngx_strncmp(sent_to, otp->mobile.data, otp->mobile.len) == 0)
         ? 0 : NGX_HTTP_AGNITEL_OTP_STATE;

    json_decref(prv);

    if (rc != 0) {
        return rc;
    }

    counts = ngx_http_agnitel_otp_counts(txn, otp, &sends);
    if (counts == NULL) {
        return MDB_PANIC;
    }

    checks = json_integer_value(json_object_get(counts, "checks"));

    if (checks >= NGX_HTTP_AGNITEL_OTP_CHECKS) {

        /* this code is spent: a new one may be asked for once allowed */

        otp->retry_after = (json_array_size(sends)
                            >= NGX_HTTP_AGNITEL_OTP_SENDS)
                           ? json_integer_value(json_array_get(sends, 0))
                             + NGX_HTTP_AGNITEL_OTP_WINDOW - otp->now
                           : 1;
        json_decref(counts);
        return NGX_HTTP_AGNITEL_OTP_LIMITED;
    }

    rc = json_object_set_new(counts, "checks", json_integer(checks + 1))
         ? MDB_PANIC : ngx_http_agnitel_otp_put(txn, otp, counts);

    json_decref(counts);

    return rc;
}


static ngx_int_t
ngx_http_agnitel_otp_counted(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_otp_t  *otp = data;

    if (rc == NGX_HTTP_AGNITEL_OTP_LIMITED) {
        return ngx_http_agnitel_otp_limited(r, otp, "5 checks at most for a "
                                            "code: ask for a new code");
    }

    if (rc == NGX_HTTP_AGNITEL_OTP_STATE) {
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "invalid_state",
                                      "mobile", "no code was sent to this "
                                      "mobile: next, POST "
                                      "/api/v1/telephony/india/otp");
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    return ngx_http_agnitel_otp_call(r, otp, ngx_http_agnitel_otp_checked);
}


/* the Verify call a counted send or check makes: a subrequest */

static ngx_int_t
ngx_http_agnitel_otp_call(ngx_http_request_t *r, ngx_http_agnitel_otp_t *otp,
    ngx_http_agnitel_resume_pt resume)
{
    ngx_int_t                      rc;
    ngx_http_agnitel_loc_conf_t   *alcf;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);
    alcf = ngx_http_get_module_loc_conf(r, ngx_http_agnitel_module);

    otp->call.prefix = &alcf->verify_api;
    otp->call.authorization = amcf->verify_authorization;
    otp->call.resume = resume;
    otp->call.data = otp;

    if (resume == ngx_http_agnitel_otp_sent) {
        rc = ngx_http_agnitel_verify_send(r->pool, &amcf->verify_service,
                                          &otp->mobile, &otp->call);

    } else {
        rc = ngx_http_agnitel_verify_check(r->pool, &amcf->verify_service,
                                           &otp->mobile, &otp->code,
                                           &otp->call);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_call(r, &otp->call);
}


static ngx_int_t
ngx_http_agnitel_otp_checked(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call)
{
    ngx_http_agnitel_otp_t  *otp = call->data;

    json_t                          *json;
    const char                      *status;
    ngx_http_agnitel_carrier_err_t   err;

    if (ngx_http_agnitel_verify_outcome(r->pool, call, &json, &err)
        != NGX_OK)
    {
        return ngx_http_agnitel_error(r, err.status, err.code, err.field,
                                      err.message);
    }

    status = json_string_value(json_object_get(json, "status"));

    if (status == NULL || ngx_strcmp(status, "approved") != 0) {
        return ngx_http_agnitel_error(r, NGX_HTTP_AGNITEL_UNPROCESSABLE,
                                      "otp_invalid", "code",
                                      "the code is not the one sent");
    }

    otp->now = ngx_time();

    return ngx_http_agnitel_write(r, ngx_http_agnitel_otp_verified_apply,
                                  ngx_http_agnitel_otp_verified, otp);
}


/* the mobile is verified and kept; KYC comes next */

static int
ngx_http_agnitel_otp_verified_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_otp_t  *otp = data;

    int      rc;
    json_t  *prv;

    /* a batch undone and applied again leaves no reference behind */

    json_decref(otp->prv);
    otp->prv = NULL;

    rc = ngx_http_agnitel_india_get(txn, otp->store, &otp->k,
                                    ngx_http_agnitel_otp_states, &prv);
    if (rc != 0) {
        return rc;
    }

    json_object_del(prv, "otp_mobile");

    if (json_object_set_new(prv, "state", json_string("kyc_required")) != 0
        || json_object_set_new(prv, "mobile",
                               json_stringn((char *) otp->mobile.data,
                                            otp->mobile.len)) != 0
        || json_object_set_new(prv, "mobile_verified_at",
                               json_integer(otp->now)) != 0)
    {
        json_decref(prv);
        return MDB_PANIC;
    }

    rc = ngx_http_agnitel_india_put(txn, otp->store, &otp->k, prv);

    if (rc == 0) {
        otp->prv = prv;     /* for the answer; released there */
        return 0;
    }

    json_decref(prv);

    return rc;
}


static ngx_int_t
ngx_http_agnitel_otp_verified(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_otp_t  *otp = data;

    ngx_int_t  status;

    if (rc == NGX_HTTP_AGNITEL_OTP_STATE) {
        status = ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT,
                                        "invalid_state", "state",
                                        "the mobile is verified already");

    } else if (rc != 0) {
        status = ngx_http_agnitel_store_error(r, rc);

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "agnitel: workspace %V verified the mobile %V",
                      &otp->workspace, &otp->mobile);

        status = ngx_http_agnitel_india_answer(r, NGX_HTTP_OK,
                                               "Mobile verified", otp->prv);
    }

    json_decref(otp->prv);
    otp->prv = NULL;

    return status;
}


/*
 * The mobile's counts, {"sends": [times in the last hour], "checks": n};
 * *sends points into it.  NULL only when memory fails.
 */

static json_t *
ngx_http_agnitel_otp_counts(MDB_txn *txn, ngx_http_agnitel_otp_t *otp,
    json_t **sends)
{
    json_t  *counts, *kept, *t;
    size_t   i;
    MDB_val  v;

    otp->now = ngx_time();

    counts = NULL;

    if (mdb_get(txn, otp->store->dbi[NGX_HTTP_AGNITEL_DB_META], &otp->ok, &v)
        == 0)
    {
        counts = json_loadb(v.mv_data, v.mv_size, 0, NULL);
    }

    if (!json_is_object(counts)) {
        json_decref(counts);
        counts = json_pack("{s:[],s:i}", "sends", "checks", 0);
        if (counts == NULL) {
            return NULL;
        }
    }

    /* sends older than the window no longer count */

    kept = json_array();
    if (kept == NULL) {
        json_decref(counts);
        return NULL;
    }

    json_array_foreach(json_object_get(counts, "sends"), i, t) {
        if (json_integer_value(t) + NGX_HTTP_AGNITEL_OTP_WINDOW > otp->now) {
            json_array_append(kept, t);
        }
    }

    if (json_object_set_new(counts, "sends", kept) != 0) {
        json_decref(counts);
        return NULL;
    }

    *sends = kept;

    return counts;
}


static int
ngx_http_agnitel_otp_put(MDB_txn *txn, ngx_http_agnitel_otp_t *otp,
    json_t *counts)
{
    return ngx_http_agnitel_store_put_json(txn,
                                    otp->store->dbi[NGX_HTTP_AGNITEL_DB_META],
                                    &otp->ok, counts);
}


/*
 * The workspace's Indian provider, in one of "states" (NULL-terminated):
 * *prv (the pool's) and its key in key/k.  Otherwise *prv stays NULL and
 * the answer is made: 409 invalid_state naming the next step.
 */

ngx_int_t
ngx_http_agnitel_india_find(ngx_http_request_t *r, const char **states,
    json_t **prv, u_char *key, MDB_val *k)
{
    int                            rc;
    json_t                        *p;
    MDB_txn                       *txn;
    ngx_str_t                      id;
    const char                    *state, **s;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = NULL;
    rc = ngx_http_agnitel_provider_find(r, txn, &ctx->workspace, "india", &p);

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_india_state(r, NULL);
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    state = json_string_value(json_object_get(p, "state"));
    id.data = (u_char *) json_string_value(json_object_get(p, "id"));

    if (state == NULL || id.data == NULL) {
        return ngx_http_agnitel_store_error(r, MDB_CORRUPTED);
    }

    for (s = states; *s; s++) {
        if (ngx_strcmp(*s, state) == 0) {
            break;
        }
    }

    if (*s == NULL) {
        return ngx_http_agnitel_india_state(r, state);
    }

    id.len = ngx_strlen(id.data);

    k->mv_data = key;
    k->mv_size = ngx_http_agnitel_store_key(key, &ctx->workspace, &id);

    *prv = p;

    return NGX_OK;
}


/*
 * The provider inside txn, still in one of "states" (else
 * NGX_HTTP_AGNITEL_INDIA_STATE): a new reference the caller releases.
 */

int
ngx_http_agnitel_india_get(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    MDB_val *k, const char **states, json_t **prv)
{
    int           rc;
    json_t       *p;
    MDB_val       v;
    const char   *state, **s;

    rc = mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_PROVIDERS], k, &v);

    if (rc == MDB_NOTFOUND) {
        return NGX_HTTP_AGNITEL_INDIA_STATE;
    }

    if (rc != 0) {
        return rc;
    }

    p = json_loadb(v.mv_data, v.mv_size, 0, NULL);
    if (p == NULL) {
        return MDB_CORRUPTED;
    }

    state = json_string_value(json_object_get(p, "state"));

    for (s = states; state && *s; s++) {
        if (ngx_strcmp(*s, state) == 0) {
            *prv = p;
            return 0;
        }
    }

    json_decref(p);

    return NGX_HTTP_AGNITEL_INDIA_STATE;
}


int
ngx_http_agnitel_india_put(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    MDB_val *k, json_t *prv)
{
    return ngx_http_agnitel_store_put_json(txn,
                                  store->dbi[NGX_HTTP_AGNITEL_DB_PROVIDERS],
                                  k, prv);
}


/* 409 invalid_state, saying what comes next (state NULL: no provider) */

ngx_int_t
ngx_http_agnitel_india_state(ngx_http_request_t *r, const char *state)
{
    u_char                   *msg;
    ngx_http_agnitel_step_t  *step;

    if (state == NULL) {
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "invalid_state",
                                      "state", "the workspace has no Indian "
                                      "provider: next, create it: POST "
                                      "/api/v1/telephony/providers/india");
    }

    for (step = ngx_http_agnitel_india_steps; step->state; step++) {
        if (ngx_strcmp(step->state, state) == 0) {
            break;
        }
    }

    msg = ngx_pnalloc(r->pool, 256);
    if (msg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_snprintf(msg, 255, "the Indian provider is %s: next, %s", state,
                  step->next ? step->next : "nothing")
        = '\0';

    return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "invalid_state",
                                  "state", (const char *) msg);
}


/* a write found the provider moved on since the request read it */

ngx_int_t
ngx_http_agnitel_india_changed(ngx_http_request_t *r)
{
    return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "invalid_state",
                                  "state", "the provider changed meanwhile: "
                                  "read it again");
}


/* 429 otp_attempts_exceeded, with Retry-After in seconds */

static ngx_int_t
ngx_http_agnitel_otp_limited(ngx_http_request_t *r,
    ngx_http_agnitel_otp_t *otp, const char *message)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (h->value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    h->value.len = ngx_sprintf(h->value.data, "%T",
                               ngx_max(otp->retry_after, 1))
                   - h->value.data;

    return ngx_http_agnitel_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                  "otp_attempts_exceeded", "mobile", message);
}


ngx_int_t
ngx_http_agnitel_india_answer(ngx_http_request_t *r, ngx_uint_t status,
    const char *message, json_t *prv)
{
    ngx_http_agnitel_json_t  *j;

    j = ngx_http_agnitel_reply(r, 256, message);
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_provider_view(j, prv);

    return ngx_http_agnitel_send(r, status, j);
}


static ngx_int_t
ngx_http_agnitel_digits(u_char *p, size_t len)
{
    while (len--) {
        if (*p < '0' || *p > '9') {
            return NGX_DECLINED;
        }

        p++;
    }

    return NGX_OK;
}
