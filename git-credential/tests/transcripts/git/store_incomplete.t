# store needs a protocol, a host or a path, a username and a password.
$ store
host=example.com
username=bob
password=p
? 1
! nothing stored
$ store
protocol=https
username=bob
password=p
? 1
! nothing stored
$ store
protocol=https
host=example.com
password=p
? 1
! nothing stored
$ store
protocol=https
host=example.com
username=bob
? 1
! nothing stored
# A path without a host is enough (e.g. cert:///path/to/cert).
$ store
url=cert:///home/bob/cert.p12
username=
password=cert-passphrase
? 0
$ get
url=cert:///home/bob/cert.p12
? 0
username=
password=cert-passphrase
$ get
protocol=https
host=example.com
? 0
