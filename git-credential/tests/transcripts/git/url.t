# url= is split into its parts as git splits it (percent-decoding, trimmed
# slashes, user and password), and replaces everything before it.
$ store
url=https://bob:s%33cr%3At@example.com:8443/team/repo.git/
? 0
$ get
protocol=https
host=example.com:8443
path=team/repo.git
? 0
username=bob
password=s3cr:t
$ get
url=https://example.com:8443
? 0
username=bob
password=s3cr:t
$ get
url=https://alice@example.com:8443
? 0
# Attributes before url= are forgotten...
$ get
username=alice
path=elsewhere.git
url=https://example.com:8443
? 0
username=bob
password=s3cr:t
# ...and attributes after it override its parts.
$ get
url=https://example.com:8443
protocol=http
? 0
# A url without a scheme, or with a newline in a part, is an error.
$ get
url=example.com
? 1
! url cannot be parsed
$ get
url=https://example.com/a%0Ab
? 1
! newline in its path component
# The password is never shown in an error.
$ store
url=https://bob:hunter%0A2@example.com/
? 1
! newline in its password component
