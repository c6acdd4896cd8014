# A line without '=' is an error, as in git; the value is never echoed.
$ store
protocol=https
host=example.com
username=bob
password=s3cret
? 0
$ erase
protocol=https
host=example.com
hunter2
? 1
! line 3 is not a key=value attribute
$ get
protocol=https
host=example.com
? 0
username=bob
password=s3cret
$ get
host=example.com
ephemeral=perhaps
? 1
! `ephemeral` is not a boolean
# Non-secret attributes must be UTF-8 (the vault keeps them as text).
$ get
host=ex{xFF}ample.com
? 1
! `host` is not valid UTF-8
