
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_crypto.h"


#define NGX_HTTP_AGNITEL_NONCE_LEN  12
#define NGX_HTTP_AGNITEL_TAG_LEN    16

/* sealed secrets are "v1." + base64url(nonce | ciphertext | tag) */
#define NGX_HTTP_AGNITEL_SEAL_TAG   "v1."


static void ngx_http_agnitel_wipe(void *data);


/*
 * Fetched once a process: OpenSSL 3 looks an algorithm up by name at every
 * SHA256() or EVP_aes_256_gcm() init, and the lookup took half the hash of
 * an API key, which every request makes.
 */
static EVP_MD      *ngx_http_agnitel_sha256_md;
static EVP_CIPHER  *ngx_http_agnitel_gcm;


static const u_char  ngx_http_agnitel_base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/*
 * Reads a file holding a secret, at most size bytes of it, into buf; warns
 * when group or others may read it.  "name" is the directive, for messages.
 */

char *
ngx_http_agnitel_secret_file(ngx_conf_t *cf, const char *name,
    ngx_str_t *path, u_char *buf, size_t size, size_t *len)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_file_info_t  fi;

    fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "%s \"%V\" cannot be opened", name, path);
        return NGX_CONF_ERROR;
    }

    n = read(fd, buf, size);

    if (ngx_fd_info(fd, &fi) == 0 && (ngx_file_access(&fi) & 077)) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "%s \"%V\" is readable by group or others; "
                           "use mode 0600", name, path);
    }

    ngx_close_file(fd);

    if (n < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "%s \"%V\" cannot be read", name, path);
        return NGX_CONF_ERROR;
    }

    *len = n;

    return NGX_CONF_OK;
}


/*
 * The key file holds 32 raw bytes or 64 hex characters (a trailing newline
 * is allowed).  Anything else fails "nginx -t" naming the directive.
 */

char *
ngx_http_agnitel_crypto_load_key(ngx_conf_t *cf, ngx_str_t *path, u_char *key)
{
    u_char      buf[NGX_HTTP_AGNITEL_KEY_LEN * 2 + 3];
    size_t      len;
    ngx_int_t   v;
    ngx_uint_t  i;

    if (ngx_http_agnitel_secret_file(cf, "agnitel_secret_key_file", path,
                                     buf, sizeof(buf), &len)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (len == NGX_HTTP_AGNITEL_KEY_LEN) {
        ngx_memcpy(key, buf, len);
        ngx_explicit_memzero(buf, sizeof(buf));
        return NGX_CONF_OK;
    }

    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
        len--;
    }

    if (len != NGX_HTTP_AGNITEL_KEY_LEN * 2) {
        ngx_explicit_memzero(buf, sizeof(buf));
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "agnitel_secret_key_file \"%V\" must hold 32 raw "
                           "bytes or 64 hex characters", path);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < NGX_HTTP_AGNITEL_KEY_LEN; i++) {
        v = ngx_hextoi(&buf[i * 2], 2);

        if (v == NGX_ERROR) {
            ngx_explicit_memzero(buf, sizeof(buf));
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "agnitel_secret_key_file \"%V\" has a "
                               "character that is not hex", path);
            return NGX_CONF_ERROR;
        }

        key[i] = (u_char) v;
    }

    ngx_explicit_memzero(buf, sizeof(buf));

    return NGX_CONF_OK;
}


/*
 * Random bytes come from OpenSSL a block at a time: each RAND_bytes() call
 * checks for a fork with getpid(), a system call, and an import wants two
 * draws (its id and its nonce).  The block belongs to the process that drew
 * it: a worker never uses bytes its master drew, or its sibling's nonces
 * would be its own.  Bytes handed out are wiped from the block.
 */

#define NGX_HTTP_AGNITEL_RANDOM_BLOCK  4096

ngx_int_t
ngx_http_agnitel_random(u_char *buf, size_t len)
{
    static u_char     block[NGX_HTTP_AGNITEL_RANDOM_BLOCK];
    static size_t     left;
    static ngx_pid_t  owner;

    u_char  *p;

    if (len > sizeof(block) / 4) {
        return RAND_bytes(buf, len) == 1 ? NGX_OK : NGX_ERROR;
    }

    if (owner != ngx_pid || left < len) {
        if (RAND_bytes(block, sizeof(block)) != 1) {
            left = 0;
            return NGX_ERROR;
        }

        owner = ngx_pid;
        left = sizeof(block);
    }

    p = block + sizeof(block) - left;
    ngx_memcpy(buf, p, len);
    ngx_explicit_memzero(p, len);
    left -= len;

    return NGX_OK;
}


/* prefix + 16 lowercase hex; dst must have room for both */

ngx_int_t
ngx_http_agnitel_make_id(u_char *dst, const char *prefix)
{
    u_char  raw[NGX_HTTP_AGNITEL_ID_LEN / 2];

    if (ngx_http_agnitel_random(raw, sizeof(raw)) != NGX_OK) {
        return NGX_ERROR;
    }

    dst = ngx_cpymem(dst, prefix, ngx_strlen(prefix));
    ngx_hex_dump(dst, raw, sizeof(raw));

    return NGX_OK;
}


ngx_int_t
ngx_http_agnitel_id_valid(ngx_str_t *id, const char *prefix)
{
    size_t      len;
    ngx_uint_t  i;

    len = ngx_strlen(prefix);

    if (id->len != len + NGX_HTTP_AGNITEL_ID_LEN
        || ngx_strncmp(id->data, prefix, len) != 0)
    {
        return NGX_DECLINED;
    }

    for (i = len; i < id->len; i++) {
        if (!((id->data[i] >= '0' && id->data[i] <= '9')
              || (id->data[i] >= 'a' && id->data[i] <= 'f')))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* rejection sampling keeps every base62 character equally likely */

ngx_int_t
ngx_http_agnitel_make_api_key(u_char *dst)
{
    u_char      raw[64];
    ngx_uint_t  i, n;

    dst = ngx_cpymem(dst, "agn_", 4);
    n = 0;

    while (n < NGX_HTTP_AGNITEL_API_KEY_LEN - 4) {

        if (ngx_http_agnitel_random(raw, sizeof(raw)) != NGX_OK) {
            return NGX_ERROR;
        }

        for (i = 0; i < sizeof(raw) && n < NGX_HTTP_AGNITEL_API_KEY_LEN - 4;
             i++)
        {
            if (raw[i] < 248) {
                dst[n++] = ngx_http_agnitel_base62[raw[i] % 62];
            }
        }
    }

    ngx_explicit_memzero(raw, sizeof(raw));

    return NGX_OK;
}


ngx_int_t
ngx_http_agnitel_api_key_valid(ngx_str_t *key)
{
    ngx_uint_t  i;

    if (key->len != NGX_HTTP_AGNITEL_API_KEY_LEN
        || ngx_strncmp(key->data, "agn_", 4) != 0)
    {
        return NGX_DECLINED;
    }

    for (i = 4; i < key->len; i++) {
        if (!isalnum(key->data[i])) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* base64 of HMAC-SHA1(key, data): how Twilio signs its webhooks */

ngx_int_t
ngx_http_agnitel_hmac_sha1(ngx_pool_t *pool, ngx_str_t *key, ngx_str_t *data,
    ngx_str_t *out)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  len;
    ngx_str_t     raw;

    if (HMAC(EVP_sha1(), key->data, (int) key->len, data->data, data->len,
             md, &len)
        == NULL)
    {
        return NGX_ERROR;
    }

    raw.data = md;
    raw.len = len;

    out->data = ngx_pnalloc(pool, ngx_base64_encoded_length(len));
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_encode_base64(out, &raw);

    return NGX_OK;
}


void
ngx_http_agnitel_crypto_init(void)
{
    if (ngx_http_agnitel_sha256_md == NULL) {
        ngx_http_agnitel_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    }

    if (ngx_http_agnitel_gcm == NULL) {
        ngx_http_agnitel_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    }
}


void
ngx_http_agnitel_crypto_done(void)
{
    EVP_MD_free(ngx_http_agnitel_sha256_md);
    EVP_CIPHER_free(ngx_http_agnitel_gcm);

    ngx_http_agnitel_sha256_md = NULL;
    ngx_http_agnitel_gcm = NULL;
}


void
ngx_http_agnitel_sha256(u_char *dst, u_char *data, size_t len)
{
    if (ngx_http_agnitel_sha256_md == NULL
        || EVP_Digest(data, len, dst, NULL, ngx_http_agnitel_sha256_md, NULL)
           != 1)
    {
        SHA256(data, len, dst);
    }
}


static const EVP_CIPHER *
ngx_http_agnitel_cipher(void)
{
    return ngx_http_agnitel_gcm ? ngx_http_agnitel_gcm : EVP_aes_256_gcm();
}


/*
 * AES-256-GCM with a fresh random nonce for every write.  The aad binds the
 * ciphertext to the record it belongs to, so a sealed value copied into
 * another record does not open.
 */

ngx_int_t
ngx_http_agnitel_seal(ngx_pool_t *pool, u_char *key, ngx_str_t *aad,
    ngx_str_t *plain, ngx_str_t *sealed)
{
    int              len, ok;
    u_char          *raw, *p;
    ngx_str_t        src, dst;
    EVP_CIPHER_CTX  *ctx;

    raw = ngx_pnalloc(pool, NGX_HTTP_AGNITEL_NONCE_LEN + plain->len
                            + NGX_HTTP_AGNITEL_TAG_LEN);
    if (raw == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_agnitel_random(raw, NGX_HTTP_AGNITEL_NONCE_LEN) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    p = raw + NGX_HTTP_AGNITEL_NONCE_LEN;

    ok = EVP_EncryptInit_ex(ctx, ngx_http_agnitel_cipher(), NULL, key, raw) == 1
         && EVP_EncryptUpdate(ctx, NULL, &len, aad->data, aad->len) == 1
         && EVP_EncryptUpdate(ctx, p, &len, plain->data, plain->len) == 1
         && EVP_EncryptFinal_ex(ctx, p + len, &len) == 1
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
                                NGX_HTTP_AGNITEL_TAG_LEN, p + plain->len)
            == 1;

    EVP_CIPHER_CTX_free(ctx);

    if (!ok) {
        return NGX_ERROR;
    }

    src.data = raw;
    src.len = NGX_HTTP_AGNITEL_NONCE_LEN + plain->len
              + NGX_HTTP_AGNITEL_TAG_LEN;

    sealed->data = ngx_pnalloc(pool, sizeof(NGX_HTTP_AGNITEL_SEAL_TAG) - 1
                                     + ngx_base64_encoded_length(src.len));
    if (sealed->data == NULL) {
        return NGX_ERROR;
    }

    dst.data = ngx_cpymem(sealed->data, NGX_HTTP_AGNITEL_SEAL_TAG,
                          sizeof(NGX_HTTP_AGNITEL_SEAL_TAG) - 1);

    ngx_encode_base64url(&dst, &src);

    sealed->len = sizeof(NGX_HTTP_AGNITEL_SEAL_TAG) - 1 + dst.len;

    return NGX_OK;
}


/*
 * Opens what ngx_http_agnitel_seal() sealed with the same key and aad.
 * The plaintext is wiped when the pool goes.
 */

ngx_int_t
ngx_http_agnitel_open(ngx_pool_t *pool, u_char *key, ngx_str_t *aad,
    ngx_str_t *sealed, ngx_str_t *plain)
{
    int                  len, ok;
    size_t               clen;
    ngx_str_t            src, raw, *wipe;
    EVP_CIPHER_CTX      *ctx;
    ngx_pool_cleanup_t  *cln;

    if (sealed->len <= sizeof(NGX_HTTP_AGNITEL_SEAL_TAG) - 1
        || ngx_strncmp(sealed->data, NGX_HTTP_AGNITEL_SEAL_TAG,
                       sizeof(NGX_HTTP_AGNITEL_SEAL_TAG) - 1) != 0)
    {
        return NGX_ERROR;
    }

    src.data = sealed->data + sizeof(NGX_HTTP_AGNITEL_SEAL_TAG) - 1;
    src.len = sealed->len - (sizeof(NGX_HTTP_AGNITEL_SEAL_TAG) - 1);

    raw.data = ngx_pnalloc(pool, ngx_base64_decoded_length(src.len));
    if (raw.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64url(&raw, &src) != NGX_OK
        || raw.len < NGX_HTTP_AGNITEL_NONCE_LEN + NGX_HTTP_AGNITEL_TAG_LEN)
    {
        return NGX_ERROR;
    }

    clen = raw.len - NGX_HTTP_AGNITEL_NONCE_LEN - NGX_HTTP_AGNITEL_TAG_LEN;

    plain->data = ngx_pnalloc(pool, clen + 1);
    if (plain->data == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(pool, sizeof(ngx_str_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    wipe = cln->data;
    wipe->data = plain->data;
    wipe->len = clen;
    cln->handler = ngx_http_agnitel_wipe;

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ok = EVP_DecryptInit_ex(ctx, ngx_http_agnitel_cipher(), NULL, key,
                            raw.data) == 1
         && EVP_DecryptUpdate(ctx, NULL, &len, aad->data, aad->len) == 1
         && EVP_DecryptUpdate(ctx, plain->data, &len,
                              raw.data + NGX_HTTP_AGNITEL_NONCE_LEN, clen)
            == 1
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
                                NGX_HTTP_AGNITEL_TAG_LEN,
                                raw.data + NGX_HTTP_AGNITEL_NONCE_LEN + clen)
            == 1
         && EVP_DecryptFinal_ex(ctx, plain->data + len, &len) == 1;

    EVP_CIPHER_CTX_free(ctx);

    plain->len = ok ? clen : 0;

    return ok ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_agnitel_wipe(void *data)
{
    ngx_str_t  *s = data;

    ngx_explicit_memzero(s->data, s->len);
}
