
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>

#include "ngx_http_agnitel_store.h"


#define NGX_HTTP_AGNITEL_SCHEMA  "1"


/* the credentials ngx_worker_process_init() switches to */

typedef struct {
    ngx_uid_t                   uid;
    ngx_gid_t                   gid;
    char                       *name;
} ngx_http_agnitel_user_t;


static MDB_env *ngx_http_agnitel_env_open(ngx_log_t *log,
    ngx_http_agnitel_main_conf_t *amcf);
static ngx_int_t ngx_http_agnitel_dbs_open(ngx_log_t *log, MDB_env *env,
    MDB_dbi *dbi);
static ngx_int_t ngx_http_agnitel_data_open(ngx_cycle_t *cycle,
    ngx_http_agnitel_store_t *store, ngx_http_agnitel_main_conf_t *amcf);
static void ngx_http_agnitel_grow_failed(ngx_http_agnitel_store_t *store,
    ngx_log_t *log, off_t end, char *what);
static ngx_int_t ngx_http_agnitel_store_mkdir(ngx_cycle_t *cycle,
    ngx_str_t *path);
static ngx_int_t ngx_http_agnitel_store_chown(ngx_cycle_t *cycle,
    ngx_str_t *path);
static ngx_int_t ngx_http_agnitel_worker_user(ngx_cycle_t *cycle,
    ngx_http_agnitel_user_t *user);
static ngx_int_t ngx_http_agnitel_store_probe(ngx_cycle_t *cycle,
    ngx_str_t *path, ngx_uint_t whole);
static void ngx_http_agnitel_store_probe_child(ngx_log_t *log,
    ngx_str_t *path, u_char *name, ngx_http_agnitel_user_t *user,
    ngx_uint_t whole);
static ngx_int_t ngx_http_agnitel_store_access(ngx_log_t *log,
    ngx_str_t *path, u_char *name, char *user, ngx_uint_t whole);
static void ngx_http_agnitel_store_denied(ngx_log_t *log, ngx_err_t err,
    ngx_str_t *path, char *user, char *what, u_char *name, size_t len);


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
    { "ledger", 0 },
    { "balances", 0 },
    { "topups", 0 },
    { "rules", 0 },
    { "rule_numbers", 0 },
    { "calls", 0 },
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
    MDB_env    *env;
    MDB_dbi     dbi[NGX_HTTP_AGNITEL_DB_N];
    ngx_int_t   rc;

    if (ngx_http_agnitel_store_mkdir(cycle, &amcf->store_path) != NGX_OK) {
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

    if (ngx_http_agnitel_store_chown(cycle, &amcf->store_path) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the store now exists: its directory and files count too */

    return ngx_http_agnitel_store_probe(cycle, &amcf->store_path, 1);
}


/*
 * Runs in the master while the configuration is read, before anything is
 * created: a failure here fails "nginx -t" and the start, and a reload
 * keeps the old workers, whereas init_module may only exit.  The store
 * itself may not exist yet, so only its parent directories are checked.
 */

ngx_int_t
ngx_http_agnitel_store_check(ngx_cycle_t *cycle,
    ngx_http_agnitel_main_conf_t *amcf)
{
    return ngx_http_agnitel_store_probe(cycle, &amcf->store_path, 0);
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
        != NGX_OK
        || ngx_http_agnitel_data_open(cycle, store, amcf) != NGX_OK)
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

    if (store->data != NGX_INVALID_FILE) {
        (void) ngx_close_file(store->data);
    }

    mdb_env_close(store->env);
    amcf->store = NULL;
}


/* the data file's own descriptor, for ngx_http_agnitel_store_grow() */

static ngx_int_t
ngx_http_agnitel_data_open(ngx_cycle_t *cycle,
    ngx_http_agnitel_store_t *store, ngx_http_agnitel_main_conf_t *amcf)
{
    int        rc;
    u_char    *name;
    MDB_stat   st;

    store->data = NGX_INVALID_FILE;
    store->grow = amcf->grow;

    if (store->grow == 0) {
        return NGX_OK;
    }

    rc = mdb_env_stat(store->env, &st);
    if (rc != 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "agnitel_store: mdb_env_stat() failed: %s",
                      mdb_strerror(rc));
        return NGX_ERROR;
    }

    store->page_size = st.ms_psize;

    name = ngx_pnalloc(cycle->pool,
                       amcf->store_path.len + sizeof("/data.mdb"));
    if (name == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_sprintf(name, "%V/data.mdb%Z", &amcf->store_path);

    /*
     * not LMDB's descriptor (mdb_env_get_fd()): LMDB writes a run of pages
     * with lseek() and writev() on it, and our lseek() must not move the
     * offset under it
     */

    store->data = ngx_open_file(name, NGX_FILE_WRONLY|O_CLOEXEC,
                                NGX_FILE_OPEN, 0);

    if (store->data == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      ngx_open_file_n " \"%s\" failed", name);
        return NGX_ERROR;
    }

    return NGX_OK;
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

    return ngx_http_agnitel_store_commit(txn);
}


/*
 * A durable commit.  The environment is opened MDB_NOMETASYNC: the commit
 * syncs the data pages while it holds LMDB's writer lock, as always, but
 * writes the meta page without syncing it, and this sync does, once the
 * lock is released.  So another worker's commit runs while this one's last
 * sync does, and still nothing is reported committed before it is on disk.
 * The data pages are synced before the meta page is written, so a crash
 * at any point leaves a consistent store (LMDB's guarantee for
 * MDB_NOMETASYNC); it loses only commits nobody has been told of.
 */

int
ngx_http_agnitel_store_commit(MDB_txn *txn)
{
    int       rc;
    MDB_env  *env;

    env = mdb_txn_env(txn);

    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        return rc;
    }

    return ngx_http_agnitel_store_sync(env);
}


/* the last sync of the commits so far, their meta pages' */

int
ngx_http_agnitel_store_sync(MDB_env *env)
{
    int  rc;

    rc = mdb_env_sync(env, 1);
    if (rc != 0) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "agnitel_store: committed but not synced: %s",
                      mdb_strerror(rc));
        return NGX_HTTP_AGNITEL_UNSYNCED;
    }

    return 0;
}


/*
 * Keeps the data file "grow" bytes ahead of the pages in use, in blocks
 * written with zeros and synced, as PostgreSQL fills its WAL segments.
 * LMDB grows the file by the pages a commit adds: a few pages nearly every
 * commit, and each time the filesystem allocates blocks and its sync has
 * to write the inode and the extent tree as well, one more synchronous
 * write under the writer lock.  Written ahead, the blocks are LMDB's to
 * overwrite, and its sync writes its pages only.
 *
 * The caller holds LMDB's writer lock and has written nothing yet: nobody
 * writes past the pages in use meanwhile, so the zeros overwrite nothing,
 * and readers never look past them.  The file's size comes from lseek(),
 * not fstat(): asking for its times (Linux's multigrain timestamps) makes
 * the next write update them at once, and so write the inode again.
 */

void
ngx_http_agnitel_store_grow(ngx_http_agnitel_store_t *store, ngx_log_t *log)
{
    off_t         end, used, want, off;
    size_t        size;
    ssize_t       n;
    MDB_envinfo   info;

    static u_char  zeros[65536];

    if (store->data == NGX_INVALID_FILE) {
        return;
    }

    if (mdb_env_info(store->env, &info) != 0) {
        return;
    }

    used = (off_t) (info.me_last_pgno + 1) * store->page_size;

    /* no system call while the size last seen leaves room enough */

    if (store->end - used >= store->grow / 2) {
        return;
    }

    end = lseek(store->data, 0, SEEK_END);
    if (end == -1) {
        ngx_http_agnitel_grow_failed(store, log, -1, "lseek()");
        return;
    }

    store->end = end;

    if (end - used >= store->grow / 2) {
        return;
    }

    want = ngx_min(used + store->grow, (off_t) info.me_mapsize);

    if (want <= end) {
        return;                                  /* at map_size already */
    }

    for (off = end; off < want; off += n) {
        size = (size_t) ngx_min(want - off, (off_t) sizeof(zeros));

        n = pwrite(store->data, zeros, size, off);

        if (n == -1) {
            if (ngx_errno == NGX_EINTR) {
                n = 0;
                continue;
            }

            ngx_http_agnitel_grow_failed(store, log, end, "pwrite()");
            return;
        }
    }

    if (fdatasync(store->data) == -1) {
        ngx_http_agnitel_grow_failed(store, log, end, "fdatasync()");
        return;
    }

    store->end = off;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "agnitel_store: grew the data file from %O to %O",
                   end, off);
}


/*
 * A full disk, say: the file goes back to its size, and commits grow it
 * as LMDB does, by what they need.  Once a worker, not every commit.
 */

static void
ngx_http_agnitel_grow_failed(ngx_http_agnitel_store_t *store, ngx_log_t *log,
    off_t end, char *what)
{
    ngx_err_t  err;

    err = ngx_errno;

    if (end != -1) {
        (void) ftruncate(store->data, end);
    }

    ngx_log_error(NGX_LOG_WARN, log, err,
                  "agnitel_store: %s failed growing the data file ahead; "
                  "commits grow it as they need from now on", what);

    (void) ngx_close_file(store->data);
    store->data = NGX_INVALID_FILE;
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
        rc = mdb_env_open(env, (char *) amcf->store_path.data,
                          MDB_NOTLS|MDB_NOMETASYNC,
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

    rc = ngx_http_agnitel_store_commit(txn);
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


/*
 * The parents we create must let the workers through: only the store
 * directory itself is private (0700, and owned by the workers' user).
 */

static ngx_int_t
ngx_http_agnitel_store_mkdir(ngx_cycle_t *cycle, ngx_str_t *path)
{
    ngx_err_t  err;

    /* without a trailing slash this creates the parents only */

    err = ngx_create_full_path(path->data, 0755);

    if (err == 0 && ngx_create_dir(path->data, 0700) == NGX_FILE_ERROR) {
        err = ngx_errno;

        if (err == NGX_EEXIST) {
            err = 0;
        }
    }

    if (err) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, err,
                      "agnitel_store \"%V\": cannot create the directory",
                      path);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * NGX_DECLINED when no process switches credentials: the master does not
 * run as root, "user root" is configured, or "master_process off" leaves
 * one process that keeps root's (unset means on: the default).
 */

static ngx_int_t
ngx_http_agnitel_worker_user(ngx_cycle_t *cycle, ngx_http_agnitel_user_t *user)
{
    struct group     *grp;
    struct passwd    *pwd;
    ngx_core_conf_t  *ccf;

    if (geteuid() != 0) {
        return NGX_DECLINED;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (ccf->master == 0) {
        return NGX_DECLINED;
    }

    if (ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        user->uid = ccf->user;
        user->gid = ccf->group;
        user->name = ccf->username;

    } else {

        /*
         * no "user" directive (yet): ngx_core_module's init_conf, which
         * runs after the http block, will pick the built-in default
         */

        pwd = getpwnam(NGX_USER);
        grp = getgrnam(NGX_GROUP);

        if (pwd == NULL || grp == NULL) {
            /* init_conf reports it */
            return NGX_DECLINED;
        }

        user->uid = pwd->pw_uid;
        user->gid = grp->gr_gid;
        user->name = NGX_USER;
    }

    return user->uid == 0 ? NGX_DECLINED : NGX_OK;
}


/*
 * The workers open the store only after switching to the "user"
 * directive's credentials; if they cannot, every worker exits at start
 * and the master serves nothing.  A child process takes on the same
 * credentials and asks access(), which, unlike mode bits read by root,
 * counts supplementary groups, ACLs and read-only mounts as the workers
 * will meet them.  With "whole" the store directory and files are checked
 * too, else only the directories above it that exist.
 */

static ngx_int_t
ngx_http_agnitel_store_probe(ngx_cycle_t *cycle, ngx_str_t *path,
    ngx_uint_t whole)
{
    int                      status;
    u_char                  *name;
    ngx_pid_t                pid;
    ngx_http_agnitel_user_t  user;

    if (ngx_http_agnitel_worker_user(cycle, &user) != NGX_OK) {
        return NGX_OK;
    }

    name = ngx_pnalloc(cycle->pool, path->len + sizeof("/lock.mdb"));
    if (name == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(name, path->data, path->len + 1);

    pid = fork();

    if (pid == -1) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "agnitel_store: fork() failed");
        return NGX_ERROR;
    }

    if (pid == 0) {
        ngx_http_agnitel_store_probe_child(cycle->log, path, name, &user,
                                           whole);
        /* unreachable */
    }

    /* on reload the master blocks SIGCHLD here, so no one else reaps it */

    while (waitpid(pid, &status, 0) == -1) {
        if (ngx_errno != NGX_EINTR) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "agnitel_store: waitpid() failed");
            return NGX_ERROR;
        }
    }

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return NGX_OK;
    }

    if (!WIFEXITED(status)) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "agnitel_store: access check process %P died",
                      pid);
    }

    /* else the child has said why */

    return NGX_ERROR;
}


/* as ngx_worker_process_init() does; _exit(): nothing of ours to flush */

static void
ngx_http_agnitel_store_probe_child(ngx_log_t *log, ngx_str_t *path,
    u_char *name, ngx_http_agnitel_user_t *user, ngx_uint_t whole)
{
    if (setgid(user->gid) == -1) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "agnitel_store: setgid(%d) failed", user->gid);
        _exit(1);
    }

    /* a worker survives a failed initgroups(), so the check does too */

    (void) initgroups(user->name, user->gid);

    if (setuid(user->uid) == -1) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "agnitel_store: setuid(%d) failed", user->uid);
        _exit(1);
    }

    if (ngx_http_agnitel_store_access(log, path, name, user->name, whole)
        != NGX_OK)
    {
        _exit(1);
    }

    _exit(0);
}


/*
 * Runs in the child.  "name" is a copy of the path with room for a file
 * name, cut at each "/" in turn to check the directories above the store.
 */

static ngx_int_t
ngx_http_agnitel_store_access(ngx_log_t *log, ngx_str_t *path, u_char *name,
    char *user, ngx_uint_t whole)
{
    int          rc;
    u_char      *p, *last;
    ngx_err_t    err;
    ngx_uint_t   i;

    static const char  *files[] = { "/data.mdb", "/lock.mdb" };

    last = name + path->len;

    for (p = name + 1; p < last; p++) {

        if (*p != '/') {
            continue;
        }

        *p = '\0';
        rc = access((char *) name, X_OK);
        err = ngx_errno;
        *p = '/';

        if (rc == 0) {
            continue;
        }

        if (err == NGX_ENOENT && !whole) {
            /* the master creates the rest, and checks again */
            return NGX_OK;
        }

        ngx_http_agnitel_store_denied(log, err, path, user, "search",
                                      name, p - name);
        return NGX_ERROR;
    }

    if (!whole) {
        return NGX_OK;
    }

    if (access((char *) name, X_OK) == -1) {
        ngx_http_agnitel_store_denied(log, ngx_errno, path, user, "search",
                                      name, path->len);
        return NGX_ERROR;
    }

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        p = ngx_sprintf(name, "%V%s%Z", path, files[i]);

        if (access((char *) name, R_OK|W_OK) == -1) {
            ngx_http_agnitel_store_denied(log, ngx_errno, path, user,
                                          "read and write", name,
                                          p - 1 - name);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_http_agnitel_store_denied(ngx_log_t *log, ngx_err_t err, ngx_str_t *path,
    char *user, char *what, u_char *name, size_t len)
{
    ngx_log_error(NGX_LOG_EMERG, log, err,
                  "agnitel_store \"%V\" is unusable for the workers' "
                  "user \"%s\": cannot %s \"%*s\"",
                  path, user, what, len, name);
}


/*
 * A JSON value as the data of k, inside txn.  Memory is jansson's, not a
 * pool's: this runs in commit tasks, off the event loop.
 */

int
ngx_http_agnitel_store_put_json(MDB_txn *txn, MDB_dbi dbi, MDB_val *k,
    json_t *json)
{
    int      rc;
    char    *text;
    MDB_val  v;

    text = json_dumps(json, JSON_COMPACT);
    if (text == NULL) {
        return MDB_PANIC;
    }

    v.mv_data = text;
    v.mv_size = ngx_strlen(text);

    rc = mdb_put(txn, dbi, k, &v, 0);
    free(text);

    return rc;
}
