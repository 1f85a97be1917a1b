
/*
 * Copyright (C) agnitel
 *
 * The operator API: workspaces and their API keys.  It has no auth of its
 * own; operators protect its location with allow/deny or auth_basic.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_admin.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_store.h"


/* a new API key, and the new workspace it may come with */
typedef struct {
    ngx_http_agnitel_key_rec_t      rec;
    u_char                          key[NGX_HTTP_AGNITEL_API_KEY_LEN];
    unsigned                        generated:1;

    ngx_http_agnitel_store_t       *store;
    ngx_str_t                       name;
    MDB_val                         workspace;
} ngx_http_agnitel_new_key_t;


/* an API key being revoked */
typedef struct {
    ngx_http_agnitel_store_t       *store;
    ngx_str_t                       id;
    u_char                          key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val                         k;
} ngx_http_agnitel_revoke_t;


static int ngx_http_agnitel_jobs_record(ngx_http_request_t *r, MDB_txn *txn,
    const char *name, json_t **rec);
static void ngx_http_agnitel_jobs_view(ngx_http_agnitel_json_t *j,
    const char *name, json_t *run);
static int ngx_http_agnitel_workspace_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_workspace_written(ngx_http_request_t *r,
    void *data, int rc);
static int ngx_http_agnitel_key_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_key_written(ngx_http_request_t *r,
    void *data, int rc);
static int ngx_http_agnitel_revoke_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_revoke_written(ngx_http_request_t *r,
    void *data, int rc);
static ngx_http_agnitel_new_key_t *ngx_http_agnitel_new_key_alloc(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_new_key(json_t *body,
    ngx_http_agnitel_new_key_t *nk);
static int ngx_http_agnitel_key_put(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_http_agnitel_new_key_t *nk);
static void ngx_http_agnitel_key_reply(ngx_http_agnitel_json_t *j,
    ngx_http_agnitel_new_key_t *nk);
static ngx_int_t ngx_http_agnitel_workspace_view(ngx_http_agnitel_json_t *j,
    MDB_val *val);
static ngx_int_t ngx_http_agnitel_workspace_not_found(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_key_exists(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_key_not_found(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_bad_key_hash(ngx_http_request_t *r);


ngx_int_t
ngx_http_agnitel_workspace_create(ngx_http_request_t *r, json_t *body)
{
    json_t                        *ws;
    ngx_int_t                      err;
    const char                    *msg;
    ngx_http_agnitel_new_key_t    *nk;

    nk = ngx_http_agnitel_new_key_alloc(r);
    if (nk == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    msg = ngx_http_agnitel_text(r->pool, body, "name", 64, 1, &nk->name);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "name", msg);
    }

    if (ngx_http_agnitel_make_id(nk->rec.workspace, "ws_") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    err = ngx_http_agnitel_new_key(body, nk);

    if (err == NGX_DECLINED) {
        return ngx_http_agnitel_bad_key_hash(r);
    }

    if (err != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ws = json_pack("{s:s%,s:s%,s:I}",
                   "id", nk->rec.workspace, sizeof(nk->rec.workspace),
                   "name", nk->name.data, nk->name.len,
                   "created_at", (json_int_t) nk->rec.created_at);

    if (ngx_http_agnitel_json_own(r->pool, ws) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_agnitel_json_dump(r->pool, ws, &nk->workspace) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_write(r, ngx_http_agnitel_workspace_apply,
                                  ngx_http_agnitel_workspace_written, nk);
}


static int
ngx_http_agnitel_workspace_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_new_key_t  *nk = data;

    int      rc;
    MDB_val  k;

    k.mv_data = nk->rec.workspace;
    k.mv_size = sizeof(nk->rec.workspace);

    rc = mdb_put(txn, nk->store->dbi[NGX_HTTP_AGNITEL_DB_WORKSPACES], &k,
                 &nk->workspace, MDB_NOOVERWRITE);
    if (rc != 0) {
        return rc;
    }

    return ngx_http_agnitel_key_put(txn, nk->store, nk);
}


static ngx_int_t
ngx_http_agnitel_workspace_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_new_key_t  *nk = data;

    ngx_http_agnitel_json_t  *j;

    if (rc == MDB_KEYEXIST) {
        return ngx_http_agnitel_key_exists(r);
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    j = ngx_http_agnitel_reply(r, 256, "Workspace created");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "id");
    ngx_http_agnitel_json_str(j, nk->rec.workspace,
                              sizeof(nk->rec.workspace));
    ngx_http_agnitel_json_key(j, "name");
    ngx_http_agnitel_json_str(j, nk->name.data, nk->name.len);
    ngx_http_agnitel_json_key(j, "created_at");
    ngx_http_agnitel_json_time(j, nk->rec.created_at);
    ngx_http_agnitel_json_key(j, "api_key_id");
    ngx_http_agnitel_json_str(j, nk->rec.id, sizeof(nk->rec.id));

    if (nk->generated) {
        ngx_http_agnitel_json_key(j, "api_key");
        ngx_http_agnitel_json_str(j, nk->key, sizeof(nk->key));
    }

    ngx_http_agnitel_json_lit(j, "}");

    return ngx_http_agnitel_send(r, NGX_HTTP_CREATED, j);
}


ngx_int_t
ngx_http_agnitel_workspace_list(ngx_http_request_t *r, json_t *body)
{
    int                            rc;
    MDB_val                        k, v;
    MDB_txn                       *txn;
    ngx_uint_t                     n;
    MDB_cursor                    *cur;
    ngx_http_agnitel_json_t       *j;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    j = ngx_http_agnitel_reply(r, 4096, "Workspaces");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "[");

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = mdb_cursor_open(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_WORKSPACES],
                         &cur);
    if (rc != 0) {
        ngx_http_agnitel_store_read_done(amcf->store);
        return ngx_http_agnitel_store_error(r, rc);
    }

    n = 0;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (n++) {
            ngx_http_agnitel_json_lit(j, ",");
        }

        if (ngx_http_agnitel_workspace_view(j, &v) != NGX_OK) {
            rc = MDB_CORRUPTED;
            break;
        }
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


ngx_int_t
ngx_http_agnitel_api_key_create(ngx_http_request_t *r, json_t *body)
{
    ngx_int_t                    err;
    ngx_http_agnitel_ctx_t      *ctx;
    ngx_http_agnitel_new_key_t  *nk;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_id_valid(&ctx->params[0], "ws_") != NGX_OK) {
        return ngx_http_agnitel_workspace_not_found(r);
    }

    nk = ngx_http_agnitel_new_key_alloc(r);
    if (nk == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(nk->rec.workspace, ctx->params[0].data,
               NGX_HTTP_AGNITEL_WS_ID_LEN);

    err = ngx_http_agnitel_new_key(body, nk);

    if (err == NGX_DECLINED) {
        return ngx_http_agnitel_bad_key_hash(r);
    }

    if (err != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_write(r, ngx_http_agnitel_key_apply,
                                  ngx_http_agnitel_key_written, nk);
}


/* a key for a workspace that exists */

static int
ngx_http_agnitel_key_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_new_key_t  *nk = data;

    int      rc;
    MDB_val  k, v;

    k.mv_data = nk->rec.workspace;
    k.mv_size = sizeof(nk->rec.workspace);

    rc = mdb_get(txn, nk->store->dbi[NGX_HTTP_AGNITEL_DB_WORKSPACES], &k, &v);
    if (rc != 0) {
        return rc;
    }

    return ngx_http_agnitel_key_put(txn, nk->store, nk);
}


static ngx_int_t
ngx_http_agnitel_key_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_new_key_t  *nk = data;

    ngx_http_agnitel_json_t  *j;

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_workspace_not_found(r);
    }

    if (rc == MDB_KEYEXIST) {
        return ngx_http_agnitel_key_exists(r);
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    j = ngx_http_agnitel_reply(r, 256, "API key created");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_key_reply(j, nk);

    return ngx_http_agnitel_send(r, NGX_HTTP_CREATED, j);
}


ngx_int_t
ngx_http_agnitel_api_key_revoke(ngx_http_request_t *r, json_t *body)
{
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_revoke_t     *rv;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_id_valid(&ctx->params[0], "ws_") != NGX_OK
        || ngx_http_agnitel_id_valid(&ctx->params[1], "key_") != NGX_OK)
    {
        return ngx_http_agnitel_key_not_found(r);
    }

    rv = ngx_palloc(r->pool, sizeof(ngx_http_agnitel_revoke_t));
    if (rv == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    rv->store = amcf->store;
    rv->id = ctx->params[1];
    rv->k.mv_data = rv->key;
    rv->k.mv_size = ngx_http_agnitel_store_key(rv->key, &ctx->params[0],
                                               &ctx->params[1]);

    return ngx_http_agnitel_write(r, ngx_http_agnitel_revoke_apply,
                                  ngx_http_agnitel_revoke_written, rv);
}


static int
ngx_http_agnitel_revoke_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_revoke_t  *rv = data;

    int                        rc;
    MDB_val                    hash;
    ngx_http_agnitel_store_t  *store;

    store = rv->store;

    rc = mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_API_KEY_IDS], &rv->k,
                 &hash);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_del(txn, store->dbi[NGX_HTTP_AGNITEL_DB_API_KEYS], &hash, NULL);
    if (rc != 0) {
        return rc;
    }

    return mdb_del(txn, store->dbi[NGX_HTTP_AGNITEL_DB_API_KEY_IDS], &rv->k,
                   NULL);
}


static ngx_int_t
ngx_http_agnitel_revoke_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_revoke_t  *rv = data;

    ngx_http_agnitel_json_t  *j;

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_key_not_found(r);
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    j = ngx_http_agnitel_reply(r, 128, "API key revoked");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "id");
    ngx_http_agnitel_json_str(j, rv->id.data, rv->id.len);
    ngx_http_agnitel_json_key(j, "revoked_at");
    ngx_http_agnitel_json_time(j, ngx_time());
    ngx_http_agnitel_json_lit(j, "}");

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, j);
}


static ngx_http_agnitel_new_key_t *
ngx_http_agnitel_new_key_alloc(ngx_http_request_t *r)
{
    ngx_http_agnitel_new_key_t    *nk;
    ngx_http_agnitel_main_conf_t  *amcf;

    /* zeroed: the record is written as it is, with no stray padding */

    nk = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_new_key_t));
    if (nk == NULL) {
        return NULL;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);
    nk->store = amcf->store;

    return nk;
}


/*
 * A new key for nk->rec.workspace: generated, or imported as the SHA-256 of
 * a key the operator made elsewhere ("api_key_sha256", 64 hex), in which
 * case the key itself never reaches this server.  NGX_DECLINED: the hash
 * given is not 64 hex characters.
 */

static ngx_int_t
ngx_http_agnitel_new_key(json_t *body, ngx_http_agnitel_new_key_t *nk)
{
    json_t      *v;
    ngx_int_t    b;
    ngx_uint_t   i;
    const char  *hex;

    if (ngx_http_agnitel_make_id(nk->rec.id, "key_") != NGX_OK) {
        return NGX_ERROR;
    }

    nk->rec.created_at = ngx_time();

    v = body ? json_object_get(body, "api_key_sha256") : NULL;

    if (v == NULL) {
        if (ngx_http_agnitel_make_api_key(nk->key) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_agnitel_sha256(nk->rec.hash, nk->key, sizeof(nk->key));
        nk->generated = 1;

        return NGX_OK;
    }

    hex = json_string_value(v);

    if (hex == NULL || json_string_length(v) != 2 * sizeof(nk->rec.hash)) {
        return NGX_DECLINED;
    }

    for (i = 0; i < sizeof(nk->rec.hash); i++) {
        b = ngx_hextoi((u_char *) &hex[2 * i], 2);
        if (b == NGX_ERROR) {
            return NGX_DECLINED;
        }

        nk->rec.hash[i] = (u_char) b;
    }

    nk->generated = 0;

    return NGX_OK;
}


static int
ngx_http_agnitel_key_put(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    ngx_http_agnitel_new_key_t *nk)
{
    int        rc;
    u_char     key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val    k, v;
    ngx_str_t  ws, id;

    k.mv_data = nk->rec.hash;
    k.mv_size = sizeof(nk->rec.hash);
    v.mv_data = &nk->rec;
    v.mv_size = sizeof(nk->rec);

    rc = mdb_put(txn, store->dbi[NGX_HTTP_AGNITEL_DB_API_KEYS], &k, &v,
                 MDB_NOOVERWRITE);
    if (rc != 0) {
        return rc;
    }

    ws.data = nk->rec.workspace;
    ws.len = sizeof(nk->rec.workspace);
    id.data = nk->rec.id;
    id.len = sizeof(nk->rec.id);

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, &ws, &id);
    v.mv_data = nk->rec.hash;
    v.mv_size = sizeof(nk->rec.hash);

    return mdb_put(txn, store->dbi[NGX_HTTP_AGNITEL_DB_API_KEY_IDS], &k, &v,
                   0);
}


static void
ngx_http_agnitel_key_reply(ngx_http_agnitel_json_t *j,
    ngx_http_agnitel_new_key_t *nk)
{
    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "id");
    ngx_http_agnitel_json_str(j, nk->rec.id, sizeof(nk->rec.id));
    ngx_http_agnitel_json_key(j, "workspace_id");
    ngx_http_agnitel_json_str(j, nk->rec.workspace,
                              sizeof(nk->rec.workspace));

    if (nk->generated) {
        ngx_http_agnitel_json_key(j, "api_key");
        ngx_http_agnitel_json_str(j, nk->key, sizeof(nk->key));
    }

    ngx_http_agnitel_json_key(j, "created_at");
    ngx_http_agnitel_json_time(j, nk->rec.created_at);
    ngx_http_agnitel_json_lit(j, "}");
}


static ngx_int_t
ngx_http_agnitel_workspace_view(ngx_http_agnitel_json_t *j, MDB_val *val)
{
    json_t  *ws, *id, *name;

    ws = json_loadb(val->mv_data, val->mv_size, 0, NULL);
    if (ws == NULL) {
        return NGX_ERROR;
    }

    id = json_object_get(ws, "id");
    name = json_object_get(ws, "name");

    if (!json_is_string(id) || !json_is_string(name)) {
        json_decref(ws);
        return NGX_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "id");
    ngx_http_agnitel_json_str(j, (u_char *) json_string_value(id),
                              json_string_length(id));
    ngx_http_agnitel_json_key(j, "name");
    ngx_http_agnitel_json_str(j, (u_char *) json_string_value(name),
                              json_string_length(name));
    ngx_http_agnitel_json_key(j, "created_at");
    ngx_http_agnitel_json_time(j, json_integer_value(json_object_get(ws,
                                                          "created_at")));
    ngx_http_agnitel_json_lit(j, "}");

    json_decref(ws);

    return NGX_OK;
}


static ngx_int_t
ngx_http_agnitel_workspace_not_found(ngx_http_request_t *r)
{
    return ngx_http_agnitel_error(r, NGX_HTTP_NOT_FOUND, "not_found", NULL,
                                  "no such workspace");
}


static ngx_int_t
ngx_http_agnitel_key_exists(ngx_http_request_t *r)
{
    return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "api_key_exists",
                                  "api_key_sha256",
                                  "this API key is already in use");
}


static ngx_int_t
ngx_http_agnitel_key_not_found(ngx_http_request_t *r)
{
    return ngx_http_agnitel_error(r, NGX_HTTP_NOT_FOUND, "not_found", NULL,
                                  "no such API key");
}


static ngx_int_t
ngx_http_agnitel_bad_key_hash(ngx_http_request_t *r)
{
    return ngx_http_agnitel_invalid(r, "api_key_sha256",
                                    "api_key_sha256 must be 64 hex "
                                    "characters");
}


/*
 * GET /admin/v1/jobs: who leads, and each job's last run, as the leader
 * stored them (any worker may answer).
 */

ngx_int_t
ngx_http_agnitel_jobs_list(ngx_http_request_t *r, json_t *body)
{
    int                            rc;
    u_char                         key[64];
    json_t                        *lease;
    MDB_txn                       *txn;
    ngx_uint_t                     i;
    const char                    *name;
    ngx_http_agnitel_json_t       *j;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    j = ngx_http_agnitel_reply(r, 1024, "Jobs");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "enabled");
    ngx_http_agnitel_json_bool(j, amcf->jobs_interval != 0);
    ngx_http_agnitel_json_key(j, "interval");
    ngx_http_agnitel_json_int(j, amcf->jobs_interval / 1000);
    ngx_http_agnitel_json_key(j, "reconcile_after");
    ngx_http_agnitel_json_int(j, amcf->reconcile_after / 1000);

    rc = ngx_http_agnitel_jobs_record(r, txn, NGX_HTTP_AGNITEL_JOBS_LEASE,
                                      &lease);

    ngx_http_agnitel_json_key(j, "leader");

    if (rc == 0 && lease
        && json_integer_value(json_object_get(lease, "expires"))
           > (json_int_t) ngx_time() * 1000)
    {
        ngx_http_agnitel_json_lit(j, "{");
        ngx_http_agnitel_json_key(j, "pid");
        ngx_http_agnitel_json_int(j,
                             json_integer_value(json_object_get(lease, "pid")));
        ngx_http_agnitel_json_key(j, "expires_at");
        ngx_http_agnitel_json_time(j,
                    json_integer_value(json_object_get(lease, "expires"))
                    / 1000);
        ngx_http_agnitel_json_lit(j, "}");

    } else {
        ngx_http_agnitel_json_lit(j, "null");
    }

    ngx_http_agnitel_json_key(j, "jobs");
    ngx_http_agnitel_json_lit(j, "[");

    for (i = 0; rc == 0 && (name = amcf->job_names[i]); i++) {
        ngx_sprintf(key, "%s%s%Z", NGX_HTTP_AGNITEL_JOBS_PREFIX, name);

        rc = ngx_http_agnitel_jobs_record(r, txn, (char *) key, &lease);

        if (i) {
            ngx_http_agnitel_json_lit(j, ",");
        }

        ngx_http_agnitel_jobs_view(j, name, lease);
    }

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    ngx_http_agnitel_json_lit(j, "]}");

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, j);
}


/* a "meta" record of the jobs: 0 and *rec (NULL if absent), or an error */

static int
ngx_http_agnitel_jobs_record(ngx_http_request_t *r, MDB_txn *txn,
    const char *name, json_t **rec)
{
    int                            rc;
    MDB_val                        k, v;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    *rec = NULL;

    k.mv_data = (void *) name;
    k.mv_size = ngx_strlen(name);

    rc = mdb_get(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_META], &k, &v);
    if (rc != 0) {
        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    *rec = json_loadb(v.mv_data, v.mv_size, 0, NULL);

    return (ngx_http_agnitel_json_own(r->pool, *rec) == NGX_OK)
           ? 0 : MDB_CORRUPTED;
}


static void
ngx_http_agnitel_jobs_view(ngx_http_agnitel_json_t *j, const char *name,
    json_t *run)
{
    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "name");
    ngx_http_agnitel_json_str(j, (u_char *) name, ngx_strlen(name));

    ngx_http_agnitel_json_key(j, "last_run_at");
    ngx_http_agnitel_json_time(j,
                   json_integer_value(json_object_get(run, "last_run_at")));

    ngx_http_agnitel_json_member(j, "last_result",
                                 json_object_get(run, "last_result"));
    ngx_http_agnitel_json_key(j, "duration_ms");
    ngx_http_agnitel_json_int(j,
                      json_integer_value(json_object_get(run, "duration_ms")));
    ngx_http_agnitel_json_key(j, "items");
    ngx_http_agnitel_json_int(j,
                         json_integer_value(json_object_get(run, "items")));
    ngx_http_agnitel_json_key(j, "failures");
    ngx_http_agnitel_json_int(j,
                         json_integer_value(json_object_get(run, "failures")));
    ngx_http_agnitel_json_member(j, "last_error",
                                 json_object_get(run, "last_error"));

    ngx_http_agnitel_json_key(j, "next_run_at");
    ngx_http_agnitel_json_time(j,
                   json_integer_value(json_object_get(run, "next_run_at")));

    ngx_http_agnitel_json_lit(j, "}");
}
