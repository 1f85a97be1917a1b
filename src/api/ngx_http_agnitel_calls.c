
/*
 * Copyright (C) agnitel
 *
 * Outbound calls: POST /api/v1/calls {from, to, agent_id}.  The caller ID
 * "from" must be a number the workspace owns, active, voice-capable, of a
 * Twilio account; the call is placed with POST .../Calls.json, through the
 * same subrequest path as every carrier call, its TwiML dialling the
 * agent's SIP URI and its status reported to agnitel_status_url.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_calls.h"
#include "ngx_http_agnitel_dispatch.h"
#include "ngx_http_agnitel_e164.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_number.h"
#include "ngx_http_agnitel_providers.h"
#include "ngx_http_agnitel_record.h"
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_twilio.h"


typedef struct {
    ngx_http_agnitel_call_t             call;
    ngx_str_t                           from;
    ngx_str_t                           to;
    ngx_str_t                           agent;
} ngx_http_agnitel_dial_t;


static ngx_int_t ngx_http_agnitel_calls_from(ngx_http_request_t *r,
    ngx_str_t *from);
static ngx_int_t ngx_http_agnitel_calls_twiml(ngx_http_request_t *r,
    ngx_http_agnitel_dial_t *d, ngx_str_t *twiml);
static ngx_int_t ngx_http_agnitel_calls_done(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call);


ngx_int_t
ngx_http_agnitel_calls_create(ngx_http_request_t *r, json_t *body)
{
    ngx_int_t                           rc;
    ngx_str_t                           twiml;
    const char                         *msg;
    ngx_http_agnitel_dial_t            *d;
    ngx_http_agnitel_param_t            form[4];
    ngx_http_agnitel_main_conf_t       *amcf;
    ngx_http_agnitel_twilio_account_t   account;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    d = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_dial_t));
    if (d == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    msg = ngx_http_agnitel_text(r->pool, body, "from", 16, 1, &d->from);
    if (msg || ngx_http_agnitel_e164_valid(d->from.data, d->from.len)
               != NGX_OK)
    {
        return ngx_http_agnitel_invalid(r, "from", "from must be E.164, "
                                        "such as +14155550100");
    }

    msg = ngx_http_agnitel_text(r->pool, body, "to", 16, 1, &d->to);
    if (msg || ngx_http_agnitel_e164_valid(d->to.data, d->to.len) != NGX_OK)
    {
        return ngx_http_agnitel_invalid(r, "to", "to must be E.164, such as "
                                        "+14155550100");
    }

    msg = ngx_http_agnitel_agent_id(r->pool, body, &d->agent);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "agent_id", msg);
    }

    rc = ngx_http_agnitel_calls_from(r, &d->from);

    if (rc == NGX_DECLINED) {
        return ngx_http_agnitel_error(r, NGX_HTTP_AGNITEL_UNPROCESSABLE,
                                      "unsupported_provider", "from",
                                      "calls leave from numbers of a Twilio "
                                      "account; custom SIP numbers dial "
                                      "through their own trunk");
    }

    if (rc == NGX_ABORT) {
        return ngx_http_agnitel_error(r, NGX_HTTP_FORBIDDEN,
                                      "caller_id_not_owned", "from",
                                      "from is not an active voice number "
                                      "of this workspace");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_agnitel_twilio_account(r, &account);

    if (rc == NGX_DECLINED) {
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT,
                                      "provider_not_configured", NULL,
                                      "connect a Twilio account first");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_agnitel_calls_twiml(r, d, &twiml);

    if (rc == NGX_DECLINED) {
        return ngx_http_agnitel_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal_error", NULL,
                                      "there is no agnitel_sip_termination_uri "
                                      "for the call to reach the agent at");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    form[0].key = "From";
    form[0].value = d->from;
    form[1].key = "To";
    form[1].value = d->to;
    form[2].key = "Twiml";
    form[2].value = twiml;
    form[3].key = "StatusCallback";
    form[3].value = amcf->status_url;

    d->call.method = NGX_HTTP_POST;
    d->call.authorization = account.authorization;
    d->call.resume = ngx_http_agnitel_calls_done;
    d->call.data = d;

    if (ngx_http_agnitel_twilio_encode(r->pool, form, 4, &d->call.body)
        != NGX_OK
        || ngx_http_agnitel_twilio_path(r->pool, &d->call.path,
                                        &account.account_sid, "/Calls.json")
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_call(r, &d->call);
}


/*
 * The caller ID: NGX_OK for the workspace's number, active, voice, of a
 * Twilio account; NGX_DECLINED for a custom SIP number; NGX_ABORT for
 * anything else.
 */

static ngx_int_t
ngx_http_agnitel_calls_from(ngx_http_request_t *r, ngx_str_t *from)
{
    int                            rc;
    u_char                         key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    json_t                        *rec;
    MDB_val                        k;
    MDB_txn                       *txn;
    const char                    *status, *provider;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, &ctx->workspace, from);

    rc = ngx_http_agnitel_record_load(r->pool, txn, amcf->store, &k, &rec);

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return NGX_ERROR;
    }

    status = (rc == 0) ? json_string_value(json_object_get(rec, "status"))
                       : NULL;
    provider = (rc == 0) ? json_string_value(json_object_get(rec,
                                                             "provider"))
                         : NULL;

    if (provider && ngx_strcmp(provider, "custom") == 0) {
        return NGX_DECLINED;
    }

    if (status == NULL || ngx_strcmp(status, "active") != 0
        || provider == NULL || ngx_strcmp(provider, "twilio") != 0
        || !json_is_true(json_object_get(json_object_get(rec,
                                                         "capabilities"),
                                         "voice")))
    {
        return NGX_ABORT;
    }

    return NGX_OK;
}


/*
 * The call's TwiML: the agent's SIP URI, at the termination URI's host
 * (NGX_DECLINED: there is none).  "from" is E.164 and the agent id
 * [A-Za-z0-9_-]: nothing to escape.
 */

static ngx_int_t
ngx_http_agnitel_calls_twiml(ngx_http_request_t *r, ngx_http_agnitel_dial_t *d,
    ngx_str_t *twiml)
{
    ngx_str_t                      host;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_sip_host(&amcf->sip_termination_uri, &host)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    twiml->data = ngx_pnalloc(r->pool, 128 + d->from.len + host.len
                                       + d->agent.len);
    if (twiml->data == NULL) {
        return NGX_ERROR;
    }

    twiml->len = ngx_sprintf(twiml->data,
                             "<Response><Dial><Sip>sip:%V@%V"
                             "?X-Agnitel-Agent=%V</Sip></Dial></Response>",
                             &d->from, &host, &d->agent)
                 - twiml->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_agnitel_calls_done(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call)
{
    ngx_http_agnitel_dial_t  *d = call->data;

    json_t                          *json;
    const char                      *sid, *status;
    ngx_http_agnitel_json_t         *j;
    ngx_http_agnitel_carrier_err_t   err;

    if (ngx_http_agnitel_twilio_outcome(r->pool, call,
                                        NGX_HTTP_AGNITEL_TWILIO_CALL, &json,
                                        &err)
        != NGX_OK)
    {
        return ngx_http_agnitel_error(r, err.status, err.code, err.field,
                                      err.message);
    }

    sid = ngx_http_agnitel_twilio_str(json, "sid");
    status = ngx_http_agnitel_twilio_str(json, "status");

    if (sid == NULL || ngx_strncmp(sid, "CA", 2) != 0) {
        return ngx_http_agnitel_error(r, NGX_HTTP_BAD_GATEWAY,
                                      "upstream_error", NULL,
                                      "the carrier's answer is malformed");
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel: call %s from %V to %V for agent %V", sid,
                  &d->from, &d->to, &d->agent);

    j = ngx_http_agnitel_reply(r, 256, "Call placed");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "call_sid");
    ngx_http_agnitel_json_str(j, (u_char *) sid, ngx_strlen(sid));
    ngx_http_agnitel_json_key(j, "from");
    ngx_http_agnitel_json_str(j, d->from.data, d->from.len);
    ngx_http_agnitel_json_key(j, "to");
    ngx_http_agnitel_json_str(j, d->to.data, d->to.len);
    ngx_http_agnitel_json_key(j, "agent_id");
    ngx_http_agnitel_json_str(j, d->agent.data, d->agent.len);
    ngx_http_agnitel_json_key(j, "status");
    ngx_http_agnitel_json_str(j, (u_char *) (status ? status : "queued"),
                              ngx_strlen(status ? status : "queued"));
    ngx_http_agnitel_json_lit(j, "}");

    return ngx_http_agnitel_send(r, NGX_HTTP_CREATED, j);
}
