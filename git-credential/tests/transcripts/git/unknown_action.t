# Unknown actions are ignored: exit 0, no output, vault untouched.
$ store
protocol=https
host=example.com
username=bob
password=s3cret
? 0
$ frobnicate
protocol=https
host=example.com
? 0
$ GET
protocol=https
host=example.com
? 0
$ list
? 0
$ get
protocol=https
host=example.com
? 0
username=bob
password=s3cret
