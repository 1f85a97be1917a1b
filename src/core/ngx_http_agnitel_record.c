
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_agnitel_json.h"
#include "ngx_http_agnitel_record.h"


static void ngx_http_agnitel_record_view(ngx_http_agnitel_json_t *j,
    json_t *rec);
static void ngx_http_agnitel_view_money(ngx_http_agnitel_json_t *j,
    json_t *rec, const char *key);
static void ngx_http_agnitel_view_time(ngx_http_agnitel_json_t *j,
    json_t *rec, const char *key);
static int ngx_http_agnitel_index_set(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, MDB_val *key, u_char *hdr);
static ngx_uint_t ngx_http_agnitel_lookup(const char **names, ngx_str_t *s);
static int64_t ngx_http_agnitel_record_due_at(json_t *rec, ngx_uint_t status);


/* the first fields of a number object, copied as they are */
static const char  *ngx_http_agnitel_view_strings[] = {
    "id", "phone_number", "friendly_name", "provider", "provider_id",
    "telephony_id", "iso_country", NULL
};

/* indexed by NGX_HTTP_AGNITEL_PENDING ... RELEASED */
static const char  *ngx_http_agnitel_statuses[] = {
    "", "pending", "active", "grace", "released", NULL
};

/* indexed by NGX_HTTP_AGNITEL_CUSTOM ... INDIA */
static const char  *ngx_http_agnitel_providers[] = {
    "", "custom", "twilio", "india", NULL
};


ngx_int_t
ngx_http_agnitel_record_encode(ngx_pool_t *pool, json_t *rec, MDB_val *val)
{
    u_char                         *p;
    size_t                          len;
    int64_t                         due;
    ngx_str_t                       s;
    ngx_http_agnitel_json_t         view;
    ngx_http_agnitel_record_hdr_t   hdr;

    /* the view, then the record's JSON: about 600 and 500 bytes */

    ngx_http_agnitel_json_init(&view, pool, 2048);
    ngx_http_agnitel_record_view(&view, rec);

    if (view.failed) {
        return NGX_ERROR;
    }

    ngx_memzero(&hdr, sizeof(hdr));

    hdr.version = NGX_HTTP_AGNITEL_RECORD_V2;
    hdr.view_len = view.pos - view.start;

    s.data = (u_char *) json_string_value(json_object_get(rec, "status"));
    s.len = s.data ? ngx_strlen(s.data) : 0;
    hdr.status = ngx_http_agnitel_status(&s);

    s.data = (u_char *) json_string_value(json_object_get(rec, "provider"));
    s.len = s.data ? ngx_strlen(s.data) : 0;
    hdr.provider = ngx_http_agnitel_provider(&s);

    p = (u_char *) json_string_value(json_object_get(rec, "iso_country"));
    if (p && ngx_strlen(p) == 2) {
        ngx_memcpy(hdr.iso_country, p, 2);
    }

    due = ngx_http_agnitel_record_due_at(rec, hdr.status);

    ngx_http_agnitel_json_value(&view, rec);

    if (view.failed) {
        return NGX_ERROR;
    }

    len = view.pos - view.start;

    val->mv_size = sizeof(hdr) + sizeof(due) + len;
    val->mv_data = ngx_pnalloc(pool, val->mv_size);

    if (val->mv_data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(val->mv_data, &hdr, sizeof(hdr));
    p = ngx_cpymem(p, &due, sizeof(due));
    ngx_memcpy(p, view.start, len);

    return NGX_OK;
}


/*
 * When the renew job must look at a number paid from credits (it has
 * "auto_renew"): at renews_at while active, at grace_ends_at in grace.
 * Its collect makes the same choice from the JSON.
 */

static int64_t
ngx_http_agnitel_record_due_at(json_t *rec, ngx_uint_t status)
{
    if (json_object_get(rec, "auto_renew") == NULL) {
        return NGX_HTTP_AGNITEL_NEVER_DUE;
    }

    switch (status) {

    case NGX_HTTP_AGNITEL_ACTIVE:
        return json_integer_value(json_object_get(rec, "renews_at"));

    case NGX_HTTP_AGNITEL_GRACE:
        return json_integer_value(json_object_get(rec, "grace_ends_at"));

    default:
        return NGX_HTTP_AGNITEL_NEVER_DUE;
    }
}


/*
 * A record of the inventory goes to "numbers", and its header to the
 * workspace's entry for the number in "number_list".  key is ws "/" E164.
 */

int
ngx_http_agnitel_record_put(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    MDB_val *key, MDB_val *val, unsigned flags)
{
    int  rc;

    rc = mdb_put(txn, store->dbi[NGX_HTTP_AGNITEL_DB_NUMBERS], key, val,
                 flags);
    if (rc != 0) {
        return rc;
    }

    return ngx_http_agnitel_index_set(txn, store, key, val->mv_data);
}


int
ngx_http_agnitel_record_del(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    MDB_val *key)
{
    int  rc;

    rc = mdb_del(txn, store->dbi[NGX_HTTP_AGNITEL_DB_NUMBERS], key, NULL);
    if (rc != 0) {
        return rc;
    }

    return ngx_http_agnitel_index_set(txn, store, key, NULL);
}


/*
 * Replaces (hdr) or removes (NULL) the number's entry among the
 * workspace's duplicates: a duplicate cannot change in place, it goes and
 * comes back.
 */

static int
ngx_http_agnitel_index_set(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    MDB_val *key, u_char *hdr)
{
    int                             rc;
    MDB_val                         k, v;
    MDB_cursor                     *cur;
    ngx_http_agnitel_index_entry_t  entry;

    if (key->mv_size <= NGX_HTTP_AGNITEL_WS_ID_LEN + 1
        || key->mv_size > NGX_HTTP_AGNITEL_WS_ID_LEN + 1
                          + NGX_HTTP_AGNITEL_INDEX_NUMBER)
    {
        return MDB_BAD_VALSIZE;
    }

    ngx_memzero(&entry, sizeof(entry));
    ngx_memcpy(entry.number, (u_char *) key->mv_data
                             + NGX_HTTP_AGNITEL_WS_ID_LEN + 1,
               key->mv_size - NGX_HTTP_AGNITEL_WS_ID_LEN - 1);

    rc = mdb_cursor_open(txn, store->dbi[NGX_HTTP_AGNITEL_DB_NUMBER_LIST],
                         &cur);
    if (rc != 0) {
        return rc;
    }

    k.mv_data = key->mv_data;
    k.mv_size = NGX_HTTP_AGNITEL_WS_ID_LEN;

    /* the number's entry is the first one at or after (number, zeroes) */

    v.mv_data = &entry;
    v.mv_size = sizeof(entry);

    rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH_RANGE);

    if (rc == 0
        && ngx_memcmp(v.mv_data, entry.number, sizeof(entry.number)) == 0)
    {
        rc = mdb_cursor_del(cur, 0);

    } else if (rc == 0 || rc == MDB_NOTFOUND) {
        rc = 0;
    }

    if (rc == 0 && hdr) {
        ngx_memcpy(&entry.hdr, hdr, sizeof(entry.hdr));

        k.mv_data = key->mv_data;
        k.mv_size = NGX_HTTP_AGNITEL_WS_ID_LEN;
        v.mv_data = &entry;
        v.mv_size = sizeof(entry);

        rc = mdb_cursor_put(cur, &k, &v, 0);
    }

    mdb_cursor_close(cur);

    return rc;
}


/*
 * The first page of a workspace's index entries (MDB_NOTFOUND: none);
 * the cursor is the caller's to close.
 */

int
ngx_http_agnitel_index_first(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    ngx_str_t *ws, MDB_cursor **cur, MDB_val *page)
{
    int      rc;
    MDB_val  k;

    rc = mdb_cursor_open(txn, store->dbi[NGX_HTTP_AGNITEL_DB_NUMBER_LIST],
                         cur);
    if (rc != 0) {
        *cur = NULL;
        return rc;
    }

    k.mv_data = ws->data;
    k.mv_size = ws->len;

    rc = mdb_cursor_get(*cur, &k, page, MDB_SET);

    if (rc == 0) {
        rc = mdb_cursor_get(*cur, &k, page, MDB_GET_MULTIPLE);
    }

    return rc;
}


int
ngx_http_agnitel_index_next(MDB_cursor *cur, MDB_val *page)
{
    MDB_val  k;

    return mdb_cursor_get(cur, &k, page, MDB_NEXT_MULTIPLE);
}


/* entry i of a page; LMDB does not align values */

void
ngx_http_agnitel_index_entry(MDB_val *page, ngx_uint_t i,
    ngx_http_agnitel_index_entry_t *entry)
{
    ngx_memcpy(entry, (u_char *) page->mv_data + i * sizeof(*entry),
               sizeof(*entry));
}


/*
 * A new number in a workspace's inventory, claiming it across the store:
 * MDB_KEYEXIST when any workspace holds it.
 */

int
ngx_http_agnitel_record_insert(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    ngx_str_t *ws, ngx_str_t *number, MDB_val *val)
{
    int      rc;
    u_char   key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val  k, owner;

    k.mv_data = number->data;
    k.mv_size = number->len;
    owner.mv_data = ws->data;
    owner.mv_size = ws->len;

    rc = mdb_put(txn, store->dbi[NGX_HTTP_AGNITEL_DB_NUMBER_OWNERS], &k,
                 &owner, MDB_NOOVERWRITE);
    if (rc != 0) {
        return rc;
    }

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, ws, number);

    return ngx_http_agnitel_record_put(txn, store, &k, val, MDB_NOOVERWRITE);
}


/*
 * Takes a number out of the inventory without history (a purchase the
 * carrier refused), and frees it if this workspace held it.
 */

int
ngx_http_agnitel_record_remove(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    ngx_str_t *ws, ngx_str_t *number)
{
    int      rc;
    u_char   key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val  k;

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, ws, number);

    rc = ngx_http_agnitel_record_del(txn, store, &k);
    if (rc != 0) {
        return rc;
    }

    return ngx_http_agnitel_owner_free(txn, store, ws, number);
}


/* deletes the owner entry of a number only if it names this workspace */

int
ngx_http_agnitel_owner_free(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    ngx_str_t *ws, ngx_str_t *number)
{
    int      rc;
    MDB_val  k, owner;

    k.mv_data = number->data;
    k.mv_size = number->len;

    rc = mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_NUMBER_OWNERS], &k,
                 &owner);

    if (rc == MDB_NOTFOUND) {
        return 0;
    }

    if (rc != 0) {
        return rc;
    }

    if (owner.mv_size != ws->len
        || ngx_memcmp(owner.mv_data, ws->data, ws->len) != 0)
    {
        return 0;
    }

    return mdb_del(txn, store->dbi[NGX_HTTP_AGNITEL_DB_NUMBER_OWNERS], &k,
                   NULL);
}


/* the header of a record or of an index entry */

ngx_int_t
ngx_http_agnitel_record_hdr(MDB_val *val, ngx_http_agnitel_record_hdr_t *hdr)
{
    if (val->mv_size < sizeof(ngx_http_agnitel_record_hdr_t)) {
        return NGX_ERROR;
    }

    /* LMDB does not align values */
    ngx_memcpy(hdr, val->mv_data, sizeof(ngx_http_agnitel_record_hdr_t));

    return (hdr->version == NGX_HTTP_AGNITEL_RECORD_V1
            || hdr->version == NGX_HTTP_AGNITEL_RECORD_V2)
           ? NGX_OK : NGX_ERROR;
}


/* view points into val: use it before the transaction ends */

ngx_int_t
ngx_http_agnitel_record_header(MDB_val *val,
    ngx_http_agnitel_record_hdr_t *hdr, ngx_str_t *view)
{
    size_t  off;

    if (ngx_http_agnitel_record_hdr(val, hdr) != NGX_OK) {
        return NGX_ERROR;
    }

    off = sizeof(*hdr);

    if (hdr->version == NGX_HTTP_AGNITEL_RECORD_V2) {
        off += sizeof(int64_t);
    }

    if (off > val->mv_size || hdr->view_len > val->mv_size - off) {
        return NGX_ERROR;
    }

    view->data = (u_char *) val->mv_data + off;
    view->len = hdr->view_len;

    return NGX_OK;
}


/*
 * The "due" of a record whose header ngx_http_agnitel_record_header() has
 * read and checked: NGX_DECLINED for a version 1 record, which has none.
 */

ngx_int_t
ngx_http_agnitel_record_due(MDB_val *val, ngx_http_agnitel_record_hdr_t *hdr,
    int64_t *due)
{
    if (hdr->version != NGX_HTTP_AGNITEL_RECORD_V2) {
        return NGX_DECLINED;
    }

    ngx_memcpy(due, (u_char *) val->mv_data + sizeof(*hdr), sizeof(int64_t));

    return NGX_OK;
}


/*
 * The canonical JSON of an inventory number's record, after its header and
 * view, where the transaction keeps it.  Returns an LMDB code:
 * MDB_NOTFOUND, MDB_CORRUPTED if the header does not read.
 */

int
ngx_http_agnitel_record_text(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    MDB_val *key, ngx_str_t *json)
{
    int                             rc;
    MDB_val                         val;
    ngx_str_t                       view;
    ngx_http_agnitel_record_hdr_t   hdr;

    rc = mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_NUMBERS], key, &val);
    if (rc != 0) {
        return rc;
    }

    if (ngx_http_agnitel_record_header(&val, &hdr, &view) != NGX_OK) {
        return MDB_CORRUPTED;
    }

    json->data = view.data + view.len;
    json->len = (u_char *) val.mv_data + val.mv_size - json->data;

    return 0;
}


/*
 * The canonical record of an inventory number, freed with the pool.
 * Returns an LMDB code: MDB_NOTFOUND, MDB_CORRUPTED if it does not decode.
 */

int
ngx_http_agnitel_record_load(ngx_pool_t *pool, MDB_txn *txn,
    ngx_http_agnitel_store_t *store, MDB_val *key, json_t **rec)
{
    int        rc;
    ngx_str_t  json;

    rc = ngx_http_agnitel_record_text(txn, store, key, &json);
    if (rc != 0) {
        return rc;
    }

    *rec = json_loadb((char *) json.data, json.len, 0, NULL);

    if (*rec == NULL) {
        return MDB_CORRUPTED;
    }

    return (ngx_http_agnitel_json_own(pool, *rec) == NGX_OK) ? 0 : ENOMEM;
}


ngx_uint_t
ngx_http_agnitel_status(ngx_str_t *name)
{
    return ngx_http_agnitel_lookup(ngx_http_agnitel_statuses, name);
}


ngx_uint_t
ngx_http_agnitel_provider(ngx_str_t *name)
{
    return ngx_http_agnitel_lookup(ngx_http_agnitel_providers, name);
}


static ngx_uint_t
ngx_http_agnitel_lookup(const char **names, ngx_str_t *s)
{
    ngx_uint_t  i;

    for (i = 1; names[i]; i++) {
        if (ngx_strlen(names[i]) == s->len
            && ngx_strncmp(names[i], s->data, s->len) == 0)
        {
            return i;
        }
    }

    return 0;
}


static void
ngx_http_agnitel_record_view(ngx_http_agnitel_json_t *j, json_t *rec)
{
    json_t       *caps;
    const char   *status, *uri, **key;

    status = json_string_value(json_object_get(rec, "status"));
    uri = json_string_value(json_object_get(rec, "termination_uri"));
    caps = json_object_get(rec, "capabilities");

    ngx_http_agnitel_json_lit(j, "{");

    for (key = ngx_http_agnitel_view_strings; *key; key++) {
        ngx_http_agnitel_json_member(j, *key, json_object_get(rec, *key));
    }

    ngx_http_agnitel_json_key(j, "capabilities");
    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "voice");
    ngx_http_agnitel_json_bool(j, json_is_true(json_object_get(caps, "voice")));
    ngx_http_agnitel_json_key(j, "sms");
    ngx_http_agnitel_json_bool(j, json_is_true(json_object_get(caps, "sms")));
    ngx_http_agnitel_json_lit(j, "}");

    ngx_http_agnitel_view_money(j, rec, "price");
    ngx_http_agnitel_view_money(j, rec, "per_minute_price_inbound");
    ngx_http_agnitel_view_money(j, rec, "per_minute_price_outbound");
    ngx_http_agnitel_json_member(j, "currency",
                              json_object_get(rec, "currency"));
    ngx_http_agnitel_json_member(j, "status", json_object_get(rec, "status"));

    /* a number in its grace period still takes calls */

    ngx_http_agnitel_json_key(j, "is_active");
    ngx_http_agnitel_json_bool(j, status
                                  && (ngx_strcmp(status, "active") == 0
                                      || ngx_strcmp(status, "grace") == 0));

    ngx_http_agnitel_view_time(j, rec, "purchased_at");
    ngx_http_agnitel_view_time(j, rec, "renews_at");

    /* a number that took calls: its counters */

    if (json_object_get(rec, "calls_inbound")
        || json_object_get(rec, "calls_outbound"))
    {
        ngx_http_agnitel_json_key(j, "calls_inbound");
        ngx_http_agnitel_json_int(j, json_integer_value(
                                  json_object_get(rec, "calls_inbound")));
        ngx_http_agnitel_json_key(j, "calls_outbound");
        ngx_http_agnitel_json_int(j, json_integer_value(
                                  json_object_get(rec, "calls_outbound")));
        ngx_http_agnitel_json_key(j, "minutes_inbound");
        ngx_http_agnitel_json_int(j, json_integer_value(
                                  json_object_get(rec, "minutes_inbound")));
        ngx_http_agnitel_json_key(j, "minutes_outbound");
        ngx_http_agnitel_json_int(j, json_integer_value(
                                  json_object_get(rec, "minutes_outbound")));
    }

    if (json_object_get(rec, "agent_id")) {
        ngx_http_agnitel_json_member(j, "agent_id",
                                     json_object_get(rec, "agent_id"));
    }

    /* a managed number: paid from credits, renewed or lost */

    if (json_object_get(rec, "auto_renew")) {
        ngx_http_agnitel_view_time(j, rec, "grace_ends_at");
        ngx_http_agnitel_json_key(j, "auto_renew");
        ngx_http_agnitel_json_bool(j,
                            json_is_true(json_object_get(rec, "auto_renew")));
    }

    ngx_http_agnitel_json_key(j, "inbound_trunk");

    if (uri) {
        ngx_http_agnitel_json_lit(j, "{");
        ngx_http_agnitel_json_member(j, "termination_uri",
                                  json_object_get(rec, "termination_uri"));
        ngx_http_agnitel_json_member(j, "auth_username",
                                  json_object_get(rec, "sip_username"));
        ngx_http_agnitel_json_lit(j, "}");

    } else {
        ngx_http_agnitel_json_lit(j, "null");
    }

    ngx_http_agnitel_view_time(j, rec, "created_at");

    if (json_object_get(rec, "released_at")) {
        ngx_http_agnitel_view_time(j, rec, "released_at");
    }

    if (json_object_get(rec, "release_reason")) {
        ngx_http_agnitel_json_member(j, "release_reason",
                                     json_object_get(rec, "release_reason"));
    }

    ngx_http_agnitel_json_lit(j, "}");
}


static void
ngx_http_agnitel_view_money(ngx_http_agnitel_json_t *j, json_t *rec,
    const char *key)
{
    json_t  *v;

    ngx_http_agnitel_json_key(j, key);

    v = json_object_get(rec, key);

    if (json_is_integer(v)) {
        ngx_http_agnitel_json_money(j, json_integer_value(v));

    } else {
        ngx_http_agnitel_json_lit(j, "null");
    }
}


static void
ngx_http_agnitel_view_time(ngx_http_agnitel_json_t *j, json_t *rec,
    const char *key)
{
    ngx_http_agnitel_json_key(j, key);
    ngx_http_agnitel_json_time(j, json_integer_value(json_object_get(rec,
                                                                     key)));
}
