@vault none
$ get
? 0
$ erase
? 0
$ store
s.hunter2{NOEOL}
? 1
! there is no keyward vault yet: run `keyward init` first
