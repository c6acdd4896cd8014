# A stored credential comes back for the same protocol and host, and for no other.
$ store
protocol=https
host=example.com
username=bob
password=s3cret
? 0
$ get
protocol=https
host=example.com
? 0
username=bob
password=s3cret
$ get
protocol=http
host=example.com
? 0
$ get
protocol=https
host=example.org
? 0
# A request naming only the host matches any protocol.
$ get
host=example.com
? 0
username=bob
password=s3cret
