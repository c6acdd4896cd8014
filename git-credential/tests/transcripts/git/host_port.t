# host includes the port and is compared as an exact string.
$ store
protocol=https
host=example.com:8443
username=bob
password=eight
? 0
$ get
protocol=https
host=example.com
? 0
$ get
protocol=https
host=example.com:443
? 0
$ get
protocol=https
host=EXAMPLE.COM:8443
? 0
$ get
protocol=https
host=example.com:8443
? 0
username=bob
password=eight
