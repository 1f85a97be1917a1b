
/*
 * Copyright (C) agnitel
 *
 * The agnitel module: the telephony back end of a voice-AI platform.
 * This file holds the directives, the configuration and the process hooks;
 * everything else lives in src/.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_console.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_jobs.h"
#include "ngx_http_agnitel_number.h"
#include "ngx_http_agnitel_json.h"
#include "ngx_http_agnitel_rate.h"
#include "ngx_http_agnitel_routes.h"
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_twilio.h"
#include "ngx_http_agnitel_upstream.h"
#include "ngx_http_agnitel_voice.h"


/* LMDB needs a handful of pages for its named databases */
#define NGX_HTTP_AGNITEL_MIN_MAP  (32 * 1024)


static void *ngx_http_agnitel_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_agnitel_init_main_conf(ngx_conf_t *cf, void *conf);
static char *ngx_http_agnitel_store_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static off_t ngx_http_agnitel_store_size(ngx_conf_t *cf, ngx_str_t *param,
    size_t skip, off_t min, char *rule);
static char *ngx_http_agnitel_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_agnitel_sip_uri(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_agnitel_jobs_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_agnitel_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_agnitel_ca_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_agnitel_verify(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_agnitel_conf_account(ngx_conf_t *cf, ngx_str_t *sid,
    ngx_str_t *file, ngx_str_t *authorization);
static char *ngx_http_agnitel_conf_basic(ngx_conf_t *cf, ngx_str_t *user,
    const char *name, const char *what, ngx_str_t *file,
    ngx_str_t *authorization);
static char *ngx_http_agnitel_india(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_agnitel_managed(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_agnitel_billing(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_agnitel_handler_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_agnitel_webhook_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_agnitel_uploads_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_agnitel_console_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_agnitel_set_handler(ngx_conf_t *cf,
    ngx_http_handler_pt handler);
static char *ngx_http_agnitel_rate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_agnitel_rate_add(ngx_conf_t *cf,
    ngx_http_agnitel_main_conf_t *amcf, ngx_str_t *value);
static void *ngx_http_agnitel_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_agnitel_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_agnitel_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_agnitel_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_agnitel_init_process(ngx_cycle_t *cycle);
static void ngx_http_agnitel_exit_process(ngx_cycle_t *cycle);
static ngx_http_agnitel_main_conf_t *ngx_http_agnitel_cycle_conf(
    ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_agnitel_commands[] = {

    { ngx_string("agnitel_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_agnitel_store_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("agnitel_secret_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_agnitel_key_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("agnitel_sip_termination_uri"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_agnitel_sip_uri,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("agnitel_voice_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_agnitel_main_conf_t, voice_url),
      NULL },

    { ngx_string("agnitel_status_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_agnitel_main_conf_t, status_url),
      NULL },

    { ngx_string("agnitel_rate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE6,
      ngx_http_agnitel_rate,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("agnitel_jobs"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_ANY,
      ngx_http_agnitel_jobs_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("agnitel_twilio_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_agnitel_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_agnitel_main_conf_t, twilio_url),
      NULL },

    { ngx_string("agnitel_india_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_agnitel_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_agnitel_main_conf_t, india_url),
      NULL },

    { ngx_string("agnitel_ca_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_agnitel_ca_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("agnitel_twilio_managed"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_agnitel_managed,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("agnitel_verify"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_agnitel_verify,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("agnitel_verify_api"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_agnitel_loc_conf_t, verify_api),
      NULL },

    { ngx_string("agnitel_india_account"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_agnitel_india,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("agnitel_india_api"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_agnitel_loc_conf_t, india_api),
      NULL },

    { ngx_string("agnitel_billing"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_ANY,
      ngx_http_agnitel_billing,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("agnitel_twilio_api"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_agnitel_loc_conf_t, twilio_api),
      NULL },

    { ngx_string("agnitel_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_agnitel_handler_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_agnitel_api_handler },

    { ngx_string("agnitel_kyc_documents"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_agnitel_uploads_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_agnitel_api_handler },

    { ngx_string("agnitel_kyc_dir"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_agnitel_main_conf_t, kyc_dir),
      NULL },

    { ngx_string("agnitel_admin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_agnitel_handler_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_agnitel_admin_handler },

    { ngx_string("agnitel_twilio_voice"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_agnitel_webhook_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_agnitel_voice_handler },

    { ngx_string("agnitel_twilio_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_agnitel_webhook_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_agnitel_status_handler },

    { ngx_string("agnitel_caller_id"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_agnitel_handler_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_agnitel_caller_id_handler },

    { ngx_string("agnitel_dispatch_resolve"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_agnitel_handler_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_agnitel_resolve_handler },

    { ngx_string("agnitel_console"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_agnitel_console_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_agnitel_module_ctx = {
    ngx_http_agnitel_add_variables,        /* preconfiguration */
    ngx_http_agnitel_postconfiguration,    /* postconfiguration */

    ngx_http_agnitel_create_main_conf,     /* create main configuration */
    ngx_http_agnitel_init_main_conf,       /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_agnitel_create_loc_conf,      /* create location configuration */
    ngx_http_agnitel_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_agnitel_module = {
    NGX_MODULE_V1,
    &ngx_http_agnitel_module_ctx,          /* module context */
    ngx_http_agnitel_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_agnitel_init_module,          /* init module */
    ngx_http_agnitel_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_agnitel_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_agnitel_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_agnitel_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->store_path = { 0, NULL };
     *     amcf->key_file = { 0, NULL };
     *     amcf->sip_termination_uri = { 0, NULL };
     *     amcf->voice_url = { 0, NULL };
     *     amcf->status_url = { 0, NULL };
     *     amcf->jobs_interval = 0;
     *     amcf->reconcile_after = 0;
     *     amcf->jobs_timeout = 0;
     *     amcf->job_names = NULL;
     *     amcf->twilio_url = { 0, NULL };
     *     amcf->managed_sid = { 0, NULL };
     *     amcf->managed_authorization = { 0, NULL };
     *     amcf->terms_version = { 0, NULL };
     *     amcf->verify_service = { 0, NULL };
     *     amcf->verify_authorization = { 0, NULL };
     *     amcf->kyc_dir = { 0, NULL };
     *     amcf->india_sid = { 0, NULL };
     *     amcf->india_authorization = { 0, NULL };
     *     amcf->india_renewal = 0;
     *     amcf->india_url = { 0, NULL };
     *     amcf->billing_cycle = 0;
     *     amcf->billing_renewal = 0;
     *     amcf->billing_window = 0;
     *     amcf->ca_file = { 0, NULL };
     *     amcf->handlers = 0;
     *     amcf->store = NULL;
     */

    amcf->map_size = NGX_CONF_UNSET_SIZE;
    amcf->grow = NGX_CONF_UNSET_SIZE;

    amcf->rates = ngx_array_create(cf->pool, 4,
                                   sizeof(ngx_http_agnitel_rate_t));
    if (amcf->rates == NULL) {
        return NULL;
    }

    return amcf;
}


static char *
ngx_http_agnitel_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_agnitel_main_conf_t  *amcf = conf;

    ngx_uint_t  i;

    /* DESIGN's rate card, unless agnitel_rate gave the same rows */
    static ngx_str_t  defaults[][7] = {
        { ngx_null_string, ngx_string("US"), ngx_string("local"),
          ngx_string("1.15"), ngx_string("0.0085"), ngx_string("0.0945"),
          ngx_string("USD") },
        { ngx_null_string, ngx_string("IN"), ngx_string("local"),
          ngx_string("295"), ngx_string("0.60"), ngx_string("0.60"),
          ngx_string("INR") },
    };

    ngx_conf_init_size_value(amcf->map_size, NGX_HTTP_AGNITEL_DEFAULT_MAP);
    ngx_conf_init_size_value(amcf->grow, NGX_HTTP_AGNITEL_DEFAULT_GROW);

    for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
        if (ngx_http_agnitel_rate_add(cf, amcf, defaults[i]) == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }
    }

    if (amcf->twilio_url.len == 0) {
        ngx_str_set(&amcf->twilio_url, "https://api.twilio.com");
    }

    /*
     * the jobs' names for GET /admin/v1/jobs: its handler, in src/api,
     * does not call up into src/jobs, whose jobs use the handlers' helpers
     */

    for (i = 0; ngx_http_agnitel_job_name(i); i++) { /* void */ }

    amcf->job_names = ngx_pcalloc(cf->pool, (i + 1) * sizeof(const char *));
    if (amcf->job_names == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; ngx_http_agnitel_job_name(i); i++) {
        amcf->job_names[i] = ngx_http_agnitel_job_name(i);
    }

    if (amcf->india_url.len == 0) {
        ngx_str_set(&amcf->india_url, "https://api.in.exotel.com");
    }

    /*
     * Monthly Indian numbers, also when agnitel_india_account is gone: the
     * renew job still renews those bought before, and a period of 0 would
     * debit them at every run.
     */

    if (amcf->india_renewal == 0) {
        amcf->india_renewal = 30 * 86400;
    }

    if (amcf->terms_version.len == 0) {
        ngx_str_set(&amcf->terms_version, "1");
    }

    /* the seed's periods: 28-day cycles and renewals, a 48-hour window */

    if (amcf->billing_cycle == 0) {
        amcf->billing_cycle = 28 * 86400;
        amcf->billing_renewal = 28 * 86400;
        amcf->billing_window = 48 * 3600;
    }

    if (amcf->jobs_interval && amcf->store_path.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "agnitel_jobs needs \"agnitel_store\" in the "
                           "http block");
        return NGX_CONF_ERROR;
    }

    if (amcf->jobs_interval && amcf->key_file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "agnitel_jobs needs \"agnitel_secret_key_file\" "
                           "in the http block: it opens carrier secrets");
        return NGX_CONF_ERROR;
    }

    if (!amcf->handlers) {
        return NGX_CONF_OK;
    }

    if (amcf->store_path.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "agnitel_api and agnitel_admin need "
                           "\"agnitel_store\" in the http block");
        return NGX_CONF_ERROR;
    }

    if (amcf->key_file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "agnitel_api and agnitel_admin need "
                           "\"agnitel_secret_key_file\" in the http block: "
                           "secrets are stored encrypted");
        return NGX_CONF_ERROR;
    }

    /* sealed KYC documents: beside the store unless agnitel_kyc_dir says */

    if (amcf->kyc_dir.len == 0) {
        amcf->kyc_dir.len = amcf->store_path.len + sizeof("/kyc") - 1;
        amcf->kyc_dir.data = ngx_pnalloc(cf->pool, amcf->kyc_dir.len + 1);
        if (amcf->kyc_dir.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_sprintf(amcf->kyc_dir.data, "%V/kyc%Z", &amcf->store_path);

    } else if (ngx_conf_full_name(cf->cycle, &amcf->kyc_dir, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* agnitel_store PATH [map_size=SIZE] [grow=SIZE|off]; */

static char *
ngx_http_agnitel_store_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_agnitel_main_conf_t  *amcf = conf;

    off_t        size;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (amcf->store_path.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    amcf->store_path = value[1];

    while (amcf->store_path.len > 1
           && amcf->store_path.data[amcf->store_path.len - 1] == '/')
    {
        amcf->store_path.data[--amcf->store_path.len] = '\0';
    }

    if (amcf->store_path.len == 0) {
        return "has an empty path";
    }

    /* relative paths are relative to the prefix, as nginx's own are */

    if (ngx_conf_full_name(cf->cycle, &amcf->store_path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "map_size=", 9) == 0) {

            if (amcf->map_size != NGX_CONF_UNSET_SIZE) {
                goto duplicate;
            }

            size = ngx_http_agnitel_store_size(cf, &value[i], 9,
                                               NGX_HTTP_AGNITEL_MIN_MAP,
                                               "a size of at least 32k, "
                                               "such as 256m or 2g");
            if (size == NGX_ERROR) {
                return NGX_CONF_ERROR;
            }

            amcf->map_size = (size_t) size;
            continue;
        }

        if (ngx_strncmp(value[i].data, "grow=", 5) == 0) {

            if (amcf->grow != NGX_CONF_UNSET_SIZE) {
                goto duplicate;
            }

            if (value[i].len == 8
                && ngx_strncmp(value[i].data + 5, "off", 3) == 0)
            {
                amcf->grow = 0;
                continue;
            }

            size = ngx_http_agnitel_store_size(cf, &value[i], 5,
                                               NGX_HTTP_AGNITEL_MIN_GROW,
                                               "\"off\" or a size of at "
                                               "least 64k, such as 4m");
            if (size == NGX_ERROR) {
                return NGX_CONF_ERROR;
            }

            amcf->grow = (size_t) size;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

duplicate:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "duplicate parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/* the SIZE of agnitel_store's "name=SIZE", or NGX_ERROR having said why */

static off_t
ngx_http_agnitel_store_size(ngx_conf_t *cf, ngx_str_t *param, size_t skip,
    off_t min, char *rule)
{
    off_t      size;
    ngx_str_t  name, s;

    name.data = param->data;
    name.len = skip - 1;

    s.data = param->data + skip;
    s.len = param->len - skip;

    size = ngx_parse_offset(&s);

    if (size == NGX_ERROR || size < min
        || (uint64_t) size > NGX_MAX_SIZE_T_VALUE)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %V \"%V\": %s", &name, &s, rule);
        return NGX_ERROR;
    }

    return size;
}


static char *
ngx_http_agnitel_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_agnitel_main_conf_t  *amcf = conf;

    ngx_str_t  *value;

    if (amcf->key_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    amcf->key_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &amcf->key_file, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_agnitel_crypto_load_key(cf, &amcf->key_file, amcf->key);
}


static char *
ngx_http_agnitel_sip_uri(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_agnitel_main_conf_t  *amcf = conf;

    ngx_str_t  *value;

    if (amcf->sip_termination_uri.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_agnitel_sip_uri_valid(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid SIP URI \"%V\": it must start with "
                           "\"sip:\" or \"sips:\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    amcf->sip_termination_uri = value[1];

    return NGX_CONF_OK;
}


/* agnitel_jobs [interval=30s] [reconcile_after=2m] [timeout=10s]; */

static char *
ngx_http_agnitel_jobs_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_agnitel_main_conf_t  *amcf = conf;

    ngx_str_t    *value, name, s;
    ngx_msec_t    t, *field;
    ngx_uint_t    i;

    if (amcf->jobs_interval) {
        return "is duplicate";
    }

    amcf->jobs_interval = 30000;
    amcf->reconcile_after = 120000;
    amcf->jobs_timeout = 10000;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        s.data = ngx_strlchr(value[i].data, value[i].data + value[i].len,
                             '=');
        if (s.data == NULL) {
            goto invalid;
        }

        name.data = value[i].data;
        name.len = s.data - name.data;
        s.data++;
        s.len = value[i].data + value[i].len - s.data;

        if (name.len == 8 && ngx_strncmp(name.data, "interval", 8) == 0) {
            field = &amcf->jobs_interval;

        } else if (name.len == 15
                   && ngx_strncmp(name.data, "reconcile_after", 15) == 0)
        {
            field = &amcf->reconcile_after;

        } else if (name.len == 7 && ngx_strncmp(name.data, "timeout", 7) == 0)
        {
            field = &amcf->jobs_timeout;

        } else {
            goto invalid;
        }

        /* whole seconds: the lease and the records count in them */

        t = ngx_parse_time(&s, 0);

        if (t == (ngx_msec_t) NGX_ERROR || t < 1000 || t % 1000) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid %V \"%V\": a time of whole seconds, "
                               "at least 1s, such as 30s or 2m", &name, &s);
            return NGX_CONF_ERROR;
        }

        *field = t;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\": interval=, "
                       "reconcile_after= or timeout=", &value[i]);
    return NGX_CONF_ERROR;
}


/*
 * agnitel_twilio_managed account_sid=AC... auth_token_file=PATH
 *     [terms_version=V];
 */

static char *
ngx_http_agnitel_managed(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_agnitel_main_conf_t  *amcf = conf;

    char        *rv;
    ngx_str_t   *value, sid, file;
    ngx_uint_t   i;

    if (amcf->managed_sid.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ngx_str_null(&sid);
    ngx_str_null(&file);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "account_sid=", 12) == 0) {
            sid.data = value[i].data + 12;
            sid.len = value[i].len - 12;

        } else if (ngx_strncmp(value[i].data, "auth_token_file=", 16) == 0) {
            file.data = value[i].data + 16;
            file.len = value[i].len - 16;

        } else if (ngx_strncmp(value[i].data, "terms_version=", 14) == 0
                   && value[i].len > 14 && value[i].len <= 14 + 64)
        {
            amcf->terms_version.data = value[i].data + 14;
            amcf->terms_version.len = value[i].len - 14;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": account_sid=, "
                               "auth_token_file= or terms_version= (1 to 64 "
                               "characters)", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    rv = ngx_http_agnitel_conf_account(cf, &sid, &file,
                                       &amcf->managed_authorization);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    amcf->managed_sid = sid;

    return NGX_CONF_OK;
}


/*
 * agnitel_verify service_sid=VA... account_sid=AC... auth_token_file=PATH;
 * the platform's Twilio Verify service, which sends the mobile OTPs
 */

static char *
ngx_http_agnitel_verify(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_agnitel_main_conf_t  *amcf = conf;

    char        *rv;
    ngx_str_t   *value, service, sid, file;
    ngx_uint_t   i;

    if (amcf->verify_service.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ngx_str_null(&service);
    ngx_str_null(&sid);
    ngx_str_null(&file);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "service_sid=", 12) == 0) {
            service.data = value[i].data + 12;
            service.len = value[i].len - 12;

        } else if (ngx_strncmp(value[i].data, "account_sid=", 12) == 0) {
            sid.data = value[i].data + 12;
            sid.len = value[i].len - 12;

        } else if (ngx_strncmp(value[i].data, "auth_token_file=", 16) == 0) {
            file.data = value[i].data + 16;
            file.len = value[i].len - 16;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": service_sid=, "
                               "account_sid= or auth_token_file=",
                               &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_agnitel_twilio_sid_valid(&service, "VA") != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid service_sid \"%V\": VA and 32 hex "
                           "characters", &service);
        return NGX_CONF_ERROR;
    }

    rv = ngx_http_agnitel_conf_account(cf, &sid, &file,
                                       &amcf->verify_authorization);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    amcf->verify_service = service;

    return NGX_CONF_OK;
}


/*
 * A Twilio account of the platform's: its sid checked, its token read from
 * a file only root and the workers may read, kept only as the Basic
 * Authorization value its calls carry.
 */

static char *
ngx_http_agnitel_conf_account(ngx_conf_t *cf, ngx_str_t *sid,
    ngx_str_t *file, ngx_str_t *authorization)
{
    if (ngx_http_agnitel_twilio_sid_valid(sid, "AC") != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid account_sid \"%V\": AC and 32 hex "
                           "characters", sid);
        return NGX_CONF_ERROR;
    }

    return ngx_http_agnitel_conf_basic(cf, sid, "auth_token_file",
                                       "auth token", file,
                                       authorization);
}


/*
 * user, and the token read from file (the parameter "name"; "what" names
 * the token in errors), as a Basic value
 */

static char *
ngx_http_agnitel_conf_basic(ngx_conf_t *cf, ngx_str_t *user,
    const char *name, const char *what, ngx_str_t *file,
    ngx_str_t *authorization)
{
    u_char     buf[130];
    size_t     len;
    ngx_int_t  rc;
    ngx_str_t  token;

    if (file->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive needs %s=",
                           (ngx_str_t *) cf->args->elts, name);
        return NGX_CONF_ERROR;
    }

    if (ngx_conf_full_name(cf->cycle, file, 0) != NGX_OK
        || ngx_http_agnitel_secret_file(cf, name, file, buf, sizeof(buf),
                                        &len)
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'
                   || buf[len - 1] == ' '))
    {
        len--;
    }

    if (len == 0 || len > 128) {
        ngx_explicit_memzero(buf, sizeof(buf));
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s \"%V\" must hold the %s, 1 to 128 "
                           "characters", name, file, what);
        return NGX_CONF_ERROR;
    }

    token.data = buf;
    token.len = len;

    rc = ngx_http_agnitel_twilio_basic(cf->pool, user, &token, authorization);

    ngx_explicit_memzero(buf, sizeof(buf));

    return (rc == NGX_OK) ? NGX_CONF_OK : NGX_CONF_ERROR;
}


/*
 * agnitel_india_account sid=... api_key=... api_token_file=PATH
 *     [renewal=30d];
 * the platform's account at the Indian carrier, which every Indian number
 * is bought from, and how often those numbers renew
 */

static char *
ngx_http_agnitel_india(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_agnitel_main_conf_t  *amcf = conf;

    ngx_str_t   *value, sid, key, file, s;
    ngx_uint_t   i, k;

    if (amcf->india_sid.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ngx_str_null(&sid);
    ngx_str_null(&key);
    ngx_str_null(&file);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "sid=", 4) == 0) {
            sid.data = value[i].data + 4;
            sid.len = value[i].len - 4;

        } else if (ngx_strncmp(value[i].data, "api_key=", 8) == 0) {
            key.data = value[i].data + 8;
            key.len = value[i].len - 8;

        } else if (ngx_strncmp(value[i].data, "api_token_file=", 15) == 0) {
            file.data = value[i].data + 15;
            file.len = value[i].len - 15;

        } else if (ngx_strncmp(value[i].data, "renewal=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            amcf->india_renewal = ngx_parse_time(&s, 1);

            if (amcf->india_renewal == (time_t) NGX_ERROR
                || amcf->india_renewal == 0)
            {
                return "has an invalid renewal=";
            }

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": sid=, api_key=, "
                               "api_token_file= or renewal=", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    /* the sid goes into paths, the key into a Basic pair */

    for (k = 0; k < sid.len; k++) {
        if (!isalnum(sid.data[k]) && sid.data[k] != '_'
            && sid.data[k] != '-')
        {
            break;
        }
    }

    if (sid.len == 0 || sid.len > 64 || k != sid.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid sid \"%V\": 1 to 64 letters, digits, "
                           "\"_\" or \"-\"", &sid);
        return NGX_CONF_ERROR;
    }

    for (k = 0; k < key.len; k++) {
        if (key.data[k] <= 0x20 || key.data[k] >= 0x7f
            || key.data[k] == ':')
        {
            break;
        }
    }

    if (key.len == 0 || key.len > 128 || k != key.len) {
        return "needs api_key=, 1 to 128 printable characters but \":\"";
    }

    amcf->india_sid = sid;

    return ngx_http_agnitel_conf_basic(cf, &key, "api_token_file",
                                       "API token", &file,
                                       &amcf->india_authorization);
}


/* agnitel_billing [cycle=28d] [renewal=28d] [window=48h]; */

static char *
ngx_http_agnitel_billing(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_agnitel_main_conf_t  *amcf = conf;

    time_t       t, *field;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    if (amcf->billing_cycle) {
        return "is duplicate";
    }

    amcf->billing_cycle = 28 * 86400;
    amcf->billing_renewal = 28 * 86400;
    amcf->billing_window = 48 * 3600;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "cycle=", 6) == 0) {
            field = &amcf->billing_cycle;
            s.data = value[i].data + 6;

        } else if (ngx_strncmp(value[i].data, "renewal=", 8) == 0) {
            field = &amcf->billing_renewal;
            s.data = value[i].data + 8;

        } else if (ngx_strncmp(value[i].data, "window=", 7) == 0) {
            field = &amcf->billing_window;
            s.data = value[i].data + 7;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": cycle=, renewal= "
                               "or window=", &value[i]);
            return NGX_CONF_ERROR;
        }

        s.len = value[i].data + value[i].len - s.data;

        t = ngx_parse_time(&s, 1);

        if (t == (time_t) NGX_ERROR || t < 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid period \"%V\": a time of at least "
                               "1s, such as 28d or 48h", &value[i]);
            return NGX_CONF_ERROR;
        }

        *field = t;
    }

    return NGX_CONF_OK;
}


/* agnitel_twilio_url URL; the base of background calls */

static char *
ngx_http_agnitel_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *field = (ngx_str_t *) ((char *) conf + cmd->offset);

    ngx_str_t  *value, url;

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    url = value[1];

    while (url.len && url.data[url.len - 1] == '/') {
        url.len--;
    }

    if (!((url.len > 7 && ngx_strncasecmp(url.data, (u_char *) "http://", 7)
                          == 0)
          || (url.len > 8 && ngx_strncasecmp(url.data,
                                             (u_char *) "https://", 8) == 0)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL \"%V\": http:// or https:// and a "
                           "host, such as https://api.twilio.com", &value[1]);
        return NGX_CONF_ERROR;
    }

    *field = url;

    return NGX_CONF_OK;
}


/* agnitel_ca_file PATH; instead of the system's CA bundle */

static char *
ngx_http_agnitel_ca_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_agnitel_main_conf_t  *amcf = conf;

    ngx_str_t        *value;
    ngx_file_info_t   fi;

    if (amcf->ca_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    amcf->ca_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &amcf->ca_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_file_info(amcf->ca_file.data, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "agnitel_ca_file \"%V\" cannot be read",
                           &amcf->ca_file);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* agnitel_rate CC TYPE MONTHLY INBOUND_MIN OUTBOUND_MIN CURRENCY; */

static char *
ngx_http_agnitel_rate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_int_t  rc;

    rc = ngx_http_agnitel_rate_add(cf, conf, cf->args->elts);

    if (rc == NGX_DECLINED) {
        return "is duplicate";
    }

    return (rc == NGX_OK) ? NGX_CONF_OK : NGX_CONF_ERROR;
}


/*
 * Adds a rate card row; NGX_DECLINED if the country and type have one
 * already (a built-in default then yields to the operator's row).
 */

static ngx_int_t
ngx_http_agnitel_rate_add(ngx_conf_t *cf, ngx_http_agnitel_main_conf_t *amcf,
    ngx_str_t *value)
{
    ngx_uint_t                i, type;
    ngx_http_agnitel_rate_t  *rate;

    if (value[1].len != 2 || !isupper(value[1].data[0])
        || !isupper(value[1].data[1]))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid country \"%V\": an ISO 3166-1 alpha-2 "
                           "code in capitals, such as US", &value[1]);
        return NGX_ERROR;
    }

    type = ngx_http_agnitel_rate_type(&value[2]);

    if (type == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number type \"%V\": local, mobile or "
                           "toll_free", &value[2]);
        return NGX_ERROR;
    }

    rate = amcf->rates->elts;

    for (i = 0; i < amcf->rates->nelts; i++) {
        if (rate[i].type == type
            && ngx_memcmp(rate[i].country, value[1].data, 2) == 0)
        {
            return NGX_DECLINED;
        }
    }

    rate = ngx_array_push(amcf->rates);
    if (rate == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(rate->country, value[1].data, 2);
    rate->type = type;

    if (ngx_http_agnitel_money_parse(value[3].data, value[3].len,
                                     &rate->monthly) != NGX_OK
        || ngx_http_agnitel_money_parse(value[4].data, value[4].len,
                                        &rate->inbound) != NGX_OK
        || ngx_http_agnitel_money_parse(value[5].data, value[5].len,
                                        &rate->outbound) != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid price in \"%V %V %V\": decimal numbers "
                           "with at most six decimals, such as 1.15",
                           &value[3], &value[4], &value[5]);
        return NGX_ERROR;
    }

    if (value[6].len != 3 || !isupper(value[6].data[0])
        || !isupper(value[6].data[1]) || !isupper(value[6].data[2]))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid currency \"%V\": an ISO 4217 code, "
                           "such as USD", &value[6]);
        return NGX_ERROR;
    }

    ngx_memcpy(rate->currency, value[6].data, 3);

    return NGX_OK;
}


static void *
ngx_http_agnitel_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_agnitel_loc_conf_t  *alcf;

    alcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_agnitel_loc_conf_t));
    if (alcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     alcf->twilio_api = { 0, NULL };
     *     alcf->verify_api = { 0, NULL };
     *     alcf->india_api = { 0, NULL };
     *     alcf->envelope = 0;
     */

    return alcf;
}


static char *
ngx_http_agnitel_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_agnitel_loc_conf_t  *prev = parent;
    ngx_http_agnitel_loc_conf_t  *conf = child;

    off_t                      max;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_str_value(conf->twilio_api, prev->twilio_api, "");
    ngx_conf_merge_str_value(conf->verify_api, prev->verify_api, "");
    ngx_conf_merge_str_value(conf->india_api, prev->india_api, "");

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /*
     * A location nested in an API location has a handler of its own, or
     * none; the "if" and "limit_except" blocks of one (noname) are it.
     */

    if (prev->envelope && clcf->noname) {
        conf->envelope = 1;
        conf->twiml = prev->twiml;
        conf->uploads = prev->uploads;
    }

    /*
     * The core module has merged already: nginx itself answers 413 over
     * the module's 64 KiB (or a lower client_max_body_size) before reading
     * a byte, and stops a chunked body there, not at 1m.
     */

    if (conf->uploads) {

        /* DESIGN's limit for a document, whatever nginx's default */

        clcf->client_max_body_size = NGX_HTTP_AGNITEL_MAX_UPLOAD;

    } else if (conf->envelope) {
        max = NGX_HTTP_AGNITEL_MAX_BODY;

        if (clcf->client_max_body_size == 0
            || clcf->client_max_body_size > max)
        {
            clcf->client_max_body_size = max;
        }
    }

    return NGX_CONF_OK;
}


/* agnitel_api; and agnitel_admin; install their content handler */

static char *
ngx_http_agnitel_handler_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_agnitel_loc_conf_t  *alcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /*
     * error_page set around the location (the stock "error_page 500 502
     * 503 504 /50x.html;") would send nginx's own errors to an HTML page:
     * an empty list here stops the inheritance.  error_page in the
     * location itself still adds to it.
     */

    if (clcf->error_pages == NULL) {
        clcf->error_pages = ngx_array_create(cf->pool, 1,
                                             sizeof(ngx_http_err_page_t));
        if (clcf->error_pages == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    alcf->envelope = 1;

    return ngx_http_agnitel_set_handler(cf, (ngx_http_handler_pt) cmd->post);
}


/*
 * agnitel_kyc_documents; agnitel_api for the location of the document
 * uploads, whose bodies may be 5 MiB
 */

static char *
ngx_http_agnitel_uploads_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_agnitel_loc_conf_t  *alcf = conf;

    alcf->uploads = 1;

    return ngx_http_agnitel_handler_directive(cf, cmd, conf);
}


/* agnitel_twilio_voice; and agnitel_twilio_status: Twilio reads TwiML */

static char *
ngx_http_agnitel_webhook_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_agnitel_loc_conf_t  *alcf = conf;

    alcf->twiml = 1;

    return ngx_http_agnitel_handler_directive(cf, cmd, conf);
}


/* agnitel_console; the page needs no store: it only calls the API */

static char *
ngx_http_agnitel_console_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate or conflicts with another content handler";
    }

    clcf->handler = ngx_http_agnitel_console_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_agnitel_set_handler(ngx_conf_t *cf, ngx_http_handler_pt handler)
{
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_agnitel_main_conf_t  *amcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate or conflicts with another content handler";
    }

    clcf->handler = handler;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_agnitel_module);
    amcf->handlers = 1;

#if (NGX_THREADS)
    if (amcf->thread_pool == NULL) {
        amcf->thread_pool = ngx_thread_pool_add(cf, NULL);
        if (amcf->thread_pool == NULL) {
            return NGX_CONF_ERROR;
        }
    }
#endif

    return NGX_CONF_OK;
}


/*
 * master, while reading the configuration: can the workers reach the
 * store?  Failing here, unlike in init_module, lets a reload keep the old
 * workers.  "nginx -s" only needs the pid file.
 */

static ngx_int_t
ngx_http_agnitel_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_agnitel_main_conf_t  *amcf;

    if (ngx_http_agnitel_filter_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_process == NGX_PROCESS_SIGNALLER) {
        return NGX_OK;
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_agnitel_module);

    if (amcf->store_path.len == 0) {
        return NGX_OK;
    }

    return ngx_http_agnitel_store_check(cf->cycle, amcf);
}


/* master: create or check the store, then close it again */

static ngx_int_t
ngx_http_agnitel_init_module(ngx_cycle_t *cycle)
{
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_agnitel_cycle_conf(cycle);

    if (amcf == NULL || amcf->store_path.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_agnitel_store_init(cycle, amcf) != NGX_OK) {
        return NGX_ERROR;
    }

#if (NGX_THREADS)
    amcf->ring = ngx_http_agnitel_ring_create(cycle);
#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_agnitel_init_process(ngx_cycle_t *cycle)
{
    ngx_http_agnitel_main_conf_t  *amcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    ngx_http_agnitel_crypto_init();

    amcf = ngx_http_agnitel_cycle_conf(cycle);

    if (amcf == NULL || amcf->store_path.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_agnitel_store_open(cycle, amcf) != NGX_OK) {
        return NGX_ERROR;
    }

#if (NGX_THREADS)
    amcf->store->thread_pool = amcf->thread_pool;

    if (amcf->ring && amcf->thread_pool) {
        amcf->store->ring_writes = ngx_pcalloc(cycle->pool,
                                       NGX_HTTP_AGNITEL_RING_SLOTS
                                       * sizeof(ngx_http_agnitel_write_t *));
        if (amcf->store->ring_writes == NULL) {
            return NGX_ERROR;
        }

        amcf->store->ring = amcf->ring;

        if (ngx_http_agnitel_commit_listen(amcf->store, cycle) != NGX_OK) {
            return NGX_ERROR;
        }
    }
#endif

    if (amcf->jobs_interval) {
        return ngx_http_agnitel_jobs_init(cycle, amcf);
    }

    return NGX_OK;
}


static void
ngx_http_agnitel_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_agnitel_cycle_conf(cycle);

    if (amcf && amcf->store) {

        /* the jobs give the lease back in the store, so they go first */

        ngx_http_agnitel_jobs_exit(cycle);

#if (NGX_THREADS)
        ngx_http_agnitel_commit_unlisten(amcf->store);
#endif

        ngx_http_agnitel_store_close(amcf);
    }

    ngx_http_agnitel_crypto_done();
}


static ngx_http_agnitel_main_conf_t *
ngx_http_agnitel_cycle_conf(ngx_cycle_t *cycle)
{
    if (cycle->conf_ctx[ngx_http_module.index] == NULL) {
        return NULL;
    }

    return ngx_http_cycle_get_module_main_conf(cycle, ngx_http_agnitel_module);
}
