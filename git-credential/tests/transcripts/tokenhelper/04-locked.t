@vault locked
$ get
? 1
! vault is locked
$ store
s.hunter2{NOEOL}
? 1
! vault is locked
$ @unlock
$ get
? 0
