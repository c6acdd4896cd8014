# Several users on one host: a request without a username gets the most
# recently stored; a username picks its own.
$ store
protocol=https
host=example.com
username=alice
password=alice-pw
? 0
$ store
protocol=https
host=example.com
username=bob
password=bob-pw
? 0
$ get
protocol=https
host=example.com
? 0
username=bob
password=bob-pw
$ get
protocol=https
host=example.com
username=alice
? 0
username=alice
password=alice-pw
$ store
protocol=https
host=example.com
username=alice
password=alice-pw2
? 0
$ get
protocol=https
host=example.com
? 0
username=alice
password=alice-pw2
