
/*
 * Copyright (C) agnitel
 *
 * agnitel_twilio_voice and agnitel_twilio_status: Twilio's voice webhook
 * and call status callback.  The request must carry
 * X-Twilio-Signature as Twilio computes it: base64 of HMAC-SHA1, keyed with
 * the auth token of the account that owns "To", over the public URL
 * (scheme, host and URI as the client sent them; the scheme from
 * X-Forwarded-Proto behind a TLS-terminating proxy) followed by every POST
 * parameter sorted by name, name then value, no separators.  Anything else
 * is 403.  The voice webhook answers TwiML from the store alone: the
 * dispatch rule's agent dialled over SIP, or a busy reject.  The status
 * callback meters a completed call, once per CallSid: the number's call
 * and minute counters, and for a managed number the usage in the ledger.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/crypto.h>

#include "ngx_http_agnitel_voice.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_e164.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_ledger.h"
#include "ngx_http_agnitel_number.h"
#include "ngx_http_agnitel_providers.h"
#include "ngx_http_agnitel_record.h"
#include "ngx_http_agnitel_store.h"


/* parameters of a webhook at most: Twilio sends a few dozen */
#define NGX_HTTP_AGNITEL_VOICE_PARAMS  128


typedef struct {
    ngx_str_t                       name;
    ngx_str_t                       value;
} ngx_http_agnitel_form_param_t;


/* what the store says of the called (or calling) number */
typedef struct {
    ngx_str_t                       token;
    ngx_str_t                       account_sid;
    ngx_str_t                       agent;
    ngx_str_t                       workspace;
    ngx_uint_t                      answer;    /* a rule, and it may */
} ngx_http_agnitel_callee_t;


/* a completed call to meter */
typedef struct {
    ngx_http_request_t             *request;
    ngx_http_agnitel_store_t       *store;
    ngx_str_t                       workspace;
    ngx_str_t                       number;
    ngx_str_t                       call_sid;
    ngx_uint_t                      outbound;
    int64_t                         minutes;
    ngx_http_agnitel_entry_t        usage;
    ngx_uint_t                      metered;
} ngx_http_agnitel_metering_t;


static ngx_int_t ngx_http_agnitel_webhook(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler);
static ngx_int_t ngx_http_agnitel_webhook_error(ngx_http_request_t *r,
    ngx_int_t rc);
static void ngx_http_agnitel_voice_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_voice(ngx_http_request_t *r);
static void ngx_http_agnitel_status_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_status_callback(ngx_http_request_t *r);
static int ngx_http_agnitel_meter_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_meter_written(ngx_http_request_t *r,
    void *data, int rc);
static ngx_int_t ngx_http_agnitel_form(ngx_http_request_t *r,
    ngx_array_t *params);
static ngx_int_t ngx_http_agnitel_form_decode(ngx_str_t *s);
static int ngx_cdecl ngx_http_agnitel_param_cmp(const void *a,
    const void *b);
static ngx_str_t *ngx_http_agnitel_param(ngx_array_t *params,
    const char *name);
static ngx_int_t ngx_http_agnitel_callee(ngx_http_request_t *r,
    ngx_str_t *to, ngx_http_agnitel_callee_t *callee);
static ngx_int_t ngx_http_agnitel_verified(ngx_http_request_t *r,
    ngx_array_t *params, ngx_str_t *number,
    ngx_http_agnitel_callee_t *callee, const char *what);
static ngx_int_t ngx_http_agnitel_signed(ngx_http_request_t *r,
    ngx_array_t *params, ngx_str_t *token);
static ngx_int_t ngx_http_agnitel_twiml(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *to, ngx_http_agnitel_callee_t *callee);


ngx_int_t
ngx_http_agnitel_voice_handler(ngx_http_request_t *r)
{
    return ngx_http_agnitel_webhook(r, ngx_http_agnitel_voice_body);
}


ngx_int_t
ngx_http_agnitel_status_handler(ngx_http_request_t *r)
{
    return ngx_http_agnitel_webhook(r, ngx_http_agnitel_status_body);
}


static ngx_int_t
ngx_http_agnitel_webhook(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler)
{
    ngx_int_t                rc;
    ngx_http_agnitel_ctx_t  *ctx;

    ctx = ngx_http_agnitel_ctx_new(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->err_status >= NGX_HTTP_BAD_REQUEST) {
        return ngx_http_agnitel_webhook_error(r, r->err_status);
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_agnitel_done(r,
                   ngx_http_agnitel_error(r, NGX_HTTP_NOT_ALLOWED,
                                          "method_not_allowed", NULL,
                                          "Twilio POSTs its webhooks"));
    }

    rc = ngx_http_read_client_request_body(r, handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return ngx_http_agnitel_webhook_error(r, rc);
    }

    return NGX_DONE;
}


/*
 * A body nginx refused (over 64 KiB, broken chunks) or an error_page: Twilio
 * is the caller, so a TwiML reject with that status, not the JSON envelope.
 * Statuses that close the connection answer nothing.
 */

static ngx_int_t
ngx_http_agnitel_webhook_error(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc == NGX_HTTP_CLOSE
        || rc == NGX_HTTP_REQUEST_TIME_OUT
        || rc == NGX_HTTP_CLIENT_CLOSED_REQUEST)
    {
        return rc;
    }

    return ngx_http_agnitel_twiml(r, rc, NULL, NULL);
}


static void
ngx_http_agnitel_voice_body(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_agnitel_done(r,
                                        ngx_http_agnitel_voice(r)));
}


static ngx_int_t
ngx_http_agnitel_voice(ngx_http_request_t *r)
{
    ngx_str_t                  *to;
    ngx_array_t                 params;
    ngx_http_agnitel_callee_t   callee;

    /* what no signature can make right: a clean 400, Twilio sees a reject */

    if (ngx_http_agnitel_form(r, &params) != NGX_OK) {
        return ngx_http_agnitel_twiml(r, NGX_HTTP_BAD_REQUEST, NULL, NULL);
    }

    to = ngx_http_agnitel_param(&params, "To");

    if (to == NULL || ngx_http_agnitel_e164_valid(to->data, to->len)
                      != NGX_OK)
    {
        return ngx_http_agnitel_twiml(r, NGX_HTTP_BAD_REQUEST, NULL, NULL);
    }

    if (ngx_http_agnitel_verified(r, &params, to, &callee, "voice webhook")
        != NGX_OK)
    {
        return ngx_http_agnitel_twiml(r, NGX_HTTP_FORBIDDEN, NULL, NULL);
    }

    return ngx_http_agnitel_twiml(r, NGX_HTTP_OK, to, &callee);
}


/* the form body into params: name=value pairs, each name once */

static ngx_int_t
ngx_http_agnitel_form(ngx_http_request_t *r, ngx_array_t *params)
{
    u_char                         *body, *p, *end, *amp, *eq;
    size_t                          len;
    ngx_uint_t                      i;
    ngx_http_agnitel_form_param_t  *param, *all;

    if (ngx_array_init(params, r->pool, 16,
                       sizeof(ngx_http_agnitel_form_param_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    body = ngx_http_agnitel_body(r, NGX_HTTP_AGNITEL_MAX_BODY, &len);
    if (body == NULL) {
        return NGX_ERROR;
    }

    for (p = body, end = body + len; p < end; p = amp + 1) {

        amp = ngx_strlchr(p, end, '&');
        if (amp == NULL) {
            amp = end;
        }

        if (amp == p) {
            continue;
        }

        if (params->nelts == NGX_HTTP_AGNITEL_VOICE_PARAMS) {
            return NGX_ERROR;
        }

        param = ngx_array_push(params);
        if (param == NULL) {
            return NGX_ERROR;
        }

        eq = ngx_strlchr(p, amp, '=');

        param->name.data = p;
        param->name.len = (eq ? eq : amp) - p;
        param->value.data = eq ? eq + 1 : amp;
        param->value.len = eq ? amp - eq - 1 : 0;

        if (ngx_http_agnitel_form_decode(&param->name) != NGX_OK
            || ngx_http_agnitel_form_decode(&param->value) != NGX_OK
            || param->name.len == 0)
        {
            return NGX_ERROR;
        }
    }

    /* sorted by name, as the signature wants them; a name twice is bad */

    ngx_qsort(params->elts, params->nelts,
              sizeof(ngx_http_agnitel_form_param_t),
              ngx_http_agnitel_param_cmp);

    all = params->elts;

    for (i = 1; i < params->nelts; i++) {
        if (ngx_http_agnitel_param_cmp(&all[i - 1], &all[i]) == 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* application/x-www-form-urlencoded, in place: "+" is a space */

static ngx_int_t
ngx_http_agnitel_form_decode(ngx_str_t *s)
{
    u_char     *src, *dst, *end;
    ngx_int_t   c;

    src = s->data;
    dst = s->data;
    end = s->data + s->len;

    while (src < end) {

        if (*src == '+') {
            *dst++ = ' ';
            src++;
            continue;
        }

        if (*src != '%') {
            *dst++ = *src++;
            continue;
        }

        if (end - src < 3) {
            return NGX_ERROR;
        }

        c = ngx_hextoi(src + 1, 2);
        if (c == NGX_ERROR) {
            return NGX_ERROR;
        }

        *dst++ = (u_char) c;
        src += 3;
    }

    s->len = dst - s->data;

    return NGX_OK;
}


static int ngx_cdecl
ngx_http_agnitel_param_cmp(const void *a, const void *b)
{
    const ngx_http_agnitel_form_param_t  *x = a, *y = b;

    return ngx_memn2cmp(x->name.data, y->name.data, x->name.len,
                        y->name.len);
}


static ngx_str_t *
ngx_http_agnitel_param(ngx_array_t *params, const char *name)
{
    size_t                          len;
    ngx_uint_t                      i;
    ngx_http_agnitel_form_param_t  *param;

    param = params->elts;
    len = ngx_strlen(name);

    for (i = 0; i < params->nelts; i++) {
        if (param[i].name.len == len
            && ngx_strncmp(param[i].name.data, name, len) == 0)
        {
            return &param[i].value;
        }
    }

    return NULL;
}


/*
 * The called number's account token, and whether to dial its agent: it
 * has a rule and is active, and a managed workspace has credits left.
 */

static ngx_int_t
ngx_http_agnitel_callee(ngx_http_request_t *r, ngx_str_t *to,
    ngx_http_agnitel_callee_t *callee)
{
    u_char                              key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    int64_t                             balance;
    MDB_val                             k, owner;
    MDB_txn                            *txn;
    uint64_t                            seq;
    ngx_str_t                           ws, id, rec, status, agent,
                                        currency;
    ngx_int_t                           ok;
    ngx_pool_t                         *pool;
    ngx_http_agnitel_main_conf_t       *amcf;
    ngx_http_agnitel_twilio_account_t   account;
    ngx_http_agnitel_json_field_t       f[6];

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);
    pool = r->pool;

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_ERROR;
    }

    ok = NGX_ERROR;

    k.mv_data = to->data;
    k.mv_size = to->len;

    if (mdb_get(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_NUMBER_OWNERS],
                &k, &owner)
        != 0
        || owner.mv_size > NGX_HTTP_AGNITEL_WS_ID_LEN)
    {
        goto done;
    }

    /* what outlives the transaction is copied out of the store's memory */

    ws.len = owner.mv_size;
    ws.data = ngx_pnalloc(pool, ws.len);
    if (ws.data == NULL) {
        goto done;
    }

    ngx_memcpy(ws.data, owner.mv_data, ws.len);

    callee->workspace = ws;

    /* the members the answer needs, read from the record's text */

    f[0].name = "provider_id";
    f[1].name = "status";
    f[2].name = "agent_id";
    f[3].name = "currency";
    f[4].name = "auto_renew";
    f[5].name = NULL;

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, &ws, to);

    if (ngx_http_agnitel_record_text(txn, amcf->store, &k, &rec) != 0
        || ngx_http_agnitel_json_members(rec.data, rec.len, f) != NGX_OK)
    {
        goto done;
    }

    if (ngx_http_agnitel_json_string(pool, &f[0].text, &id) != NGX_OK) {
        goto done;      /* a custom SIP number: Twilio does not call it */
    }

    if (ngx_http_agnitel_provider_token(pool, r->connection->log, txn,
                                        amcf->store, amcf->key, &ws, &id,
                                        &account, &callee->token)
        != NGX_OK
        || ngx_http_agnitel_json_string(pool, &f[1].text, &status)
           == NGX_ERROR
        || ngx_http_agnitel_json_string(pool, &f[2].text, &agent)
           == NGX_ERROR
        || ngx_http_agnitel_json_string(pool, &f[3].text, &currency)
           == NGX_ERROR)
    {
        goto done;
    }

    callee->account_sid = account.account_sid;

    callee->answer = agent.data && status.len == sizeof("active") - 1
                     && ngx_strncmp(status.data, "active", status.len) == 0;

    if (callee->answer && f[4].text.data && currency.len == 3)
    {
        /* managed: no credits, no calls */

        callee->answer = ngx_http_agnitel_ledger_balance(txn, amcf->store,
                             &ws, currency.data, &balance, &seq) == 0
                         && balance > 0;
    }

    if (agent.data) {
        callee->agent.len = agent.len;
        callee->agent.data = ngx_pstrdup(pool, &agent);

        if (callee->agent.data == NULL) {
            goto done;
        }
    }

    ok = NGX_OK;

done:

    ngx_http_agnitel_store_read_done(amcf->store);

    return ok;
}


static void
ngx_http_agnitel_status_body(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_agnitel_done(r,
                                        ngx_http_agnitel_status_callback(r)));
}


/*
 * The status callback: signed by the account of our number (To inbound,
 * From outbound).  A completed call is metered; other statuses change
 * nothing.
 */

static ngx_int_t
ngx_http_agnitel_status_callback(ngx_http_request_t *r)
{
    ngx_int_t                     seconds;
    ngx_uint_t                    outbound;
    ngx_str_t                    *status, *direction, *number, *sid,
                                 *duration;
    ngx_array_t                   params;
    const char                   *type;
    ngx_http_agnitel_callee_t     callee;
    ngx_http_agnitel_metering_t  *m;
    ngx_http_agnitel_main_conf_t *amcf;

    if (ngx_http_agnitel_form(r, &params) != NGX_OK) {
        return ngx_http_agnitel_twiml(r, NGX_HTTP_BAD_REQUEST, NULL, NULL);
    }

    direction = ngx_http_agnitel_param(&params, "Direction");
    status = ngx_http_agnitel_param(&params, "CallStatus");
    sid = ngx_http_agnitel_param(&params, "CallSid");

    if (direction == NULL || status == NULL || sid == NULL
        || sid->len == 0 || sid->len > 64)
    {
        return ngx_http_agnitel_twiml(r, NGX_HTTP_BAD_REQUEST, NULL, NULL);
    }

    /* inbound, or outbound-api and outbound-dial */

    if (direction->len == 7 && ngx_strncmp(direction->data, "inbound", 7) == 0)
    {
        number = ngx_http_agnitel_param(&params, "To");
        type = "usage_inbound";
        outbound = 0;

    } else if (direction->len >= 8
               && ngx_strncmp(direction->data, "outbound", 8) == 0)
    {
        number = ngx_http_agnitel_param(&params, "From");
        type = "usage_outbound";
        outbound = 1;

    } else {
        return ngx_http_agnitel_twiml(r, NGX_HTTP_BAD_REQUEST, NULL, NULL);
    }

    if (number == NULL
        || ngx_http_agnitel_e164_valid(number->data, number->len) != NGX_OK)
    {
        return ngx_http_agnitel_twiml(r, NGX_HTTP_BAD_REQUEST, NULL, NULL);
    }

    if (ngx_http_agnitel_verified(r, &params, number, &callee,
                                  "status callback")
        != NGX_OK)
    {
        return ngx_http_agnitel_twiml(r, NGX_HTTP_FORBIDDEN, NULL, NULL);
    }

    if (status->len != 9 || ngx_strncmp(status->data, "completed", 9) != 0) {
        return ngx_http_agnitel_twiml(r, NGX_HTTP_OK, NULL, NULL);
    }

    duration = ngx_http_agnitel_param(&params, "CallDuration");
    seconds = duration ? ngx_atoi(duration->data, duration->len) : NGX_ERROR;

    if (seconds == NGX_ERROR) {
        return ngx_http_agnitel_twiml(r, NGX_HTTP_BAD_REQUEST, NULL, NULL);
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    m = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_metering_t));
    if (m == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    m->request = r;
    m->store = amcf->store;
    m->workspace = callee.workspace;
    m->number = *number;
    m->call_sid = *sid;
    m->outbound = outbound;
    m->minutes = (seconds + 59) / 60;

    /* the usage entry's id is drawn here; its amount is the number's price */

    if (ngx_http_agnitel_entry_init(&m->usage, &callee.workspace, "USD",
                                    type, 0)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    m->usage.phone_number = m->number;

    return ngx_http_agnitel_write(r, ngx_http_agnitel_meter_apply,
                                  ngx_http_agnitel_meter_written, m);
}


/* once per CallSid: the counters, and the usage of a managed number */

static int
ngx_http_agnitel_meter_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_metering_t  *m = data;

    int          rc;
    u_char       key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    json_t      *rec;
    MDB_val      k, v;
    const char  *calls, *minutes, *currency;

    m->metered = 0;

    k.mv_data = m->call_sid.data;
    k.mv_size = m->call_sid.len;
    v.mv_data = m->number.data;
    v.mv_size = m->number.len;

    rc = mdb_put(txn, m->store->dbi[NGX_HTTP_AGNITEL_DB_CALLS], &k, &v,
                 MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        return 0;       /* a retry: metered already */
    }

    if (rc != 0) {
        return rc;
    }

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, &m->workspace, &m->number);

    rc = ngx_http_agnitel_record_load(m->request->pool, txn, m->store, &k,
                                      &rec);
    if (rc != 0) {
        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    calls = m->outbound ? "calls_outbound" : "calls_inbound";
    minutes = m->outbound ? "minutes_outbound" : "minutes_inbound";

    if (json_object_set_new(rec, calls, json_integer(
            json_integer_value(json_object_get(rec, calls)) + 1)) != 0
        || json_object_set_new(rec, minutes, json_integer(
            json_integer_value(json_object_get(rec, minutes)) + m->minutes))
           != 0
        || ngx_http_agnitel_record_encode(m->request->pool, rec, &v)
           != NGX_OK)
    {
        return ENOMEM;
    }

    rc = ngx_http_agnitel_record_put(txn, m->store, &k, &v, 0);
    if (rc != 0) {
        return rc;
    }

    m->metered = 1;

    /* managed: the minutes at the number's price, credits or not */

    currency = json_string_value(json_object_get(rec, "currency"));

    if (json_object_get(rec, "auto_renew") == NULL || currency == NULL
        || ngx_strlen(currency) != 3)
    {
        return 0;
    }

    ngx_memcpy(m->usage.currency, currency, 3);
    m->usage.amount = -m->minutes * json_integer_value(json_object_get(rec,
                          m->outbound ? "per_minute_price_outbound"
                                      : "per_minute_price_inbound"));

    return ngx_http_agnitel_ledger_append(txn, m->store, &m->usage);
}


static ngx_int_t
ngx_http_agnitel_meter_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_metering_t  *m = data;

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    if (m->metered) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "agnitel: call %V on %V metered: %L minutes",
                      &m->call_sid, &m->number, m->minutes);
    }

    return ngx_http_agnitel_twiml(r, NGX_HTTP_OK, NULL, NULL);
}


/*
 * Signed by the account that owns "number" here: a number not of a
 * Twilio account has no token to sign with.  A failure is logged.
 */

static ngx_int_t
ngx_http_agnitel_verified(ngx_http_request_t *r, ngx_array_t *params,
    ngx_str_t *number, ngx_http_agnitel_callee_t *callee, const char *what)
{
    ngx_memzero(callee, sizeof(ngx_http_agnitel_callee_t));

    if (ngx_http_agnitel_callee(r, number, callee) == NGX_OK
        && ngx_http_agnitel_signed(r, params, &callee->token) == NGX_OK)
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "agnitel: a %s for %V without a valid signature", what,
                  number);

    return NGX_DECLINED;
}


/* X-Twilio-Signature against the public URL and the sorted parameters */

static ngx_int_t
ngx_http_agnitel_signed(ngx_http_request_t *r, ngx_array_t *params,
    ngx_str_t *token)
{
    u_char                         *p;
    size_t                          len;
    ngx_str_t                       data, mac, scheme, *sig, *proto;
    ngx_uint_t                      i;
    ngx_http_agnitel_form_param_t  *param;

    sig = ngx_http_agnitel_header(r, "X-Twilio-Signature");

    if (sig == NULL || r->headers_in.host == NULL) {
        return NGX_DECLINED;
    }

    /* the scheme the client used: a proxy in front that ends TLS says so */

    proto = ngx_http_agnitel_header(r, "X-Forwarded-Proto");

    if (proto && proto->len) {
        scheme = *proto;

    } else {
#if (NGX_HTTP_SSL)
        if (r->connection->ssl) {
            ngx_str_set(&scheme, "https");
        } else
#endif
        {
            ngx_str_set(&scheme, "http");
        }
    }

    param = params->elts;

    len = scheme.len + sizeof("://") - 1 + r->headers_in.host->value.len
          + r->unparsed_uri.len;

    for (i = 0; i < params->nelts; i++) {
        len += param[i].name.len + param[i].value.len;
    }

    data.data = ngx_pnalloc(r->pool, len);
    if (data.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(data.data, "%V://%V%V", &scheme,
                    &r->headers_in.host->value, &r->unparsed_uri);

    for (i = 0; i < params->nelts; i++) {
        p = ngx_cpymem(p, param[i].name.data, param[i].name.len);
        p = ngx_cpymem(p, param[i].value.data, param[i].value.len);
    }

    data.len = p - data.data;

    if (ngx_http_agnitel_hmac_sha1(r->pool, token, &data, &mac) != NGX_OK) {
        return NGX_ERROR;
    }

    if (sig->len != mac.len
        || CRYPTO_memcmp(sig->data, mac.data, mac.len) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The TwiML answer: the agent dialled at the termination URI's host, or
 * busy.  "To" and the agent id are E.164 and [A-Za-z0-9_-]: nothing to
 * escape in XML.
 */

static ngx_int_t
ngx_http_agnitel_twiml(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *to, ngx_http_agnitel_callee_t *callee)
{
    u_char                        *p;
    size_t                         len;
    ngx_int_t                      rc;
    ngx_str_t                      host;
    ngx_buf_t                     *b;
    ngx_chain_t                    out;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_main_conf_t  *amcf;

    static u_char  busy[] = NGX_HTTP_AGNITEL_TWIML_BUSY;
    static u_char  empty[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                             "<Response/>";

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_sip_host(&amcf->sip_termination_uri, &host)
        != NGX_OK)
    {
        ngx_str_null(&host);    /* nowhere to dial: busy */
    }

    len = sizeof(busy) + 256 + (to ? to->len : 0) + host.len
          + (callee ? callee->agent.len : 0);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (status == NGX_HTTP_OK && callee == NULL) {
        p = ngx_cpymem(b->pos, empty, sizeof(empty) - 1);

    } else if (status == NGX_HTTP_OK && callee->answer && host.len) {
        p = ngx_sprintf(b->pos, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                        "<Response><Dial answerOnBridge=\"true\">"
                        "<Sip>sip:%V@%V?X-Agnitel-Agent=%V</Sip>"
                        "</Dial></Response>", to, &host, &callee->agent);

    } else {
        p = ngx_cpymem(b->pos, busy, sizeof(busy) - 1);
    }

    b->last = p;
    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    /* the module's own answer: the envelope filter lets it through */

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    ctx->answered = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "text/xml");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
