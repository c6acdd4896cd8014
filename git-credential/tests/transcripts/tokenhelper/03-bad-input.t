# Bad tokens and arguments: one line on stderr, exit 1, the stored token intact.
$ @env BAO_ADDR http://127.0.0.1:8200
$ store
s.good{NOEOL}
? 0
$ store
{NOEOL}
? 1
! keyward-token-helper: store: no token on stdin
$ store

? 1
! store: no token on stdin
$ store
s.two words
? 1
! has a space, control character or non-ASCII byte; nothing stored
$ store
s.nul{NUL}
? 1
! nothing stored
$ store
s.line1
s.line2
? 1
! nothing stored
$ store
{REPEAT 16385 a}{NOEOL}
? 1
! more than 16384 bytes on stdin; nothing stored
$ list
? 1
! unknown operation "list"
$
? 1
! usage: keyward-token-helper get|store|erase
$ get extra
? 1
! usage:
$ get
? 0
s.good{NOEOL}
