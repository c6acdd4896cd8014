# An empty string is a value, not a wildcard; empty username and password
# are stored and come back unchanged.
$ store
protocol=https
host=example.com
username=
password=
? 0
$ get
protocol=https
host=example.com
? 0
username=
password=
$ get
protocol=https
host=example.com
username=
? 0
username=
password=
$ get
protocol=https
host=example.com
username=bob
? 0
$ get
protocol=
host=example.com
? 0
