
/*
 * Copyright (C) agnitel
 *
 * An inbound call, replayed the way Twilio delivers it, so that a demo
 * without a phone shows a call being routed and metered:
 *
 *   POST /2010-04-01/Sandbox/Calls.json   To=+E164 [From=+E164] [Duration=s]
 *
 * (the sandbox's own resource, not Twilio's).  For a number the sandbox
 * sold, it POSTs the voice webhook to the number's VoiceUrl, signed with
 * X-Twilio-Signature under the owning account's auth token; then, if the
 * number has a StatusCallback, the call's end there: "completed" with the
 * duration when the TwiML dialled, "busy" otherwise.  Both go out with
 * libcurl on the worker's event loop and the answer reports what each URL
 * said.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <lmdb.h>
#include <jansson.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_curl.h"
#include "ngx_http_agnitel_e164.h"
#include "ngx_http_agnitel_sandbox.h"
#include "ngx_http_agnitel_sandbox_request.h"
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_twilio.h"


#define NGX_HTTP_AGNITEL_REPLAY_FROM      "+15005550006"
#define NGX_HTTP_AGNITEL_REPLAY_SECONDS   "60"
#define NGX_HTTP_AGNITEL_REPLAY_MAX       14400     /* Twilio's 4 hours */

/* the parameters signed and sent, at most */
#define NGX_HTTP_AGNITEL_REPLAY_PARAMS    10


typedef struct {
    ngx_http_request_t             *request;
    ngx_http_agnitel_fetch_t        fetch;

    ngx_str_t                       account;
    ngx_str_t                       token;
    ngx_str_t                       voice_url;
    ngx_str_t                       status_url;

    ngx_str_t                       to;
    ngx_str_t                       from;
    ngx_str_t                       call_sid;
    ngx_str_t                       duration;

    ngx_uint_t                      voice_status;
    ngx_str_t                       twiml;
    const char                     *call_status;
    ngx_uint_t                      callback_status;
} ngx_http_agnitel_replay_t;


static void ngx_http_agnitel_replay_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_replay_start(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_replay_input(ngx_http_request_t *r,
    ngx_http_agnitel_replay_t *rp);
static ngx_int_t ngx_http_agnitel_replay_number(ngx_http_request_t *r,
    ngx_http_agnitel_replay_t *rp);
static ngx_int_t ngx_http_agnitel_replay_token(ngx_http_request_t *r,
    ngx_http_agnitel_replay_t *rp);
static ngx_int_t ngx_http_agnitel_replay_post(ngx_http_agnitel_replay_t *rp,
    ngx_str_t *url, ngx_http_agnitel_fetched_pt done);
static void ngx_http_agnitel_replay_voice(ngx_http_agnitel_fetch_t *f);
static void ngx_http_agnitel_replay_status(ngx_http_agnitel_fetch_t *f);
static void ngx_http_agnitel_replay_finish(ngx_http_agnitel_replay_t *rp,
    ngx_int_t rc);
static ngx_int_t ngx_http_agnitel_replay_answer(ngx_http_agnitel_replay_t *rp);
static ngx_int_t ngx_http_agnitel_replay_copy(ngx_pool_t *pool,
    json_t *rec, const char *name, ngx_str_t *out);


/* whether curl was set up here, for exit_process */
static ngx_uint_t  ngx_http_agnitel_replay_curl;


ngx_int_t
ngx_http_agnitel_sandbox_replay(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_agnitel_sandbox_not_allowed(r, "POST");
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_agnitel_replay_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


void
ngx_http_agnitel_sandbox_replay_done(void)
{
    if (ngx_http_agnitel_replay_curl) {
        ngx_http_agnitel_curl_done();
        ngx_http_agnitel_replay_curl = 0;
    }
}


static void
ngx_http_agnitel_replay_body(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_agnitel_replay_start(r);

    /* NGX_DONE: the webhook is on its way, and the answer comes after it */

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


static ngx_int_t
ngx_http_agnitel_replay_start(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_http_agnitel_replay_t  *rp;

    rp = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_replay_t));
    if (rp == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    rp->request = r;

    rc = ngx_http_agnitel_replay_input(r, rp);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_agnitel_replay_number(r, rp);
    if (rc != NGX_OK) {
        return rc;
    }

    if (rp->voice_url.len == 0) {
        return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_BAD_REQUEST, 21402,
                                              "The number has no VoiceUrl");
    }

    rc = ngx_http_agnitel_replay_token(r, rp);
    if (rc != NGX_OK) {
        return rc;
    }

    /* the jobs may have set curl up already; if not, it is done here once */

    if (!ngx_http_agnitel_replay_curl) {
        if (ngx_http_agnitel_curl_init((ngx_cycle_t *) ngx_cycle, NULL)
            != NGX_OK)
        {
            return ngx_http_agnitel_sandbox_internal(r);
        }

        ngx_http_agnitel_replay_curl = 1;
    }

    rp->call_status = "ringing";

    if (ngx_http_agnitel_replay_post(rp, &rp->voice_url,
                                     ngx_http_agnitel_replay_voice)
        != NGX_OK)
    {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    return NGX_DONE;
}


/* To, From and Duration of the form, checked; a CallSid drawn */

static ngx_int_t
ngx_http_agnitel_replay_input(ngx_http_request_t *r,
    ngx_http_agnitel_replay_t *rp)
{
    u_char     raw[16];
    ngx_int_t  rc, seconds;

    ngx_http_agnitel_sandbox_field_t  fields[] = {
        { "To", &rp->to },
        { "From", &rp->from },
        { "Duration", &rp->duration },
        { NULL, NULL }
    };

    rc = ngx_http_agnitel_sandbox_form(r, fields);

    if (rc == NGX_DECLINED) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    if (rc != NGX_OK) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    if (rp->to.data == NULL
        || ngx_http_agnitel_e164_valid(rp->to.data, rp->to.len) != NGX_OK)
    {
        return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_BAD_REQUEST, 21211,
                                              "To must be an E.164 number");
    }

    if (rp->from.data == NULL) {
        ngx_str_set(&rp->from, NGX_HTTP_AGNITEL_REPLAY_FROM);

    } else if (ngx_http_agnitel_e164_valid(rp->from.data, rp->from.len)
               != NGX_OK)
    {
        return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_BAD_REQUEST, 21212,
                                              "From must be an E.164 number");
    }

    if (rp->duration.data == NULL) {
        ngx_str_set(&rp->duration, NGX_HTTP_AGNITEL_REPLAY_SECONDS);

    } else {
        seconds = ngx_atoi(rp->duration.data, rp->duration.len);

        if (seconds == NGX_ERROR || seconds > NGX_HTTP_AGNITEL_REPLAY_MAX) {
            return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_BAD_REQUEST,
                                                  21218, "Duration must be "
                                                  "0 to 14400 seconds");
        }
    }

    if (ngx_http_agnitel_random(raw, sizeof(raw)) != NGX_OK) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    rp->call_sid.len = 34;
    rp->call_sid.data = ngx_pnalloc(r->pool, 34);

    if (rp->call_sid.data == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    rp->call_sid.data[0] = 'C';
    rp->call_sid.data[1] = 'A';
    ngx_hex_dump(rp->call_sid.data + 2, raw, sizeof(raw));

    return NGX_OK;
}


/* the number the sandbox sold: its account and URLs, or a 404 */

static ngx_int_t
ngx_http_agnitel_replay_number(ngx_http_request_t *r,
    ngx_http_agnitel_replay_t *rp)
{
    int                        rc;
    json_t                    *rec;
    MDB_val                    k, v;
    MDB_txn                   *txn;
    ngx_int_t                  copied;
    ngx_http_agnitel_store_t  *store;

    store = ngx_http_agnitel_sandbox_store(r);
    if (store == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    txn = ngx_http_agnitel_store_read(store, r->connection->log);
    if (txn == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    k.mv_data = rp->to.data;
    k.mv_size = rp->to.len;

    rc = mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX], &k, &v);

    if (rc == 0) {
        k = v;
        rc = mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX], &k, &v);
    }

    /* parsed before the snapshot goes: v points into the map */

    rec = (rc == 0) ? json_loadb(v.mv_data, v.mv_size, 0, NULL) : NULL;

    ngx_http_agnitel_store_read_done(store);

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_NOT_FOUND, 20404,
                                              "The sandbox sold no such "
                                              "number");
    }

    if (rec == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    copied = ngx_http_agnitel_replay_copy(r->pool, rec, "account_sid",
                                          &rp->account)
             | ngx_http_agnitel_replay_copy(r->pool, rec, "voice_url",
                                            &rp->voice_url)
             | ngx_http_agnitel_replay_copy(r->pool, rec, "status_callback",
                                            &rp->status_url);
    json_decref(rec);

    if (copied != NGX_OK || rp->account.len == 0) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    return NGX_OK;
}


/* the auth token of the account owning the number: the key Twilio signs */

static ngx_int_t
ngx_http_agnitel_replay_token(ngx_http_request_t *r,
    ngx_http_agnitel_replay_t *rp)
{
    ngx_int_t                             rc;
    ngx_http_agnitel_sandbox_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_agnitel_sandbox_module);

    if (rp->account.len == slcf->sid.len
        && ngx_strncmp(rp->account.data, slcf->sid.data, slcf->sid.len) == 0)
    {
        rp->token = slcf->token;
        return NGX_OK;
    }

    rc = ngx_http_agnitel_sandbox_subaccount_token(r, &rp->account,
                                                   &rp->token);

    if (rc == NGX_DECLINED) {
        /* sold under another sandbox's account: no key to sign with */
        return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_CONFLICT, 20404,
                                              "The number's account is not "
                                              "this sandbox's");
    }

    return (rc == NGX_OK) ? NGX_OK : ngx_http_agnitel_sandbox_internal(r);
}


/*
 * One webhook: the call's parameters, form-encoded, and their signature,
 * HMAC-SHA1 over the URL and each name and value in name order, as Twilio
 * computes it.  The status callback adds the duration.
 */

static ngx_int_t
ngx_http_agnitel_replay_post(ngx_http_agnitel_replay_t *rp, ngx_str_t *url,
    ngx_http_agnitel_fetched_pt done)
{
    u_char                     *p;
    size_t                      len;
    ngx_str_t                   data, sig, status, zero, version, inbound;
    ngx_uint_t                  i, n;
    ngx_pool_t                 *pool;
    ngx_http_agnitel_param_t    params[NGX_HTTP_AGNITEL_REPLAY_PARAMS];
    ngx_http_agnitel_fetch_t   *f;

    pool = rp->request->pool;
    f = &rp->fetch;

    status.data = (u_char *) rp->call_status;
    status.len = ngx_strlen(rp->call_status);
    ngx_str_set(&zero, "0");
    ngx_str_set(&version, "2010-04-01");
    ngx_str_set(&inbound, "inbound");

    /* sorted by name, the order the signature wants */

    n = 0;
    params[n].key = "AccountSid";
    params[n++].value = rp->account;
    params[n].key = "ApiVersion";
    params[n++].value = version;

    if (done == ngx_http_agnitel_replay_status) {
        params[n].key = "CallDuration";
        params[n++].value = (rp->call_status[0] == 'c') ? rp->duration : zero;
    }

    params[n].key = "CallSid";
    params[n++].value = rp->call_sid;
    params[n].key = "CallStatus";
    params[n++].value = status;
    params[n].key = "Called";
    params[n++].value = rp->to;
    params[n].key = "Caller";
    params[n++].value = rp->from;
    params[n].key = "Direction";
    params[n++].value = inbound;
    params[n].key = "From";
    params[n++].value = rp->from;
    params[n].key = "To";
    params[n++].value = rp->to;

    len = url->len;

    for (i = 0; i < n; i++) {
        len += ngx_strlen(params[i].key) + params[i].value.len;
    }

    data.data = ngx_pnalloc(pool, len);
    if (data.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(data.data, url->data, url->len);

    for (i = 0; i < n; i++) {
        p = ngx_cpymem(p, params[i].key, ngx_strlen(params[i].key));
        p = ngx_cpymem(p, params[i].value.data, params[i].value.len);
    }

    data.len = p - data.data;

    if (ngx_http_agnitel_hmac_sha1(pool, &rp->token, &data, &sig) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(f, sizeof(ngx_http_agnitel_fetch_t));

    f->header.len = sizeof("X-Twilio-Signature: ") - 1 + sig.len;
    f->header.data = ngx_pnalloc(pool, f->header.len);

    if (f->header.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(f->header.data, "X-Twilio-Signature: %V", &sig);

    if (ngx_http_agnitel_twilio_encode(pool, params, n, &f->call.body)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    f->url = *url;
    f->call.method = NGX_HTTP_POST;
    f->pool = pool;
    f->done = done;
    f->data = rp;

    return ngx_http_agnitel_curl_fetch(f);
}


/* the voice webhook's TwiML: the call is answered or turned away */

static void
ngx_http_agnitel_replay_voice(ngx_http_agnitel_fetch_t *f)
{
    ngx_http_agnitel_replay_t  *rp = f->data;

    static u_char  dial[] = "<dial";

    if (f->call.rc != NGX_OK) {
        ngx_http_agnitel_replay_finish(rp,
            ngx_http_agnitel_sandbox_error(rp->request,
                                           NGX_HTTP_BAD_GATEWAY, 11200,
                                           "HTTP retrieval failure: "
                                           "the VoiceUrl did not answer"));
        return;
    }

    rp->voice_status = f->call.status;
    rp->twiml = f->call.response;

    /* a call Twilio would bridge: 200 and a <Dial>; anything else is busy */

    if (f->call.status == NGX_HTTP_OK
        && rp->twiml.len
        && ngx_strlcasestrn(rp->twiml.data, rp->twiml.data + rp->twiml.len,
                            dial, sizeof(dial) - 2)
           != NULL)
    {
        rp->call_status = "completed";

    } else {
        rp->call_status = "busy";
    }

    if (rp->status_url.len == 0) {
        ngx_http_agnitel_replay_finish(rp,
                                       ngx_http_agnitel_replay_answer(rp));
        return;
    }

    if (ngx_http_agnitel_replay_post(rp, &rp->status_url,
                                     ngx_http_agnitel_replay_status)
        != NGX_OK)
    {
        ngx_http_agnitel_replay_finish(rp,
                           ngx_http_agnitel_sandbox_internal(rp->request));
    }
}


static void
ngx_http_agnitel_replay_status(ngx_http_agnitel_fetch_t *f)
{
    ngx_http_agnitel_replay_t  *rp = f->data;

    /* 0: the status callback did not answer, which the answer shows */

    rp->callback_status = (f->call.rc == NGX_OK) ? f->call.status : 0;

    ngx_http_agnitel_replay_finish(rp, ngx_http_agnitel_replay_answer(rp));
}


/* from curl's callback, outside the request's own events */

static void
ngx_http_agnitel_replay_finish(ngx_http_agnitel_replay_t *rp, ngx_int_t rc)
{
    ngx_connection_t  *c;

    c = rp->request->connection;

    ngx_http_finalize_request(rp->request, rc);
    ngx_http_run_posted_requests(c);
}


/*
 * 200 and what happened:
 *
 *   {"call_sid", "account_sid", "from", "to", "call_status", "duration",
 *    "voice": {"url", "status", "twiml"},
 *    "status_callback": {"url", "status"} or null}
 */

static ngx_int_t
ngx_http_agnitel_replay_answer(ngx_http_agnitel_replay_t *rp)
{
    json_t     *json, *callback, *twiml;
    ngx_int_t   seconds;

    seconds = (rp->call_status[0] == 'c')
              ? ngx_atoi(rp->duration.data, rp->duration.len) : 0;

    if (rp->status_url.len) {
        callback = json_pack("{s:s%,s:i}",
                             "url", rp->status_url.data, rp->status_url.len,
                             "status", (int) rp->callback_status);
    } else {
        callback = json_null();
    }

    /* the TwiML is the webhook's own, and null unless it is UTF-8 */

    twiml = json_stringn((char *) rp->twiml.data, rp->twiml.len);

    json = json_pack("{s:s%,s:s%,s:s%,s:s%,s:s,s:i,s:{s:s%,s:i,s:o},s:o}",
                     "call_sid", rp->call_sid.data, rp->call_sid.len,
                     "account_sid", rp->account.data, rp->account.len,
                     "from", rp->from.data, rp->from.len,
                     "to", rp->to.data, rp->to.len,
                     "call_status", rp->call_status,
                     "duration", (int) seconds,
                     "voice",
                         "url", rp->voice_url.data, rp->voice_url.len,
                         "status", (int) rp->voice_status,
                         "twiml", twiml ? twiml : json_null(),
                     "status_callback", callback);

    ngx_log_error(NGX_LOG_INFO, rp->request->connection->log, 0,
                  "agnitel sandbox: replayed call %V to %V: %s, voice %ui, "
                  "status callback %ui", &rp->call_sid, &rp->to,
                  rp->call_status, rp->voice_status, rp->callback_status);

    return ngx_http_agnitel_sandbox_send_json(rp->request, NGX_HTTP_OK, json);
}


/* a string member of the record into the pool; null or absent: empty */

static ngx_int_t
ngx_http_agnitel_replay_copy(ngx_pool_t *pool, json_t *rec, const char *name,
    ngx_str_t *out)
{
    json_t  *v;

    v = json_object_get(rec, name);

    ngx_str_null(out);

    if (!json_is_string(v)) {
        return NGX_OK;
    }

    out->len = json_string_length(v);
    out->data = ngx_pnalloc(pool, out->len);

    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, json_string_value(v), out->len);

    return NGX_OK;
}
