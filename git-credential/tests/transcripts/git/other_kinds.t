# The vault is shared with docker-credential-keyward: git never sees, returns
# or erases docker entries, even with the same host.
$ @docker example.com bob docker-secret
$ get
host=example.com
? 0
$ get
protocol=
host=example.com
username=bob
? 0
$ erase
host=example.com
? 0
$ @count-docker 1
$ store
protocol=https
host=example.com
username=bob
password=git-secret
? 0
$ get
host=example.com
? 0
username=bob
password=git-secret
$ erase
username=bob
? 0
$ get
host=example.com
? 0
$ @count-docker 1
