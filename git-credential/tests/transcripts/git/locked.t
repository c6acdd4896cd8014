# A locked vault and no terminal: get prints nothing (so git prompts) and one
# line telling the user to run `keyward unlock`; store and erase fail the same
# way and change nothing.
$ store
protocol=https
host=example.com
username=bob
password=s3cret
? 0
$ @lock
$ get
protocol=https
host=example.com
? 1
! vault is locked: run `keyward unlock`
$ store
protocol=https
host=example.com
username=bob
password=changed
? 1
! vault is locked: run `keyward unlock`
$ erase
protocol=https
host=example.com
? 1
! vault is locked: run `keyward unlock`
# capability and unknown actions never touch the vault.
$ capability
? 0
version 0
capability authtype
$ @unlock
$ get
protocol=https
host=example.com
? 0
username=bob
password=s3cret
# Malformed input is refused before the vault is even opened.
$ @lock
$ store
protocol=https
host=example.com
username=bob
password=a{NUL}b
? 1
! line 4 contains a NUL byte
