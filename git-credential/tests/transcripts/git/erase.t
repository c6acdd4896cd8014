# erase removes every match; with a password, only entries with that password.
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
$ store
protocol=https
host=example.org
username=bob
password=bob-pw
? 0
# A wrong password erases nothing.
$ erase
protocol=https
host=example.com
username=bob
password=not-bobs
? 0
$ get
protocol=https
host=example.com
username=bob
? 0
username=bob
password=bob-pw
# The right one erases bob on example.com only.
$ erase
protocol=https
host=example.com
username=bob
password=bob-pw
? 0
$ get
protocol=https
host=example.com
username=bob
? 0
$ get
protocol=https
host=example.org
? 0
username=bob
password=bob-pw
# A password alone (no username) erases every entry it matches.
$ store
protocol=https
host=example.com
username=bob
password=bob-pw
? 0
$ erase
host=example.com
password=bob-pw
? 0
$ get
protocol=https
host=example.com
? 0
username=alice
password=alice-pw
# Without a password, every match goes.
$ erase
username=bob
? 0
$ get
host=example.org
? 0
$ get
host=example.com
? 0
username=alice
password=alice-pw
# An empty pattern would mean "erase everything": refused, nothing erased.
$ erase
? 1
! refusing to erase
$ erase
password=alice-pw
wwwauth[]=Basic realm="x"
? 1
! refusing to erase
$ get
host=example.com
? 0
username=alice
password=alice-pw
# Erasing what is not there is not an error.
$ erase
protocol=https
host=nowhere.example
? 0
