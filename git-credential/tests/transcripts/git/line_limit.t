# A line of up to 65,535 bytes counting its newline is accepted; a longer one
# is an error (never split into a second attribute) and the vault keeps its
# last committed state. "password=" is 9 bytes: 9 + 65525 + 1 = 65535.
$ store
protocol=https
host=example.com
username=bob
password={REPEAT 65525 x}
? 0
$ get
protocol=https
host=example.com
? 0
username=bob
password={REPEAT 65525 x}
$ store
protocol=https
host=example.com
username=bob
password={REPEAT 65526 y}
? 1
! line 4 is longer than 65535 bytes
$ get
protocol=https
host=example.com
? 0
username=bob
password={REPEAT 65525 x}
# The limit holds for any key, known or not, and for the last line.
$ get
protocol=https
x-long={REPEAT 65530 z}
? 1
! line 2 is longer than 65535 bytes
$ get
host={REPEAT 65535 h}{NOEOL}
? 1
! line 1 is longer than 65535 bytes
