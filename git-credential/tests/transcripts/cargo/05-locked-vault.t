@vault locked
# A locked vault with no terminal: each request that needs the vault fails
# at once with the hint (cargo shows it); nothing is stored.
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"get","operation":"read"}
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"login","token":"hunter2"}
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"vault is locked: run `keyward unlock` ($HOME/.local/share/keyward/vault)"}}
{"Err":{"kind":"other","message":"vault is locked: run `keyward unlock` ($HOME/.local/share/keyward/vault)"}}
$ @unlock
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"get","operation":"read"}
? 0
{"v":[1]}
{"Err":{"kind":"not-found"}}
$ @count-cargo 0
