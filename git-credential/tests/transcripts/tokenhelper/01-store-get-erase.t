# keyward-token-helper as the bao and vault CLIs run it, keyed by the address
# they put in its environment.
$ @env BAO_ADDR http://127.0.0.1:8200
$ get
? 0
$ store
s.hunter2{NOEOL}
? 0
$ @secret openbao/http/127.0.0.1:8200 s.hunter2
$ get
? 0
s.hunter2{NOEOL}
# Another server: another token.
$ @env BAO_ADDR https://bao.example.com:8200
$ get
? 0
$ store
hvs.s3cret
? 0
$ get
? 0
hvs.s3cret{NOEOL}
# A trailing slash or an upper-case scheme names the same server.
$ @env BAO_ADDR HTTP://127.0.0.1:8200/
$ get
? 0
s.hunter2{NOEOL}
$ erase
? 0
$ get
? 0
$ erase
? 0
$ @env BAO_ADDR https://bao.example.com:8200
$ get
? 0
hvs.s3cret{NOEOL}
