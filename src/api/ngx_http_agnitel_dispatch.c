
/*
 * Copyright (C) agnitel
 *
 * Inbound dispatch rules: which agent answers calls to a number.  One rule
 * per number, for numbers the workspace owns and that are active; the
 * number object shows the rule's agent_id.  Releasing a number drops its
 * rule.  agnitel_dispatch_resolve answers SIP routers in front of
 * custom-SIP numbers: which workspace and agent a number goes to.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_dispatch.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_e164.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_number.h"
#include "ngx_http_agnitel_record.h"


#define NGX_HTTP_AGNITEL_DR_ID_LEN   (sizeof("dr_") - 1 + 16)
#define NGX_HTTP_AGNITEL_AGENT_MAX   64

/* what a rule for a number not active returns: no LMDB code */
#define NGX_HTTP_AGNITEL_NOT_ACTIVE  (MDB_KEYEXIST + 1005)


/* a rule being written or removed */
typedef struct {
    ngx_http_request_t             *request;
    ngx_http_agnitel_store_t       *store;
    ngx_str_t                       workspace;
    ngx_str_t                       number;
    ngx_str_t                       id;
    ngx_str_t                       agent;
    MDB_val                         v;
    json_t                         *rule;
} ngx_http_agnitel_rule_t;


static int ngx_http_agnitel_rule_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_rule_written(ngx_http_request_t *r,
    void *data, int rc);
static int ngx_http_agnitel_unrule_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_unrule_written(ngx_http_request_t *r,
    void *data, int rc);
static int ngx_http_agnitel_rule_agent(ngx_pool_t *pool, MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws, ngx_str_t *number,
    ngx_str_t *agent, ngx_uint_t active);
static void ngx_http_agnitel_rule_view(ngx_http_agnitel_json_t *j,
    json_t *rule);
static ngx_int_t ngx_http_agnitel_rule_not_found(ngx_http_request_t *r);


/*
 * agent_id of a rule or a call: 1 to 64 of [A-Za-z0-9_-] (agents live
 * elsewhere).  NULL, or what is wrong.
 */

const char *
ngx_http_agnitel_agent_id(ngx_pool_t *pool, json_t *body, ngx_str_t *agent)
{
    ngx_uint_t  i;

    static const char  *invalid = "agent_id must be 1 to 64 letters, "
                                  "digits, \"_\" or \"-\"";

    if (ngx_http_agnitel_text(pool, body, "agent_id",
                              NGX_HTTP_AGNITEL_AGENT_MAX, 1, agent)
        != NULL)
    {
        return invalid;
    }

    for (i = 0; i < agent->len; i++) {
        if (!isalnum(agent->data[i]) && agent->data[i] != '_'
            && agent->data[i] != '-')
        {
            return invalid;
        }
    }

    return NULL;
}


/* POST /api/v1/dispatch-rules {phone_number, agent_id} */

ngx_int_t
ngx_http_agnitel_rules_create(ngx_http_request_t *r, json_t *body)
{
    u_char                         id[NGX_HTTP_AGNITEL_DR_ID_LEN];
    const char                    *msg;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_rule_t       *ru;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    ru = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_rule_t));
    if (ru == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    msg = ngx_http_agnitel_text(r->pool, body, "phone_number", 16, 1,
                                &ru->number);

    if (msg || ngx_http_agnitel_e164_valid(ru->number.data, ru->number.len)
               != NGX_OK)
    {
        return ngx_http_agnitel_invalid(r, "phone_number",
                                        "phone_number must be E.164, such "
                                        "as +14155550100");
    }

    msg = ngx_http_agnitel_agent_id(r->pool, body, &ru->agent);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "agent_id", msg);
    }

    if (ngx_http_agnitel_make_id(id, "dr_") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ru->rule = json_pack("{s:s%,s:s%,s:s%,s:s,s:I}",
                         "id", id, sizeof(id),
                         "phone_number", ru->number.data, ru->number.len,
                         "agent_id", ru->agent.data, ru->agent.len,
                         "status", "active",
                         "created_at", (json_int_t) ngx_time());

    if (ngx_http_agnitel_json_own(r->pool, ru->rule) != NGX_OK
        || ngx_http_agnitel_json_dump(r->pool, ru->rule, &ru->v) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ru->request = r;
    ru->store = amcf->store;
    ru->workspace = ctx->workspace;
    ru->id.data = (u_char *) json_string_value(json_object_get(ru->rule,
                                                               "id"));
    ru->id.len = sizeof(id);

    return ngx_http_agnitel_write(r, ngx_http_agnitel_rule_apply,
                                  ngx_http_agnitel_rule_written, ru);
}


/* the number owned and active, no rule yet: the rule, and the agent on it */

static int
ngx_http_agnitel_rule_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_rule_t  *ru = data;

    int      rc;
    u_char   key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val  k, v;

    rc = ngx_http_agnitel_rule_agent(ru->request->pool, txn, ru->store,
                                     &ru->workspace, &ru->number, &ru->agent,
                                     1);
    if (rc != 0) {
        return rc;
    }

    k.mv_data = ru->number.data;
    k.mv_size = ru->number.len;
    v.mv_data = key;
    v.mv_size = ngx_http_agnitel_store_key(key, &ru->workspace, &ru->id);

    rc = mdb_put(txn, ru->store->dbi[NGX_HTTP_AGNITEL_DB_RULE_NUMBERS], &k,
                 &v, MDB_NOOVERWRITE);
    if (rc != 0) {
        return rc;
    }

    return mdb_put(txn, ru->store->dbi[NGX_HTTP_AGNITEL_DB_RULES], &v,
                   &ru->v, MDB_NOOVERWRITE);
}


static ngx_int_t
ngx_http_agnitel_rule_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_rule_t  *ru = data;

    ngx_http_agnitel_json_t  *j;

    switch (rc) {

    case 0:
        break;

    case MDB_NOTFOUND:
        return ngx_http_agnitel_number_not_found(r);

    case MDB_KEYEXIST:
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "rule_exists",
                                      "phone_number", "the number has a "
                                      "dispatch rule already");

    case NGX_HTTP_AGNITEL_NOT_ACTIVE:
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT,
                                      "number_not_active", "phone_number",
                                      "only an active number takes a "
                                      "dispatch rule");

    default:
        return ngx_http_agnitel_store_error(r, rc);
    }

    j = ngx_http_agnitel_reply(r, 256, "Dispatch rule created");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_rule_view(j, ru->rule);

    return ngx_http_agnitel_send(r, NGX_HTTP_CREATED, j);
}


/* GET /api/v1/dispatch-rules */

ngx_int_t
ngx_http_agnitel_rules_list(ngx_http_request_t *r, json_t *body)
{
    int                            rc;
    u_char                         prefix[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    size_t                         len;
    json_t                        *rule;
    MDB_val                        k, v;
    MDB_txn                       *txn;
    ngx_uint_t                     n;
    MDB_cursor                    *cur;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_json_t       *j;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    j = ngx_http_agnitel_reply(r, 4096, "Dispatch rules");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = mdb_cursor_open(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_RULES],
                         &cur);
    if (rc != 0) {
        ngx_http_agnitel_store_read_done(amcf->store);
        return ngx_http_agnitel_store_error(r, rc);
    }

    len = ngx_http_agnitel_store_key(prefix, &ctx->workspace, NULL);
    k.mv_data = prefix;
    k.mv_size = len;
    n = 0;

    ngx_http_agnitel_json_lit(j, "[");

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size < len || ngx_memcmp(k.mv_data, prefix, len) != 0) {
            rc = MDB_NOTFOUND;
            break;
        }

        rule = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        if (rule == NULL) {
            rc = MDB_CORRUPTED;
            break;
        }

        if (n++) {
            ngx_http_agnitel_json_lit(j, ",");
        }

        ngx_http_agnitel_rule_view(j, rule);
        json_decref(rule);
    }

    mdb_cursor_close(cur);
    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc != MDB_NOTFOUND) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    ngx_http_agnitel_json_lit(j, "]");
    ngx_http_agnitel_json_key(j, "meta");
    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "total");
    ngx_http_agnitel_json_int(j, n);
    ngx_http_agnitel_json_lit(j, "}");

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, j);
}


/* DELETE /api/v1/dispatch-rules/{id} */

ngx_int_t
ngx_http_agnitel_rules_delete(ngx_http_request_t *r, json_t *body)
{
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_rule_t       *ru;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_id_valid(&ctx->params[0], "dr_") != NGX_OK) {
        return ngx_http_agnitel_rule_not_found(r);
    }

    ru = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_rule_t));
    if (ru == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ru->request = r;
    ru->store = amcf->store;
    ru->workspace = ctx->workspace;
    ru->id = ctx->params[0];

    return ngx_http_agnitel_write(r, ngx_http_agnitel_unrule_apply,
                                  ngx_http_agnitel_unrule_written, ru);
}


static int
ngx_http_agnitel_unrule_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_rule_t  *ru = data;

    int      rc;
    u_char   key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val  k, v;

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, &ru->workspace, &ru->id);

    rc = mdb_get(txn, ru->store->dbi[NGX_HTTP_AGNITEL_DB_RULES], &k, &v);
    if (rc != 0) {
        return rc;
    }

    ru->rule = json_loadb(v.mv_data, v.mv_size, 0, NULL);

    if (ngx_http_agnitel_json_own(ru->request->pool, ru->rule) != NGX_OK) {
        return MDB_CORRUPTED;
    }

    ru->number.data = (u_char *) json_string_value(
                                    json_object_get(ru->rule, "phone_number"));
    ru->number.len = ru->number.data ? ngx_strlen(ru->number.data) : 0;

    rc = ngx_http_agnitel_rule_drop(txn, ru->store, &ru->number);
    if (rc != 0) {
        return rc;
    }

    return ngx_http_agnitel_rule_agent(ru->request->pool, txn, ru->store,
                                       &ru->workspace, &ru->number, NULL, 0);
}


static ngx_int_t
ngx_http_agnitel_unrule_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_rule_t  *ru = data;

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_rule_not_found(r);
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    return ngx_http_agnitel_removed(r, "Dispatch rule removed", &ru->id);
}


/* the rule of number, if any, goes: its removal, and a number's release */

int
ngx_http_agnitel_rule_drop(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    ngx_str_t *number)
{
    int      rc;
    MDB_val  k, v;

    k.mv_data = number->data;
    k.mv_size = number->len;

    rc = mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_RULE_NUMBERS], &k, &v);
    if (rc != 0) {
        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    rc = mdb_del(txn, store->dbi[NGX_HTTP_AGNITEL_DB_RULES], &v, NULL);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    return mdb_del(txn, store->dbi[NGX_HTTP_AGNITEL_DB_RULE_NUMBERS], &k,
                   NULL);
}


/*
 * Sets (agent) or takes off (NULL) the agent_id of the number's record.
 * With "active", the number must be active.  A missing record is
 * MDB_NOTFOUND when setting, nothing to do when taking off.
 */

static int
ngx_http_agnitel_rule_agent(ngx_pool_t *pool, MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws, ngx_str_t *number,
    ngx_str_t *agent, ngx_uint_t active)
{
    int          rc;
    u_char       key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    json_t      *rec;
    MDB_val      k, v;
    const char  *status;

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, ws, number);

    rc = ngx_http_agnitel_record_load(pool, txn, store, &k, &rec);

    if (rc != 0) {
        return (rc == MDB_NOTFOUND && agent == NULL) ? 0 : rc;
    }

    status = json_string_value(json_object_get(rec, "status"));

    if (active && (status == NULL || ngx_strcmp(status, "active") != 0)) {
        return NGX_HTTP_AGNITEL_NOT_ACTIVE;
    }

    if (agent == NULL) {
        (void) json_object_del(rec, "agent_id");

    } else if (json_object_set_new(rec, "agent_id",
                                   json_stringn((char *) agent->data,
                                                agent->len))
               != 0)
    {
        return ENOMEM;
    }

    if (ngx_http_agnitel_record_encode(pool, rec, &v) != NGX_OK) {
        return ENOMEM;
    }

    return ngx_http_agnitel_record_put(txn, store, &k, &v, 0);
}


static void
ngx_http_agnitel_rule_view(ngx_http_agnitel_json_t *j, json_t *rule)
{
    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_member(j, "id", json_object_get(rule, "id"));
    ngx_http_agnitel_json_member(j, "phone_number",
                                 json_object_get(rule, "phone_number"));
    ngx_http_agnitel_json_member(j, "agent_id",
                                 json_object_get(rule, "agent_id"));
    ngx_http_agnitel_json_member(j, "status",
                                 json_object_get(rule, "status"));
    ngx_http_agnitel_json_key(j, "created_at");
    ngx_http_agnitel_json_time(j, json_integer_value(json_object_get(rule,
                                                          "created_at")));
    ngx_http_agnitel_json_lit(j, "}");
}


static ngx_int_t
ngx_http_agnitel_rule_not_found(ngx_http_request_t *r)
{
    return ngx_http_agnitel_error(r, NGX_HTTP_NOT_FOUND, "not_found", NULL,
                                  "no such dispatch rule");
}


/*
 * agnitel_dispatch_resolve: GET ?to=E164 -> {workspace_id, phone_number,
 * agent_id} for a number with a rule, else 404.  No API key: the location
 * is for the SIP routers of the operator, behind allow/deny.
 */

ngx_int_t
ngx_http_agnitel_resolve(ngx_http_request_t *r)
{
    int                            rc;
    u_char                        *slash;
    MDB_val                        k, v;
    MDB_txn                       *txn;
    ngx_str_t                      to, ws;
    json_t                        *rule;
    ngx_http_agnitel_json_t       *j;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_arg(r, "to", &to) != NGX_OK
        || ngx_http_agnitel_e164_valid(to.data, to.len) != NGX_OK)
    {
        return ngx_http_agnitel_invalid(r, "to", "to must be an E.164 "
                                        "number, such as %2B14155550100");
    }

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    k.mv_data = to.data;
    k.mv_size = to.len;

    rule = NULL;

    rc = mdb_get(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_RULE_NUMBERS], &k,
                 &v);

    if (rc == 0) {
        k = v;
        rc = mdb_get(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_RULES], &k,
                     &v);
    }

    if (rc == 0) {
        rule = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        rc = (ngx_http_agnitel_json_own(r->pool, rule) == NGX_OK)
             ? 0 : MDB_CORRUPTED;
    }

    /* the rule's key is ws "/" dr_id */

    slash = (rc == 0) ? ngx_strlchr(k.mv_data,
                                    (u_char *) k.mv_data + k.mv_size, '/')
                      : NULL;

    if (slash) {
        ws.len = slash - (u_char *) k.mv_data;
        ws.data = ngx_pnalloc(r->pool, ws.len);

        if (ws.data) {
            ngx_memcpy(ws.data, k.mv_data, ws.len);
        }
    }

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                      "to", "no dispatch rule for the "
                                      "number");
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    if (slash == NULL || ws.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    j = ngx_http_agnitel_reply(r, 256, "Dispatch");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "workspace_id");
    ngx_http_agnitel_json_str(j, ws.data, ws.len);
    ngx_http_agnitel_json_member(j, "phone_number",
                                 json_object_get(rule, "phone_number"));
    ngx_http_agnitel_json_member(j, "agent_id",
                                 json_object_get(rule, "agent_id"));
    ngx_http_agnitel_json_lit(j, "}");

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, j);
}


/*
 * agnitel_caller_id, for nginx's auth_request: 204 when the API key's
 * workspace may call from X-Agnitel-From (an owned, active, voice-capable
 * number of a Twilio account), 403 otherwise; 401 without a valid key.
 * Any outbound dialer behind nginx so inherits caller-ID enforcement.
 */

ngx_int_t
ngx_http_agnitel_caller_id(ngx_http_request_t *r)
{
    int                            rc;
    u_char                         key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    json_t                        *rec;
    MDB_val                        k;
    MDB_txn                       *txn;
    ngx_str_t                     *from;
    ngx_uint_t                     ok;
    const char                    *status, *provider;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    from = ngx_http_agnitel_header(r, "X-Agnitel-From");

    if (from == NULL
        || ngx_http_agnitel_e164_valid(from->data, from->len) != NGX_OK)
    {
        return NGX_HTTP_FORBIDDEN;
    }

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, &ctx->workspace, from);

    rc = ngx_http_agnitel_record_load(r->pool, txn, amcf->store, &k, &rec);

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc != 0) {
        return (rc == MDB_NOTFOUND) ? NGX_HTTP_FORBIDDEN
                                    : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    status = json_string_value(json_object_get(rec, "status"));
    provider = json_string_value(json_object_get(rec, "provider"));

    ok = status && ngx_strcmp(status, "active") == 0
         && provider && ngx_strcmp(provider, "twilio") == 0
         && json_is_true(json_object_get(json_object_get(rec, "capabilities"),
                                         "voice"));

    return ok ? NGX_HTTP_NO_CONTENT : NGX_HTTP_FORBIDDEN;
}
