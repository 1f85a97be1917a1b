
/*
 * Copyright (C) agnitel
 *
 * KYC, the operator's side (agnitel_admin):
 *
 *   GET  /admin/v1/kyc?state=kyc_submitted
 *   GET  /admin/v1/kyc/{workspace}/documents/{type}   the decrypted file
 *   POST /admin/v1/kyc/{workspace}/approve
 *   POST /admin/v1/kyc/{workspace}/reject             {reason}
 *
 * A decision is recorded with who made it (the admin client's address,
 * and the auth_basic user if there is one), when, and why; a rejected
 * workspace sees the reason and may submit again.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_kyc.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_india.h"
#include "ngx_http_agnitel_providers.h"
#include "ngx_http_agnitel_store.h"


/* the largest sealed file: 5 MiB in base64, its nonce, tag and prefix */
#define NGX_HTTP_AGNITEL_KYC_SEALED_MAX                                      \
    (NGX_HTTP_AGNITEL_MAX_UPLOAD / 3 * 4 + 1024)


typedef struct {
    ngx_http_request_t             *request;
    ngx_http_agnitel_store_t       *store;
    ngx_str_t                       workspace;
    const char                     *decision;
    ngx_str_t                       reason;
    ngx_str_t                       by;
    json_t                         *prv;
} ngx_http_agnitel_review_t;


static const char  *ngx_http_agnitel_review_states[] = {
    "otp_required", "kyc_required", "kyc_submitted", "approved", "rejected",
    NULL
};

static const char  *ngx_http_agnitel_review_submitted[] = {
    "kyc_submitted", NULL
};


static json_t *ngx_http_agnitel_kyc_view(u_char *ws, json_t *prv);
static ngx_int_t ngx_http_agnitel_kyc_time(json_t *obj, const char *name);
static ngx_int_t ngx_http_agnitel_kyc_decide(ngx_http_request_t *r,
    const char *decision, ngx_str_t *reason);
static int ngx_http_agnitel_kyc_decide_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_kyc_decided(ngx_http_request_t *r,
    void *data, int rc);
static ngx_int_t ngx_http_agnitel_kyc_load(ngx_http_request_t *r,
    ngx_str_t *ws, json_t **prv);
static ngx_int_t ngx_http_agnitel_kyc_slurp(ngx_http_request_t *r,
    u_char *path, ngx_str_t *out);


/* GET /admin/v1/kyc?state=kyc_submitted: the providers in that state */

ngx_int_t
ngx_http_agnitel_kyc_list(ngx_http_request_t *r, json_t *body)
{
    int                            rc;
    json_t                        *prv, *item;
    MDB_val                        k, v;
    MDB_txn                       *txn;
    ngx_str_t                      state;
    ngx_uint_t                     n;
    MDB_cursor                    *cur;
    const char                    *type, *s, **st;
    ngx_http_agnitel_json_t       *j;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_arg(r, "state", &state) != NGX_OK) {
        ngx_str_set(&state, "kyc_submitted");
    }

    for (st = ngx_http_agnitel_review_states; *st; st++) {
        if (ngx_strlen(*st) == state.len
            && ngx_strncmp(*st, state.data, state.len) == 0)
        {
            break;
        }
    }

    if (*st == NULL) {
        return ngx_http_agnitel_invalid(r, "state", "state must be "
                                        "otp_required, kyc_required, "
                                        "kyc_submitted, approved or "
                                        "rejected");
    }

    j = ngx_http_agnitel_reply(r, 1024, "KYC submissions");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "[");

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cur = NULL;
    n = 0;

    rc = mdb_cursor_open(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_PROVIDERS],
                         &cur);

    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        prv = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        if (prv == NULL) {
            rc = MDB_CORRUPTED;
            break;
        }

        type = json_string_value(json_object_get(prv, "type"));
        s = json_string_value(json_object_get(prv, "state"));

        if (type && ngx_strcmp(type, "india") == 0 && s && *st
            && ngx_strcmp(s, *st) == 0
            && k.mv_size > NGX_HTTP_AGNITEL_WS_ID_LEN)
        {
            item = ngx_http_agnitel_kyc_view(k.mv_data, prv);

            if (item == NULL) {
                json_decref(prv);
                rc = MDB_PANIC;
                break;
            }

            if (n++) {
                ngx_http_agnitel_json_lit(j, ",");
            }

            ngx_http_agnitel_json_value(j, item);
            json_decref(item);
        }

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


/* a submission as the operator sees it: no file names, no sealed data */

static json_t *
ngx_http_agnitel_kyc_view(u_char *ws, json_t *prv)
{
    json_t      *item, *docs, *doc, *d;
    const char  *type;

    item = json_pack("{s:s%,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?}",
                     "workspace", ws, (size_t) NGX_HTTP_AGNITEL_WS_ID_LEN,
                     "provider_id", json_object_get(prv, "id"),
                     "state", json_object_get(prv, "state"),
                     "mobile", json_object_get(prv, "mobile"),
                     "kyc", json_object_get(prv, "kyc"),
                     "kyc_submitted_at",
                         json_object_get(prv, "kyc_submitted_at"),
                     "rejection_reason",
                         json_object_get(prv, "rejection_reason"),
                     "review", json_object_get(prv, "review"),
                     "created_at", json_object_get(prv, "created_at"));

    docs = json_object();

    if (item == NULL || docs == NULL
        || json_object_set_new(item, "documents", docs) != 0)
    {
        json_decref(item);
        return NULL;
    }

    json_object_foreach(json_object_get(prv, "documents"), type, doc) {
        d = json_deep_copy(doc);

        if (d == NULL || json_object_del(d, "file") != 0
            || json_object_set_new(docs, type, d) != 0
            || ngx_http_agnitel_kyc_time(d, "uploaded_at") != NGX_OK)
        {
            json_decref(item);
            return NULL;
        }
    }

    /* times as the API shows them everywhere: RFC 3339, UTC */

    if (json_is_object(json_object_get(item, "review"))
        && json_object_set_new(item, "review",
                               json_deep_copy(json_object_get(item, "review")))
           != 0)
    {
        json_decref(item);
        return NULL;
    }

    if (ngx_http_agnitel_kyc_time(item, "created_at") != NGX_OK
        || ngx_http_agnitel_kyc_time(item, "kyc_submitted_at") != NGX_OK
        || ngx_http_agnitel_kyc_time(json_object_get(item, "review"), "at")
           != NGX_OK)
    {
        json_decref(item);
        return NULL;
    }

    return item;
}


/* an integer time member of obj, if there is one, as an RFC 3339 string */

static ngx_int_t
ngx_http_agnitel_kyc_time(json_t *obj, const char *name)
{
    u_char     buf[sizeof("1970-01-01T00:00:00Z")];
    json_t    *v;
    ngx_tm_t   tm;

    v = json_object_get(obj, name);

    if (!json_is_integer(v)) {
        return NGX_OK;
    }

    ngx_gmtime((time_t) json_integer_value(v), &tm);

    ngx_sprintf(buf, "%4d-%02d-%02dT%02d:%02d:%02dZ", tm.ngx_tm_year,
                tm.ngx_tm_mon, tm.ngx_tm_mday, tm.ngx_tm_hour,
                tm.ngx_tm_min, tm.ngx_tm_sec);

    return json_object_set_new(obj, name,
                               json_stringn((char *) buf, sizeof(buf) - 1))
           ? NGX_ERROR : NGX_OK;
}


/* GET /admin/v1/kyc/{workspace}/documents/{type}: the file, decrypted */

ngx_int_t
ngx_http_agnitel_kyc_read(ngx_http_request_t *r, json_t *body)
{
    u_char                        *path;
    json_t                        *prv, *doc;
    ngx_str_t                      sealed, plain, aad, *type;
    ngx_table_elt_t               *h;
    const char                    *file, *content_type;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_kyc_load(r, &ctx->params[0], &prv) != NGX_OK) {
        return (prv == NULL) ? ngx_http_agnitel_error(r, NGX_HTTP_NOT_FOUND,
                                                      "not_found", NULL,
                                                      "no such KYC")
                             : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    type = &ctx->params[1];

    doc = json_object_getn(json_object_get(prv, "documents"),
                           (char *) type->data, type->len);
    file = json_string_value(json_object_get(doc, "file"));
    content_type = json_string_value(json_object_get(doc, "content_type"));

    if (file == NULL || content_type == NULL) {
        return ngx_http_agnitel_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                      NULL, "no such document");
    }

    path = ngx_pnalloc(r->pool, amcf->kyc_dir.len + 1 + ngx_strlen(file) + 1);
    if (path == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(path, "%V/%s%Z", &amcf->kyc_dir, file);

    if (ngx_http_agnitel_kyc_slurp(r, path, &sealed) != NGX_OK
        || ngx_http_agnitel_kyc_aad(r->pool, &ctx->params[0], type, &aad)
           != NGX_OK
        || ngx_http_agnitel_open(r->pool, amcf->key, &aad, &sealed, &plain)
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "agnitel: the KYC document \"%s\" cannot be read", path);
        return ngx_http_agnitel_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal_error", NULL,
                                      "the document cannot be read");
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    r->headers_out.content_type.data = (u_char *) content_type;
    r->headers_out.content_type.len = ngx_strlen(content_type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    return ngx_http_agnitel_send_raw(r, NGX_HTTP_OK, &plain);
}


/* POST /admin/v1/kyc/{workspace}/approve */

ngx_int_t
ngx_http_agnitel_kyc_approve(ngx_http_request_t *r, json_t *body)
{
    return ngx_http_agnitel_kyc_decide(r, "approved", NULL);
}


/* POST /admin/v1/kyc/{workspace}/reject {reason} */

ngx_int_t
ngx_http_agnitel_kyc_reject(ngx_http_request_t *r, json_t *body)
{
    ngx_str_t    reason;
    const char  *msg;

    msg = ngx_http_agnitel_text(r->pool, body, "reason", 500, 1, &reason);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "reason", msg);
    }

    return ngx_http_agnitel_kyc_decide(r, "rejected", &reason);
}


static ngx_int_t
ngx_http_agnitel_kyc_decide(ngx_http_request_t *r, const char *decision,
    ngx_str_t *reason)
{
    u_char                        *p;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_review_t     *rv;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_id_valid(&ctx->params[0], "ws_") != NGX_OK) {
        return ngx_http_agnitel_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                      NULL, "no such KYC");
    }

    rv = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_review_t));
    if (rv == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rv->request = r;
    rv->store = amcf->store;
    rv->workspace = ctx->params[0];
    rv->decision = decision;

    if (reason) {
        rv->reason = *reason;
    }

    /* who: the client's address, and the auth_basic user if any */

    rv->by.data = ngx_pnalloc(r->pool, r->connection->addr_text.len + 3
                                       + 256);
    if (rv->by.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(rv->by.data, r->connection->addr_text.data,
                   r->connection->addr_text.len);

    if (ngx_http_auth_basic_user(r) == NGX_OK
        && r->headers_in.user.len && r->headers_in.user.len <= 250)
    {
        p = ngx_sprintf(p, " (%V)", &r->headers_in.user);
    }

    rv->by.len = p - rv->by.data;

    return ngx_http_agnitel_write(r, ngx_http_agnitel_kyc_decide_apply,
                                  ngx_http_agnitel_kyc_decided, rv);
}


static int
ngx_http_agnitel_kyc_decide_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_review_t  *rv = data;

    int          rc;
    u_char       key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    json_t      *found, *prv, *review;
    MDB_val      k;
    ngx_str_t    id;

    json_decref(rv->prv);
    rv->prv = NULL;

    found = NULL;
    rc = ngx_http_agnitel_provider_find(rv->request, txn, &rv->workspace,
                                         "india", &found);
    if (rc != 0) {
        return rc;
    }

    id.data = (u_char *) json_string_value(json_object_get(found, "id"));
    if (id.data == NULL) {
        return MDB_CORRUPTED;
    }

    id.len = ngx_strlen(id.data);

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, &rv->workspace, &id);

    rc = ngx_http_agnitel_india_get(txn, rv->store, &k,
                                    ngx_http_agnitel_review_submitted, &prv);
    if (rc != 0) {
        return rc;
    }

    review = json_pack("{s:s,s:s%,s:I}",
                       "decision", rv->decision,
                       "by", rv->by.data, rv->by.len,
                       "at", (json_int_t) ngx_time());

    if (review == NULL
        || (rv->reason.len
            && json_object_set_new(review, "reason",
                                   json_stringn((char *) rv->reason.data,
                                                rv->reason.len)) != 0)
        || json_object_set_new(prv, "review", review) != 0
        || json_object_set_new(prv, "state", json_string(rv->decision)) != 0
        || (rv->reason.len
            && json_object_set_new(prv, "rejection_reason",
                                   json_stringn((char *) rv->reason.data,
                                                rv->reason.len)) != 0))
    {
        json_decref(prv);
        return MDB_PANIC;
    }

    rc = ngx_http_agnitel_india_put(txn, rv->store, &k, prv);

    if (rc != 0) {
        json_decref(prv);
        return rc;
    }

    rv->prv = prv;

    return 0;
}


static ngx_int_t
ngx_http_agnitel_kyc_decided(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_review_t  *rv = data;

    ngx_int_t  status;

    if (rc == MDB_NOTFOUND) {
        status = ngx_http_agnitel_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                        NULL, "no such KYC");

    } else if (rc == NGX_HTTP_AGNITEL_INDIA_STATE) {
        status = ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT,
                                        "invalid_state", "state",
                                        "only a submitted KYC can be "
                                        "approved or rejected");

    } else if (rc != 0) {
        status = ngx_http_agnitel_store_error(r, rc);

    } else {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "agnitel: KYC of %V %s by %V", &rv->workspace,
                      rv->decision, &rv->by);

        status = ngx_http_agnitel_india_answer(r, NGX_HTTP_OK,
                                               rv->decision[0] == 'a'
                                               ? "KYC approved"
                                               : "KYC rejected", rv->prv);
    }

    json_decref(rv->prv);
    rv->prv = NULL;

    return status;
}


/* the workspace's Indian provider (the pool's); *prv NULL: none */

static ngx_int_t
ngx_http_agnitel_kyc_load(ngx_http_request_t *r, ngx_str_t *ws,
    json_t **prv)
{
    int                            rc;
    MDB_txn                       *txn;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    *prv = NULL;

    if (ngx_http_agnitel_id_valid(ws, "ws_") != NGX_OK) {
        return NGX_DECLINED;
    }

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_agnitel_provider_find(r, txn, ws, "india", prv);

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc != 0) {
        *prv = NULL;
        return (rc == MDB_NOTFOUND) ? NGX_DECLINED : NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_agnitel_kyc_slurp(ngx_http_request_t *r, u_char *path,
    ngx_str_t *out)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_file_info_t  fi;

    fd = ngx_open_file(path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > NGX_HTTP_AGNITEL_KYC_SEALED_MAX)
    {
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    out->len = ngx_file_size(&fi);
    out->data = ngx_pnalloc(r->pool, out->len + 1);

    n = out->data ? read(fd, out->data, out->len) : -1;

    (void) ngx_close_file(fd);

    return (n == (ssize_t) out->len) ? NGX_OK : NGX_ERROR;
}
