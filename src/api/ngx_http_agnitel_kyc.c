
/*
 * Copyright (C) agnitel
 *
 * KYC for Indian telephony, the workspace's side:
 *
 *   PUT  /api/v1/telephony/india/kyc/documents/{type}   the file as the body
 *   POST /api/v1/telephony/india/kyc                    the form
 *
 * A document is a PDF, JPEG or PNG of at most 5 MiB (an
 * agnitel_kyc_documents location), its type told by its first bytes, not
 * by Content-Type alone.  It is sealed (AES-256-GCM, bound to its
 * workspace and type) into agnitel_kyc_dir/{workspace}/{type}-{sha256}:
 * written to a temporary file, synced and renamed, so a crash leaves no
 * half file, and named by content, so a file under review is never
 * overwritten.  The record in the store keeps its name, size, type and
 * SHA-256.  The file is written in a thread (ngx_http_agnitel_file.c).
 * No route under /api/v1 returns a document.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_kyc.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_file.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_india.h"
#include "ngx_http_agnitel_india_ids.h"
#include "ngx_http_agnitel_store.h"


/* a document being stored, or a form being submitted */
typedef struct {
    ngx_http_agnitel_store_t       *store;
    u_char                          key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val                         k;

    ngx_str_t                       type;
    const char                     *content_type;
    ngx_str_t                       sha;
    ngx_str_t                       name;     /* below agnitel_kyc_dir */
    ngx_http_agnitel_file_t         file;
    json_t                         *doc;      /* the record's entry */
    json_t                         *kyc;      /* the form, as kept */
    const char                    **required;
    const char                     *missing;
    json_t                         *prv;      /* as written, for the answer */
} ngx_http_agnitel_kyc_t;


typedef struct {
    const char                     *content_type;
    const char                     *magic;
    size_t                          len;
} ngx_http_agnitel_magic_t;


static const char  *ngx_http_agnitel_kyc_states[] = {
    "kyc_required", "rejected", NULL
};

static const char  *ngx_http_agnitel_kyc_business[] = {
    "gst_certificate", "incorporation_certificate", "signatory_id", NULL
};

static const char  *ngx_http_agnitel_kyc_individual[] = {
    "pan_card", "address_proof", NULL
};

static const char  *ngx_http_agnitel_kyc_entities[] = {
    "individual", "business", NULL
};

static const char  *ngx_http_agnitel_kyc_id_types[] = {
    "aadhaar", "passport", "driving_licence", "voter_id", NULL
};

static ngx_http_agnitel_magic_t  ngx_http_agnitel_kyc_magic[] = {
    { "application/pdf", "%PDF-", 5 },
    { "image/jpeg", "\xff\xd8\xff", 3 },
    { "image/png", "\x89PNG\r\n\x1a\n", 8 },
    { NULL, NULL, 0 }
};


static ngx_int_t ngx_http_agnitel_kyc_type(ngx_str_t *type);
static ngx_int_t ngx_http_agnitel_kyc_sniff(ngx_http_request_t *r,
    const char **content_type);
static ngx_int_t ngx_http_agnitel_kyc_file(ngx_http_request_t *r,
    ngx_http_agnitel_kyc_t *kc);
static ngx_int_t ngx_http_agnitel_kyc_document_saved(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static int ngx_http_agnitel_kyc_document_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_kyc_document_written(ngx_http_request_t *r,
    void *data, int rc);
static ngx_int_t ngx_http_agnitel_kyc_form(ngx_http_request_t *r,
    json_t *body, ngx_http_agnitel_kyc_t *kc);
static const char *ngx_http_agnitel_kyc_signatory(ngx_http_request_t *r,
    json_t *sig, json_t *kyc);
static const char *ngx_http_agnitel_kyc_address(ngx_http_request_t *r,
    json_t *addr, json_t *kyc);
static int ngx_http_agnitel_kyc_submit_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_kyc_submitted(ngx_http_request_t *r,
    void *data, int rc);
static ngx_int_t ngx_http_agnitel_kyc_set(json_t *obj, const char *name,
    ngx_str_t *value);
static ngx_uint_t ngx_http_agnitel_kyc_one_of(ngx_str_t *s,
    const char **list);


/* PUT /api/v1/telephony/india/kyc/documents/{type} */

ngx_int_t
ngx_http_agnitel_kyc_document(ngx_http_request_t *r, json_t *body)
{
    u_char                         sum[32];
    json_t                        *prv;
    ngx_int_t                      rc;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_kyc_t        *kc;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    kc = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_kyc_t));
    if (kc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    kc->store = amcf->store;
    kc->type = ctx->params[0];

    if (ngx_http_agnitel_kyc_type(&kc->type) != NGX_OK) {
        return ngx_http_agnitel_invalid(r, "type", "type must be pan_card, "
                                        "gst_certificate, "
                                        "incorporation_certificate, "
                                        "signatory_id or address_proof");
    }

    rc = ngx_http_agnitel_kyc_sniff(r, &kc->content_type);
    if (kc->content_type == NULL) {
        return rc;
    }

    prv = NULL;
    rc = ngx_http_agnitel_india_find(r, ngx_http_agnitel_kyc_states, &prv,
                                     kc->key, &kc->k);
    if (prv == NULL) {
        return rc;
    }

    ngx_http_agnitel_sha256(sum, ctx->body.data, ctx->body.len);

    kc->sha.len = 64;
    kc->sha.data = ngx_pnalloc(r->pool, 64);
    if (kc->sha.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_hex_dump(kc->sha.data, sum, sizeof(sum));

    if (ngx_http_agnitel_kyc_file(r, kc) != NGX_OK) {
        return ngx_http_agnitel_kyc_document_saved(r, kc, NGX_ERROR);
    }

    return ngx_http_agnitel_file_save(r, &kc->file,
                                      ngx_http_agnitel_kyc_document_saved,
                                      kc);
}


/* the sealed file is on disk, or not: then the record, or a 500 */

static ngx_int_t
ngx_http_agnitel_kyc_document_saved(ngx_http_request_t *r, void *data,
    ngx_int_t rc)
{
    ngx_http_agnitel_kyc_t *kc = data;

    ngx_http_agnitel_ctx_t  *ctx;

    if (rc != NGX_OK) {
        return ngx_http_agnitel_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal_error", NULL,
                                      "the document could not be stored; "
                                      "nothing was saved");
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    kc->doc = json_pack("{s:s%,s:s,s:I,s:s%,s:s%,s:I}",
                        "type", kc->type.data, kc->type.len,
                        "content_type", kc->content_type,
                        "size", (json_int_t) ctx->body.len,
                        "sha256", kc->sha.data, kc->sha.len,
                        "file", kc->name.data, kc->name.len,
                        "uploaded_at", (json_int_t) ngx_time());

    if (ngx_http_agnitel_json_own(r->pool, kc->doc) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_write(r, ngx_http_agnitel_kyc_document_apply,
                                  ngx_http_agnitel_kyc_document_written, kc);
}


static ngx_int_t
ngx_http_agnitel_kyc_type(ngx_str_t *type)
{
    static const char  *types[] = {
        "pan_card", "gst_certificate", "incorporation_certificate",
        "signatory_id", "address_proof", NULL
    };

    return ngx_http_agnitel_kyc_one_of(type, types) ? NGX_OK : NGX_DECLINED;
}


/*
 * The body's type by its magic bytes, which must agree with Content-Type:
 * *content_type, or NULL and the answer made (415).
 */

static ngx_int_t
ngx_http_agnitel_kyc_sniff(ngx_http_request_t *r, const char **content_type)
{
    size_t                     len;
    ngx_str_t                 *declared;
    ngx_http_agnitel_ctx_t    *ctx;
    ngx_http_agnitel_magic_t  *m;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    *content_type = NULL;

    declared = r->headers_in.content_type
               ? &r->headers_in.content_type->value : NULL;

    for (m = ngx_http_agnitel_kyc_magic; m->content_type; m++) {
        len = ngx_strlen(m->content_type);

        if (declared && declared->len >= len
            && ngx_strncasecmp(declared->data, (u_char *) m->content_type,
                               len) == 0
            && (declared->len == len || declared->data[len] == ';'))
        {
            break;
        }
    }

    if (m->content_type == NULL) {
        return ngx_http_agnitel_error(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                      "unsupported_media_type", "document",
                                      "a document is application/pdf, "
                                      "image/jpeg or image/png");
    }

    if (ctx->body.len < m->len
        || ngx_memcmp(ctx->body.data, m->magic, m->len) != 0)
    {
        return ngx_http_agnitel_error(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                      "unsupported_media_type", "document",
                                      "the file is not what its "
                                      "Content-Type says");
    }

    *content_type = m->content_type;

    return NGX_OK;
}


/*
 * The sealed file, agnitel_kyc_dir/{workspace}/{type}-{sha256}, and the
 * temporary name it is written to, made ready for the save.
 */

static ngx_int_t
ngx_http_agnitel_kyc_file(ngx_http_request_t *r, ngx_http_agnitel_kyc_t *kc)
{
    size_t                         len;
    ngx_str_t                      aad, *name;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_main_conf_t  *amcf;

    /* a worker's threads may write the same document twice at once */
    static ngx_uint_t              saves;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_kyc_aad(r->pool, &ctx->workspace, &kc->type, &aad)
        != NGX_OK
        || ngx_http_agnitel_seal(r->pool, amcf->key, &aad, &ctx->body,
                                 &kc->file.data) != NGX_OK)
    {
        return NGX_ERROR;
    }

    name = &kc->name;

    name->len = ctx->workspace.len + 1 + kc->type.len + 1 + kc->sha.len;
    name->data = ngx_pnalloc(r->pool, name->len);
    if (name->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(name->data, "%V/%V-%V", &ctx->workspace, &kc->type, &kc->sha);

    len = amcf->kyc_dir.len + 1 + name->len + sizeof(".tmp..")
          + 2 * NGX_INT_T_LEN;

    kc->file.path = ngx_pnalloc(r->pool, len);
    kc->file.tmp = ngx_pnalloc(r->pool, len);
    if (kc->file.path == NULL || kc->file.tmp == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(kc->file.path, "%V/%V%Z", &amcf->kyc_dir, name);
    ngx_sprintf(kc->file.tmp, "%V/%V.tmp.%P.%ui%Z", &amcf->kyc_dir, name,
                ngx_pid, saves++);

    return NGX_OK;
}


/* what a document's seal is bound to: its workspace and type */

ngx_int_t
ngx_http_agnitel_kyc_aad(ngx_pool_t *pool, ngx_str_t *ws, ngx_str_t *type,
    ngx_str_t *aad)
{
    aad->len = sizeof("kyc::") - 1 + ws->len + type->len;
    aad->data = ngx_pnalloc(pool, aad->len);
    if (aad->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(aad->data, "kyc:%V:%V", ws, type);

    return NGX_OK;
}


static int
ngx_http_agnitel_kyc_document_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_kyc_t  *kc = data;

    int      rc;
    json_t  *prv, *docs;

    rc = ngx_http_agnitel_india_get(txn, kc->store, &kc->k,
                                    ngx_http_agnitel_kyc_states, &prv);
    if (rc != 0) {
        return rc;
    }

    docs = json_object_get(prv, "documents");

    if (docs == NULL) {
        docs = json_object();
        if (json_object_set_new(prv, "documents", docs) != 0) {
            json_decref(prv);
            return MDB_PANIC;
        }
    }

    rc = (json_object_setn(docs, (char *) kc->type.data, kc->type.len,
                           kc->doc) == 0)
         ? ngx_http_agnitel_india_put(txn, kc->store, &kc->k, prv)
         : MDB_PANIC;

    json_decref(prv);

    return rc;
}


static ngx_int_t
ngx_http_agnitel_kyc_document_written(ngx_http_request_t *r, void *data,
    int rc)
{
    ngx_http_agnitel_kyc_t  *kc = data;

    const char                    **key;
    ngx_http_agnitel_json_t        *j;

    static const char  *keys[] = {
        "type", "content_type", "sha256", NULL
    };

    if (rc == NGX_HTTP_AGNITEL_INDIA_STATE) {
        return ngx_http_agnitel_india_changed(r);
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    j = ngx_http_agnitel_reply(r, 256, "Document stored");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "{");

    for (key = keys; *key; key++) {
        ngx_http_agnitel_json_member(j, *key, json_object_get(kc->doc, *key));
    }

    ngx_http_agnitel_json_key(j, "size");
    ngx_http_agnitel_json_int(j, json_integer_value(json_object_get(kc->doc,
                                                                    "size")));
    ngx_http_agnitel_json_key(j, "uploaded_at");
    ngx_http_agnitel_json_time(j, json_integer_value(
                                  json_object_get(kc->doc, "uploaded_at")));
    ngx_http_agnitel_json_lit(j, "}");

    return ngx_http_agnitel_send(r, NGX_HTTP_CREATED, j);
}


/* POST /api/v1/telephony/india/kyc: 202, kyc_submitted */

ngx_int_t
ngx_http_agnitel_kyc_submit(ngx_http_request_t *r, json_t *body)
{
    json_t                        *prv;
    ngx_int_t                      rc;
    ngx_http_agnitel_kyc_t        *kc;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    kc = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_kyc_t));
    if (kc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    kc->store = amcf->store;

    prv = NULL;
    rc = ngx_http_agnitel_india_find(r, ngx_http_agnitel_kyc_states, &prv,
                                     kc->key, &kc->k);
    if (prv == NULL) {
        return rc;
    }

    rc = ngx_http_agnitel_kyc_form(r, body, kc);
    if (kc->kyc == NULL) {
        return rc;
    }

    return ngx_http_agnitel_write(r, ngx_http_agnitel_kyc_submit_apply,
                                  ngx_http_agnitel_kyc_submitted, kc);
}


/*
 * The form, field by field, into kc->kyc (the pool's); kc->kyc stays NULL
 * and the answer is made (400 invalid_field naming it) at the first bad
 * one.  Identity numbers are kept as their last 4 characters only.
 */

static ngx_int_t
ngx_http_agnitel_kyc_form(ngx_http_request_t *r, json_t *body,
    ngx_http_agnitel_kyc_t *kc)
{
    json_t      *kyc;
    ngx_str_t    entity, name, pan, gstin;
    const char  *msg, *field;

    kyc = json_object();
    if (ngx_http_agnitel_json_own(r->pool, kyc) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    msg = ngx_http_agnitel_text(r->pool, body, "entity_type", 16, 1, &entity);

    if (msg || !ngx_http_agnitel_kyc_one_of(&entity,
                                            ngx_http_agnitel_kyc_entities))
    {
        return ngx_http_agnitel_invalid(r, "entity_type", "entity_type must "
                                        "be \"individual\" or \"business\"");
    }

    kc->required = (entity.data[0] == 'b') ? ngx_http_agnitel_kyc_business
                                           : ngx_http_agnitel_kyc_individual;

    msg = ngx_http_agnitel_text(r->pool, body, "legal_name", 200, 1, &name);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "legal_name", msg);
    }

    msg = ngx_http_agnitel_text(r->pool, body, "pan", 10, 1, &pan);
    if (msg || ngx_http_agnitel_pan_valid(&pan) != NGX_OK) {
        return ngx_http_agnitel_invalid(r, "pan", "pan must be a PAN: five "
                                        "capital letters, four digits, a "
                                        "capital letter");
    }

    msg = ngx_http_agnitel_text(r->pool, body, "gstin", 15,
                                entity.data[0] == 'b', &gstin);
    if (msg || (gstin.len && ngx_http_agnitel_gstin_valid(&gstin) != NGX_OK))
    {
        return ngx_http_agnitel_invalid(r, "gstin", "gstin must be a GSTIN: "
                                        "15 characters ending in its check "
                                        "character (a business needs one)");
    }

    field = ngx_http_agnitel_kyc_address(r, json_object_get(body, "address"),
                                         kyc);
    if (field == NULL) {
        field = ngx_http_agnitel_kyc_signatory(r,
                                    json_object_get(body, "signatory"), kyc);
    }

    if (field) {
        return ngx_http_agnitel_invalid(r, field, "a required field is "
                                        "missing or not valid");
    }

    if (ngx_http_agnitel_kyc_set(kyc, "entity_type", &entity) != NGX_OK
        || ngx_http_agnitel_kyc_set(kyc, "legal_name", &name) != NGX_OK
        || ngx_http_agnitel_kyc_set(kyc, "pan", &pan) != NGX_OK
        || (gstin.len
            && ngx_http_agnitel_kyc_set(kyc, "gstin", &gstin) != NGX_OK))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    kc->kyc = kyc;

    return NGX_OK;
}


/* NULL, or the name of the first bad field */

static const char *
ngx_http_agnitel_kyc_address(ngx_http_request_t *r, json_t *addr, json_t *kyc)
{
    json_t      *a;
    ngx_str_t    v;
    ngx_uint_t   i;

    static const char  *fields[][2] = {
        { "line1", "address.line1" },
        { "city", "address.city" },
        { "state", "address.state" },
        { "postal_code", "address.postal_code" },
    };

    if (!json_is_object(addr)) {
        return "address";
    }

    a = json_object();
    if (a == NULL || json_object_set_new(kyc, "address", a) != 0) {
        return "address";
    }

    for (i = 0; i < 4; i++) {
        if (ngx_http_agnitel_text(r->pool, addr, fields[i][0], 200, 1, &v)
            || (i == 3 && ngx_http_agnitel_pin_valid(&v) != NGX_OK)
            || ngx_http_agnitel_kyc_set(a, fields[i][0], &v) != NGX_OK)
        {
            return fields[i][1];
        }
    }

    return NULL;
}


static const char *
ngx_http_agnitel_kyc_signatory(ngx_http_request_t *r, json_t *sig,
    json_t *kyc)
{
    json_t     *s;
    ngx_str_t   name, type, id, last4;
    ngx_uint_t  i;

    if (!json_is_object(sig)) {
        return "signatory";
    }

    if (ngx_http_agnitel_text(r->pool, sig, "name", 200, 1, &name)) {
        return "signatory.name";
    }

    if (ngx_http_agnitel_text(r->pool, sig, "id_type", 16, 1, &type)
        || !ngx_http_agnitel_kyc_one_of(&type, ngx_http_agnitel_kyc_id_types))
    {
        return "signatory.id_type";
    }

    if (ngx_http_agnitel_text(r->pool, sig, "id_number", 20, 1, &id)
        || id.len < 6)
    {
        return "signatory.id_number";
    }

    for (i = 0; i < id.len; i++) {
        if (!isalnum(id.data[i])) {
            return "signatory.id_number";
        }
    }

    if (type.data[0] == 'a' && ngx_http_agnitel_aadhaar_valid(&id) != NGX_OK)
    {
        return "signatory.id_number";
    }

    last4.data = id.data + id.len - 4;
    last4.len = 4;

    s = json_object();

    if (s == NULL || json_object_set_new(kyc, "signatory", s) != 0
        || ngx_http_agnitel_kyc_set(s, "name", &name) != NGX_OK
        || ngx_http_agnitel_kyc_set(s, "id_type", &type) != NGX_OK
        || ngx_http_agnitel_kyc_set(s, "id_last4", &last4) != NGX_OK)
    {
        return "signatory";
    }

    return NULL;
}


static int
ngx_http_agnitel_kyc_submit_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_kyc_t  *kc = data;

    int           rc;
    json_t       *prv, *docs;
    const char  **d;

    /* a batch undone and applied again leaves no reference behind */

    json_decref(kc->prv);
    kc->prv = NULL;

    rc = ngx_http_agnitel_india_get(txn, kc->store, &kc->k,
                                    ngx_http_agnitel_kyc_states, &prv);
    if (rc != 0) {
        return rc;
    }

    docs = json_object_get(prv, "documents");
    kc->missing = NULL;

    for (d = kc->required; *d; d++) {
        if (json_object_get(docs, *d) == NULL) {
            kc->missing = *d;
            json_decref(prv);
            return NGX_HTTP_AGNITEL_KYC_MISSING;
        }
    }

    json_object_del(prv, "rejection_reason");

    if (json_object_set(prv, "kyc", kc->kyc) != 0
        || json_object_set_new(prv, "state", json_string("kyc_submitted"))
           != 0
        || json_object_set_new(prv, "kyc_submitted_at",
                               json_integer(ngx_time())) != 0)
    {
        json_decref(prv);
        return MDB_PANIC;
    }

    rc = ngx_http_agnitel_india_put(txn, kc->store, &kc->k, prv);

    if (rc != 0) {
        json_decref(prv);
        return rc;
    }

    kc->prv = prv;

    return 0;
}


static ngx_int_t
ngx_http_agnitel_kyc_submitted(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_kyc_t  *kc = data;

    u_char     *msg;
    ngx_int_t   status;

    if (rc == NGX_HTTP_AGNITEL_KYC_MISSING) {
        msg = ngx_pnalloc(r->pool, 128);
        if (msg == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_sprintf(msg, "upload the %s document first: PUT "
                    "/api/v1/telephony/india/kyc/documents/%s%Z",
                    kc->missing, kc->missing);

        return ngx_http_agnitel_invalid(r, "documents", (const char *) msg);
    }

    if (rc == NGX_HTTP_AGNITEL_INDIA_STATE) {
        status = ngx_http_agnitel_india_changed(r);

    } else if (rc != 0) {
        status = ngx_http_agnitel_store_error(r, rc);

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "agnitel: KYC submitted for review");

        status = ngx_http_agnitel_india_answer(r, NGX_HTTP_ACCEPTED,
                                               "KYC submitted", kc->prv);
    }

    json_decref(kc->prv);
    kc->prv = NULL;

    return status;
}


static ngx_int_t
ngx_http_agnitel_kyc_set(json_t *obj, const char *name, ngx_str_t *value)
{
    return json_object_set_new(obj, name,
                               json_stringn((char *) value->data, value->len))
           ? NGX_ERROR : NGX_OK;
}


static ngx_uint_t
ngx_http_agnitel_kyc_one_of(ngx_str_t *s, const char **list)
{
    for ( /* void */ ; *list; list++) {
        if (ngx_strlen(*list) == s->len
            && ngx_strncmp(*list, s->data, s->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}
