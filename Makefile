# agnitel: build, run, test and benchmark the nginx module.
#
#   make         build the modules (make deps first on a fresh machine)
#   make deps    install the Debian packages below (as root)
#   make run     build, then nginx in the foreground on 127.0.0.1:8080
#   make test    the Test::Nginx suites (installs what they need)
#   make test-upstream   the same suites under the real Test::Nginx

SHELL := /bin/bash

NGINX_SRC   ?= /usr/share/nginx/src
NGINX       ?= /usr/sbin/nginx
BUILD       := build
OBJS        := $(BUILD)/nginx/objs
MODULE      := $(OBJS)/ngx_http_agnitel_module.so
SANDBOX     := $(OBJS)/ngx_http_agnitel_sandbox_module.so
ECHO_MODULE := /usr/lib/nginx/modules/ngx_http_echo_module.so
SOURCES     := config ngx_http_agnitel_module.c $(wildcard src/*/*.c src/*/*.h)

# Debian packages the build, the tests and the benchmark need
PACKAGES := nginx nginx-dev libjansson-dev liblmdb-dev lmdb-utils \
            libcurl4-openssl-dev libssl-dev perl libtest-base-perl \
            libtext-diff-perl libtest-longstring-perl liburi-perl \
            libnginx-mod-http-echo wrk valgrind gdb curl chromium

# our Test::Nginx::Socket subset, unless the real one is installed
PROVE_INC := $(shell perl -MTest::Nginx::Socket -e1 2>/dev/null || echo -I t/lib)

TEST_ENV = TEST_NGINX_BINARY=$(NGINX) \
           TEST_NGINX_LOAD_MODULES="$(CURDIR)/$(MODULE) $(CURDIR)/$(SANDBOX) $(ECHO_MODULE)"

.PHONY: all deps run test test-upstream test-valgrind test-contract \
        test-console bench clean

all: $(MODULE)

deps:
	@missing=$$(for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	        | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    apt-get update && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

# configure once; afterwards only the module's own objects are rebuilt.
# A plain build installs nothing (that needs root and the network): it
# says what is missing, and "make deps" installs it; run and test do.
$(OBJS)/Makefile: config
	@test -d $(NGINX_SRC) || { echo "agnitel: $(NGINX_SRC) is missing" \
	    "(Debian package nginx-dev): run \"make deps\" as root," \
	    "then make again" >&2; exit 1; }
	rm -rf $(BUILD)/nginx
	mkdir -p $(BUILD)
	cp -r $(NGINX_SRC) $(BUILD)/nginx
	cd $(BUILD)/nginx && . ./conf_flags && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --with-cc-opt='-g -O2 -fPIC -Wall -Werror' \
	        --add-dynamic-module=$(CURDIR) > configure.log

# the console's files are compiled in (auto/console_embed)
CONSOLE     := $(OBJS)/ngx_http_agnitel_console_assets.c

$(CONSOLE): $(OBJS)/Makefile auto/console_embed $(wildcard console/*)
	sh auto/console_embed console > $@.tmp && mv $@.tmp $@

$(MODULE) $(SANDBOX) &: $(OBJS)/Makefile $(SOURCES) $(CONSOLE)
	$(MAKE) -C $(BUILD)/nginx -f objs/Makefile modules

run: deps $(MODULE)
	mkdir -p var/logs var/store
	@test -f var/secret.key || \
	    (umask 077 && head -c 32 /dev/urandom > var/secret.key)
	@test -f var/sandbox.token || \
	    (umask 077 && echo sandbox-auth-token > var/sandbox.token)
	@test -f var/sandbox-india.token || \
	    (umask 077 && echo sandbox-india-token > var/sandbox-india.token)
	@echo
	@echo "agnitel on http://127.0.0.1:8080 (Ctrl-C stops it). Try:"
	@echo "  curl -s -XPOST localhost:8080/admin/v1/workspaces \\"
	@echo "       -H 'Content-Type: application/json' -d '{\"name\":\"Acme\"}'"
	@echo "Then open http://127.0.0.1:8080/console/ and paste its api_key."
	@echo "See README.md for the walk-through."
	@echo
	$(NGINX) -p $(CURDIR)/var/ -c $(CURDIR)/conf-examples/dev.conf \
	    -g 'daemon off; load_module $(CURDIR)/$(MODULE); load_module $(CURDIR)/$(SANDBOX);'

test: deps $(MODULE) node_modules
	$(TEST_ENV) prove $(PROVE_INC) -r t/

# every suite again under the real Test::Nginx (openresty/test-nginx) in
# ../shared/test-nginx: the suites must pass unchanged under both runners.
# Skipped (exit 0) where that checkout is absent.
UPSTREAM_TEST_NGINX := ../shared/test-nginx
UPSTREAM_PACKAGES   := libwww-perl liblist-moreutils-perl
HAVE_UPSTREAM       := $(wildcard $(UPSTREAM_TEST_NGINX)/lib/Test/Nginx/Socket.pm)

test-upstream: $(if $(HAVE_UPSTREAM),deps $(MODULE) node_modules)
ifeq ($(HAVE_UPSTREAM),)
	@echo "test-upstream: SKIPPED, the real Test::Nginx is not in" \
	      "$(UPSTREAM_TEST_NGINX) (openresty/test-nginx)"
else
	@$(MAKE) --no-print-directory deps PACKAGES="$(UPSTREAM_PACKAGES)"
	$(TEST_ENV) prove -I $(UPSTREAM_TEST_NGINX)/lib -r t/
endif

# the contract suite alone (t/contract, Prism serving Twilio's OpenAPI)
test-contract: deps $(MODULE) node_modules
	$(TEST_ENV) prove $(PROVE_INC) -r t/contract/

# the console suite alone (t/console.t: headless chromium, screenshots in
# t/console/artifacts/)
test-console: deps $(MODULE) node_modules
	$(TEST_ENV) prove $(PROVE_INC) t/console.t

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch node_modules

test-valgrind: deps $(MODULE) node_modules
	$(TEST_ENV) TEST_NGINX_USE_VALGRIND=1 prove $(PROVE_INC) -r t/

bench: deps $(MODULE)
	$(TEST_ENV) perl bench/list.pl
	$(TEST_ENV) perl bench/import.pl
	$(TEST_ENV) perl bench/buy.pl
	$(TEST_ENV) perl bench/reconcile.pl
	$(TEST_ENV) perl bench/renew.pl
	$(TEST_ENV) perl bench/webhook.pl

clean:
	rm -rf $(BUILD) t/servroot*
