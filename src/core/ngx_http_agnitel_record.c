
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_agnitel_json.h"
#include "ngx_http_agnitel_record.h"


static void ngx_http_agnitel_number_read(json_t *rec,
    ngx_http_agnitel_number_t *n);
static json_t *ngx_http_agnitel_number_str(json_t *rec, const char *key,
    ngx_str_t *s);
static void ngx_http_agnitel_number_money(json_t *rec, const char *key,
    int64_t *micros);
static void ngx_http_agnitel_record_view(ngx_http_agnitel_json_t *j,
    ngx_http_agnitel_number_t *n);
static void ngx_http_agnitel_view_money(ngx_http_agnitel_json_t *j,
    const char *key, int64_t micros);
static int ngx_http_agnitel_index_set(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, MDB_val *key, u_char *hdr);
static ngx_uint_t ngx_http_agnitel_lookup(const char **names, ngx_str_t *s);
static int64_t ngx_http_agnitel_record_due_at(ngx_http_agnitel_number_t *n,
    ngx_uint_t status);


/* the first members of a number's view, strings read and written as they are */
static struct {
    const char                 *name;
    size_t                      offset;
} ngx_http_agnitel_view_strings[] = {
    { "id", offsetof(ngx_http_agnitel_number_t, id) },
    { "phone_number", offsetof(ngx_http_agnitel_number_t, phone_number) },
    { "friendly_name", offsetof(ngx_http_agnitel_number_t, friendly_name) },
    { "provider", offsetof(ngx_http_agnitel_number_t, provider) },
    { "provider_id", offsetof(ngx_http_agnitel_number_t, provider_id) },
    { "telephony_id", offsetof(ngx_http_agnitel_number_t, telephony_id) },
    { "iso_country", offsetof(ngx_http_agnitel_number_t, iso_country) },
    { NULL, 0 }
};

#define ngx_http_agnitel_view_string(n, i)                                    \
    (ngx_str_t *) ((u_char *) (n) + ngx_http_agnitel_view_strings[i].offset)

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
    ngx_http_agnitel_json_t    j;
    ngx_http_agnitel_number_t  n;

    ngx_http_agnitel_number_read(rec, &n);

    ngx_http_agnitel_record_begin(&j, pool, &n);
    ngx_http_agnitel_json_value(&j, rec);

    return ngx_http_agnitel_record_end(&j, val);
}


/*
 * A record is written in one buffer: room for the header and "due", the
 * view, and then the caller writes the record's JSON after it.  The header
 * is filled in once the view's length is known.
 */

void
ngx_http_agnitel_record_begin(ngx_http_agnitel_json_t *j, ngx_pool_t *pool,
    ngx_http_agnitel_number_t *n)
{
    u_char                         *p;
    size_t                          off;
    int64_t                         due;
    ngx_http_agnitel_record_hdr_t   hdr;

    /* the view, then the record's JSON: about 600 and 500 bytes */

    ngx_http_agnitel_json_init(j, pool, 2048);

    ngx_memzero(&hdr, sizeof(hdr));
    due = 0;

    ngx_http_agnitel_json_raw(j, (u_char *) &hdr, sizeof(hdr));
    ngx_http_agnitel_json_raw(j, (u_char *) &due, sizeof(due));

    off = sizeof(hdr) + sizeof(due);

    ngx_http_agnitel_record_view(j, n);

    if (j->failed) {
        return;
    }

    hdr.version = NGX_HTTP_AGNITEL_RECORD_V2;
    hdr.view_len = j->pos - j->start - off;
    hdr.status = ngx_http_agnitel_status(&n->status);
    hdr.provider = ngx_http_agnitel_provider(&n->provider);

    if (n->iso_country.len == 2) {
        ngx_memcpy(hdr.iso_country, n->iso_country.data, 2);
    }

    due = ngx_http_agnitel_record_due_at(n, hdr.status);

    p = ngx_cpymem(j->start, &hdr, sizeof(hdr));
    ngx_memcpy(p, &due, sizeof(due));
}


ngx_int_t
ngx_http_agnitel_record_end(ngx_http_agnitel_json_t *j, MDB_val *val)
{
    if (j->failed) {
        return NGX_ERROR;
    }

    val->mv_data = j->start;
    val->mv_size = j->pos - j->start;

    return NGX_OK;
}


/*
 * When the renew job must look at a number paid from credits (it has
 * "auto_renew"): at renews_at while active, at grace_ends_at in grace.
 * Its collect makes the same choice from the JSON.
 */

static int64_t
ngx_http_agnitel_record_due_at(ngx_http_agnitel_number_t *n,
    ngx_uint_t status)
{
    if (!n->managed) {
        return NGX_HTTP_AGNITEL_NEVER_DUE;
    }

    switch (status) {

    case NGX_HTTP_AGNITEL_ACTIVE:
        return n->renews_at;

    case NGX_HTTP_AGNITEL_GRACE:
        return n->grace_ends_at;

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


/*
 * What the view shows of a record, read once: a string absent or not a
 * string is null, as a time absent or not an integer (0), or money not
 * an integer (NGX_HTTP_AGNITEL_NO_MONEY).
 */

static void
ngx_http_agnitel_number_read(json_t *rec, ngx_http_agnitel_number_t *n)
{
    json_t      *caps, *in, *out, *v;
    ngx_uint_t   i;

    ngx_http_agnitel_number_init(n);

    for (i = 0; ngx_http_agnitel_view_strings[i].name; i++) {
        ngx_http_agnitel_number_str(rec, ngx_http_agnitel_view_strings[i].name,
                                    ngx_http_agnitel_view_string(n, i));
    }

    ngx_http_agnitel_number_str(rec, "currency", &n->currency);
    ngx_http_agnitel_number_str(rec, "status", &n->status);
    ngx_http_agnitel_number_str(rec, "termination_uri", &n->termination_uri);
    ngx_http_agnitel_number_str(rec, "sip_username", &n->sip_username);

    n->has_agent = (ngx_http_agnitel_number_str(rec, "agent_id",
                                                &n->agent_id) != NULL);
    n->has_reason = (ngx_http_agnitel_number_str(rec, "release_reason",
                                                 &n->release_reason) != NULL);

    caps = json_object_get(rec, "capabilities");
    n->voice = json_is_true(json_object_get(caps, "voice"));
    n->sms = json_is_true(json_object_get(caps, "sms"));

    ngx_http_agnitel_number_money(rec, "price", &n->price);
    ngx_http_agnitel_number_money(rec, "per_minute_price_inbound",
                                  &n->price_inbound);
    ngx_http_agnitel_number_money(rec, "per_minute_price_outbound",
                                  &n->price_outbound);

    n->purchased_at = json_integer_value(json_object_get(rec,
                                                         "purchased_at"));
    n->renews_at = json_integer_value(json_object_get(rec, "renews_at"));
    n->grace_ends_at = json_integer_value(json_object_get(rec,
                                                          "grace_ends_at"));
    n->created_at = json_integer_value(json_object_get(rec, "created_at"));

    in = json_object_get(rec, "calls_inbound");
    out = json_object_get(rec, "calls_outbound");

    if (in || out) {
        n->calls = 1;
        n->calls_inbound = json_integer_value(in);
        n->calls_outbound = json_integer_value(out);
        n->minutes_inbound = json_integer_value(json_object_get(rec,
                                                    "minutes_inbound"));
        n->minutes_outbound = json_integer_value(json_object_get(rec,
                                                    "minutes_outbound"));
    }

    v = json_object_get(rec, "auto_renew");
    n->managed = (v != NULL);
    n->auto_renew = json_is_true(v);

    v = json_object_get(rec, "released_at");
    n->released = (v != NULL);
    n->released_at = json_integer_value(v);
}


/* a number with no member yet: every string and time null, no money */

void
ngx_http_agnitel_number_init(ngx_http_agnitel_number_t *n)
{
    ngx_memzero(n, sizeof(ngx_http_agnitel_number_t));

    n->price = NGX_HTTP_AGNITEL_NO_MONEY;
    n->price_inbound = NGX_HTTP_AGNITEL_NO_MONEY;
    n->price_outbound = NGX_HTTP_AGNITEL_NO_MONEY;
}


/* the member, if the record has it; s is set only when it is a string */

static json_t *
ngx_http_agnitel_number_str(json_t *rec, const char *key, ngx_str_t *s)
{
    json_t  *v;

    v = json_object_get(rec, key);

    if (json_is_string(v)) {
        s->data = (u_char *) json_string_value(v);
        s->len = json_string_length(v);
    }

    return v;
}


static void
ngx_http_agnitel_number_money(json_t *rec, const char *key, int64_t *micros)
{
    json_t  *v;

    v = json_object_get(rec, key);

    if (json_is_integer(v)) {
        *micros = json_integer_value(v);
    }
}


static void
ngx_http_agnitel_record_view(ngx_http_agnitel_json_t *j,
    ngx_http_agnitel_number_t *n)
{
    ngx_uint_t  i;

    ngx_http_agnitel_json_lit(j, "{");

    for (i = 0; ngx_http_agnitel_view_strings[i].name; i++) {
        ngx_http_agnitel_json_text(j, ngx_http_agnitel_view_strings[i].name,
                                   ngx_http_agnitel_view_string(n, i));
    }

    ngx_http_agnitel_json_key(j, "capabilities");
    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "voice");
    ngx_http_agnitel_json_bool(j, n->voice);
    ngx_http_agnitel_json_key(j, "sms");
    ngx_http_agnitel_json_bool(j, n->sms);
    ngx_http_agnitel_json_lit(j, "}");

    ngx_http_agnitel_view_money(j, "price", n->price);
    ngx_http_agnitel_view_money(j, "per_minute_price_inbound",
                                n->price_inbound);
    ngx_http_agnitel_view_money(j, "per_minute_price_outbound",
                                n->price_outbound);
    ngx_http_agnitel_json_text(j, "currency", &n->currency);
    ngx_http_agnitel_json_text(j, "status", &n->status);

    /* a number in its grace period still takes calls */

    ngx_http_agnitel_json_key(j, "is_active");
    ngx_http_agnitel_json_bool(j,
              (n->status.len == 6
               && ngx_strncmp(n->status.data, "active", 6) == 0)
              || (n->status.len == 5
                  && ngx_strncmp(n->status.data, "grace", 5) == 0));

    ngx_http_agnitel_json_key(j, "purchased_at");
    ngx_http_agnitel_json_time(j, n->purchased_at);
    ngx_http_agnitel_json_key(j, "renews_at");
    ngx_http_agnitel_json_time(j, n->renews_at);

    /* a number that took calls: its counters */

    if (n->calls) {
        ngx_http_agnitel_json_key(j, "calls_inbound");
        ngx_http_agnitel_json_int(j, n->calls_inbound);
        ngx_http_agnitel_json_key(j, "calls_outbound");
        ngx_http_agnitel_json_int(j, n->calls_outbound);
        ngx_http_agnitel_json_key(j, "minutes_inbound");
        ngx_http_agnitel_json_int(j, n->minutes_inbound);
        ngx_http_agnitel_json_key(j, "minutes_outbound");
        ngx_http_agnitel_json_int(j, n->minutes_outbound);
    }

    if (n->has_agent) {
        ngx_http_agnitel_json_text(j, "agent_id", &n->agent_id);
    }

    /* a managed number: paid from credits, renewed or lost */

    if (n->managed) {
        ngx_http_agnitel_json_key(j, "grace_ends_at");
        ngx_http_agnitel_json_time(j, n->grace_ends_at);
        ngx_http_agnitel_json_key(j, "auto_renew");
        ngx_http_agnitel_json_bool(j, n->auto_renew);
    }

    ngx_http_agnitel_json_key(j, "inbound_trunk");

    if (n->termination_uri.data) {
        ngx_http_agnitel_json_lit(j, "{");
        ngx_http_agnitel_json_text(j, "termination_uri", &n->termination_uri);
        ngx_http_agnitel_json_text(j, "auth_username", &n->sip_username);
        ngx_http_agnitel_json_lit(j, "}");

    } else {
        ngx_http_agnitel_json_lit(j, "null");
    }

    ngx_http_agnitel_json_key(j, "created_at");
    ngx_http_agnitel_json_time(j, n->created_at);

    if (n->released) {
        ngx_http_agnitel_json_key(j, "released_at");
        ngx_http_agnitel_json_time(j, n->released_at);
    }

    if (n->has_reason) {
        ngx_http_agnitel_json_text(j, "release_reason", &n->release_reason);
    }

    ngx_http_agnitel_json_lit(j, "}");
}


static void
ngx_http_agnitel_view_money(ngx_http_agnitel_json_t *j, const char *key,
    int64_t micros)
{
    ngx_http_agnitel_json_key(j, key);

    if (micros != NGX_HTTP_AGNITEL_NO_MONEY) {
        ngx_http_agnitel_json_money(j, micros);

    } else {
        ngx_http_agnitel_json_lit(j, "null");
    }
}
