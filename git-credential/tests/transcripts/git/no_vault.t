@vault none
# No vault yet: get and erase find nothing; store says how to create one.
$ get
protocol=https
host=example.com
? 0
$ erase
protocol=https
host=example.com
? 0
$ store
protocol=https
host=example.com
username=bob
password=s3cret
? 1
! keyward init
