# A vault modified behind keyward's back is refused with one line; nothing is
# returned and nothing is written over it.
$ store
protocol=https
host=example.com
username=bob
password=s3cret
? 0
$ @tamper
$ get
protocol=https
host=example.com
? 5
! vault is corrupted or was tampered with
$ store
protocol=https
host=example.com
username=bob
password=other
? 5
! vault is corrupted or was tampered with
$ erase
protocol=https
host=example.com
? 5
! vault is corrupted or was tampered with
