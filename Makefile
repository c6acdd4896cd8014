# keyward: build, install and package.
#
#   make                         release build, man pages and completions
#   make install [PREFIX=/usr/local] [DESTDIR=...] [PAMDIR=...] [HELPERDIR=...]   (builds only if `make` did not)
#   make uninstall [same variables as install]
#   make deb                     target/release/deb/keyward_VERSION_ARCH.deb (scripts/build-deb)
#   make demo                    scripts/demo, the whole story end to end
#   make test                    scripts/test, every test (as root on Debian)
#   make check                   the fast loop, no root: fmt, clippy, unit and protocol tests
#
# PAMDIR is where libpam looks for modules, whatever PREFIX is (a module
# elsewhere needs its absolute path in the stack); HELPERDIR is where the
# module looks for its login helper, whatever PREFIX is (elsewhere, the stack
# line needs login_helper=PATH). The configuration goes to
# /etc/keyward (keyward reads /etc/keyward/keyward.toml, whatever PREFIX is)
# and an existing one is never overwritten.

PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
DOCDIR      ?= $(DATADIR)/doc/keyward
SYSCONFDIR  ?= /etc
MULTIARCH   ?= $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null)
PAMDIR      ?= $(if $(MULTIARCH),/usr/lib/$(MULTIARCH)/security,/lib/security)
HELPERDIR   ?= /usr/libexec/keyward
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
DBUSSERVICEDIR ?= $(DATADIR)/dbus-1/services
SYSTEMDUSERDIR ?= $(PREFIX)/lib/systemd/user
ifeq ($(PREFIX),/usr)
ZSHCOMPDIR  ?= $(DATADIR)/zsh/vendor-completions
# pam-auth-update(8) reads profiles from /usr/share/pam-configs only
PAMCONFDIR  ?= $(DATADIR)/pam-configs
else
ZSHCOMPDIR  ?= $(DATADIR)/zsh/site-functions
PAMCONFDIR  ?=
endif

CARGO            ?= cargo
CARGO_TARGET_DIR ?= target
export CARGO_TARGET_DIR
RELEASE := $(CARGO_TARGET_DIR)/release
GEN     := $(RELEASE)/gen
# reproducible man page dates: the last commit's
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

BINS := keyward git-credential-keyward docker-credential-keyward cargo-credential-keyward keyward-secret-service \
        terraform-credentials-keyward keyward-token-helper
# started by pam_keyward.so (`unlock`; a host that is not root), never by hand;
# keyward-cli: every `keyward` command but the quick ones (`keyward` becomes it,
# from $(HELPERDIR) as the module finds its helper there)
HELPERS := keyward-login-helper keyward-cli
# setuid root, as pam_unix's unix_chkpwd: checks the caller's own password
SETUID_HELPERS := keyward-chkpwd
# the Ansible vault-id client script (docs/protocols.md)
ANSIBLE_CLIENT := packaging/ansible/keyward-vault-client
MAN1 := packaging/man/keyward-secret-service.1
DBUSSERVICE := org.freedesktop.secrets.keyward.service
USERUNIT := keyward-secret-service.service
MAN5 := packaging/man/keyward.toml.5
MAN8 := packaging/man/pam_keyward.8
# the guides README.md links to, installed beside it in $(DOCDIR)/docs
DOCS := $(sort $(wildcard docs/*.md))

.PHONY: all build install uninstall deb demo test check

all: build

build:
	$(CARGO) build --release --locked -p keyward-cli -p keyward-protocols -p keyward-pam -p keyward-gen \
		-p keyward-secret-service
	rm -rf $(GEN)
	$(RELEASE)/keyward-gen man $(GEN)/man >/dev/null
	$(RELEASE)/keyward-gen completions $(GEN)/completions >/dev/null

# install builds only if nothing was built yet, so `make && sudo make install`
# works where root has no cargo
$(GEN)/man/keyward.1:
	$(MAKE) --no-print-directory build

install: $(GEN)/man/keyward.1
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PAMDIR) $(DESTDIR)$(HELPERDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)/docs \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 $(addprefix $(RELEASE)/,$(BINS)) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(RELEASE)/libpam_keyward.so $(DESTDIR)$(PAMDIR)/pam_keyward.so
	install -m 0755 $(addprefix $(RELEASE)/,$(HELPERS)) $(DESTDIR)$(HELPERDIR)/
	install -m 4755 $(addprefix $(RELEASE)/,$(SETUID_HELPERS)) $(DESTDIR)$(HELPERDIR)/
	for p in $(GEN)/man/*.1; do gzip -9n <$$p >$(DESTDIR)$(MANDIR)/man1/$${p##*/}.gz; done
	gzip -9n <$(MAN1) >$(DESTDIR)$(MANDIR)/man1/keyward-secret-service.1.gz
	gzip -9n <$(MAN5) >$(DESTDIR)$(MANDIR)/man5/keyward.toml.5.gz
	gzip -9n <$(MAN8) >$(DESTDIR)$(MANDIR)/man8/pam_keyward.8.gz
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/keyward*.1.gz $(DESTDIR)$(MANDIR)/man1/*-credential-keyward.1.gz \
		$(DESTDIR)$(MANDIR)/man1/terraform-credentials-keyward.1.gz \
		$(DESTDIR)$(MANDIR)/man5/keyward.toml.5.gz $(DESTDIR)$(MANDIR)/man8/pam_keyward.8.gz
	install -m 0644 $(GEN)/completions/keyward.bash $(DESTDIR)$(BASHCOMPDIR)/keyward
	install -m 0644 $(GEN)/completions/_keyward $(DESTDIR)$(ZSHCOMPDIR)/_keyward
	install -m 0644 $(GEN)/completions/keyward.fish $(DESTDIR)$(FISHCOMPDIR)/keyward.fish
	install -m 0644 README.md SECURITY.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/docs/
	install -d $(DESTDIR)$(DATADIR)/keyward
	install -m 0755 $(ANSIBLE_CLIENT) $(DESTDIR)$(DATADIR)/keyward/
	install -d $(DESTDIR)$(DBUSSERVICEDIR) $(DESTDIR)$(SYSTEMDUSERDIR)
	sed 's|@BINDIR@|$(BINDIR)|' packaging/dbus/$(DBUSSERVICE).in >$(DESTDIR)$(DBUSSERVICEDIR)/$(DBUSSERVICE)
	sed 's|@BINDIR@|$(BINDIR)|' packaging/systemd/$(USERUNIT).in >$(DESTDIR)$(SYSTEMDUSERDIR)/$(USERUNIT)
	chmod 0644 $(DESTDIR)$(DBUSSERVICEDIR)/$(DBUSSERVICE) $(DESTDIR)$(SYSTEMDUSERDIR)/$(USERUNIT)
	if [ -n "$(PAMCONFDIR)" ]; then \
		install -d $(DESTDIR)$(PAMCONFDIR) && \
		install -m 0644 packaging/pam-configs/keyward $(DESTDIR)$(PAMCONFDIR)/keyward; fi
	install -d $(DESTDIR)$(SYSCONFDIR)/keyward
	if [ -e $(DESTDIR)$(SYSCONFDIR)/keyward/keyward.toml ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/keyward/keyward.toml (the default is in config/keyward.toml)"; \
	else install -m 0644 config/keyward.toml $(DESTDIR)$(SYSCONFDIR)/keyward/keyward.toml; fi

# Removes exactly what install wrote (the configuration only if unchanged)
# and keyward's own directories if empty; never a shared directory such as
# $(BINDIR), except inside a DESTDIR staging root, where empty ones go too.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(BINS)) $(DESTDIR)$(PAMDIR)/pam_keyward.so
	rm -f $(addprefix $(DESTDIR)$(HELPERDIR)/,$(HELPERS) $(SETUID_HELPERS))
	rm -f $(DESTDIR)$(MANDIR)/man1/keyward.1.gz $(DESTDIR)$(MANDIR)/man1/keyward-*.1.gz \
		$(DESTDIR)$(MANDIR)/man1/git-credential-keyward.1.gz \
		$(DESTDIR)$(MANDIR)/man1/docker-credential-keyward.1.gz \
		$(DESTDIR)$(MANDIR)/man1/cargo-credential-keyward.1.gz \
		$(DESTDIR)$(MANDIR)/man1/terraform-credentials-keyward.1.gz \
		$(DESTDIR)$(MANDIR)/man5/keyward.toml.5.gz $(DESTDIR)$(MANDIR)/man8/pam_keyward.8.gz
	rm -f $(DESTDIR)$(BASHCOMPDIR)/keyward $(DESTDIR)$(ZSHCOMPDIR)/_keyward \
		$(DESTDIR)$(FISHCOMPDIR)/keyward.fish
	rm -f $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/SECURITY.md \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(DOCS))
	rm -f $(DESTDIR)$(DBUSSERVICEDIR)/$(DBUSSERVICE) $(DESTDIR)$(SYSTEMDUSERDIR)/$(USERUNIT)
	rm -f $(DESTDIR)$(DATADIR)/keyward/keyward-vault-client
	if [ -n "$(PAMCONFDIR)" ]; then rm -f $(DESTDIR)$(PAMCONFDIR)/keyward; fi
	if cmp -s config/keyward.toml $(DESTDIR)$(SYSCONFDIR)/keyward/keyward.toml; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/keyward/keyward.toml; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/keyward/keyward.toml ]; then \
		echo "keeping the changed $(DESTDIR)$(SYSCONFDIR)/keyward/keyward.toml"; fi
	for d in $(DOCDIR)/docs $(DOCDIR) $(DATADIR)/keyward $(SYSCONFDIR)/keyward $(HELPERDIR); do \
		if [ -d "$(DESTDIR)$$d" ]; then rmdir --ignore-fail-on-non-empty "$(DESTDIR)$$d"; fi; done
	@# in a staging root, also the directories install created that are now empty
	if [ -n "$(DESTDIR)" ] && [ -d "$(DESTDIR)" ]; then \
		find "$(DESTDIR)" -mindepth 1 -depth -type d -empty -delete; fi

deb:
	scripts/build-deb

demo:
	scripts/demo

test:
	scripts/test

# The contributors' fast loop (CONTRIBUTING.md): needs no root and installs
# nothing; formatting, lints, every crate's unit tests and the protocol
# transcripts of the helpers (each runs the real binary against a throwaway
# vault). scripts/test is the full loop.
check:
	$(CARGO) fmt --all --check
	$(CARGO) fmt --check --manifest-path fuzz/Cargo.toml
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(CARGO) test --workspace --locked --lib --bins --exclude keyward-pam
	@# keyward-pam's auth tests need root (the module trusts only root-owned
	@# password databases); scripts/test runs them
	$(CARGO) test --locked -p keyward-pam --lib -- --skip auth::tests::
	$(CARGO) build --workspace --locked --bins
	$(CARGO) test --locked -p keyward-protocols --test git_transcripts
	$(CARGO) test --locked -p keyward-protocols --test cargo_transcripts
	$(CARGO) test --locked -p keyward-tests --test docker_transcripts
	$(CARGO) test --locked -p keyward-tests --test protocols2_transcripts
