
/*
 * Copyright (C) agnitel
 *
 * Telephony providers of a workspace: one Twilio account (its own, or
 * later a managed one), checked live before it is stored.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_providers.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_record.h"
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_twilio.h"
#include "ngx_http_agnitel_upstream.h"


#define NGX_HTTP_AGNITEL_PRV_ID_LEN  (sizeof("prv_") - 1 + 16)

/* what the removal of a locked managed provider returns: no LMDB code */
#define NGX_HTTP_AGNITEL_LOCKED      (MDB_KEYEXIST + 1002)


/* the seed's summary of the managed telephony terms */
static const char  *ngx_http_agnitel_terms_clauses[] = {
    "Service Selection: The Managed Twilio selection is permanent and cannot "
    "be changed without administrative approval.",
    "Credit-Based Subscription: Services operate on prepaid credits. Unused "
    "credits expire at the end of each billing cycle.",
    "Phone Number Renewal: Phone numbers must be renewed every 28 days. "
    "Failure to renew within the 48-hour window will result in permanent "
    "number release.",
    "Strict No Refund Policy: All purchases are final. No refunds are issued "
    "for unused credits, missed renewals, service interruptions, or account "
    "termination.",
    NULL
};


/* an operator unlocking a workspace's managed provider */
typedef struct {
    ngx_http_request_t             *request;
    ngx_http_agnitel_store_t       *store;
    ngx_str_t                       workspace;
    json_t                         *prv;
} ngx_http_agnitel_unlock_t;


/* a Twilio account being connected: checked at Twilio, then written */
typedef struct {
    ngx_http_agnitel_call_t         call;
    ngx_str_t                       workspace;
    ngx_str_t                       name;
    ngx_str_t                       sid;
    ngx_str_t                       token;
    unsigned                        managed:1;

    ngx_http_request_t             *request;
    ngx_http_agnitel_store_t       *store;
    u_char                          key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val                         k;
    MDB_val                         v;
    json_t                         *prv;

    /* the write's outcome, while a subaccount not kept is closed */
    int                             written;
} ngx_http_agnitel_connect_t;


/* a provider being removed */
typedef struct {
    ngx_http_agnitel_store_t       *store;
    ngx_str_t                       workspace;
    ngx_str_t                       id;
    u_char                          key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val                         k;
} ngx_http_agnitel_removal_t;


static ngx_int_t ngx_http_agnitel_connect_done(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call);
static int ngx_http_agnitel_connect_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_connect_written(ngx_http_request_t *r,
    void *data, int rc);
static ngx_int_t ngx_http_agnitel_connect_failed(ngx_http_request_t *r,
    int rc);
static ngx_int_t ngx_http_agnitel_connect_close(ngx_http_request_t *r,
    ngx_http_agnitel_connect_t *cn, int rc);
static ngx_int_t ngx_http_agnitel_connect_closed(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call);
static void ngx_http_agnitel_connect_unclosed(ngx_http_request_t *r,
    ngx_http_agnitel_connect_t *cn, const char *why);
static int ngx_http_agnitel_removal_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_removal_written(ngx_http_request_t *r,
    void *data, int rc);
static ngx_int_t ngx_http_agnitel_provider_not_found(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_providers_managed(ngx_http_request_t *r,
    json_t *body, ngx_http_agnitel_connect_t *cn);
static ngx_int_t ngx_http_agnitel_connect_record(ngx_http_request_t *r,
    ngx_http_agnitel_connect_t *cn, ngx_str_t *pid, ngx_str_t *sealed);
static int ngx_http_agnitel_unlock_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_unlock_written(ngx_http_request_t *r,
    void *data, int rc);
static ngx_int_t ngx_http_agnitel_provider_exists(ngx_http_request_t *r);
static int ngx_http_agnitel_provider_unused(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws);
static int ngx_http_agnitel_provider_text(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws, ngx_str_t *id,
    MDB_val *v);
static ngx_int_t ngx_http_agnitel_twilio_unseal(ngx_pool_t *pool,
    ngx_log_t *log, u_char *secret, ngx_str_t *ws,
    ngx_http_agnitel_twilio_account_t *account, ngx_str_t *sealed,
    ngx_str_t *token);


ngx_int_t
ngx_http_agnitel_providers_list(ngx_http_request_t *r, json_t *body)
{
    int                            rc;
    u_char                         prefix[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    size_t                         len;
    json_t                        *prv;
    MDB_val                        k, v;
    MDB_txn                       *txn;
    ngx_uint_t                     n;
    MDB_cursor                    *cur;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_json_t       *j;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);
    cur = NULL;

    j = ngx_http_agnitel_reply(r, 1024, "Telephony providers");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "[");

    len = ngx_http_agnitel_store_key(prefix, &ctx->workspace, NULL);

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = mdb_cursor_open(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_PROVIDERS],
                         &cur);

    n = 0;
    k.mv_data = prefix;
    k.mv_size = len;

    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size < len || ngx_memcmp(k.mv_data, prefix, len) != 0) {
            rc = MDB_NOTFOUND;
            break;
        }

        prv = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        if (prv == NULL) {
            rc = MDB_CORRUPTED;
            break;
        }

        if (n++) {
            ngx_http_agnitel_json_lit(j, ",");
        }

        ngx_http_agnitel_provider_view(j, prv);
        json_decref(prv);
    }

    if (cur) {
        mdb_cursor_close(cur);
    }

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc != MDB_NOTFOUND) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    ngx_http_agnitel_json_lit(j, "]");

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, j);
}


/*
 * Connecting an own Twilio account: the credentials are checked with
 * GET /Accounts/{sid}.json before anything is stored.
 */

ngx_int_t
ngx_http_agnitel_providers_twilio(ngx_http_request_t *r, json_t *body)
{
    ngx_str_t                    mode;
    const char                  *msg;
    ngx_http_agnitel_ctx_t      *ctx;
    ngx_http_agnitel_connect_t  *cn;

    cn = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_connect_t));
    if (cn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    cn->workspace = ctx->workspace;

    msg = ngx_http_agnitel_text(r->pool, body, "mode", 16, 1, &mode);

    if (msg || !((mode.len == 3 && ngx_strncmp(mode.data, "own", 3) == 0)
                 || (mode.len == 7
                     && ngx_strncmp(mode.data, "managed", 7) == 0)))
    {
        return ngx_http_agnitel_invalid(r, "mode",
                                        "mode must be \"own\" or "
                                        "\"managed\"");
    }

    msg = ngx_http_agnitel_text(r->pool, body, "friendly_name", 64, 1,
                                &cn->name);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "friendly_name", msg);
    }

    if (mode.len == 7) {
        return ngx_http_agnitel_providers_managed(r, body, cn);
    }

    msg = ngx_http_agnitel_text(r->pool, body, "account_sid", 34, 1,
                                &cn->sid);

    if (msg || ngx_http_agnitel_twilio_sid_valid(&cn->sid, "AC") != NGX_OK) {
        return ngx_http_agnitel_invalid(r, "account_sid",
                                        "account_sid must be AC and 32 hex "
                                        "characters");
    }

    msg = ngx_http_agnitel_text(r->pool, body, "auth_token", 128, 1,
                                &cn->token);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "auth_token", msg);
    }

    if (ngx_http_agnitel_provider_exists(r) != NGX_DECLINED) {
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "provider_exists",
                                      NULL, "the workspace has a Twilio "
                                      "provider already");
    }

    cn->call.method = NGX_HTTP_GET;
    cn->call.resume = ngx_http_agnitel_connect_done;
    cn->call.data = cn;

    if (ngx_http_agnitel_twilio_path(r->pool, &cn->call.path, &cn->sid,
                                     ".json") != NGX_OK
        || ngx_http_agnitel_twilio_basic(r->pool, &cn->sid, &cn->token,
                                         &cn->call.authorization) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_call(r, &cn->call);
}


/*
 * Connecting a managed account: the terms must be accepted, in their
 * current version; then the platform's account creates the workspace's
 * subaccount (POST /Accounts.json), whose credentials are kept.
 */

static ngx_int_t
ngx_http_agnitel_providers_managed(ngx_http_request_t *r, json_t *body,
    ngx_http_agnitel_connect_t *cn)
{
    ngx_str_t                      version, name;
    const char                    *msg;
    ngx_http_agnitel_param_t       form;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (amcf->managed_sid.len == 0) {
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT,
                                      "provider_not_configured", "mode",
                                      "managed Twilio accounts are not "
                                      "offered here");
    }

    msg = ngx_http_agnitel_text(r->pool, body, "terms_version", 64, 0,
                                &version);

    if (!json_is_true(json_object_get(body, "accept_terms"))
        || msg || version.len != amcf->terms_version.len
        || ngx_strncmp(version.data, amcf->terms_version.data,
                       version.len) != 0)
    {
        return ngx_http_agnitel_error(r, NGX_HTTP_AGNITEL_UNPROCESSABLE,
                                      "terms_not_accepted", "accept_terms",
                                      "accept_terms must be true, with "
                                      "terms_version the current version "
                                      "(GET /api/v1/telephony/terms)");
    }

    if (ngx_http_agnitel_provider_exists(r) != NGX_DECLINED) {
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "provider_exists",
                                      NULL, "the workspace has a Twilio "
                                      "provider already");
    }

    name.len = sizeof("agnitel ") - 1 + cn->workspace.len;
    name.data = ngx_pnalloc(r->pool, name.len);
    if (name.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(name.data, "agnitel %V", &cn->workspace);

    form.key = "FriendlyName";
    form.value = name;

    cn->managed = 1;
    cn->call.method = NGX_HTTP_POST;
    ngx_str_set(&cn->call.path, "2010-04-01/Accounts.json");
    cn->call.authorization = amcf->managed_authorization;
    cn->call.resume = ngx_http_agnitel_connect_done;
    cn->call.data = cn;

    if (ngx_http_agnitel_twilio_encode(r->pool, &form, 1, &cn->call.body)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_call(r, &cn->call);
}


static ngx_int_t
ngx_http_agnitel_connect_done(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call)
{
    ngx_http_agnitel_connect_t  *cn = call->data;

    u_char                          id[NGX_HTTP_AGNITEL_PRV_ID_LEN];
    json_t                         *acct;
    ngx_str_t                       sealed, aad, pid, sid;
    ngx_http_agnitel_carrier_err_t  err;
    ngx_http_agnitel_main_conf_t   *amcf;

    if (ngx_http_agnitel_twilio_outcome(r->pool, call,
                                        cn->managed
                                        ? NGX_HTTP_AGNITEL_TWILIO_SUBACCOUNT
                                        : NGX_HTTP_AGNITEL_TWILIO_CONNECT,
                                        &acct, &err)
        != NGX_OK)
    {
        return ngx_http_agnitel_error(r, err.status, err.code, err.field,
                                      err.message);
    }

    sid.data = (u_char *) ngx_http_agnitel_twilio_str(acct, "sid");
    sid.len = sid.data ? ngx_strlen(sid.data) : 0;

    if (cn->managed) {

        /* the new subaccount: its credentials are the provider's */

        cn->sid = sid;
        cn->token.data = (u_char *) ngx_http_agnitel_twilio_str(acct,
                                                                "auth_token");
        cn->token.len = cn->token.data ? ngx_strlen(cn->token.data) : 0;

        if (ngx_http_agnitel_twilio_sid_valid(&sid, "AC") != NGX_OK
            || cn->token.len == 0)
        {
            return ngx_http_agnitel_error(r, NGX_HTTP_BAD_GATEWAY,
                                          "upstream_error", NULL,
                                          "the carrier's answer is "
                                          "malformed");
        }

    } else if (sid.len != cn->sid.len
               || ngx_strncmp(sid.data, cn->sid.data, sid.len) != 0)
    {
        return ngx_http_agnitel_error(r, NGX_HTTP_AGNITEL_UNPROCESSABLE,
                                      "provider_auth_failed", NULL,
                                      "the carrier did not confirm the "
                                      "account");
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_make_id(id, "prv_") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pid.data = id;
    pid.len = sizeof(id);

    /* the provider's key in the store is what its sealed token is bound to */

    aad.data = cn->key;
    aad.len = ngx_http_agnitel_store_key(cn->key, &cn->workspace, &pid);

    if (ngx_http_agnitel_seal(r->pool, amcf->key, &aad, &cn->token, &sealed)
        != NGX_OK
        || ngx_http_agnitel_connect_record(r, cn, &pid, &sealed) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cn->request = r;
    cn->store = amcf->store;
    cn->k.mv_data = cn->key;
    cn->k.mv_size = aad.len;

    return ngx_http_agnitel_write(r, ngx_http_agnitel_connect_apply,
                                  ngx_http_agnitel_connect_written, cn);
}


/*
 * The provider record in cn->prv and cn->v.  A managed one keeps who
 * accepted which terms, when and from where, and its billing cycle.
 */

static ngx_int_t
ngx_http_agnitel_connect_record(ngx_http_request_t *r,
    ngx_http_agnitel_connect_t *cn, ngx_str_t *pid, ngx_str_t *sealed)
{
    json_t                        *prv;
    time_t                         now;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    now = ngx_time();

    prv = json_pack("{s:s%,s:s,s:s%,s:s%,s:s%,s:s,s:I}",
                    "id", pid->data, pid->len,
                    "type", cn->managed ? "twilio_managed" : "twilio_own",
                    "friendly_name", cn->name.data, cn->name.len,
                    "account_sid", cn->sid.data, cn->sid.len,
                    "auth_token", sealed->data, sealed->len,
                    "status", "active",
                    "created_at", (json_int_t) now);

    if (ngx_http_agnitel_json_own(r->pool, prv) != NGX_OK) {
        return NGX_ERROR;
    }

    if (cn->managed
        && (json_object_set_new(prv, "terms",
                json_pack("{s:s%,s:I,s:s%,s:s%}",
                          "version", amcf->terms_version.data,
                          amcf->terms_version.len,
                          "accepted_at", (json_int_t) now,
                          "api_key_id", ctx->key_id,
                          (size_t) NGX_HTTP_AGNITEL_KEY_ID_LEN,
                          "client_address",
                          r->connection->addr_text.data,
                          r->connection->addr_text.len)) != 0
            || json_object_set_new(prv, "cycle_start",
                                   json_integer(now)) != 0
            || json_object_set_new(prv, "cycle_end",
                                   json_integer(now + amcf->billing_cycle))
               != 0))
    {
        return NGX_ERROR;
    }

    cn->prv = prv;

    return ngx_http_agnitel_json_dump(r->pool, prv, &cn->v);
}


static int
ngx_http_agnitel_connect_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_connect_t  *cn = data;

    /* another request may have connected one while this one was checked */

    return ngx_http_agnitel_provider_add(cn->request, txn, cn->store,
                                         &cn->workspace, "twilio_", &cn->k,
                                         &cn->v);
}


static ngx_int_t
ngx_http_agnitel_connect_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_connect_t  *cn = data;

    ngx_http_agnitel_ctx_t   *ctx;
    ngx_http_agnitel_json_t  *j;

    if (rc != 0) {
        return cn->managed ? ngx_http_agnitel_connect_close(r, cn, rc)
                           : ngx_http_agnitel_connect_failed(r, rc);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel: workspace %V connected Twilio account %V",
                  &ctx->workspace, &cn->sid);

    j = ngx_http_agnitel_reply(r, 256, "Twilio account connected");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_provider_view(j, cn->prv);

    return ngx_http_agnitel_send(r, NGX_HTTP_CREATED, j);
}


static ngx_int_t
ngx_http_agnitel_connect_failed(ngx_http_request_t *r, int rc)
{
    if (rc == MDB_KEYEXIST) {
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "provider_exists",
                                      NULL, "the workspace has a Twilio "
                                      "provider already");
    }

    return ngx_http_agnitel_store_error(r, rc);
}


/*
 * A managed connect whose provider was not written (another connect of the
 * workspace was written first, or the store failed) would leave at Twilio
 * a subaccount nobody uses: the platform closes it (POST
 * /Accounts/{sid}.json, Status=closed), then the client hears why the
 * connect failed.
 */

static ngx_int_t
ngx_http_agnitel_connect_close(ngx_http_request_t *r,
    ngx_http_agnitel_connect_t *cn, int rc)
{
    ngx_int_t                      call;
    ngx_http_agnitel_param_t       form;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    cn->written = rc;

    form.key = "Status";
    ngx_str_set(&form.value, "closed");

    cn->call.method = NGX_HTTP_POST;
    cn->call.authorization = amcf->managed_authorization;
    cn->call.resume = ngx_http_agnitel_connect_closed;

    call = NGX_HTTP_INTERNAL_SERVER_ERROR;

    if (ngx_http_agnitel_twilio_path(r->pool, &cn->call.path, &cn->sid,
                                     ".json")
        == NGX_OK
        && ngx_http_agnitel_twilio_encode(r->pool, &form, 1, &cn->call.body)
           == NGX_OK)
    {
        call = ngx_http_agnitel_call(r, &cn->call);
    }

    if (call == NGX_DONE) {
        return NGX_DONE;
    }

    /* the call could not even start: the client still hears why */

    ngx_http_agnitel_connect_unclosed(r, cn, "the call could not be made");

    return ngx_http_agnitel_connect_failed(r, rc);
}


static ngx_int_t
ngx_http_agnitel_connect_closed(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call)
{
    ngx_http_agnitel_connect_t  *cn = call->data;

    json_t                          *acct;
    ngx_http_agnitel_ctx_t          *ctx;
    ngx_http_agnitel_carrier_err_t   err;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_twilio_outcome(r->pool, call,
                                        NGX_HTTP_AGNITEL_TWILIO_CLOSE,
                                        &acct, &err)
        == NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "agnitel: closed subaccount %V, created for a connect "
                      "of workspace %V that was not kept",
                      &cn->sid, &ctx->workspace);

    } else {
        ngx_http_agnitel_connect_unclosed(r, cn, err.message);
    }

    return ngx_http_agnitel_connect_failed(r, cn->written);
}


static void
ngx_http_agnitel_connect_unclosed(ngx_http_request_t *r,
    ngx_http_agnitel_connect_t *cn, const char *why)
{
    ngx_http_agnitel_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "agnitel: subaccount %V, created for a connect of "
                  "workspace %V that was not kept, could not be closed "
                  "(%s): close it at Twilio", &cn->sid, &ctx->workspace,
                  why);
}


ngx_int_t
ngx_http_agnitel_providers_delete(ngx_http_request_t *r, json_t *body)
{
    ngx_http_agnitel_ctx_t         *ctx;
    ngx_http_agnitel_removal_t     *rm;
    ngx_http_agnitel_main_conf_t   *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_id_valid(&ctx->params[0], "prv_") != NGX_OK) {
        return ngx_http_agnitel_provider_not_found(r);
    }

    rm = ngx_palloc(r->pool, sizeof(ngx_http_agnitel_removal_t));
    if (rm == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rm->store = amcf->store;
    rm->workspace = ctx->workspace;
    rm->id = ctx->params[0];
    rm->k.mv_data = rm->key;
    rm->k.mv_size = ngx_http_agnitel_store_key(rm->key, &ctx->workspace,
                                               &ctx->params[0]);

    return ngx_http_agnitel_write(r, ngx_http_agnitel_removal_apply,
                                  ngx_http_agnitel_removal_written, rm);
}


static int
ngx_http_agnitel_removal_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_removal_t  *rm = data;

    int          rc;
    json_t      *prv;
    MDB_val      v;
    ngx_uint_t   locked;

    rc = mdb_get(txn, rm->store->dbi[NGX_HTTP_AGNITEL_DB_PROVIDERS], &rm->k,
                 &v);
    if (rc != 0) {
        return rc;
    }

    /* the managed choice is permanent, unless an operator unlocked it */

    prv = json_loadb(v.mv_data, v.mv_size, 0, NULL);
    locked = json_object_get(prv, "terms")
             && !json_is_true(json_object_get(prv, "unlocked"));
    json_decref(prv);

    if (locked) {
        return NGX_HTTP_AGNITEL_LOCKED;
    }

    rc = ngx_http_agnitel_provider_unused(txn, rm->store, &rm->workspace);
    if (rc != 0) {
        return rc;
    }

    return mdb_del(txn, rm->store->dbi[NGX_HTTP_AGNITEL_DB_PROVIDERS], &rm->k,
                   NULL);
}


static ngx_int_t
ngx_http_agnitel_removal_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_removal_t  *rm = data;

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_provider_not_found(r);
    }

    if (rc == MDB_KEYEXIST) {
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "provider_in_use",
                                      NULL, "release the provider's numbers "
                                      "first");
    }

    if (rc == NGX_HTTP_AGNITEL_LOCKED) {
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "provider_locked",
                                      NULL, "the managed Twilio selection is "
                                      "permanent: an operator must unlock "
                                      "it first");
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    return ngx_http_agnitel_removed(r, "Provider removed", &rm->id);
}


static ngx_int_t
ngx_http_agnitel_provider_not_found(ngx_http_request_t *r)
{
    return ngx_http_agnitel_error(r, NGX_HTTP_NOT_FOUND, "not_found", NULL,
                                  "no such provider");
}


/*
 * MDB_KEYEXIST while the workspace has Twilio numbers: a workspace has one
 * Twilio provider, so any Twilio number in its inventory (active, pending
 * or in grace) is that provider's.
 */

static int
ngx_http_agnitel_provider_unused(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    ngx_str_t *ws)
{
    int                             rc;
    MDB_val                         page;
    ngx_uint_t                      i, n;
    MDB_cursor                     *cur;
    ngx_http_agnitel_index_entry_t  e;

    for (rc = ngx_http_agnitel_index_first(txn, store, ws, &cur, &page);
         rc == 0;
         rc = ngx_http_agnitel_index_next(cur, &page))
    {
        n = page.mv_size / sizeof(ngx_http_agnitel_index_entry_t);

        for (i = 0; i < n; i++) {
            ngx_http_agnitel_index_entry(&page, i, &e);

            if (e.hdr.provider == NGX_HTTP_AGNITEL_TWILIO) {
                rc = MDB_KEYEXIST;
                goto done;
            }
        }
    }

done:

    if (cur) {
        mdb_cursor_close(cur);
    }

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


/*
 * The workspace's Twilio account with its token opened, ready for a call.
 * NGX_DECLINED: the workspace has none.
 */

ngx_int_t
ngx_http_agnitel_twilio_account(ngx_http_request_t *r,
    ngx_http_agnitel_twilio_account_t *account)
{
    int                            rc;
    json_t                        *prv;
    MDB_txn                       *txn;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_agnitel_provider_find(r, txn, &ctx->workspace, "twilio_",
                                         &prv);

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc == MDB_NOTFOUND) {
        return NGX_DECLINED;
    }

    if (rc != 0) {
        return NGX_ERROR;
    }

    return ngx_http_agnitel_twilio_credentials(r->pool, r->connection->log,
                                               amcf->key, &ctx->workspace,
                                               prv, account);
}


/*
 * The account of provider record prv of workspace ws, its token opened
 * with the secret key: no request needed, background jobs use it too.
 */

ngx_int_t
ngx_http_agnitel_twilio_credentials(ngx_pool_t *pool, ngx_log_t *log,
    u_char *secret, ngx_str_t *ws, json_t *prv,
    ngx_http_agnitel_twilio_account_t *account)
{
    ngx_str_t  token;

    if (ngx_http_agnitel_twilio_token(pool, log, secret, ws, prv, account,
                                      &token)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_agnitel_twilio_basic(pool, &account->account_sid,
                                         &token, &account->authorization);
}


/*
 * The account of provider record prv and its auth token, opened into pool
 * (wiped with it): for Basic credentials, or a webhook's signature.
 */

ngx_int_t
ngx_http_agnitel_twilio_token(ngx_pool_t *pool, ngx_log_t *log,
    u_char *secret, ngx_str_t *ws, json_t *prv,
    ngx_http_agnitel_twilio_account_t *account, ngx_str_t *token)
{
    ngx_str_t  sealed;

    account->managed = (json_object_get(prv, "terms") != NULL);
    account->id.data = (u_char *) ngx_http_agnitel_twilio_str(prv, "id");
    account->account_sid.data =
                (u_char *) ngx_http_agnitel_twilio_str(prv, "account_sid");
    sealed.data = (u_char *) ngx_http_agnitel_twilio_str(prv, "auth_token");

    if (account->id.data == NULL || account->account_sid.data == NULL
        || sealed.data == NULL)
    {
        return NGX_ERROR;
    }

    account->id.len = ngx_strlen(account->id.data);
    account->account_sid.len = ngx_strlen(account->account_sid.data);
    sealed.len = ngx_strlen(sealed.data);

    return ngx_http_agnitel_twilio_unseal(pool, log, secret, ws, account,
                                          &sealed, token);
}


/*
 * The same for provider "id" of workspace ws, read inside txn from the
 * record's text without parsing all of it: a webhook's signature check
 * needs three of its members, and parsing the record was the most of the
 * webhook's cost.  The account's strings are copied into pool.
 */

ngx_int_t
ngx_http_agnitel_provider_token(ngx_pool_t *pool, ngx_log_t *log,
    MDB_txn *txn, ngx_http_agnitel_store_t *store, u_char *secret,
    ngx_str_t *ws, ngx_str_t *id, ngx_http_agnitel_twilio_account_t *account,
    ngx_str_t *token)
{
    MDB_val                        v;
    ngx_str_t                      sealed, sid, pid;
    ngx_http_agnitel_json_field_t  f[5];

    f[0].name = "id";
    f[1].name = "account_sid";
    f[2].name = "auth_token";
    f[3].name = "terms";
    f[4].name = NULL;

    if (ngx_http_agnitel_provider_text(txn, store, ws, id, &v) != 0
        || ngx_http_agnitel_json_members(v.mv_data, v.mv_size, f) != NGX_OK
        || ngx_http_agnitel_json_string(pool, &f[0].text, &pid) != NGX_OK
        || ngx_http_agnitel_json_string(pool, &f[1].text, &sid) != NGX_OK
        || ngx_http_agnitel_json_string(pool, &f[2].text, &sealed) != NGX_OK)
    {
        return NGX_ERROR;
    }

    account->managed = (f[3].text.data != NULL);

    account->id.len = pid.len;
    account->id.data = ngx_pstrdup(pool, &pid);
    account->account_sid.len = sid.len;
    account->account_sid.data = ngx_pstrdup(pool, &sid);

    if (account->id.data == NULL || account->account_sid.data == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_agnitel_twilio_unseal(pool, log, secret, ws, account,
                                          &sealed, token);
}


static ngx_int_t
ngx_http_agnitel_twilio_unseal(ngx_pool_t *pool, ngx_log_t *log,
    u_char *secret, ngx_str_t *ws, ngx_http_agnitel_twilio_account_t *account,
    ngx_str_t *sealed, ngx_str_t *token)
{
    u_char     key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    ngx_str_t  aad;

    aad.data = key;
    aad.len = ngx_http_agnitel_store_key(key, ws, &account->id);

    if (ngx_http_agnitel_open(pool, secret, &aad, sealed, token) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "agnitel: the auth token of provider %V does not open: "
                      "was agnitel_secret_key_file changed?", &account->id);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* provider "id" of workspace ws inside txn: 0 and *prv, or an LMDB code */

int
ngx_http_agnitel_provider_get(ngx_pool_t *pool, MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws, ngx_str_t *id,
    json_t **prv)
{
    int      rc;
    MDB_val  v;

    rc = ngx_http_agnitel_provider_text(txn, store, ws, id, &v);
    if (rc != 0) {
        return rc;
    }

    *prv = json_loadb(v.mv_data, v.mv_size, 0, NULL);

    if (ngx_http_agnitel_json_own(pool, *prv) != NGX_OK) {
        return MDB_CORRUPTED;
    }

    return 0;
}


/* the stored text of provider "id" of workspace ws: an LMDB code */

static int
ngx_http_agnitel_provider_text(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    ngx_str_t *ws, ngx_str_t *id, MDB_val *v)
{
    u_char   key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val  k;

    if (ws->len + 1 + id->len > sizeof(key)) {
        return MDB_NOTFOUND;
    }

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, ws, id);

    return mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_PROVIDERS], &k, v);
}


/*
 * The workspace's provider whose type starts with "type" ("twilio_",
 * "india") inside txn: 0 and *prv (owned by the pool; prv may be NULL to
 * only test), MDB_NOTFOUND, or another error.
 */

int
ngx_http_agnitel_provider_find(ngx_http_request_t *r, MDB_txn *txn,
    ngx_str_t *ws, const char *type, json_t **prv)
{
    int                            rc;
    u_char                         prefix[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    size_t                         len;
    json_t                        *p;
    MDB_val                        k, v;
    MDB_cursor                    *cur;
    const char                    *t;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    rc = mdb_cursor_open(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_PROVIDERS],
                         &cur);
    if (rc != 0) {
        return rc;
    }

    len = ngx_http_agnitel_store_key(prefix, ws, NULL);

    k.mv_data = prefix;
    k.mv_size = len;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size < len || ngx_memcmp(k.mv_data, prefix, len) != 0) {
            rc = MDB_NOTFOUND;
            break;
        }

        p = json_loadb(v.mv_data, v.mv_size, 0, NULL);

        if (ngx_http_agnitel_json_own(r->pool, p) != NGX_OK) {
            rc = MDB_CORRUPTED;
            break;
        }

        t = ngx_http_agnitel_twilio_str(p, "type");

        if (t && ngx_strncmp(t, type, ngx_strlen(type)) == 0) {
            if (prv) {
                *prv = p;
            }

            break;
        }
    }

    mdb_cursor_close(cur);

    return rc;
}


/* NGX_OK: the workspace has a Twilio provider; NGX_DECLINED: none */

static ngx_int_t
ngx_http_agnitel_provider_exists(ngx_http_request_t *r)
{
    int                            rc;
    MDB_txn                       *txn;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_agnitel_provider_find(r, txn, &ctx->workspace, "twilio_",
                                         NULL);

    ngx_http_agnitel_store_read_done(amcf->store);

    return (rc == 0) ? NGX_OK : (rc == MDB_NOTFOUND) ? NGX_DECLINED
                                                     : NGX_ERROR;
}


/*
 * The secret never leaves: id, type, name, account, status, created; an
 * Indian provider's state, verified mobile and rejection reason.
 */

void
ngx_http_agnitel_provider_view(ngx_http_agnitel_json_t *j, json_t *prv)
{
    json_t       *terms;
    const char  **key;

    static const char  *keys[] = {
        "id", "type", "friendly_name", NULL
    };

    /* what a type has: a Twilio account, or an Indian provider's state */

    static const char  *optional[] = {
        "account_sid", "status", "state", "mobile", "rejection_reason", NULL
    };

    ngx_http_agnitel_json_lit(j, "{");

    for (key = keys; *key; key++) {
        ngx_http_agnitel_json_member(j, *key, json_object_get(prv, *key));
    }

    for (key = optional; *key; key++) {
        if (json_object_get(prv, *key)) {
            ngx_http_agnitel_json_member(j, *key,
                                         json_object_get(prv, *key));
        }
    }

    ngx_http_agnitel_json_key(j, "created_at");
    ngx_http_agnitel_json_time(j, json_integer_value(json_object_get(prv,
                                                          "created_at")));

    terms = json_object_get(prv, "terms");

    if (terms) {
        ngx_http_agnitel_json_key(j, "locked");
        ngx_http_agnitel_json_bool(j,
                           !json_is_true(json_object_get(prv, "unlocked")));
        ngx_http_agnitel_json_key(j, "terms");
        ngx_http_agnitel_json_lit(j, "{");
        ngx_http_agnitel_json_member(j, "version",
                                     json_object_get(terms, "version"));
        ngx_http_agnitel_json_key(j, "accepted_at");
        ngx_http_agnitel_json_time(j, json_integer_value(
                                   json_object_get(terms, "accepted_at")));
        ngx_http_agnitel_json_member(j, "api_key_id",
                                     json_object_get(terms, "api_key_id"));
        ngx_http_agnitel_json_member(j, "client_address",
                                     json_object_get(terms,
                                                     "client_address"));
        ngx_http_agnitel_json_lit(j, "}");
    }

    ngx_http_agnitel_json_lit(j, "}");
}


/* GET /api/v1/telephony/terms */

ngx_int_t
ngx_http_agnitel_providers_terms(ngx_http_request_t *r, json_t *body)
{
    const char                    **clause;
    ngx_http_agnitel_json_t        *j;
    ngx_http_agnitel_main_conf_t   *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    j = ngx_http_agnitel_reply(r, 1024, "Telephony terms");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "version");
    ngx_http_agnitel_json_str(j, amcf->terms_version.data,
                              amcf->terms_version.len);
    ngx_http_agnitel_json_key(j, "clauses");
    ngx_http_agnitel_json_lit(j, "[");

    for (clause = ngx_http_agnitel_terms_clauses; *clause; clause++) {
        if (clause != ngx_http_agnitel_terms_clauses) {
            ngx_http_agnitel_json_lit(j, ",");
        }

        ngx_http_agnitel_json_str(j, (u_char *) *clause, ngx_strlen(*clause));
    }

    ngx_http_agnitel_json_lit(j, "]}");

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, j);
}


/* the workspace's managed Twilio provider inside txn, or MDB_NOTFOUND */

int
ngx_http_agnitel_provider_managed(ngx_http_request_t *r, MDB_txn *txn,
    ngx_str_t *ws, json_t **prv)
{
    int          rc;
    const char  *type;

    rc = ngx_http_agnitel_provider_find(r, txn, ws, "twilio_", prv);
    if (rc != 0) {
        return rc;
    }

    type = ngx_http_agnitel_twilio_str(*prv, "type");

    return (type && ngx_strcmp(type, "twilio_managed") == 0) ? 0
                                                           : MDB_NOTFOUND;
}


/*
 * POST /admin/v1/workspaces/{id}/provider-unlock: the workspace may then
 * remove its managed provider.  Who unlocked it, and when, is kept.
 */

ngx_int_t
ngx_http_agnitel_provider_unlock(ngx_http_request_t *r, json_t *body)
{
    ngx_http_agnitel_ctx_t         *ctx;
    ngx_http_agnitel_unlock_t      *u;
    ngx_http_agnitel_main_conf_t   *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_id_valid(&ctx->params[0], "ws_") != NGX_OK) {
        return ngx_http_agnitel_provider_not_found(r);
    }

    u = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_unlock_t));
    if (u == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->request = r;
    u->store = amcf->store;
    u->workspace = ctx->params[0];

    return ngx_http_agnitel_write(r, ngx_http_agnitel_unlock_apply,
                                  ngx_http_agnitel_unlock_written, u);
}


static int
ngx_http_agnitel_unlock_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_unlock_t  *u = data;

    int                  rc;
    u_char               key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val              k, v;
    ngx_str_t            id;
    ngx_http_request_t  *r;

    r = u->request;

    rc = ngx_http_agnitel_provider_managed(r, txn, &u->workspace, &u->prv);
    if (rc != 0) {
        return rc;
    }

    if (json_object_set_new(u->prv, "unlocked", json_true()) != 0
        || json_object_set_new(u->prv, "unlocked_at",
                               json_integer(ngx_time())) != 0
        || json_object_set_new(u->prv, "unlocked_by",
                               json_stringn((char *)
                                            r->connection->addr_text.data,
                                            r->connection->addr_text.len))
           != 0
        || ngx_http_agnitel_json_dump(r->pool, u->prv, &v) != NGX_OK)
    {
        return ENOMEM;
    }

    id.data = (u_char *) ngx_http_agnitel_twilio_str(u->prv, "id");
    id.len = id.data ? ngx_strlen(id.data) : 0;

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, &u->workspace, &id);

    return mdb_put(txn, u->store->dbi[NGX_HTTP_AGNITEL_DB_PROVIDERS], &k, &v,
                   0);
}


static ngx_int_t
ngx_http_agnitel_unlock_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_unlock_t  *u = data;

    ngx_http_agnitel_json_t  *j;

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                      NULL, "the workspace has no managed "
                                      "Twilio provider");
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "agnitel: the managed Twilio provider of workspace %V "
                  "was unlocked", &u->workspace);

    j = ngx_http_agnitel_reply(r, 512, "Provider unlocked");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_provider_view(j, u->prv);

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, j);
}


/*
 * A workspace's new provider, stored at k unless it has one of the type
 * already (a prefix: "twilio_" is either Twilio): MDB_KEYEXIST.  Its
 * check and its write are one transaction, so two requests racing to
 * connect leave one provider.
 */

int
ngx_http_agnitel_provider_add(ngx_http_request_t *r, MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws, const char *type,
    MDB_val *k, MDB_val *v)
{
    int  rc;

    rc = ngx_http_agnitel_provider_find(r, txn, ws, type, NULL);

    if (rc == 0) {
        return MDB_KEYEXIST;
    }

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    return mdb_put(txn, store->dbi[NGX_HTTP_AGNITEL_DB_PROVIDERS], k, v,
                   MDB_NOOVERWRITE);
}
