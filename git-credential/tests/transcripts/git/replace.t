# store replaces the entry with the same protocol, host, path and username.
$ store
protocol=https
host=example.com
username=bob
password=old
? 0
$ store
protocol=https
host=example.com
username=bob
password=new
? 0
$ get
protocol=https
host=example.com
? 0
username=bob
password=new
# The old password is gone: erasing by it erases nothing.
$ erase
protocol=https
host=example.com
username=bob
password=old
? 0
$ get
protocol=https
host=example.com
? 0
username=bob
password=new
# A different path is a different entry.
$ store
protocol=https
host=example.com
path=a.git
username=bob
password=for-a
? 0
$ get
protocol=https
host=example.com
path=a.git
? 0
username=bob
password=for-a
$ erase
protocol=https
host=example.com
path=a.git
? 0
$ get
protocol=https
host=example.com
? 0
username=bob
password=new
