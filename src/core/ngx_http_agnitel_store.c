
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_agnitel_store.h"


#define NGX_HTTP_AGNITEL_SCHEMA  "1"


static MDB_env *ngx_http_agnitel_env_open(ngx_log_t *log,
    ngx_http_agnitel_main_conf_t *amcf);
static ngx_int_t ngx_http_agnitel_dbs_open(ngx_log_t *log, MDB_env *env,
    MDB_dbi *dbi);
static ngx_int_t ngx_http_agnitel_store_chown(ngx_cycle_t *cycle,
    ngx_str_t *path);


static struct {
    const char                 *name;
    unsigned                    flags;
} ngx_http_agnitel_dbs[] = {
    { "meta", 0 },
    { "workspaces", 0 },
    { "api_keys", 0 },
    { "api_key_ids", 0 },
    { "numbers", 0 },
    { "number_list", MDB_DUPSORT|MDB_DUPFIXED },
    { "number_owners", 0 },
    { "number_history", 0 },
    { "providers", 0 },
    { "idempotency", 0 },
    { "sandbox", 0 },
};


/*
 * Runs in the master (init_module): creates the directory, the environment
 * and its databases, then closes it again.  An MDB_env must never cross
 * fork(); workers open their own in ngx_http_agnitel_store_open().
 */

ngx_int_t
ngx_http_agnitel_store_init(ngx_cycle_t *cycle,
    ngx_http_agnitel_main_conf_t *amcf)
{
    u_char     *dir;
    MDB_env    *env;
    MDB_dbi     dbi[NGX_HTTP_AGNITEL_DB_N];
    ngx_int_t   rc;

    /* ngx_create_full_path() wants a trailing slash */

    dir = ngx_pnalloc(cycle->pool, amcf->store_path.len + 2);
    if (dir == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(dir, "%V/%Z", &amcf->store_path);

    if (ngx_create_full_path(dir, 0700) != 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "agnitel_store \"%V\": cannot create the directory",
                      &amcf->store_path);
        return NGX_ERROR;
    }

    env = ngx_http_agnitel_env_open(cycle->log, amcf);
    if (env == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_agnitel_dbs_open(cycle->log, env, dbi);

    mdb_env_close(env);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_agnitel_store_chown(cycle, &amcf->store_path);
}


ngx_int_t
ngx_http_agnitel_store_open(ngx_cycle_t *cycle,
    ngx_http_agnitel_main_conf_t *amcf)
{
    int                        dead;
    ngx_http_agnitel_store_t  *store;

    if (amcf->store != NULL) {
        /* master_process off: never open the environment twice */
        return NGX_OK;
    }

    store = ngx_pcalloc(cycle->pool, sizeof(ngx_http_agnitel_store_t));
    if (store == NULL) {
        return NGX_ERROR;
    }

    store->env = ngx_http_agnitel_env_open(cycle->log, amcf);
    if (store->env == NULL) {
        return NGX_ERROR;
    }

    /* free the reader slots of workers that died holding them */

    if (mdb_reader_check(store->env, &dead) == 0 && dead > 0) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "agnitel_store: cleared %d stale reader(s)", dead);
    }

    if (ngx_http_agnitel_dbs_open(cycle->log, store->env, store->dbi)
        != NGX_OK)
    {
        mdb_env_close(store->env);
        return NGX_ERROR;
    }

    amcf->store = store;

    return NGX_OK;
}


void
ngx_http_agnitel_store_close(ngx_http_agnitel_main_conf_t *amcf)
{
    ngx_http_agnitel_store_t  *store;

    store = amcf->store;

    if (store == NULL) {
        return;
    }

    if (store->rtxn) {
        mdb_txn_abort(store->rtxn);
    }

    mdb_env_close(store->env);
    amcf->store = NULL;
}


MDB_txn *
ngx_http_agnitel_store_read(ngx_http_agnitel_store_t *store, ngx_log_t *log)
{
    int  rc;

    if (store->rtxn == NULL) {
        rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &store->rtxn);

    } else {
        rc = mdb_txn_renew(store->rtxn);
    }

    if (rc == MDB_MAP_RESIZED) {

        /* another process grew the map (a reload with a larger map_size) */

        if (store->rtxn) {
            mdb_txn_abort(store->rtxn);
            store->rtxn = NULL;
        }

        rc = mdb_env_set_mapsize(store->env, 0);

        if (rc == 0) {
            rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &store->rtxn);
        }
    }

    if (rc != 0) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "agnitel_store: read transaction failed: %s",
                      mdb_strerror(rc));

        if (store->rtxn) {
            mdb_txn_abort(store->rtxn);
            store->rtxn = NULL;
        }

        return NULL;
    }

    return store->rtxn;
}


void
ngx_http_agnitel_store_read_done(ngx_http_agnitel_store_t *store)
{
    mdb_txn_reset(store->rtxn);
}


MDB_txn *
ngx_http_agnitel_store_write(ngx_http_agnitel_store_t *store, ngx_log_t *log)
{
    int       rc;
    MDB_txn  *txn;

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);

    if (rc == MDB_MAP_RESIZED) {
        rc = mdb_env_set_mapsize(store->env, 0);

        if (rc == 0) {
            rc = mdb_txn_begin(store->env, NULL, 0, &txn);
        }
    }

    if (rc != 0) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "agnitel_store: write transaction failed: %s",
                      mdb_strerror(rc));
        return NULL;
    }

    return txn;
}


/* commits a write transaction if all in it went well (rc 0), else aborts */

int
ngx_http_agnitel_store_finish(MDB_txn *txn, int rc)
{
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }

    return mdb_txn_commit(txn);
}


size_t
ngx_http_agnitel_store_key(u_char *buf, ngx_str_t *a, ngx_str_t *b)
{
    u_char  *p;

    p = ngx_cpymem(buf, a->data, a->len);
    *p++ = '/';

    if (b) {
        p = ngx_cpymem(p, b->data, b->len);
    }

    return p - buf;
}


static MDB_env *
ngx_http_agnitel_env_open(ngx_log_t *log, ngx_http_agnitel_main_conf_t *amcf)
{
    int       rc;
    MDB_env  *env;

    rc = mdb_env_create(&env);
    if (rc != 0) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "agnitel_store: mdb_env_create() failed: %s",
                      mdb_strerror(rc));
        return NULL;
    }

    rc = mdb_env_set_mapsize(env, amcf->map_size);

    if (rc == 0) {
        rc = mdb_env_set_maxdbs(env, NGX_HTTP_AGNITEL_DB_N);
    }

    if (rc == 0) {
        /* store_path is NUL-terminated by the directive handler */
        rc = mdb_env_open(env, (char *) amcf->store_path.data, MDB_NOTLS,
                          0600);
    }

    if (rc != 0) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "agnitel_store \"%V\": cannot open: %s",
                      &amcf->store_path, mdb_strerror(rc));
        mdb_env_close(env);
        return NULL;
    }

    return env;
}


static ngx_int_t
ngx_http_agnitel_dbs_open(ngx_log_t *log, MDB_env *env, MDB_dbi *dbi)
{
    int         rc;
    MDB_val     key, val;
    MDB_txn    *txn;
    ngx_uint_t  i;

    rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (rc != 0) {
        goto failed;
    }

    for (i = 0; i < NGX_HTTP_AGNITEL_DB_N; i++) {
        rc = mdb_dbi_open(txn, ngx_http_agnitel_dbs[i].name,
                          ngx_http_agnitel_dbs[i].flags|MDB_CREATE, &dbi[i]);
        if (rc != 0) {
            mdb_txn_abort(txn);
            goto failed;
        }
    }

    key.mv_data = "schema";
    key.mv_size = sizeof("schema") - 1;
    val.mv_data = NGX_HTTP_AGNITEL_SCHEMA;
    val.mv_size = sizeof(NGX_HTTP_AGNITEL_SCHEMA) - 1;

    rc = mdb_put(txn, dbi[NGX_HTTP_AGNITEL_DB_META], &key, &val,
                 MDB_NOOVERWRITE);

    if (rc != 0 && rc != MDB_KEYEXIST) {
        mdb_txn_abort(txn);
        goto failed;
    }

    rc = mdb_txn_commit(txn);
    if (rc == 0) {
        return NGX_OK;
    }

failed:

    ngx_log_error(NGX_LOG_EMERG, log, 0,
                  "agnitel_store: cannot create databases: %s",
                  mdb_strerror(rc));
    return NGX_ERROR;
}


/*
 * The master creates the store as root; workers run as the "user"
 * directive's user and must be able to write it.
 */

static ngx_int_t
ngx_http_agnitel_store_chown(ngx_cycle_t *cycle, ngx_str_t *path)
{
    u_char           *name;
    ngx_uint_t        i;
    ngx_core_conf_t  *ccf;

    static const char  *files[] = { "", "/data.mdb", "/lock.mdb" };

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (geteuid() != 0 || ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        return NGX_OK;
    }

    name = ngx_pnalloc(cycle->pool, path->len + sizeof("/lock.mdb"));
    if (name == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        ngx_sprintf(name, "%V%s%Z", path, files[i]);

        if (chown((char *) name, ccf->user, ccf->group) == -1) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "agnitel_store: chown(\"%s\") failed", name);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
