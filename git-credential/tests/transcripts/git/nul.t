# A NUL byte anywhere in a line is an error; nothing is stored.
$ store
protocol=https
host=example.com
username=bob
password=abc{NUL}def
? 1
! line 4 contains a NUL byte
$ get
protocol=https
host=example.com
? 0
$ get
protocol=https
host=exa{NUL}mple.com
? 1
! line 2 contains a NUL byte
$ erase
x-unknown{NUL}=1
host=example.com
? 1
! line 1 contains a NUL byte
