# BAO_ADDR first, then VAULT_ADDR, then the CLIs' default.
$ @unset BAO_ADDR
$ @unset VAULT_ADDR
$ store
s.default
? 0
$ @secret openbao/https/127.0.0.1:8200 s.default
$ @env VAULT_ADDR https://vault.example.com
$ store
hvs.vault
? 0
$ @env BAO_ADDR https://127.0.0.1:8200
$ get
? 0
s.default{NOEOL}
$ @unset BAO_ADDR
$ get
? 0
hvs.vault{NOEOL}
$ @env VAULT_ADDR http://[::1]:8200
$ store
s.v6
? 0
$ @secret openbao/http/+5B::1+5D:8200 s.v6
