# git's t0303 scenarios (helper_test in t/lib-credential.sh), in order, for
# git-credential-libsecret talking to keyward-secret-service: each run is
# `git -c credential.helper=git-credential-libsecret credential ARGS`, with
# GIT_ASKPASS answering "askpass-username" / "askpass-password" and saying on
# stderr what it was asked (as lib-credential.sh's askpass does). Driver:
# tests/tests/secret_service.rs (libsecret_helper_passes_t0303_scenarios);
# besides the `!` lines, nothing but askpass lines may reach stderr.
#
# helper has no existing data
$ fill
protocol=https
host=example.com
? 0
! askpass: Username for 'https://example.com':
! askpass: Password for 'https://askpass-username@example.com':
protocol=https
host=example.com
username=askpass-username
password=askpass-password
# helper stores password
$ approve
protocol=https
host=example.com
username=store-user
password=store-pass
? 0
# helper can retrieve password
$ fill
protocol=https
host=example.com
? 0
protocol=https
host=example.com
username=store-user
password=store-pass
# helper requires matching protocol
$ fill
protocol=http
host=example.com
? 0
! askpass: Username for 'http://example.com':
! askpass: Password for 'http://askpass-username@example.com':
protocol=http
host=example.com
username=askpass-username
password=askpass-password
# helper requires matching host
$ fill
protocol=https
host=other.tld
? 0
! askpass: Username for 'https://other.tld':
! askpass: Password for 'https://askpass-username@other.tld':
protocol=https
host=other.tld
username=askpass-username
password=askpass-password
# helper requires matching username
$ fill
protocol=https
host=example.com
username=other
? 0
! askpass: Password for 'https://other@example.com':
protocol=https
host=example.com
username=other
password=askpass-password
# helper requires matching path (credential.usehttppath for this scenario only)
$ @config credential.usehttppath=true
$ approve
protocol=http
host=path.tld
path=foo.git
username=user
password=pass
? 0
$ fill
protocol=http
host=path.tld
path=bar.git
? 0
! askpass: Username for 'http://path.tld/bar.git':
! askpass: Password for 'http://askpass-username@path.tld/bar.git':
protocol=http
host=path.tld
path=bar.git
username=askpass-username
password=askpass-password
$ @config
# helper can forget host
$ reject
protocol=https
host=example.com
? 0
$ fill
protocol=https
host=example.com
? 0
! askpass: Username for 'https://example.com':
! askpass: Password for 'https://askpass-username@example.com':
protocol=https
host=example.com
username=askpass-username
password=askpass-password
# helper can store multiple users
$ approve
protocol=https
host=example.com
username=user1
password=pass1
? 0
$ approve
protocol=https
host=example.com
username=user2
password=pass2
? 0
$ fill
protocol=https
host=example.com
username=user1
? 0
protocol=https
host=example.com
username=user1
password=pass1
$ fill
protocol=https
host=example.com
username=user2
? 0
protocol=https
host=example.com
username=user2
password=pass2
# helper can forget user
$ reject
protocol=https
host=example.com
username=user1
? 0
$ fill
protocol=https
host=example.com
username=user1
? 0
! askpass: Password for 'https://user1@example.com':
protocol=https
host=example.com
username=user1
password=askpass-password
# helper remembers other user
$ fill
protocol=https
host=example.com
username=user2
? 0
protocol=https
host=example.com
username=user2
password=pass2
# helper can store empty username
$ approve
protocol=https
host=sso.tld
username=
password=
? 0
$ fill
protocol=https
host=sso.tld
? 0
protocol=https
host=sso.tld
username=
password=
# Beyond helper_test: a second approve of the same user replaces the password
$ approve
protocol=https
host=example.com
username=user2
password=pass2-new
? 0
$ fill
protocol=https
host=example.com
username=user2
? 0
protocol=https
host=example.com
username=user2
password=pass2-new
